"""Golden bytes: sha256 of what a shard holds for a few samples of every shipped pipeline,
stored with the `SAMPLE_STREAM` they were made under (`tests/golden/golden.json`).

The sample-stream contract: the same (config, seed, index) renders the same bytes until
`synthgen.version.SAMPLE_STREAM` is bumped (resume refuses to mix streams). `tests/test_golden.py`
fails when a pipeline renders other bytes under the same stream and config, and when the stream
was bumped (or a pipeline added, removed or reconfigured) but the file not regenerated;
`python scripts/golden.py` regenerates it (and refuses to overwrite changed bytes under an
unchanged stream: bump first).

What is hashed is each tar member exactly as `io.encode.encode_sample` writes it (image, JSON,
score PNG, EAST npz), with one exception: `meta.version` (the package version, which changes on
every release without changing the stream) is replaced by "-" before encoding. And the image's
pixels before encoding (`pixels`: RGB uint8 and its shape): JPEG quantisation can absorb a small
change in the few samples hashed here (a one-bit change of one pixel of a card leaves its JPEG
bytes as they were) that other samples would show.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import replace
from importlib import metadata
from typing import Any

import numpy as np

from ..version import SAMPLE_STREAM

# a few samples per pipeline, spread (sample i is independent of the others, so a far index
# costs no more than a near one)
INDICES = (0, 1, 100_003)
REGENERATE = "python scripts/golden.py"
# the libraries the bytes depend on, recorded with the hashes (a difference is named on failure)
LIBRARIES = ("numpy", "opencv-python-headless", "pillow", "fonttools", "orjson")


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in LIBRARIES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    try:
        from PIL import features

        out["freetype2"] = str(features.version("freetype2"))
        out["raqm"] = str(features.version("raqm"))
    except Exception:  # pragma: no cover - Pillow without features
        pass
    from .. import numerics

    out["numerics"] = numerics.level()  # the CPU kernels (an AVX-512 machine uncapped differs)
    return out


def sample_digests(sample, output) -> dict[str, str]:
    """{tar member extension: sha256 hex} of one sample as a shard stores it, and its `pixels`."""
    from ..io.encode import encode_sample

    if "version" in sample.meta:
        sample = replace(sample, meta={**sample.meta, "version": "-"})
    out = {ext: hashlib.sha256(b).hexdigest() for ext, b in encode_sample(sample, output)}
    px = hashlib.sha256(repr(sample.image.shape).encode())
    px.update(np.ascontiguousarray(sample.image, np.uint8).data)
    out["pixels"] = px.hexdigest()
    return out


def pipeline_digests(name: str, indices=INDICES, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """{"config": resolved-config fingerprint, "samples": {key: {member: sha256}}} of one pipeline."""
    from ..config import fingerprint
    from ..pipeline import load_pipeline

    pipe = load_pipeline(name, **(overrides or {}))
    samples = {}
    for i in indices:
        s = pipe.sample(i)
        samples[s.key] = sample_digests(s, pipe.cfg.output)
    return {"config": fingerprint(pipe.cfg), "samples": samples}


def shipped() -> list[str]:
    from ..config import available

    return available()


def make(names: list[str] | None = None, indices=INDICES) -> dict[str, Any]:
    """The golden record of the shipped pipelines as this checkout renders them."""
    names = shipped() if names is None else names
    return {"sample_stream": SAMPLE_STREAM, "indices": list(indices), "made_with": library_versions(),
            "pipelines": {n: pipeline_digests(n, indices) for n in names}}


def dumps(golden: dict[str, Any]) -> str:
    """Stable text: sorted keys, one sample a line (readable diffs)."""
    lines = ["{", f'  "sample_stream": {json.dumps(golden["sample_stream"])},',
             f'  "indices": {json.dumps(golden["indices"])},',
             f'  "made_with": {json.dumps(golden["made_with"], sort_keys=True)},', '  "pipelines": {']
    pipes = sorted(golden["pipelines"].items())
    for k, (name, p) in enumerate(pipes):
        lines.append(f'    {json.dumps(name)}: {{"config": {json.dumps(p["config"])}, "samples": {{')
        items = sorted(p["samples"].items())
        for j, (key, members) in enumerate(items):
            lines.append(f'      {json.dumps(key)}: {json.dumps(members, sort_keys=True)}{"," if j < len(items) - 1 else ""}')
        lines.append(f'    }}}}{"," if k < len(pipes) - 1 else ""}')
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def changed_samples(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    """{pipeline: ["<key> <member>", ...]} for pipelines whose config is the same in both
    records but whose bytes differ (a sample or member missing on one side counts)."""
    out: dict[str, list[str]] = {}
    for name, n in new["pipelines"].items():
        o = old["pipelines"].get(name)
        if o is None or o["config"] != n["config"]:
            continue
        diffs = []
        for key in sorted(set(o["samples"]) | set(n["samples"])):
            a, b = o["samples"].get(key, {}), n["samples"].get(key, {})
            bad = sorted(m for m in set(a) | set(b) if a.get(m) != b.get(m))
            if bad:
                diffs.append(f"{key} {'/'.join(bad)}")
        if diffs:
            out[name] = diffs
    return out


def problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between the stored record `old` and this checkout's `new`, as sentences
    that say what to do; empty when the stored record holds."""
    out = []
    if old.get("sample_stream") != new["sample_stream"]:
        out.append(f"SAMPLE_STREAM is {new['sample_stream']} but the golden hashes were made under stream "
                   f"{old.get('sample_stream')}: regenerate them with `{REGENERATE}`")
        return out
    if list(old.get("indices", [])) != list(new["indices"]):
        out.append(f"the golden hashes are of samples {old.get('indices')}, the checker renders {new['indices']}: "
                   f"regenerate them with `{REGENERATE}`")
        return out
    added = sorted(set(new["pipelines"]) - set(old["pipelines"]))
    gone = sorted(set(old["pipelines"]) - set(new["pipelines"]))
    if added or gone:
        out.append(f"shipped pipelines changed ({', '.join([f'+{n}' for n in added] + [f'-{n}' for n in gone])}): "
                   f"regenerate the golden hashes with `{REGENERATE}`")
    reconf = sorted(n for n in set(old["pipelines"]) & set(new["pipelines"])
                    if old["pipelines"][n]["config"] != new["pipelines"][n]["config"])
    if reconf:
        out.append(f"the resolved config of {', '.join(reconf)} changed since the golden hashes were made: regenerate "
                   f"them with `{REGENERATE}` (and bump SAMPLE_STREAM in synthgen/version.py if code, not only "
                   "the config, now renders other bytes)")
    changed = changed_samples(old, new)
    if changed:
        what = "; ".join(f"{n}: {', '.join(d)}" for n, d in sorted(changed.items()))
        libs = {k: (v, new["made_with"].get(k)) for k, v in old.get("made_with", {}).items()
                if k != "python" and new["made_with"].get(k) != v}
        note = ""
        if libs:
            note = (" (the libraries differ from those the hashes were made with: "
                    + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in sorted(libs.items())) + ")")
        out.append(f"sample bytes changed without a SAMPLE_STREAM bump (stream {new['sample_stream']}, same config): "
                   f"{what}{note}. If the change is meant, bump SAMPLE_STREAM in synthgen/version.py (say why in its "
                   f"comment) and regenerate the golden hashes with `{REGENERATE}`; if not, it broke reproducibility")
    return out
