"""The job layer: one `Job` for every command that writes shards (`render`, `augment`, `mine`).

A job is a folder of shards plus manifest.json, made by tasks. What differs between the
commands is a task factory (`Tasks`): how many shards, how many samples each, the task that
makes shard i (made only when an executor asks for it), and what the driver does with a
finished one: "render samples i.." (`Tasks` over a `worker.Plan`, `render` below), "augment
inputs j.." (`augment/job.py`), "mine round r" (`mine/job.py`). Everything else is here, the
same for all three:

1. Checks, nothing written (`Job.check`): the executor (and the Ray cluster), the output URL
   (a file, an unwritable folder, memory:// with several processes), an existing folder's
   manifest (a JSON object, else one line; a folder with other files and no manifest is
   refused), the same job (`same(old)`: the command's own comparison), the same sample stream
   (`SAMPLE_STREAM`); then, in `run` before anything is written, the recorded library versions
   when there are finished shards (`run/versions.py`; `accept_versions` goes on and records
   `versions_accepted`).
2. Lock (`run/lock.py`): one job per folder; a second is refused in one line naming the first
   one's command, pid and host.
3. Resume: `*.partial` files are removed; a shard is kept only if manifest.json recorded it
   with the right count and it still has that sha256 (streamed through the executor, with a
   progress bar; `verify=False` trusts an unchanged size instead); the others are made again
   and the job says how many. A sequential job (each task needs the results of the ones before
   it: mine) keeps a prefix only, and rebuilds its state from it (`Tasks.resume`).
4. Run lazily: any n starts at once with flat memory; the running manifest is rewritten as
   shards finish (every 5 s, less often when it is large; after every task of a sequential
   job), on Ctrl-C and on failure; `Tasks.finish` (mine's report) runs under the lock; the
   final manifest is `complete`. Every file is written as `*.partial` and renamed.
5. Errors are one line: bad input (`UserError`, exit 2) found while a job that started the
   folder (no manifest before it) runs leaves nothing of it behind; a stop from outside
   (`RunError`, exit 1: disk full, a worker killed, an I/O error) and Ctrl-C keep the finished
   shards for a resume (a job that started the folder and finished nothing leaves nothing).

Executors: `serial`, `process` (the hardened pool of `run/local.py`) and `ray`
(`run/ray_exec.py`), each running `worker.run_task(spec, task)`. The spec is the command's
plain data (`worker.JobSpec`, `augment.job.AugSpec`, `mine.job.MineSpec`); the job fills in
what every spec carries: `out`, `versions`, `libraries`, `accept_versions` and the test seam
`faults` (`run/faults.py`). OpenCV runs single-threaded in the driver from before any fork.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from tqdm import tqdm

from ..config import dataset_name, fingerprint, load_config, sent_dump
from ..io.outpaths import check_out_folder, out_or_default
from ..errors import RunError, UserError
from ..io.shards import MANIFEST, PARTIAL_SUFFIX, out_of_space, shard_index, shard_name, url_to_fs
from ..version import SAMPLE_STREAM
from . import faults
from .. import numerics
from . import versions as libs
from .lock import LOCK_NAME, output_lock
from .worker import JobSpec, Plan, VerifyTask, one_opencv_thread
from .worker import _pipeline as worker_pipeline

CHECKPOINT_EVERY_S = 5.0  # rewrite the running manifest at most this often...
CHECKPOINT_COST_SHARE = 0.05  # ...and spend at most this share of the time doing it (huge jobs)
EXECUTORS = ("serial", "process", "ray")
SEED_RANGE = (0, 2**64 - 1)  # the draws hash the seed as an unsigned 64-bit integer
MAX_INDEX = 2**63 - 1  # sample indices are signed 64-bit integers (numpy) everywhere
MAX_SHARDS = 10_000_000  # manifest.json lists every shard: ~130 bytes each, ~1.3 GB at this limit
DOING = {"render": "rendered", "augment": "augmented", "mine": "mined"}  # "<out> is being ..."


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


def check_executor(executor: str, ray_address: str | None = None) -> None:
    """An executor we have; for Ray, Ray installed and the cluster answering. Nothing written."""
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if executor == "ray":
        from .ray_exec import preflight

        preflight(ray_address)  # no Ray, or no cluster at the address: one line, nothing written


def check_shards(plan: Plan, n: int, shard_size: int, what: str = "--n") -> None:
    """At most MAX_SHARDS shards (manifest.json lists each)."""
    if len(plan) > MAX_SHARDS:
        raise UserError(f"{what} {n:,} in shards of {shard_size:,} makes {len(plan):,} shards; manifest.json lists "
                        f"every shard and holds at most {MAX_SHARDS:,}: use --shard-size "
                        f"{-(-n // MAX_SHARDS):,} or more, or split the job")


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
            out.append(f"{prefix}{k}: {json.dumps(a, default=str)} -> {json.dumps(b, default=str)}")
    return out


def write_json(fs, path: str, data: dict) -> None:
    """Write a JSON file atomically (as `*.partial`, then renamed)."""
    write_bytes(fs, path, json.dumps(data, indent=2, sort_keys=True, default=str).encode())


def write_bytes(fs, path: str, data: bytes) -> None:
    """Write a file atomically (as `*.partial`, then renamed)."""
    tmp = path + PARTIAL_SUFFIX
    try:
        with fs.open(tmp, "wb") as f:
            f.write(data)
        fs.mv(tmp, path)
    except BaseException:
        try:
            fs.rm(tmp)
        except (FileNotFoundError, OSError):
            pass
        raise


def _ours(name: str) -> bool:
    """Files a job leaves or uses in its folder besides the manifest and shards."""
    return name.endswith(PARTIAL_SUFFIX) or name == LOCK_NAME


def _is_shard(name: str) -> bool:
    try:
        shard_index(name)
    except ValueError:
        return False
    return True


class Tasks:
    """A job's task factory. This one, over a `worker.Plan` (render, augment), makes shard i
    from samples plan[i].start .. + count with the task plan[i]; a finished shard's record is
    the written shard's (name, count, sha256, bytes). Commands subclass it for more."""

    sequential = False  # task i + 1 needs the result of task i (mine): made after it, run in the driver
    verifies_kept = False  # resume() reads the kept shards itself, checking their sha256 (no separate pass)
    files: tuple[str, ...] = ()  # other files the job writes into its folder (removed with it)

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def __len__(self) -> int:
        return len(self.plan)

    def count(self, i: int) -> int:
        """Samples in shard i."""
        return self.plan[i].count

    @property
    def total(self) -> int:
        return self.plan.n

    def task(self, i: int) -> Any:
        """The task that makes shard i (called only when an executor asks for it)."""
        return self.plan[i]

    def finished(self, result: Any) -> tuple[int, dict]:
        """A task's result -> (shard index, its manifest record)."""
        return shard_index(result.name), result.to_json()

    def resume(self, kept: dict[int, dict]) -> list[tuple[int, str]]:
        """The kept shards (index -> record, in order) before any task runs; returns the ones
        that cannot be used after all, (index, why)."""
        return []

    def extra(self, state: str, shards: list[dict]) -> dict:
        """More manifest.json fields."""
        return {}

    def finish(self, fs, root: str) -> None:
        """Every shard is made: write what else the job makes (under the lock, before the final manifest)."""


class _Checkpoints:
    """The running manifest, rewritten as shards finish: at most every CHECKPOINT_EVERY_S, and
    less often when the manifest is big enough that writing it costs real time (or after every
    shard: `each`)."""

    def __init__(self, fs, path: str, manifest: Callable[[str], dict], each: bool = False) -> None:
        self.fs, self.path, self.manifest, self.each = fs, path, manifest, each
        self.last, self.cost = 0.0, 0.0

    def write(self) -> None:
        t0 = time.monotonic()
        write_json(self.fs, self.path, self.manifest("running"))
        self.last = time.monotonic()
        self.cost = self.last - t0

    def maybe(self) -> None:
        if self.each or time.monotonic() - self.last > max(CHECKPOINT_EVERY_S, self.cost / CHECKPOINT_COST_SHARE):
            self.write()


def _executor(executor: str, workers: int, ray_address: str | None, on_versions=None):
    if executor == "ray":
        from .ray_exec import run_ray

        return lambda spec, tasks, on_progress: run_ray(spec, tasks, on_progress, workers=workers, address=ray_address,
                                                        on_versions=on_versions)
    from .local import run_process, run_serial

    runner = run_serial if executor == "serial" else run_process
    return lambda spec, tasks, on_progress: runner(spec, tasks, on_progress, workers=workers)


class Job:
    """One job of `command` ("render", "augment", "mine") into the folder `out`.

    `head`: what the job is, at the top of manifest.json; `same(old)`: raise a UserError if an
    existing manifest is another job's; `tasks`: the task factory; `spec`: the plain data every
    task gets (a dataclass with the job fields `out`, `versions`, `libraries`,
    `accept_versions`, `faults`, which the job fills in); `libraries`: the library versions
    the bytes depend on (settable after `check`, e.g. once a probe sample says torch is used).
    `Job(...).check()` reads only; `run()` writes and returns the final manifest."""

    def __init__(self, command: str, out: str, head: dict, tasks: Tasks, spec: Any, *,
                 same: Callable[[dict], None] | None = None, libraries: tuple[str, ...] = (),
                 accept_versions: bool = False, executor: str = "process", workers: int = 1,
                 ray_address: str | None = None, progress: bool = True, verify: bool = True,
                 name: str | None = None) -> None:
        if executor not in EXECUTORS:
            raise UserError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
        if not str(out).strip():  # '' would be the working directory
            raise UserError(f"--out {str(out)!r} is empty; give a folder or an fsspec URL")
        self.command, self.doing = command, DOING[command]
        self.out, self.head, self.tasks, self.spec, self.same = out, head, tasks, spec, same
        self.libraries, self.accept_versions = tuple(libraries), bool(accept_versions)
        # a sequential job's next task needs this one's result in the driver: no pool, no cluster
        self.executor = "serial" if tasks.sequential else executor
        self.workers, self.ray_address = int(workers), ray_address
        self.progress, self.verify, self.name = progress, verify, name or command
        self.fs, self.root = url_to_fs(out)
        self.recorded: dict[str, dict] | None = None  # name -> record of the shards a previous run finished
        self.old: dict = {}  # the previous run's manifest
        self.kept: dict[int, dict] = {}  # shard index -> record: kept, then made
        self.accepted: list[dict] = []  # versions_accepted
        self.checked = False

    # -- checks: nothing written ---------------------------------------------------------------
    def check(self) -> Job:
        fs, root, out = self.fs, self.root, self.out
        if isinstance(fs, LocalFileSystem):
            check_out_folder(Path(root), "--out")  # before anything is created
        if "memory" in _protocols(fs) and not (self.executor == "serial" or (self.executor == "process" and self.workers == 1)):
            raise UserError(f"--out {out!r}: memory:// lives inside one process, so other workers cannot write to it; "
                            "use --executor serial, or a folder or shared storage URL")
        self.recorded, self.old = self._previous()
        self.checked = True
        return self

    def _previous(self) -> tuple[dict[str, dict] | None, dict]:
        """(the shards a previous run recorded (name -> record), its manifest), after checking that
        this job may continue it; (None, {}) for a new folder. Reads only."""
        fs, root, out = self.fs, self.root, self.out
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
            msg = " ".join(str(e).split())[:200]
            raise UserError(f"{out}: manifest.json is unreadable ({msg}); delete the folder or pick another --out") from None
        if self.same is not None:
            self.same(old)
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

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> dict:
        if not self.checked:
            self.check()
        fs, root, out = self.fs, self.root, self.out
        numerics.warn_if_late()  # numpy / OpenCV loaded before synthgen could cap them: shards at their own level
        # The libraries the bytes depend on must be those the finished shards were made with.
        taken = libs.check_resume(out, self.old.get("versions"), self.libraries, self.accept_versions) if self.recorded else []
        before = self.old.get("versions_accepted") if self.recorded else None
        self.accepted = libs.merge(before if isinstance(before, list) else [], taken)
        fresh = not self.old  # no earlier run of this job to resume here
        with ExitStack() as stack:
            if self.executor == "ray":  # connect before writing: a cluster that is not there leaves nothing behind
                from .ray_exec import ray_session

                stack.enter_context(ray_session(self.workers, self.ray_address))
            top = self._missing_top()
            try:
                fs.makedirs(root, exist_ok=True)
            except OSError as e:
                self._remove_dirs(top)
                if out_of_space(e):
                    raise RunError(self._no_space(e)) from None
                raise UserError(f"cannot create output folder {out!r} ({e.strerror or e}); choose another --out") from None
            try:
                stack.enter_context(output_lock(fs, root, out, self.command, self.doing))
            except BaseException:
                self._remove_dirs(top)  # empty folders only: never what another job holds
                raise
            try:
                return self._run()
            except BaseException as e:
                err = self._stopped(e, fresh, top)
                if err is None:
                    raise
                raise err from None

    def _no_space(self, e: OSError) -> str:
        return (f"no space left on the device holding {self.out} ({e.strerror}); free some space and rerun the same "
                "command: finished shards are kept")

    def _stopped(self, e: BaseException, fresh: bool, top: str | None) -> BaseException | None:
        """A run that failed: a job that started the folder leaves nothing behind when its input was
        bad or it finished nothing; returns the one-line error to raise instead of `e` (None: `e`)."""
        if fresh and (isinstance(e, UserError) or not self.kept):
            self._undo(top)
        if not isinstance(e, OSError):
            return None
        if out_of_space(e):
            return RunError(self._no_space(e))
        what = f"{e.strerror or e}" + (f": {e.filename}" if getattr(e, "filename", None) else "")
        if fresh and not self.kept:
            return UserError(f"cannot write to --out {self.out!r} ({what}); choose another --out")
        return RunError(f"{self.out}: the {self.command} stopped on an I/O error ({what}); finished shards are kept: "
                        "rerun the same command to resume")

    def _missing_top(self) -> str | None:
        """The highest folder of `root` that does not exist yet (what making it creates), or None."""
        fs, p = self.fs, self.root
        if fs.exists(p):
            return None
        if not isinstance(fs, LocalFileSystem):
            return p
        top = p
        while True:
            parent = posixpath.dirname(top)
            if parent == top or fs.exists(parent):
                return top
            top = parent

    def _remove_dirs(self, top: str | None) -> None:
        """Remove the empty folders this job made, from `root` up to `top`."""
        if top is None:
            return
        p = self.root
        while True:
            try:
                self.fs.rmdir(p)
            except (FileNotFoundError, OSError):
                return
            if p == top:
                return
            p = posixpath.dirname(p)

    def _undo(self, top: str | None) -> None:
        """Remove what this job wrote: the folder if it made it, else its manifest, shards and files."""
        fs, root = self.fs, self.root
        try:
            if top is not None:
                fs.rm(root, recursive=True)
                if root != top:
                    self._remove_dirs_above(top)
                return
            for p in fs.ls(root, detail=False):
                name = posixpath.basename(p.rstrip("/"))
                if name == MANIFEST or name.endswith(PARTIAL_SUFFIX) or _is_shard(name) or name in self.tasks.files:
                    fs.rm(p)
        except (FileNotFoundError, OSError):
            pass

    def _remove_dirs_above(self, top: str) -> None:
        p = self.root
        while p != top:
            p = posixpath.dirname(p)
            try:
                self.fs.rmdir(p)
            except (FileNotFoundError, OSError):
                return

    def manifest(self, state: str) -> dict:
        shards = [self.kept[i] for i in sorted(self.kept)]
        m = {**self.head, "state": state, "versions": versions(), "shards": shards}
        if state == "complete":
            m["counts"] = {"samples": sum(s["count"] for s in shards), "shards": len(shards)}
        if self.accepted:
            m["versions_accepted"] = self.accepted
        m.update(self.tasks.extra(state, shards))
        return m

    def _drop(self, indices) -> None:
        for i in indices:
            del self.kept[i]
            try:
                self.fs.rm(posixpath.join(self.root, shard_name(i)))
            except FileNotFoundError:
                pass

    def _run(self) -> dict:
        fs, root, out, tasks = self.fs, self.root, self.out, self.tasks
        recorded = self.recorded or {}
        try:
            listing = fs.ls(root, detail=True)
        except FileNotFoundError:  # object stores: an empty prefix does not exist until written
            listing = []
        present: dict[int, str] = {}  # shard index -> name
        stray = []  # shards on disk that manifest.json does not list (as a shard of this job)
        differ: list[tuple[int, str]] = []  # listed, but on disk with another size (or a wrong count)
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
            if not rec or i >= len(tasks):
                stray.append(p)
            elif rec["count"] != tasks.count(i):
                differ.append((i, f"{rec['count']} samples in manifest.json, the job needs {tasks.count(i)}"))
                stray.append(p)
            elif not self.verify and e.get("size") != rec["bytes"]:  # with verify, the sha256 check says so
                differ.append((i, f"{e.get('size')} bytes, manifest.json says {rec['bytes']}"))
                stray.append(p)
            else:
                present[i] = base
        for p in stray:  # made again below: a shard finished after the last manifest update, or damaged
            fs.rm(p)
        kept = self.kept
        kept.update((i, recorded[base]) for i, base in present.items())
        cp = _Checkpoints(fs, posixpath.join(root, MANIFEST), self.manifest, each=tasks.sequential)
        cp.write()  # the first write: from here on the folder is a (resumable) dataset

        def on_versions(records: list[dict]) -> None:  # a Ray worker's accepted differences
            self.accepted = libs.merge(self.accepted, records)

        vers = versions()
        spec = dataclasses.replace(
            self.spec, out=root if isinstance(fs, LocalFileSystem) else out,  # a Ray worker's cwd is not ours
            versions=json.dumps({k: v for k, v in vers.items() if k in self.libraries}, sort_keys=True),
            libraries=self.libraries, accept_versions=self.accept_versions, faults=faults.ACTIVE)
        run = _executor(self.executor, self.workers, self.ray_address, on_versions)
        with one_opencv_thread():
            redo: list[tuple[int, str]] = list(differ)
            if self.verify and kept and not tasks.verifies_kept:
                checks = [VerifyTask(i, kept[i]["name"], kept[i]["sha256"], kept[i]["bytes"]) for i in sorted(kept)]
                bar = tqdm(total=sum(c.bytes for c in checks), unit="B", unit_scale=True, unit_divisor=1024,
                           desc=f"{self.name}: checking {len(checks)} kept shards", file=sys.stderr,
                           disable=not self.progress, dynamic_ncols=True)
                failed: list[tuple[int, str]] = []
                try:
                    with closing(run(spec, checks, bar.update)) as results:
                        for v in results:
                            if not v.ok:
                                failed.append((v.index, v.why))
                finally:
                    bar.close()
                self._drop(i for i, _ in failed)
                redo += failed
            after = 0
            if tasks.sequential:  # a prefix only: every shard needs the ones before it
                gap = next(i for i in range(len(kept) + 1) if i not in kept)
                later = [i for i in kept if i > gap]
                self._drop(later)
                after += len(later)
            if kept:
                bad = tasks.resume({i: kept[i] for i in sorted(kept)})
                redo += bad
                self._drop(i for i, _ in bad)
                if tasks.sequential and bad:
                    later = [i for i in kept if i > min(i for i, _ in bad)]
                    self._drop(later)
                    after += len(later)
            if redo or after:
                cp.write()
            if stray or redo or after or (recorded and self.progress):
                detail = "; ".join(w if w.startswith(shard_name(i)) else f"{shard_name(i)}: {w}"
                                   for i, w in sorted(redo)[:5]) + ("; ..." if len(redo) > 5 else "")
                print(f"synthgen: resuming {out}: {len(kept)} shards kept ({'sha256' if self.verify else 'size'} as in "
                      f"manifest.json); {self.doing} again: {len(redo)} that differ from it"
                      f"{f' ({detail})' if redo else ''}, {len(stray) - len(differ)} it does not list"
                      f"{f', {after} after those' if after else ''}; {len(tasks) - len(kept)} shards to make",
                      file=sys.stderr)

            todo = (tasks.task(i) for i in range(len(tasks)) if i not in kept)
            bar = tqdm(total=tasks.total, initial=sum(r["count"] for r in kept.values()), unit="img", desc=self.name,
                       file=sys.stderr, disable=not self.progress, smoothing=0.1, dynamic_ncols=True)
            try:
                with closing(run(spec, todo, bar.update)) as results:
                    for result in results:
                        i, rec = tasks.finished(result)
                        kept[i] = rec
                        cp.maybe()
            except BaseException:
                try:  # keep what is finished (Ctrl-C, a failed shard): a resume trusts it after checking
                    cp.write()
                except Exception:
                    pass
                raise
            finally:
                bar.close()
            tasks.finish(fs, root)
        manifest = self.manifest("complete")
        write_json(fs, posixpath.join(root, MANIFEST), manifest)
        return manifest


# -- render: "render samples i .. i + count - 1" into shard k ---------------------------------------


def with_split(cfg, split: str):
    """`cfg` rendering only the part `split` of its splits.ratios (after --set): one line naming
    --split and the parts (as the config key `split`, a wrong part was blamed on `--set split`).
    The config is not validated again: the part is the one field that changes, checked here."""
    parts = list(cfg.splits.ratios)
    if not isinstance(split, str) or not split.strip():  # '' used to render every part, silently
        raise UserError(f"--split {split!r} is empty; give one part of splits.ratios, e.g. --split "
                        f"{parts[0] if parts else 'train'}")
    if split not in parts:
        raise UserError(f"--split {split!r} is not a part of {cfg.name}'s splits.ratios; use one of "
                        f"{', '.join(parts)} (e.g. --split {parts[0] if parts else 'train'})")
    return cfg.model_copy(update={"split": split})


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
    split: str | None = None,
) -> dict:
    """Render `n` samples of `pipeline` into shards under `out`; returns the manifest.
    `accept_versions`: resume (and use Ray workers) even where library versions differ from
    the recorded ones (the differences go into manifest.json's `versions_accepted`).
    `split`: render only this part of the config's splits.ratios (`--split`; the same dataset as
    the config key `split`)."""
    n = parse_count(n)
    check_executor(executor, ray_address)
    cfg, base = load_config(pipeline, overrides or {})
    if split is not None:
        cfg = with_split(cfg, split)
    seed = parse_seed(cfg.seed if seed is None else seed, "seed" if seed is None else "--seed")
    shard_size = cfg.output.shard_size if shard_size is None else parse_count(shard_size, "--shard-size")
    workers = (os.cpu_count() or 1) if workers is None else parse_count(workers, "--workers")
    plan = Plan(n, shard_size)
    check_shards(plan, n, shard_size)
    name = dataset_name(cfg, base, seed)
    out = out_or_default(out, Path("runs") / name)
    config_json = json.dumps(sent_dump(cfg), sort_keys=True)  # an albumentations file as its content
    head = {
        "name": name,
        "pipeline": cfg.name,
        "config": json.loads(config_json),
        "fingerprint": fingerprint(cfg),
        "seed": seed,
        "n": n,
        "shard_size": shard_size,
        "stream": SAMPLE_STREAM,
    }

    def same(old: dict) -> None:
        prev = {k: old.get(k) for k in ("config", "seed", "n", "shard_size")}
        changes = _diff(prev, {k: head[k] for k in prev})
        if changes:
            raise UserError(
                f"{out} holds a dataset made with a different config ({'; '.join(changes[:3])}"
                f"{'; ...' if len(changes) > 3 else ''}); use another --out, or delete the folder to start over")

    job = Job("render", out, head, Tasks(plan), JobSpec(config_json=config_json, seed=seed, out=out), same=same,
              accept_versions=accept_versions, executor=executor, workers=workers, ray_address=ray_address,
              progress=progress, verify=verify, name=name).check()
    # Build the pipeline and draw one sample before writing anything: bad fonts, corpora
    # or folders fail here, with nothing left behind. The pipeline is the workers' own (built
    # from the config JSON they get, cached per process), so a worker in this process (serial,
    # one worker) or forked from it does not build it again.
    probe = worker_pipeline(config_json, seed)
    probe.sample(0)
    job.libraries = libs.RENDER_TORCH if libs.uses_torch(probe) else libs.RENDER
    return job.run()
