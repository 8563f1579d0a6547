"""`synthgen check DIR --reproduce K`: render K of a dataset's samples again here, compare bytes.

The contract under test: the same (config, seed, index) renders the same bytes, on any machine
with the same sample stream, library versions and CPU kernels (`synthgen/numerics.py`). The
samples are picked during check's one streaming pass (the first of K shards spread over the
dataset, more than one a shard when K exceeds the shards), so nothing is read twice; each is
rendered from manifest.json's resolved config and seed, encoded as a shard stores it, and
compared member by member. The label JSON is compared without `meta.version` (the package
version, which changes on releases that render the same bytes). A difference names the samples
and members, and what differs between the dataset's record and this machine: the sample
stream, or the library versions and kernels (`run/versions.py`).
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import UserError


def pick(names: list[str], k: int) -> dict[str, int]:
    """{shard name: how many of its first samples to render again}: `k` spread over the shards."""
    if k <= 0 or not names:
        return {}
    if k <= len(names):
        step = len(names) / k
        return {names[int(i * step)]: 1 for i in range(k)}
    per, extra = divmod(k, len(names))
    return {n: per + (j < extra) for j, n in enumerate(names)}


def _label(js: bytes) -> Any:
    obj = orjson.loads(js)
    if isinstance(obj, dict) and isinstance(obj.get("meta"), dict):
        obj["meta"] = {k: v for k, v in obj["meta"].items() if k != "version"}
    return obj


def pipeline_of(manifest: dict[str, Any] | None, url: str):
    """The pipeline that rendered the dataset (manifest.json's config and seed); UserError if it
    was not made by `synthgen render` or its config does not load here."""
    from pydantic import ValidationError

    from ..config import PipelineConfig
    from ..pipeline import Pipeline

    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict) or "seed" not in manifest \
            or "pipeline" not in manifest:
        raise UserError(f"--reproduce needs a dataset made by `synthgen render` (manifest.json with its config and "
                        f"seed); {url} is not one")
    try:
        cfg = PipelineConfig.model_validate(manifest["config"])
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        raise UserError(f"--reproduce: {url}/manifest.json's config does not load in this synthgen ({where}: "
                        f"{first.get('msg')}); render it again with this version or check it with the one that "
                        "made it") from None
    return Pipeline(cfg, seed=int(manifest["seed"]))


def compare(pipe, stored: dict[str, dict[str, bytes]], done=lambda n: None) -> dict[str, list[str]]:
    """{key: [members that differ]} of the stored samples rendered again by `pipe`; `done(1)`
    after each (a progress bar)."""
    from ..io.encode import encode_sample

    out: dict[str, list[str]] = {}
    for key, members in sorted(stored.items()):
        again = dict(encode_sample(pipe.sample(int(key)), pipe.cfg.output))
        diff = []
        for ext in sorted(set(members) | set(again)):
            a, b = members.get(ext), again.get(ext)
            same = a == b or (ext == "json" and a is not None and b is not None and _label(a) == _label(b))
            if not same:
                diff.append(ext)
        if diff:
            out[key] = diff
        done(1)
    return out


def why(manifest: dict[str, Any], pipe) -> str:
    """What differs between the dataset's record and this machine, for the finding's message."""
    from ..run import versions as libs
    from ..version import SAMPLE_STREAM

    parts = []
    if manifest.get("stream") != SAMPLE_STREAM:
        parts.append(f"it was made under sample stream {manifest.get('stream')} and this synthgen renders stream "
                     f"{SAMPLE_STREAM} (other bytes by design)")
    diffs = libs.compare(manifest.get("versions"), libs.versions(),
                         libs.RENDER_TORCH if libs.uses_torch(pipe) else libs.RENDER)
    if diffs:
        parts.append("libraries and kernels differ: " + libs.describe(diffs, "dataset", "here"))
    return "; ".join(parts) if parts else "the same stream, library versions and kernels: a reproducibility bug"
