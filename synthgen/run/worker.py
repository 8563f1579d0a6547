"""The unit of work: one shard, a pure function of (config, seed, shard task).

Every executor (serial, process pool, Ray) calls `run_shard`; it records nothing but the
shard it writes, so a retried or repeated task writes the same bytes.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from ..config import PipelineConfig
from ..io.shards import ShardInfo, url_to_fs, write_shard

PROGRESS_EVERY = 16


@dataclass(frozen=True)
class ShardTask:
    index: int  # shard number
    start: int  # first global sample index
    count: int


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs, as plain data (cheap to send to processes or a cluster)."""

    config_json: str
    seed: int
    out: str  # fsspec URL of the dataset folder


def plan(n: int, shard_size: int) -> list[ShardTask]:
    return [ShardTask(i, s, min(shard_size, n - s)) for i, s in enumerate(range(0, n, shard_size))]


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


def _faults_once() -> dict[int, tuple[str, str]]:
    """Test hook: `SYNTHGEN_TEST_FAULT_ONCE=<raise|kill>:<global sample index>:<marker file>[,...]`.

    The first process to reach that sample creates the marker file and then raises OSError
    (`raise`) or SIGKILLs itself (`kill`); once the marker exists the sample renders normally.
    So each fault happens exactly once, which is what retry tests need.
    """
    v = os.environ.get("SYNTHGEN_TEST_FAULT_ONCE")
    faults: dict[int, tuple[str, str]] = {}
    for item in filter(None, (v or "").split(",")):
        kind, index, marker = item.split(":", 2)
        if kind not in ("raise", "kill"):
            raise ValueError(f"SYNTHGEN_TEST_FAULT_ONCE: kind must be raise or kill, got {kind!r}")
        faults[int(index)] = (kind, marker)
    return faults


def _inject_fault(index: int, kind: str, marker: str) -> None:
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return  # already happened once
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(f"SYNTHGEN_TEST_FAULT_ONCE: injected I/O error at sample {index}")


def run_shard(spec: JobSpec, task: ShardTask, progress: Callable[[int], None] | None = None) -> ShardInfo:
    pipe = _pipeline(spec.config_json, spec.seed)
    fs, root = url_to_fs(spec.out)

    # Test hooks (fault injection): SIGKILL at a sample every time (resume tests), or one
    # fault the first time a sample is reached (retry tests); see _faults_once.
    kill_at = int(os.environ.get("SYNTHGEN_TEST_KILL_AT", "-1"))
    once = _faults_once()

    def samples():
        pending = 0
        for i in range(task.start, task.start + task.count):
            if i == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            if i in once:
                _inject_fault(i, *once[i])
            s = pipe.sample(i)
            yield s.key, pipe.encode(s)
            pending += 1
            if progress is not None and pending >= PROGRESS_EVERY:
                progress(pending)
                pending = 0
        if progress is not None and pending:
            progress(pending)

    return write_shard(fs, root, task.index, samples())
