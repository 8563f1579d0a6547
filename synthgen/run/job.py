"""`render`: plan shards, check the output folder, resume, dispatch to an executor, write the manifest.

Every check on the user's input (numbers, seed, config, output URL, an existing dataset's
manifest, the pipeline itself, the Ray cluster) happens before anything is written, so a
refused job leaves nothing behind. Then the folder is locked (one render per folder) and the
manifest written (state "running": config, seed, n, shard size), so that a rerun can tell a
resume from a different job; it is rewritten as shards finish and at the end with every
shard's count and sha256.

Resume keeps a shard only if manifest.json recorded it and it still has that sha256 (checked
by streaming it through the workers; `verify=False` trusts the recorded size instead).
Anything else present is rendered again; `.partial` files are removed. A resume whose
libraries (numpy, OpenCV, Pillow's FreeType, ...: `run/versions.py`) differ from those
manifest.json recorded is refused in one line naming each package and both versions, unless
`accept_versions` (then the differences are recorded under `versions_accepted`); Ray workers
compare theirs with the driver's the same way.

Shard tasks are made on demand (`worker.Plan`), so a job of any size starts at once with
flat memory; the limit is the manifest, which lists every shard (`MAX_SHARDS`).
"""

from __future__ import annotations

import json
import os
import posixpath
import sys
import time
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from tqdm import tqdm

from ..config import dataset_name, fingerprint, load_config
from ..errors import RunError, UserError
from ..io.shards import MANIFEST, PARTIAL_SUFFIX, ShardInfo, out_of_space, shard_index, shard_name, url_to_fs
from ..version import SAMPLE_STREAM
from . import versions as libs
from .lock import LOCK_NAME, output_lock
from .worker import JobSpec, Plan, VerifyTask, one_opencv_thread

CHECKPOINT_EVERY_S = 5.0  # rewrite the running manifest at most this often...
CHECKPOINT_COST_SHARE = 0.05  # ...and spend at most this share of the time doing it (huge jobs)
EXECUTORS = ("serial", "process", "ray")
SEED_RANGE = (0, 2**64 - 1)  # the draws hash the seed as an unsigned 64-bit integer
MAX_INDEX = 2**63 - 1  # sample indices are signed 64-bit integers (numpy) everywhere
MAX_SHARDS = 10_000_000  # manifest.json lists every shard: ~130 bytes each, ~1.3 GB at this limit


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
    if n > MAX_INDEX:
        raise UserError(f"{what} must be at most 2**63 - 1 (sample indices are 64-bit), got {value!r}")
    return n


def parse_seed(value: Any, what: str = "--seed") -> int:
    """A job seed: a whole number in SEED_RANGE (0 .. 2**64 - 1)."""
    lo, hi = SEED_RANGE
    try:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        s = int(str(value).strip().replace("_", "")) if not isinstance(value, int) else value
    except ValueError:
        raise UserError(f"{what} must be a whole number from {lo} to 2**64 - 1, got {value!r}") from None
    if not lo <= s <= hi:
        raise UserError(f"{what} must be from {lo} to 2**64 - 1 ({hi}), got {value!r}")
    return s


def versions() -> dict[str, str | None]:
    """The library versions recorded in manifest.json (`run/versions.py`)."""
    return libs.versions()


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


def _write_json(fs, path: str, data: dict) -> None:
    tmp = path + PARTIAL_SUFFIX
    with fs.open(tmp, "wb") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True).encode())
    fs.mv(tmp, path)


def _ours(name: str) -> bool:
    """Files a render leaves or uses in its folder besides the manifest and shards."""
    return name.endswith(PARTIAL_SUFFIX) or name == LOCK_NAME


def _previous(fs, root: str, out: str, job: dict) -> tuple[dict[str, dict] | None, dict]:
    """(the shards a previous run recorded (name -> record), its manifest), after checking that
    this job may continue it; (None, {}) for a new folder. Reads only."""
    if not fs.exists(root):
        return None, {}
    listing = [posixpath.basename(p.rstrip("/")) for p in fs.ls(root, detail=False)]
    if MANIFEST not in listing:
        if [x for x in listing if not _ours(x)]:
            raise UserError(f"{out} is not empty and holds no synthgen manifest.json; use a new or empty folder")
        return {}, {}
    try:
        with fs.open(posixpath.join(root, MANIFEST), "rb") as f:
            old = json.loads(f.read())
        if not isinstance(old, dict):
            raise ValueError(f"a JSON {type(old).__name__}, not an object")
    except (OSError, ValueError) as e:
        raise UserError(f"{out}: manifest.json is unreadable ({e}); delete the folder or pick another --out") from None
    prev = {k: old.get(k) for k in ("config", "seed", "n", "shard_size")}
    changes = _diff(prev, {k: job[k] for k in prev})
    if changes:
        raise UserError(
            f"{out} holds a dataset made with a different config ({'; '.join(changes[:3])}"
            f"{'; ...' if len(changes) > 3 else ''}); use another --out, or delete the folder to start over"
        )
    stream = old.get("stream", 1)  # manifests before streams were recorded: stream 1
    if stream != SAMPLE_STREAM:
        made_by = (old.get("versions") or {}).get("synthgen", "an earlier version") if isinstance(old.get("versions"), dict) else "an earlier version"
        raise UserError(
            f"{out} was made by synthgen {made_by}, whose samples differ from this version's for the same "
            f"config and seed (sample stream {stream}, now {SAMPLE_STREAM}); resuming would mix the two. "
            "Use another --out, or delete the folder to start over")
    shards = old.get("shards")
    recorded = {}
    for sh in shards if isinstance(shards, list) else []:  # malformed entries: those shards are made again
        if (isinstance(sh, dict) and isinstance(sh.get("name"), str) and isinstance(sh.get("count"), int)
                and isinstance(sh.get("sha256"), str) and isinstance(sh.get("bytes"), int)):
            recorded[sh["name"]] = sh
    return recorded, old


class _Checkpoints:
    """The running manifest, rewritten as shards finish: at most every CHECKPOINT_EVERY_S, and
    less often when the manifest is big enough that writing it costs real time."""

    def __init__(self, fs, path: str, head: dict, plan: Plan, kept: dict[int, ShardInfo]) -> None:
        self.fs, self.path, self.head, self.plan, self.kept = fs, path, head, plan, kept
        self.last, self.cost = 0.0, 0.0

    def write(self) -> None:
        t0 = time.monotonic()
        _write_json(self.fs, self.path, {**self.head, "shards": [self.kept[i].to_json() for i in sorted(self.kept)]})
        self.last = time.monotonic()
        self.cost = self.last - t0

    def maybe(self) -> None:
        if time.monotonic() - self.last > max(CHECKPOINT_EVERY_S, self.cost / CHECKPOINT_COST_SHARE):
            self.write()


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
    verify: bool = True,
    accept_versions: bool = False,
) -> dict:
    """Render `n` samples of `pipeline` into shards under `out`; returns the manifest.
    `accept_versions`: resume (and use Ray workers) even where library versions differ from
    the recorded ones (the differences go into manifest.json's `versions_accepted`)."""
    n = parse_count(n)
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if executor == "ray":
        from .ray_exec import preflight

        preflight(ray_address)  # no Ray, or no cluster at the address: one line, nothing written
    cfg, base = load_config(pipeline, overrides or {})
    seed = parse_seed(cfg.seed if seed is None else seed, "seed" if seed is None else "--seed")
    shard_size = cfg.output.shard_size if shard_size is None else parse_count(shard_size, "--shard-size")
    workers = (os.cpu_count() or 1) if workers is None else parse_count(workers, "--workers")
    plan = Plan(n, shard_size)
    if len(plan) > MAX_SHARDS:
        raise UserError(f"--n {n:,} in shards of {shard_size:,} makes {len(plan):,} shards; manifest.json lists "
                        f"every shard and holds at most {MAX_SHARDS:,}: use --shard-size "
                        f"{-(-n // MAX_SHARDS):,} or more, or split the job")
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
    recorded, old = _previous(fs, root, out, job)

    # Build the pipeline and draw one sample before writing anything: bad fonts, corpora
    # or folders fail here, with nothing left behind.
    from ..pipeline import Pipeline

    probe = Pipeline(cfg, seed=seed, base=base)
    probe.sample(0)
    # The libraries the bytes depend on must be those the finished shards were made with.
    depends = libs.RENDER_TORCH if libs.uses_torch(probe) else libs.RENDER
    taken = libs.check_resume(out, old.get("versions"), depends, accept_versions) if recorded else []
    job_versions = {"depends": depends, "accept": bool(accept_versions),
                    "accepted": libs.merge(old.get("versions_accepted") if recorded else [], taken)}

    with ExitStack() as stack:
        if executor == "ray":  # connect before writing: a cluster that is not there leaves nothing behind
            from .ray_exec import ray_session

            stack.enter_context(ray_session(workers, ray_address))
        try:
            created = recorded is None and not fs.exists(root)
            try:
                fs.makedirs(root, exist_ok=True)
            except OSError as e:
                if out_of_space(e):
                    raise
                raise UserError(f"cannot create output folder {out!r} ({e.strerror or e}); choose another --out") from None
            try:
                stack.enter_context(output_lock(fs, root, out))
            except BaseException:
                if created:
                    _remove_empty(fs, root)
                raise
            # Workers get an absolute path for local folders: a Ray worker's working directory is not ours.
            spec = JobSpec(config_json=config_json, seed=seed, out=root if isinstance(fs, LocalFileSystem) else out,
                           versions=json.dumps({k: v for k, v in versions().items() if k in depends}, sort_keys=True),
                           libraries=tuple(depends), accept_versions=bool(accept_versions))
            return _run(fs, root, out, job, plan, recorded or {}, spec, executor, workers, ray_address, progress,
                        verify, created, job_versions)
        except OSError as e:
            if out_of_space(e):
                raise RunError(f"no space left on the device holding {out} ({e.strerror}); free some space and rerun "
                               "the same command: finished shards are kept") from None
            raise


def _remove_empty(fs, root: str) -> None:
    """Undo creating the output folder (nothing of ours may be left in it)."""
    try:
        fs.rm(posixpath.join(root, LOCK_NAME))
    except (FileNotFoundError, OSError):
        pass
    try:
        fs.rmdir(root)
    except (FileNotFoundError, OSError):
        pass


def _executor(executor: str, workers: int, ray_address: str | None, on_versions=None):
    if executor == "ray":
        from .ray_exec import run_ray

        return lambda spec, tasks, on_progress: run_ray(spec, tasks, on_progress, workers=workers, address=ray_address,
                                                        on_versions=on_versions)
    from .local import run_process, run_serial

    runner = run_serial if executor == "serial" else run_process
    return lambda spec, tasks, on_progress: runner(spec, tasks, on_progress, workers=workers)


def _run(fs, root, out, job, plan: Plan, recorded, spec, executor, workers, ray_address, progress, verify, created,
         job_versions: dict | None = None) -> dict:
    try:
        listing = fs.ls(root, detail=True)
    except FileNotFoundError:  # object stores: an empty prefix does not exist until written
        listing = []
    present: dict[int, tuple[str, int | None]] = {}  # shard index -> (name, size)
    stray = []  # shards on disk that cannot be kept: not recorded, wrong count or size
    for e in listing:
        p = e["name"].rstrip("/")
        base = posixpath.basename(p)
        if base.endswith(PARTIAL_SUFFIX):  # left by a killed run
            try:
                fs.rm(p)
            except FileNotFoundError:
                pass
            continue
        try:
            i = shard_index(base)
        except ValueError:
            continue
        rec = recorded.get(base)
        if i < len(plan) and rec and rec["count"] == plan[i].count and (verify or e.get("size") == rec["bytes"]):
            present[i] = (base, e.get("size"))
        else:
            stray.append(p)
    for p in stray:  # made again below: a shard finished after the last manifest update, or damaged
        fs.rm(p)

    kept: dict[int, ShardInfo] = {}
    for i, (base, _) in present.items():
        r = recorded[base]
        kept[i] = ShardInfo(base, r["count"], r["sha256"], r["bytes"])
    head = {**job, "state": "running", "versions": versions()}
    if job_versions and job_versions["accepted"]:
        head["versions_accepted"] = job_versions["accepted"]
    cp = _Checkpoints(fs, posixpath.join(root, MANIFEST), head, plan, kept)
    try:
        cp.write()  # the first write: from here on the folder is a (resumable) dataset
    except BaseException:
        if created:
            _remove_empty(fs, root)
        raise

    def on_versions(records: list[dict]) -> None:  # a Ray worker's accepted differences
        merged = libs.merge(cp.head.get("versions_accepted"), records)
        if merged != cp.head.get("versions_accepted"):
            cp.head["versions_accepted"] = merged

    run = _executor(executor, workers, ray_address, on_versions)
    name = job["name"]
    with one_opencv_thread():
        redo = []
        if verify and kept:
            checks = [VerifyTask(i, kept[i].name, kept[i].sha256, kept[i].bytes) for i in sorted(kept)]
            bar = tqdm(total=sum(c.bytes for c in checks), unit="B", unit_scale=True, unit_divisor=1024,
                       desc=f"{name}: checking {len(checks)} kept shards", file=sys.stderr, disable=not progress,
                       dynamic_ncols=True)
            try:
                with closing(run(spec, checks, bar.update)) as results:
                    for v in results:
                        if not v.ok:
                            redo.append((v.index, v.why))
            finally:
                bar.close()
            for i, _ in redo:
                del kept[i]
                try:
                    fs.rm(posixpath.join(root, shard_name(i)))
                except FileNotFoundError:
                    pass
            if redo:
                cp.write()
        if stray or redo or (recorded and progress):
            detail = "; ".join(f"{shard_name(i)}: {why}" for i, why in sorted(redo)[:5]) + ("; ..." if len(redo) > 5 else "")
            print(f"synthgen: resuming {out}: {len(kept)} shards kept ({'sha256' if verify else 'size'} as in "
                  f"manifest.json); rendered again: {len(redo)} that differ from it{f' ({detail})' if redo else ''}, "
                  f"{len(stray)} it does not list; {len(plan) - len(kept)} shards to make", file=sys.stderr)

        todo = (plan[i] for i in range(len(plan)) if i not in kept)
        bar = tqdm(total=plan.n, initial=sum(k.count for k in kept.values()), unit="img", desc=name, file=sys.stderr,
                   disable=not progress, smoothing=0.1, dynamic_ncols=True)
        try:
            with closing(run(spec, todo, bar.update)) as results:
                for info in results:
                    kept[shard_index(info.name)] = info
                    cp.maybe()
        except BaseException:
            try:  # keep what is finished (Ctrl-C, a failed shard): a resume trusts it after checking
                cp.write()
            except Exception:
                pass
            raise
        finally:
            bar.close()

    shards = [kept[i].to_json() for i in range(len(plan))]
    manifest = {**job, "state": "complete", "versions": versions(), "shards": shards,
                "counts": {"samples": sum(s["count"] for s in shards), "shards": len(shards)}}
    if cp.head.get("versions_accepted"):
        manifest["versions_accepted"] = cp.head["versions_accepted"]
    _write_json(fs, posixpath.join(root, MANIFEST), manifest)
    return manifest
