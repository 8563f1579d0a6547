"""The units of work: verify one kept shard against manifest.json, or make one shard with the
job's own task: render one (a pure function of (config, seed, shard task): `JobSpec`),
augment one (`augment/job.py`: `AugSpec`) or mine a round (`mine/job.py`: `MineSpec`).

Every executor (serial, process pool, Ray) calls `run_task(spec, task, progress)`; the spec is
plain data that knows how to run its task (`spec.make`), and every spec carries the same job
fields (`out`, `versions`, `libraries`, `accept_versions`, `faults`) that `run/job.Job` fills
in. A task records nothing but the shard it writes, so a retried or repeated task writes the
same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..config import PipelineConfig
from ..io.encode import encode_sample
from ..io.shards import ShardInfo, hash_file, url_to_fs, write_shard
from . import faults
from .faults import Faults
from .malloc import keep_freed_blocks

PROGRESS_EVERY = 16


@dataclass(frozen=True)
class ShardTask:
    """Render shard `index`: samples start .. start + count - 1."""

    index: int  # shard number
    start: int  # first global sample index
    count: int


@dataclass(frozen=True)
class VerifyTask:
    """Check a kept shard: its sha256 and size must be what manifest.json recorded."""

    index: int
    name: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Verified:
    index: int
    ok: bool
    why: str = ""  # what differs, when not ok


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs, as plain data (cheap to send to processes or a cluster)."""

    config_json: str
    seed: int
    out: str  # fsspec URL of the dataset folder
    # the driver's versions of the libraries the bytes depend on (JSON), which those are, and
    # whether a worker with others may go on (--accept-versions); see run/versions.py
    versions: str = ""
    libraries: tuple[str, ...] = ()
    accept_versions: bool = False
    faults: Faults | None = None  # test seam (run/faults.py): the job copies faults.ACTIVE here

    def make(self, task: ShardTask, progress: Callable[[int], None] | None = None) -> ShardInfo:
        return run_shard(self, task, progress)  # looked up when called (tests replace it)


class Plan(Sequence):
    """The shard tasks of a job (render, augment), made on demand: `plan[i]` costs nothing
    whatever n is, so a job of any size starts at once with flat memory."""

    def __init__(self, n: int, shard_size: int) -> None:
        self.n, self.shard_size = int(n), int(shard_size)
        self.shards = -(-self.n // self.shard_size)

    def __len__(self) -> int:
        return self.shards

    def __getitem__(self, i: int) -> ShardTask:  # type: ignore[override]
        if not 0 <= i < self.shards:
            raise IndexError(i)
        start = i * self.shard_size
        return ShardTask(i, start, min(self.shard_size, self.n - start))

    def __iter__(self) -> Iterator[ShardTask]:
        return (self[i] for i in range(self.shards))


def plan(n: int, shard_size: int) -> Plan:
    return Plan(n, shard_size)


@lru_cache(maxsize=4)
def _pipeline(config_json: str, seed: int):
    from ..pipeline import Pipeline

    return Pipeline(PipelineConfig.model_validate(json.loads(config_json)), seed=seed)


@contextmanager
def one_opencv_thread():
    """A render process works one sample at a time on one core: OpenCV's thread pool only adds
    synchronisation to every call on these small images (a small warp: 8 us -> 5.5 us), and
    with one worker per core its threads would fight the other workers. Set in the driver
    BEFORE a process pool forks (calling setNumThreads in a child forked from a process whose
    pool has run deadlocks), and in each Ray task (Ray workers are fresh processes); the
    caller's setting comes back afterwards."""
    import cv2

    prev = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(prev)


def run_shard(spec: JobSpec, task: ShardTask, progress: Callable[[int], None] | None = None) -> ShardInfo:
    pipe = _pipeline(spec.config_json, spec.seed)
    fs, root = url_to_fs(spec.out)
    output = pipe.cfg.output

    def samples():
        pending = 0
        for i in range(task.start, task.start + task.count):
            faults.at(spec.faults, i)  # inert unless a test installed faults (run/faults.py)
            s = pipe.sample(i)
            yield s.key, encode_sample(s, output)
            pending += 1
            if progress is not None and pending >= PROGRESS_EVERY:
                progress(pending)
                pending = 0
        if progress is not None and pending:
            progress(pending)

    info = write_shard(fs, root, task.index, samples())
    _flush_caches()
    return info


def _flush_caches() -> None:
    """Write the glyphs this process rasterised to the machine's glyph atlas (synthgen/machinecache.py)
    after each shard: pool workers end without running atexit hooks, and the next process (or
    job) starts from them instead of FreeType."""
    import sys

    glyphs = sys.modules.get("synthgen.renderers.glyphs")
    if glyphs is not None:
        try:
            glyphs.flush_atlas()
        except Exception:  # noqa: BLE001 - a cache must never fail a shard that is written
            pass


def verify_shard(spec: JobSpec, task: VerifyTask, progress: Callable[[int], None] | None = None) -> Verified:
    """Stream the kept shard through sha256 (flat memory); `progress(k)` counts bytes read."""
    import posixpath

    fs, root = url_to_fs(spec.out)
    try:
        sha, size = hash_file(fs, posixpath.join(root, task.name), progress)
    except FileNotFoundError:
        return Verified(task.index, False, "missing")
    except OSError as e:
        return Verified(task.index, False, f"unreadable: {e.strerror or e}")
    if size != task.bytes:
        return Verified(task.index, False, f"{size} bytes, manifest.json says {task.bytes}")
    if sha != task.sha256:
        return Verified(task.index, False, "sha256 differs from manifest.json")
    return Verified(task.index, True)


def run_task(spec: Any, task: Any, progress: Callable[[int], None] | None = None) -> Any:
    """What every executor calls: verify a kept shard, or make one with the job's own task
    (`spec.make(task, progress)`: render a shard, augment one, mine a round)."""
    if isinstance(task, VerifyTask):
        return verify_shard(spec, task, progress)
    keep_freed_blocks()  # this process makes samples: let malloc reuse their large blocks (run/malloc.py)
    return spec.make(task, progress)
