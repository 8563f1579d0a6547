"""`render`: plan shards, check the output folder, resume, dispatch to an executor, write the manifest.

Every check on the user's input happens before anything is written, so a refused job leaves
nothing behind. The manifest is written at the start (state "running": config, seed, n,
shard size) so that a rerun can tell a resume from a different job, and rewritten at the
end with every shard's count and sha256.
"""

from __future__ import annotations

import json
import os
import platform
import posixpath
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from tqdm import tqdm

from .. import SAMPLE_STREAM, __version__
from ..config import dataset_name, fingerprint, load_config
from ..errors import UserError
from ..io.shards import PARTIAL_SUFFIX, ShardInfo, inspect_shard, shard_name, url_to_fs
from .worker import JobSpec, one_opencv_thread, plan

MANIFEST = "manifest.json"
CHECKPOINT_EVERY_S = 5.0  # rewrite the running manifest at most this often
EXECUTORS = ("serial", "process", "ray")


def parse_count(value: Any, what: str = "--n") -> int:
    """`1e6`, `10_000`, `2000` -> int; anything else (or <= 0) is a UserError."""
    if isinstance(value, bool):
        raise UserError(f"{what} must be a positive whole number, got {value!r}")
    if isinstance(value, int):
        n = value
    else:
        s = str(value).strip()
        try:
            n = int(s)
        except ValueError:
            try:
                f = float(s.replace("_", ""))
            except ValueError:
                raise UserError(f"{what} must be a number like 1000, 10_000 or 1e6, got {value!r}") from None
            if f != f or f in (float("inf"), float("-inf")) or f != int(f):
                raise UserError(f"{what} must be a whole number, got {value!r}")
            n = int(f)
    if n <= 0:
        raise UserError(f"{what} must be > 0, got {value!r}")
    return n


def versions() -> dict[str, str]:
    out = {"synthgen": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "opencv-python-headless", "pillow", "fonttools", "webdataset"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _check_local_out(path: Path) -> None:
    """Refuse unusable local output paths before anything is created."""
    if path.exists() and not path.is_dir():
        raise UserError(f"output path {str(path)!r} is a file; give a folder (new or empty) with --out")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"output path {str(path)!r} is under {str(probe)!r}, which is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"output folder {str(probe)!r} is not writable; choose another --out")


def _protocols(fs) -> tuple[str, ...]:
    p = fs.protocol
    return (p,) if isinstance(p, str) else tuple(p)


def _diff(old: dict, new: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    out = []
    for k in keys:
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: {json.dumps(a)} -> {json.dumps(b)}")
    return out


def _size(fs, path: str) -> int | None:
    try:
        return int(fs.size(path))
    except (OSError, TypeError, ValueError):
        return None


def _write_json(fs, path: str, data: dict) -> None:
    tmp = path + PARTIAL_SUFFIX
    with fs.open(tmp, "wb") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True).encode())
    fs.mv(tmp, path)


def render(
    pipeline: str = "ocr_scene",
    n: Any = 1000,
    out: str | None = None,
    seed: int | None = None,
    shard_size: int | None = None,
    workers: int | None = None,
    executor: str = "process",
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    ray_address: str | None = None,
) -> dict:
    """Render `n` samples of `pipeline` into shards under `out`; returns the manifest."""
    n = parse_count(n)
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if executor == "ray":
        from .ray_exec import preflight

        preflight(ray_address)  # no Ray, or no cluster at the address: one line, nothing written
    cfg, base = load_config(pipeline, overrides or {})
    seed = cfg.seed if seed is None else int(seed)
    shard_size = cfg.output.shard_size if shard_size is None else parse_count(shard_size, "--shard-size")
    workers = (os.cpu_count() or 1) if workers is None else parse_count(workers, "--workers")
    name = dataset_name(cfg, base, seed)
    out = out or str(Path("runs") / name)
    fs, root = url_to_fs(out)
    if isinstance(fs, LocalFileSystem):
        _check_local_out(Path(root))
    if "memory" in _protocols(fs) and not (executor == "serial" or (executor == "process" and workers == 1)):
        raise UserError(f"--out {out!r}: memory:// lives inside one process, so other workers cannot write to it; "
                        "use --executor serial, or a folder or shared storage URL")

    config_json = json.dumps(cfg.model_dump(mode="json"), sort_keys=True)
    job = {
        "name": name,
        "pipeline": cfg.name,
        "config": json.loads(config_json),
        "fingerprint": fingerprint(cfg),
        "seed": seed,
        "n": n,
        "shard_size": shard_size,
        "stream": SAMPLE_STREAM,
    }
    manifest_path = posixpath.join(root, MANIFEST)
    fresh = not fs.exists(root)
    recorded: dict[str, dict] = {}  # shards a previous run finished, as its manifest recorded them
    if not fresh:
        listing = [posixpath.basename(p.rstrip("/")) for p in fs.ls(root, detail=False)]
        if MANIFEST in listing:
            try:
                with fs.open(manifest_path, "rb") as f:
                    old = json.loads(f.read())
            except (OSError, ValueError) as e:
                raise UserError(f"{out}: manifest.json is unreadable ({e}); delete the folder or pick another --out") from None
            prev = {k: old.get(k) for k in ("config", "seed", "n", "shard_size")}
            changes = _diff(prev, {k: job[k] for k in prev})
            recorded = {sh["name"]: sh for sh in (old.get("shards") or []) if isinstance(sh, dict) and "name" in sh}
            stream = old.get("stream", 1)  # manifests before streams were recorded: stream 1
            if not changes and stream != SAMPLE_STREAM:
                made_by = (old.get("versions") or {}).get("synthgen", "an earlier version")
                raise UserError(
                    f"{out} was made by synthgen {made_by}, whose samples differ from this version's for the same "
                    f"config and seed (sample stream {stream}, now {SAMPLE_STREAM}); resuming would mix the two. "
                    "Use another --out, or delete the folder to start over")
            if changes:
                raise UserError(
                    f"{out} holds a dataset made with a different config ({'; '.join(changes[:3])}"
                    f"{'; ...' if len(changes) > 3 else ''}); use another --out, or delete the folder to start over"
                )
        elif [x for x in listing if not x.endswith(PARTIAL_SUFFIX)]:
            raise UserError(f"{out} is not empty and holds no synthgen manifest.json; use a new or empty folder")

    # Build the pipeline and draw one sample before writing anything: bad fonts, corpora
    # or folders fail here, with nothing left behind.
    from ..pipeline import Pipeline

    Pipeline(cfg, seed=seed, base=base).sample(0)

    tasks = plan(n, shard_size)
    try:
        fs.makedirs(root, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create output folder {out!r} ({e.strerror or e}); choose another --out") from None
    try:
        listing = fs.ls(root, detail=False)
    except FileNotFoundError:  # object stores: an empty prefix does not exist until written
        listing = []
    present = set()  # one listing, not one request per shard (object stores)
    for p in listing:
        if p.endswith(PARTIAL_SUFFIX):  # left by a killed run
            fs.rm(p)
        else:
            present.add(posixpath.basename(p.rstrip("/")))
    kept: dict[int, ShardInfo] = {}
    for t in tasks:
        path = posixpath.join(root, shard_name(t.index))
        if shard_name(t.index) in present:
            rec = recorded.get(shard_name(t.index))
            if rec and rec.get("count") == t.count and _size(fs, path) == rec.get("bytes"):
                # Recorded when it was finished and still that size: no need to read it back
                # (on object stores a full read of every shard would cost more than the render).
                kept[t.index] = ShardInfo(rec["name"], rec["count"], rec["sha256"], rec["bytes"])
                continue
            info = inspect_shard(fs, path)
            if info is not None and info.count == t.count:
                kept[t.index] = info
            else:
                print(f"synthgen: {shard_name(t.index)} is truncated or corrupt; rendering it again", file=sys.stderr)
                fs.rm(path)
    running = {**job, "state": "running", "versions": versions()}

    def checkpoint() -> None:
        """The manifest, with the shards finished so far, so a resume can trust them unread."""
        done = [kept[t.index].to_json() for t in tasks if t.index in kept]
        _write_json(fs, manifest_path, {**running, "shards": done})

    checkpoint()

    todo = [t for t in tasks if t.index not in kept]
    # Workers get an absolute path for local folders: a Ray worker's working directory is not ours.
    spec = JobSpec(config_json=config_json, seed=seed, out=root if isinstance(fs, LocalFileSystem) else out)
    bar = tqdm(total=n, initial=sum(i.count for i in kept.values()), unit="img", desc=name, file=sys.stderr,
               disable=not progress, smoothing=0.1, dynamic_ncols=True)
    try:
        with one_opencv_thread():
            if executor == "ray":
                from .ray_exec import run_ray

                results = run_ray(spec, todo, bar.update, workers=workers, address=ray_address)
            else:
                from .local import run_process, run_serial

                runner = run_serial if executor == "serial" else run_process
                results = runner(spec, todo, bar.update, workers=workers)
            last = time.monotonic()
            for info in results:
                kept[tasks[int(info.name[6:12])].index] = info
                if time.monotonic() - last > CHECKPOINT_EVERY_S:
                    checkpoint()
                    last = time.monotonic()
    finally:
        bar.close()

    shards = [kept[t.index].to_json() for t in tasks]
    manifest = {**job, "state": "complete", "versions": versions(), "shards": shards,
                "counts": {"samples": sum(s["count"] for s in shards), "shards": len(shards)}}
    _write_json(fs, manifest_path, manifest)
    return manifest
