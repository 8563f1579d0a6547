"""One job (render, augment or mine) at a time per output folder.

On a local filesystem the lock is `flock` on `<out>/.synthgen.lock`: the kernel drops it when
the holder dies (kill -9 included), so a stale lock never blocks a resume. The file records
who holds it (pid, host, start time, command) so a refused second job can name the first. Forked
workers share the driver's lock, so it holds until the last of them is gone.

Object stores (s3://, gs://) have no such primitive that fsspec exposes: there the lock is
not taken (docs/architecture.md says so); don't start two jobs into one URL.
"""

from __future__ import annotations

import fcntl
import json
import os
import posixpath
import socket
import time
from contextlib import contextmanager

from fsspec.implementations.local import LocalFileSystem

from ..errors import UserError

LOCK_NAME = ".synthgen.lock"


def _holder(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            h = json.loads(f.read() or "{}")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(h["since"])))
        what = f"synthgen {h['command']}, " if isinstance(h.get("command"), str) else ""
        return f"{what}pid {h['pid']} on {h['host']}, started {since}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process whose details are not readable yet"


def _take(path: str, out: str, doing: str) -> int:
    """flock the file at `path`; the fd holds the lock. The file may be unlinked by the holder
    releasing it between our open and our flock: then try again on the new file."""
    for _ in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(f"{out} is being {doing} by another synthgen ({_holder(path)}); wait for it to "
                            "finish or stop it (rerunning then resumes), or choose another --out") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)
    raise UserError(f"{out}: could not take the lock {LOCK_NAME}; another synthgen keeps replacing it")


@contextmanager
def output_lock(fs, root: str, out: str, command: str = "render", doing: str = "rendered"):
    """Hold the folder's lock for the duration of the block (a no-op on non-local storage).
    `command` is recorded for a refused job to name; `doing` is what a refusal says the folder
    is being ("rendered", "augmented", "mined")."""
    if not isinstance(fs, LocalFileSystem):
        yield
        return
    path = posixpath.join(root, LOCK_NAME)
    fd = _take(path, out, doing)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                                  "command": command}).encode())
        yield
    finally:
        try:
            os.unlink(path)  # unlink while still holding it: a waiter re-checks the inode
        except FileNotFoundError:
            pass
        os.close(fd)
