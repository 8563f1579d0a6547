"""Executors on this machine: `serial` (in-process) and `process` (a pool, the default).

An executor takes shard tasks and yields ShardInfo as shards finish; `on_progress(k)` is
called as samples complete, for the progress bar.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..io.shards import ShardInfo
from .worker import JobSpec, ShardTask, run_shard


def run_serial(spec: JobSpec, tasks: list[ShardTask], on_progress: Callable[[int], None], workers: int = 1) -> Iterator[ShardInfo]:
    for t in tasks:
        yield run_shard(spec, t, on_progress)


_progress_q = None


def _init(q) -> None:
    global _progress_q  # per worker process: where to report finished samples
    _progress_q = q


def _report(k: int) -> None:
    _progress_q.put(k)


def _task(spec: JobSpec, task: ShardTask) -> ShardInfo:
    return run_shard(spec, task, _report)


def run_process(spec: JobSpec, tasks: list[ShardTask], on_progress: Callable[[int], None], workers: int = 1) -> Iterator[ShardInfo]:
    if workers <= 1 or len(tasks) <= 1:
        yield from run_serial(spec, tasks, on_progress)
        return
    # fork: workers start in milliseconds and inherit the already-loaded modules
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx, initializer=_init, initargs=(q,)) as pool:
        pending = {pool.submit(_task, spec, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(q, on_progress)
                for f in done:
                    yield f.result()
            _drain(q, on_progress)
        except BaseException:
            for f in pending:
                f.cancel()
            raise


def _drain(q, on_progress: Callable[[int], None]) -> None:
    while True:
        try:
            on_progress(q.get_nowait())
        except queue.Empty:
            return
