"""Executors on this machine: `serial` (in-process) and `process` (a pool of forked workers,
the default).

An executor takes tasks (shards to make: rendered, augmented or mined, or shard checks; see
`worker.run_task`) from an iterator, pulled only as workers free up (a job of any size starts at once), and yields the
results as tasks finish; `on_progress(k)` is called as work completes, for the progress bar.

The process pool is our own (a pipe per worker) rather than ProcessPoolExecutor, for three
guarantees the latter does not give:

* no queue: a worker is handed a task only when it is idle, so stopping (Ctrl-C, an error)
  never waits for a queued shard;
* stopping is prompt: the driver ignores nothing, the workers ignore SIGINT and are stopped
  with SIGTERM, which discards the shard in progress (its `.partial` is removed);
* workers never outlive the driver: Linux sends them SIGTERM when it dies
  (PR_SET_PDEATHSIG), and each checks its parent between progress reports anyway.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import posixpath
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any
from multiprocessing.connection import wait

from ..errors import RunError
from ..io.shards import PARTIAL_SUFFIX, shard_name, url_to_fs
from .worker import VerifyTask, run_task

STOP_GRACE_S = 5.0  # after SIGTERM, a worker gets this long to clean up before SIGKILL
PR_SET_PDEATHSIG = 1


def run_serial(spec: Any, tasks: Iterable, on_progress: Callable[[int], None], workers: int = 1) -> Iterator:
    for t in tasks:
        yield run_task(spec, t, on_progress)


class _Stop(BaseException):
    """Raised in a worker by SIGTERM (or when its driver is gone): unwinds, removing the
    shard's .partial on the way, and exits."""


def _on_term(signum, frame) -> None:
    raise _Stop()


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGTERM this process when the process that forked it dies."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the driver died before the request took effect
        raise _Stop()


class _RemoteTraceback(Exception):
    def __init__(self, tb: str) -> None:
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


def _worker_main(conn, spec: Any, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    signal.signal(signal.SIGTERM, _on_term)
    try:
        _die_with_parent(parent)

        def progress(k: int) -> None:
            if os.getppid() != parent:  # driver gone (where PR_SET_PDEATHSIG is not available)
                raise _Stop()
            conn.send(("progress", k))

        while True:
            task = conn.recv()
            if task is None:
                return
            try:
                result = run_task(spec, task, progress)
            except (_Stop, KeyboardInterrupt):
                raise
            except BaseException as e:
                tb = traceback.format_exc()
                try:
                    conn.send(("error", e, tb))
                except Exception:  # the exception does not pickle: send its text
                    conn.send(("error", RuntimeError(f"{type(e).__name__}: {e}"), tb))
                continue
            conn.send(("done", result))
    except (_Stop, KeyboardInterrupt, EOFError, OSError):
        return  # stopped, or the driver is gone (a broken pipe)


class _Worker:
    def __init__(self, ctx, spec: Any) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, spec, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.task = None  # the task it is working on


def _died(w: _Worker) -> RunError:
    code = w.proc.exitcode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    what = "a shard check" if isinstance(w.task, VerifyTask) else shard_name(w.task.index)
    return RunError(f"a worker process died ({how}; killed, or out of memory) while working on {what}; finished "
                    "shards are kept: rerun the same command to resume (with fewer --workers if memory is short)")


def run_process(spec: Any, tasks: Iterable, on_progress: Callable[[int], None], workers: int = 1) -> Iterator:
    tasks = iter(tasks)
    first = [t for t in (next(tasks, None), next(tasks, None)) if t is not None]
    if workers <= 1 or len(first) <= 1:  # one worker or one task: no pool to start
        yield from run_serial(spec, chain(first, tasks), on_progress)
        return
    pending = chain(first, tasks).__next__
    # fork: workers start in milliseconds and inherit the already-loaded modules
    ctx = mp.get_context("fork")
    pool: list[_Worker] = []
    abort = True
    try:
        idle: list[_Worker] = []
        exhausted = False
        while True:
            while not exhausted and (idle or len(pool) < workers):
                try:
                    t = pending()
                except StopIteration:
                    exhausted = True
                    break
                if not idle:
                    pool.append(_Worker(ctx, spec))
                    idle.append(pool[-1])
                w = idle.pop()
                w.task = t
                w.conn.send(t)
            busy = [w for w in pool if w.task is not None]
            if not busy:
                break
            ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy]))
            for w in busy:
                eof = False
                while w.conn in ready and w.task is not None and w.conn.poll():
                    try:
                        msg = w.conn.recv()
                    except (EOFError, OSError):  # the worker is gone (poll() is true at EOF too)
                        eof = True
                        break
                    if msg[0] == "progress":
                        on_progress(msg[1])
                    elif msg[0] == "done":
                        w.task = None
                        idle.append(w)
                        yield msg[1]
                    else:
                        _, err, tb = msg
                        raise err from _RemoteTraceback(tb)
                if w.task is not None and (eof or (w.proc.sentinel in ready and not w.conn.poll())):
                    w.proc.join(0.1)
                    raise _died(w)
        abort = False
    finally:
        _shut(pool, spec, abort)


def _shut(pool: list[_Worker], spec: Any, abort: bool) -> None:
    """Finished: tell idle workers to exit. Aborted (Ctrl-C, an error, the consumer stopped):
    SIGTERM the busy ones too, which discards their shards; SIGKILL whatever lingers."""
    for w in pool:
        if w.task is not None and abort:
            if w.proc.is_alive():
                w.proc.terminate()
        else:
            try:
                w.conn.send(None)
            except OSError:
                pass
    deadline = time.monotonic() + STOP_GRACE_S
    lost = []
    for w in pool:
        w.proc.join(max(0.0, deadline - time.monotonic()))
        if w.proc.is_alive():
            w.proc.kill()
            w.proc.join()
            if w.task is not None and not isinstance(w.task, VerifyTask):
                lost.append(w.task)
        w.conn.close()
    if lost:  # killed before it could clean up: remove what it was writing
        fs, root = url_to_fs(spec.out)
        for t in lost:
            try:
                fs.rm(posixpath.join(root, shard_name(t.index) + PARTIAL_SUFFIX))
            except (FileNotFoundError, OSError):
                pass
