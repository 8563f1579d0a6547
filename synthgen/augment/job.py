"""`synthgen augment IN --out OUT --strength S`: augment a labelled dataset into new shards.

Output sample j (j = i * copies + c: copy c of input sample i) is augmented with the draws of
(seed, j), so it is the same bytes whatever the executor, the workers or the order. The job is
`run/job.Job`, the same as render's: every check before anything is written, the folder lock,
resume keeping only recorded shards whose sha256 still matches, sample stream and library
version checks (numpy, OpenCV, albucore, orjson), the lazy plan, the process pool and Ray,
one-line errors and atomic writes. This module is its task: "augment output samples
j .. j + count - 1 into shard k" (`AugSpec.make` -> `augment_shard`, one shard per task: a
local process, or one Ray task on a cluster). The manifest records the job (input
fingerprint, strength, copies, seed, ops) so that a rerun resumes and a different job into the
same folder is refused. Dense maps are never warped: a score map is recomputed from the final
quads when the input carried one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import orjson

from ..config import AugmentCfg, sent_dump
from ..core import TEXT_KINDS, Sample, key_for
from ..draws import Draws
from ..errors import UserError
from ..io.shards import ShardInfo, url_to_fs, write_shard
from ..run import faults
from ..run.faults import Faults
from ..run.versions import AUGMENT
from ..run.worker import Plan, ShardTask
from ..version import SAMPLE_STREAM, __version__
from .inputs import open_input
from .stage import augment

EXECUTORS = ("serial", "process", "ray")
AugTask = ShardTask  # output shard `index`: output samples start .. start + count - 1


@dataclass(frozen=True)
class AugSpec:
    """Plain data for workers: the input, the augmentation config, the output folder (and the
    job fields `run/job.Job` fills in)."""

    input: str
    cfg_json: str
    seed: int
    copies: int
    out: str
    quality: int = 90
    versions: str = ""  # the driver's library versions (JSON): a Ray worker compares its own (run/versions.py)
    accept_versions: bool = False
    libraries: tuple[str, ...] = AUGMENT  # what augmented bytes depend on
    faults: Faults | None = None  # test seam (run/faults.py)

    def make(self, task: ShardTask, progress=None) -> ShardInfo:
        return augment_shard(self, task, progress)


@lru_cache(maxsize=2)
def _input(path: str):
    return open_input(path)


@lru_cache(maxsize=4)
def _cfg(cfg_json: str) -> AugmentCfg:
    return AugmentCfg.model_validate(json.loads(cfg_json))


def augment_one(spec: AugSpec, j: int) -> tuple[str, list[tuple[str, bytes]]]:
    """Output sample j: (key, [(ext, bytes), ...])."""
    i, c = divmod(j, spec.copies)
    s, members = augment_input(_input(spec.input).get(i), i, c, j, spec.seed, _cfg(spec.cfg_json), spec.quality)
    return s.key, members


def augment_input(x, i: int, c: int, j: int, seed: int, cfg: AugmentCfg, quality: int = 90,
                  encode: bool = True) -> tuple[Sample, list[tuple[str, bytes]]]:
    """Output sample j = copy c of input sample i (an `inputs.InputSample`), augmented with the
    draws of (seed, j): (the Sample, its shard members [(ext, bytes), ...], or [] without
    `encode`). `synthgen augment` and `augment_ray` (a Ray Dataset's rows) both make it here."""
    from ..labels.east import score_map

    d = Draws(seed, j)
    img, inst, _ = augment(x.image, x.instances, d, cfg)
    key = key_for(j)
    meta = {**{k: v for k, v in x.meta.items() if k not in ("index",)}, "index": j, "source_key": x.key,
            "source_index": i, "copy": c, "version": __version__}
    s = Sample(key, img, inst, d.factors, meta)
    if not encode:
        return s, []
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    if x.image_ext == "png":
        ok, enc = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    else:
        ok, enc = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    members = [(x.image_ext if x.image_ext == "png" else "jpg", enc.tobytes()),
               ("json", orjson.dumps(s.to_json(arrays=True), option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY))]
    if x.has_score:  # recomputed from the final quads, never warped
        text = [t for t in inst if t.kind in TEXT_KINDS]
        H, W = img.shape[:2]
        sm = score_map([t.quad for t in text], [t.ignore for t in text], (H - H % 4, W - W % 4), stride=4)
        ok, sc = cv2.imencode(".png", (sm * 255).astype(np.uint8), [cv2.IMWRITE_PNG_BILEVEL, 1])
        members.append(("score.png", sc.tobytes()))
    return s, members


def augment_shard(spec: AugSpec, task: ShardTask, progress=None) -> ShardInfo:
    """The task: output samples task.start .. + count into shard task.index."""
    fs, root = url_to_fs(spec.out)

    def samples():
        for j in range(task.start, task.start + task.count):
            faults.at(spec.faults, j)  # inert unless a test installed faults
            yield augment_one(spec, j)
            if progress is not None:
                progress(1)

    return write_shard(fs, root, task.index, samples())


def _ray_task(spec: AugSpec, task: ShardTask) -> tuple[ShardInfo, list]:
    """A Ray worker's task (the job's own, `run/ray_exec._shard_task`): its library versions
    against the driver's first (run/versions.py), then the shard."""
    from ..run.ray_exec import _shard_task

    return _shard_task(spec, task, None)


def augment_config(strength: float, overrides: dict[str, Any] | None = None) -> AugmentCfg:
    """The augmentation config of a job: `overrides` (dotted or nested `augment.*` settings) at
    `strength`; a bad value is a UserError naming its key."""
    try:
        ok = 0 <= float(strength) <= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise UserError(f"--strength must be in [0, 1], got {strength}")
    data = {k.removeprefix("augment."): v for k, v in (overrides or {}).items()}
    data["strength"] = float(strength)
    try:
        return AugmentCfg.model_validate(data)
    except Exception as e:  # pydantic's message names the key
        first = getattr(e, "errors", lambda: [{"loc": (), "msg": str(e)}])()[0]
        raise UserError(f"--set {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def augment_dataset(input: Any, out: str | None, strength: float, copies: int = 1, seed: int = 0,
                    executor: str = "process", workers: int | None = None, shard_size: int = 1000,
                    overrides: dict[str, Any] | None = None, quality: int = 90, progress: bool = True,
                    ray_address: str | None = None, accept_versions: bool = False) -> Any:
    """Augment every sample of `input` `copies` times at `strength`; returns the manifest.
    `accept_versions`: resume although library versions differ from the recorded ones.
    A Ray Dataset `input` (rows as `synthgen.ray.read_synthetic` gives them) is augmented
    lazily instead: `out` must be None, and a Ray Dataset of the augmented rows comes back
    (`raydata.augment_ray`)."""
    from ..run.job import Job, Tasks, check_executor, check_shards, parse_seed

    if type(input).__module__.startswith("ray.data"):
        from .raydata import augment_ray

        if out is not None:
            raise UserError("a Ray Dataset input is augmented lazily into a Ray Dataset: pass out=None, or write "
                            "the input to a folder first (`synthgen render`) and augment that folder into --out")
        return augment_ray(input, strength, copies=copies, seed=seed, overrides=overrides, quality=quality,
                           accept_versions=accept_versions)
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if not 0 <= float(strength) <= 1:
        raise UserError(f"--strength must be in [0, 1], got {strength}")
    if int(copies) < 1 or int(shard_size) < 1:
        raise UserError("--copies and --shard-size must be >= 1")
    if workers is not None and int(workers) < 1:
        raise UserError(f"--workers must be >= 1, got {workers}")
    seed = parse_seed(seed)
    check_executor(executor, ray_address)
    cfg = augment_config(strength, overrides)
    src = str(Path(input).resolve()) if "://" not in input else input
    inp = open_input(src)
    if Path(out).resolve() == Path(src).resolve():
        raise UserError("--out must differ from the input folder")
    n = inp.count * int(copies)
    plan = Plan(n, int(shard_size))
    check_shards(plan, n, int(shard_size), "the input's samples x --copies:")
    cfg_json = json.dumps(sent_dump(cfg), sort_keys=True)  # an albumentations file as its content
    source_cfg = dict(getattr(getattr(inp, "ds", None), "config", None) or {"name": inp.format, "kind": "scene"})
    ident = {"n": n, "shard_size": int(shard_size), "stream": SAMPLE_STREAM,
             "augment": {"source": src, "source_format": inp.format, "source_fingerprint": inp.fingerprint(),
                         "source_count": inp.count, "strength": float(strength), "copies": int(copies),
                         "seed": int(seed), "quality": int(quality), "config": json.loads(cfg_json)}}

    def same(old: dict) -> None:  # the sample stream is the job's own check (run/job.py)
        if any(old.get(k) != v for k, v in ident.items() if k != "stream"):
            raise UserError(f"{out} holds a different augment job (input, strength, copies, seed or ops differ); "
                            "use another --out, or delete the folder to start over")

    spec = AugSpec(src, cfg_json, int(seed), int(copies), out, int(quality))
    job = Job("augment", out, {**ident, "config": source_cfg, "kind": "augment"}, Tasks(plan), spec, same=same,
              libraries=AUGMENT, accept_versions=accept_versions, executor=executor,
              workers=int(workers or os.cpu_count() or 1), ray_address=ray_address, progress=progress,
              name="augment").check()
    augment_one(spec, 0)  # one sample before anything is written: an unreadable input fails here
    return job.run()
