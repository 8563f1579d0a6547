"""`synthgen augment IN --out OUT --strength S`: augment a labelled dataset into new shards.

Output sample j (j = i * copies + c: copy c of input sample i) is augmented with the draws of
(seed, j), so it is the same bytes whatever the executor, the workers or the order. One task
(a local process, or one Ray task on a cluster) writes one output shard. Like `render`: all
checks before anything is written; the manifest records the job (input fingerprint, strength,
copies, seed, ops) so a rerun resumes (finished shards are kept) and a different job into the
same folder is refused. Dense maps are never warped: a score map is recomputed from the final
quads when the input carried one.
"""

from __future__ import annotations

import json
import os
import posixpath
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import orjson
from tqdm import tqdm

from ..version import SAMPLE_STREAM, __version__
from ..config import AugmentCfg
from ..core import TEXT_KINDS, Sample, key_for
from ..draws import Draws
from ..errors import RunError, UserError
from ..io.shards import (MANIFEST, PARTIAL_SUFFIX, ShardInfo, hash_file, out_of_space, read_shard, shard_index,
                         shard_name, tar_end_ok, url_to_fs, write_shard)
from .inputs import open_input
from .stage import augment

EXECUTORS = ("serial", "process", "ray")


@dataclass(frozen=True)
class AugTask:
    index: int  # output shard number
    start: int  # first output sample
    count: int


@dataclass(frozen=True)
class AugSpec:
    """Plain data for workers: the input, the augmentation config, the output folder."""

    input: str
    cfg_json: str
    seed: int
    copies: int
    out: str
    quality: int = 90
    versions: str = ""  # the driver's library versions (JSON): a Ray worker compares its own (run/versions.py)
    accept_versions: bool = False


@lru_cache(maxsize=2)
def _input(path: str):
    return open_input(path)


@lru_cache(maxsize=4)
def _cfg(cfg_json: str) -> AugmentCfg:
    return AugmentCfg.model_validate(json.loads(cfg_json))


def augment_one(spec: AugSpec, j: int) -> tuple[str, list[tuple[str, bytes]]]:
    """Output sample j: (key, [(ext, bytes), ...])."""
    from ..labels.east import score_map

    i, c = divmod(j, spec.copies)
    x = _input(spec.input).get(i)
    d = Draws(spec.seed, j)
    img, inst, _ = augment(x.image, x.instances, d, _cfg(spec.cfg_json))
    key = key_for(j)
    meta = {**{k: v for k, v in x.meta.items() if k not in ("index",)}, "index": j, "source_key": x.key,
            "source_index": i, "copy": c, "version": __version__}
    s = Sample(key, img, inst, d.factors, meta)
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    if x.image_ext == "png":
        ok, enc = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    else:
        ok, enc = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, spec.quality])
    members = [(x.image_ext if x.image_ext == "png" else "jpg", enc.tobytes()),
               ("json", orjson.dumps(s.to_json(arrays=True), option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY))]
    if x.has_score:  # recomputed from the final quads, never warped
        text = [t for t in inst if t.kind in TEXT_KINDS]
        H, W = img.shape[:2]
        sm = score_map([t.quad for t in text], [t.ignore for t in text], (H - H % 4, W - W % 4), stride=4)
        ok, sc = cv2.imencode(".png", (sm * 255).astype(np.uint8), [cv2.IMWRITE_PNG_BILEVEL, 1])
        members.append(("score.png", sc.tobytes()))
    return key, members


def run_task(spec: AugSpec, task: AugTask, progress=None) -> ShardInfo:
    fs, root = url_to_fs(spec.out)

    def samples():
        for j in range(task.start, task.start + task.count):
            yield augment_one(spec, j)
            if progress is not None:
                progress(1)

    return write_shard(fs, root, task.index, samples())


def _one_thread_task(spec: AugSpec, task: AugTask) -> ShardInfo:
    cv2.setNumThreads(1)  # one worker per core: OpenCV's own threads would only fight them
    return run_task(spec, task)


def _run_process(spec, tasks, workers, bar):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_task(spec, t, bar.update)
        return
    from ..run.worker import one_opencv_thread

    # fork (workers start at once, modules loaded) with OpenCV single-threaded before it
    with one_opencv_thread(), ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                                                  mp_context=mp.get_context("fork")) as pool:
        futs = {pool.submit(_one_thread_task, spec, t): t for t in tasks}
        for f in as_completed(futs):
            info = f.result()
            bar.update(info.count)
            yield info


def _ray_task(spec: AugSpec, task: AugTask) -> tuple[ShardInfo, list]:
    """A Ray worker's task: its library versions against the driver's first (run/versions.py)."""
    from ..run.versions import AUGMENT, check_worker

    accepted = check_worker(json.loads(spec.versions) if spec.versions else None, AUGMENT, spec.accept_versions)
    return _one_thread_task(spec, task), accepted


def _run_ray(spec, tasks, workers, bar, address, on_versions=None):
    from ..run.ray_exec import _connect, import_ray
    from ..run.versions import VersionMismatch

    ray = import_ray()
    owns = _connect(ray, workers, address)
    try:
        remote = ray.remote(_ray_task).options(num_cpus=1, max_retries=3, retry_exceptions=[OSError])
        refs = [remote.remote(spec, t) for t in tasks]  # one Ray task per output shard
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for r in done:
                try:
                    info, accepted = ray.get(r)
                except ray.exceptions.RayError as e:
                    if isinstance(getattr(e, "cause", None), VersionMismatch):
                        raise UserError(str(e.cause)) from None
                    raise
                if accepted and on_versions is not None:
                    on_versions(accepted)
                bar.update(info.count)
                yield info
    finally:
        if owns:
            ray.shutdown()


def augment_dataset(input: str, out: str, strength: float, copies: int = 1, seed: int = 0,
                    executor: str = "process", workers: int | None = None, shard_size: int = 1000,
                    overrides: dict[str, Any] | None = None, quality: int = 90, progress: bool = True,
                    ray_address: str | None = None, accept_versions: bool = False) -> dict[str, Any]:
    """Augment every sample of `input` `copies` times at `strength`; returns the manifest.
    `accept_versions`: resume although library versions differ from the recorded ones."""
    from ..run import versions as libs

    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if not 0 <= float(strength) <= 1:
        raise UserError(f"--strength must be in [0, 1], got {strength}")
    if int(copies) < 1 or int(shard_size) < 1:
        raise UserError("--copies and --shard-size must be >= 1")
    if workers is not None and int(workers) < 1:
        raise UserError(f"--workers must be >= 1, got {workers}")
    from ..run.job import parse_seed

    seed = parse_seed(seed)
    if executor == "ray":
        from ..run.ray_exec import preflight

        preflight(ray_address)
    data = {k.removeprefix("augment."): v for k, v in (overrides or {}).items()}
    data["strength"] = float(strength)
    try:
        cfg = AugmentCfg.model_validate(data)
    except Exception as e:  # pydantic's message names the key
        first = getattr(e, "errors", lambda: [{"loc": (), "msg": str(e)}])()[0]
        raise UserError(f"--set {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    src = str(Path(input).resolve()) if "://" not in input else input
    inp = open_input(src)
    if Path(out).resolve() == Path(src).resolve():
        raise UserError("--out must differ from the input folder")
    n = inp.count * int(copies)
    cfg_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
    source_cfg = dict(getattr(getattr(inp, "ds", None), "config", None) or {"name": inp.format, "kind": "scene"})
    job = {"n": n, "shard_size": int(shard_size), "stream": SAMPLE_STREAM,
           "augment": {"source": src, "source_format": inp.format, "source_fingerprint": inp.fingerprint(),
                       "source_count": inp.count, "strength": float(strength), "copies": int(copies),
                       "seed": int(seed), "quality": int(quality), "config": json.loads(cfg_json)}}
    fs, root = url_to_fs(out)
    mpath = posixpath.join(root, MANIFEST)
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, LocalFileSystem):
        from ..commands._args import check_out_folder

        check_out_folder(root, "--out")
    taken: list[dict[str, Any]] = []  # library differences accepted with --accept-versions
    if fs.exists(root):
        if not fs.isdir(root):
            raise UserError(f"--out {out!r} is a file; give a folder")
        names = [posixpath.basename(p.rstrip("/")) for p in fs.ls(root, detail=False)]
        if MANIFEST in names:
            old = json.loads(fs.cat_file(mpath))
            if {k: old.get(k) for k in job} != job:
                raise UserError(f"{out} holds a different augment job (input, strength, copies, seed or ops differ); "
                                "use another --out, or delete the folder to start over")
            if old.get("shards"):  # finished shards: the rest must be made by the same libraries
                taken = libs.merge(old.get("versions_accepted"),
                                   libs.check_resume(out, old.get("versions"), libs.AUGMENT, accept_versions))
        elif [x for x in names if not x.endswith(PARTIAL_SUFFIX)]:
            raise UserError(f"{out} is not empty and holds no synthgen manifest.json; use a new or empty folder")
    # one sample before anything is written: an unreadable input fails here
    augment_one(AugSpec(src, cfg_json, int(seed), int(copies), out, int(quality)), 0)
    created = not fs.exists(root)
    fresh = created or not fs.exists(mpath)  # no earlier run of this job to resume here
    try:
        return _augment_into(fs, root, out, mpath, src, inp, job, cfg_json, source_cfg, n, seed, copies, quality,
                             shard_size, executor, workers, progress, ray_address, taken, accept_versions)
    except BaseException as e:
        # Bad input found on the way (a corrupt input shard: exit 2) leaves nothing of this run behind
        # when the run made the folder; a stop from outside (exit 1, Ctrl-C) keeps finished shards.
        if fresh and isinstance(e, (UserError, OSError)) and not (isinstance(e, OSError) and out_of_space(e)):
            _undo(fs, root, created)
        if isinstance(e, OSError):
            if out_of_space(e):
                raise RunError(f"no space left on the device holding {out} ({e.strerror}); free some space and "
                               "rerun the same command: finished shards are kept") from None
            raise UserError(f"cannot write to --out {out!r} ({e.strerror or e}); choose another --out") from None
        raise


def _undo(fs, root: str, created: bool) -> None:
    """Remove what a fresh job wrote: the folder if it made it, else its manifest and shards."""
    try:
        if created:
            fs.rm(root, recursive=True)
            return
        for p in fs.ls(root, detail=False):
            name = posixpath.basename(p.rstrip("/"))
            if name == MANIFEST or name.endswith(PARTIAL_SUFFIX) or name.startswith("shard-"):
                fs.rm(p)
    except (FileNotFoundError, OSError):
        pass


def _augment_into(fs, root, out, mpath, src, inp, job, cfg_json, source_cfg, n, seed, copies, quality, shard_size,
                  executor, workers, progress, ray_address, taken=(), accept_versions=False) -> dict[str, Any]:
    from ..run import versions as libs

    fs.makedirs(root, exist_ok=True)
    tasks = [AugTask(k, s, min(shard_size, n - s)) for k, s in enumerate(range(0, n, shard_size))]
    kept: dict[int, ShardInfo] = {}
    for p in fs.ls(root, detail=False):
        name = posixpath.basename(p.rstrip("/"))
        if name.endswith(PARTIAL_SUFFIX):
            fs.rm(p)
    for t in tasks:
        path = posixpath.join(root, shard_name(t.index))
        if fs.exists(path):
            info = _inspect(fs, path)
            if info is not None and info.count == t.count:
                kept[t.index] = info
            else:
                fs.rm(path)
    now = libs.versions()
    head = {**job, "config": source_cfg, "kind": "augment", "versions": now,
            **({"versions_accepted": list(taken)} if taken else {})}
    _write(fs, mpath, {**head, "state": "running", "shards": [kept[k].to_json() for k in sorted(kept)]})
    todo = [t for t in tasks if t.index not in kept]
    spec = AugSpec(src if executor != "ray" or "://" in src else str(Path(src).resolve()), cfg_json, int(seed),
                   int(copies), str(Path(root).resolve()) if "://" not in out else out, int(quality),
                   json.dumps({k: now.get(k) for k in libs.AUGMENT}, sort_keys=True), bool(accept_versions))
    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=n, initial=sum(k.count for k in kept.values()), unit="img", desc="augment", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    try:
        if executor == "ray":
            def on_versions(records):  # a Ray worker's accepted differences
                head["versions_accepted"] = libs.merge(head.get("versions_accepted"), records)

            it = _run_ray(spec, todo, workers, bar, ray_address, on_versions)
        elif executor == "process":
            it = _run_process(spec, todo, workers, bar)
        else:
            it = (run_task(spec, t, bar.update) for t in todo)
        for info in it:
            kept[shard_index(info.name)] = info
    finally:
        bar.close()
    shards = [kept[t.index].to_json() for t in tasks]
    manifest = {**head, "state": "complete", "shards": shards, "counts": {"samples": n, "shards": len(shards)}}
    _write(fs, mpath, manifest)
    return manifest


def _inspect(fs, path: str) -> ShardInfo | None:
    """A finished shard's record, or None if it is truncated or unreadable (remade then)."""
    try:
        size = fs.size(path)
        with fs.open(path, "rb") as f:
            f.seek(max(0, size - 1024))
            tail = f.read()
        if not tar_end_ok(size, tail):
            return None
        count = len(read_shard(fs, path))
        sha, size = hash_file(fs, path)
    except Exception:
        return None
    return ShardInfo(posixpath.basename(path), count, sha, size)


def _write(fs, path: str, data: dict) -> None:
    tmp = path + PARTIAL_SUFFIX
    with fs.open(tmp, "wb") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True).encode())
    fs.mv(tmp, path)
