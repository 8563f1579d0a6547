"""Fault injection: the seam the job tests use to kill, stall or fail a worker at a sample.

Production code never reads the environment for this. A test installs a `Faults` value
(`install(Faults(kill_at=[19]))`, or `monkeypatch.setattr(faults, "ACTIVE", ...)`); the job
(`run/job.py`) copies `ACTIVE` into the plain-data spec every worker gets, so forked workers
and Ray workers (fresh processes) see the same faults, and each task calls `at(spec.faults, i)`
before output sample `i` (render: the sample index; augment: output sample j; mine: the sample
index of the round). With nothing installed, `at` returns at once.

A CLI subprocess gets its faults from the test's own launcher (`tests/helpers.fault_cli`),
which installs them and then calls `synthgen.cli.main`.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Faults:
    """kill_at: SIGKILL the process on reaching any of these samples, every time (resume tests).
    stall_at: never get past these samples (a shard that takes forever: interrupt, lock and
    driver-death tests). once: (kind, index, marker file): the first process to reach the
    sample creates the marker and then raises OSError (kind "raise") or SIGKILLs itself
    ("kill"); once the marker exists the sample runs normally (retry tests)."""

    kill_at: tuple[int, ...] = ()
    stall_at: tuple[int, ...] = ()
    once: tuple[tuple[str, int, str], ...] = field(default=())

    def __post_init__(self) -> None:  # lists (from JSON) become tuples: hashable, picklable plain data
        object.__setattr__(self, "kill_at", tuple(int(i) for i in self.kill_at))
        object.__setattr__(self, "stall_at", tuple(int(i) for i in self.stall_at))
        once = tuple((str(k), int(i), str(m)) for k, i, m in self.once)
        for kind, _, _ in once:
            if kind not in ("raise", "kill"):
                raise ValueError(f"Faults.once: kind must be raise or kill, got {kind!r}")
        object.__setattr__(self, "once", once)


ACTIVE: Faults | None = None  # what the next job hands its workers (None: no faults)


def install(faults: Faults | None) -> None:
    """Set the faults the next job's workers get (None removes them)."""
    global ACTIVE
    ACTIVE = faults


def at(faults: Faults | None, index: int) -> None:
    """Called by every task before output sample `index`: inert unless faults were installed."""
    if faults is None:
        return
    if index in faults.kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    for kind, i, marker in faults.once:
        if i == index:
            _once(index, kind, marker)
    while index in faults.stall_at:
        time.sleep(3600)


def _once(index: int, kind: str, marker: str) -> None:
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return  # already happened once
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(f"injected I/O error at sample {index} (run/faults.py)")
