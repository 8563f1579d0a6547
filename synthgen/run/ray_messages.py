"""Ray's own messages to a synthgen driver go to a log file; the terminal gets one line each.

Ray prints two floods into a driver's terminal that say little to someone rendering shards:

- When a node's raylet dies (killed, OOM, machine lost), Ray publishes "Raylet is terminated"
  with the raylet log's last 20 lines (mostly `[state-dump]` timer statistics) to every
  driver, and the driver's listener thread prints it on stdout (twice: two watchers report
  it). With `log_to_driver=False` too: that flag covers worker output, not these messages.
- Connecting to a cluster that refuses the driver (token authentication: no token, or
  another cluster's) prints a C++ warning a second for 20 s before `ray.init` gives up with
  "Failed to connect to Ray cluster", which does not say why.

While a job runs, `routed()` writes such messages to `log_path()` (in the temp folder, made
on the first message) and prints one line on stderr naming it, through tqdm so the progress
bar stays whole: for a node that died, that Ray retries its shards on the other nodes.
`stderr_to_log()` holds the connecting driver's stderr (file descriptor 2) in the same file;
`auth_refused(e)` tells from Ray's exception that the cluster refused our token, and
`auth_fix()` says what to set (docs/ray.md, "Token authentication").

The listener looks `print_to_stdstream` up in `ray._private.worker` on every message, so the
module attribute is replaced while a job runs and put back after (a Ray without it: nothing
is routed, Ray prints as before). Worker output forwarded by a caller's own
`ray.init(log_to_driver=True)` goes through another path and is left alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

NODE_DIED = "Raylet is terminated"
_lock = threading.RLock()
_path: str | None = None
_depth = 0
_original: Any = None
_told: set[str] = set()


def log_path() -> str:
    """This process's Ray log: <temp folder>/synthgen-ray-<date>-<time>-<pid>.log."""
    global _path
    with _lock:
        if _path is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            _path = os.path.join(tempfile.gettempdir(), f"synthgen-ray-{stamp}-{os.getpid()}.log")
        return _path


def _write(text: str) -> None:
    with _lock, open(log_path(), "a", encoding="utf-8") as f:
        f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} (Ray, to the driver)\n{text.rstrip()}\n")


def _say(line: str) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)  # clears and redraws any progress bar


def _route(data: dict, ignore_prefix: bool = False) -> None:
    """Stands in for ray._private.worker.print_to_stdstream while a job runs."""
    if data.get("pid") != "raylet":  # not one of Ray's error messages: print as Ray would
        original = _original
        return original(data, ignore_prefix) if original is not None else None
    text = "\n".join(str(x) for x in data.get("lines") or []).strip()
    if not text:
        return None
    try:
        _write(text)
        where = log_path()
    except OSError as e:  # no log file: the terminal gets the message's first line after all
        where = f"not written: {e.strerror or e}"
    first = text.splitlines()[0].strip()
    if NODE_DIED in first:
        line = (f"synthgen: a Ray node died (its raylet was terminated); Ray retries its shards on the other "
                f"nodes; Ray's report: {where}")
        key = text  # the same death is reported twice, word for word
    else:
        line = f"synthgen: Ray: {first[:200]} (Ray's report: {where})"
        key = first
    with _lock:
        if key in _told:
            return None
        _told.add(key)
    _say(line)
    return None


@contextmanager
def routed() -> Iterator[None]:
    """Ray's messages to this driver go to the log file while the block runs (re-entrant)."""
    global _depth, _original
    try:
        import ray._private.worker as rw
    except ImportError:
        yield
        return
    with _lock:
        if _depth == 0:
            _original = getattr(rw, "print_to_stdstream", None)
            if _original is not None:
                rw.print_to_stdstream = _route
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _original is not None:
                if rw.print_to_stdstream is _route:
                    rw.print_to_stdstream = _original
                _original = None
                _told.clear()


@contextmanager
def stderr_to_log() -> Iterator[str]:
    """File descriptor 2 (this process's stderr, Ray's C++ core included) appends to the log
    file while the block runs; yields the file's path. The file is removed again if the block
    wrote nothing into a file it made. Only for connecting to a running cluster: processes
    started meanwhile (a local Ray) would keep the file as their stderr."""
    path = log_path()
    existed = os.path.exists(path)
    try:
        f = open(path, "ab")
    except OSError:  # no log file: stderr stays as it is
        yield path
        return
    try:
        with f:
            sys.stderr.flush()
            saved = os.dup(2)
            try:
                os.dup2(f.fileno(), 2)
                yield path
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
    finally:
        try:
            if not existed and os.path.getsize(path) == 0:
                os.remove(path)
        except OSError:
            pass


def auth_refused(exc: BaseException) -> bool:
    """Ray's exception (or its causes) says the cluster refused this driver's token."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 8:
        if type(e).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(e) \
                or "authentication token" in str(e).lower():
            return True
        e = e.__cause__ or e.__context__
        seen += 1
    return False


def auth_fix(address: str) -> str:
    """One line: why Ray at `address` refused us, and what to set."""
    mode = os.environ.get("RAY_AUTH_MODE", "").strip().lower()
    if mode != "token":
        why = "it uses token authentication and this driver sent no token (RAY_AUTH_MODE is not 'token')"
    elif not _has_token():
        why = "RAY_AUTH_MODE=token, but this machine has no token (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token)"
    else:
        why = "it refused this machine's token (another cluster's?)"
    fix = "give this machine" if mode == "token" else "set RAY_AUTH_MODE=token and give this machine"
    return (f"Ray at {address!r} refused to connect: {why}; {fix} the cluster's token (`ray get-auth-token` "
            f"on the head prints it: put it in ~/.ray/auth_token or RAY_AUTH_TOKEN); see docs/ray.md")


def _has_token() -> bool:
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.join(os.path.expanduser("~"), ".ray", "auth_token")
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False
