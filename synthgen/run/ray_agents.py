"""The two agent processes of a local Ray that synthgen starts for one job (run/ray_exec.py's
lean node), run by the raylet as `python ray_agents.py KIND ...`.

A raylet registers its node, and so lets `ray.init` go on, only once both of its agents have
written their ports to files in the session folder; each is a Python interpreter importing
Ray (~0.5-0.7 CPU-s) on the job's CPUs.

- `metrics PORT_FILE... [OPTION...]`: in place of the dashboard agent, whose services
  (metrics export, the dashboard's per-node API, log and job endpoints) such a Ray does not
  use. It writes -1, Ray's own "not in use" (its agent writes the same when Ray is installed
  without the dashboard), to each file, and waits until the raylet stops it. Options the
  raylet appends to the agent's command (`--disable-metrics-collection`) are not files.
- `runtime-env PORT_FILE AGENT [ARGS...]`: Ray's own runtime-env agent, started when it is
  first needed. The raylet asks it for something only for a task or job with a runtime_env
  (synthgen's tasks have none), so this announces a port at once, listens on it, and on the
  first connection closes it and runs Ray's agent on that port. The raylet's client takes the
  closed connection for an agent not up yet and retries until the agent answers.

Standard library only, and run by its path (not `-m synthgen...`): it must start in
milliseconds, without importing synthgen or Ray.
"""

from __future__ import annotations

import os  # (os and sys are loaded before any script: nothing is looked up in this folder yet)
import sys

if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # this folder's modules (job.py, lock.py, ...) must not shadow any other

import ctypes  # noqa: E402
import runpy  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

PR_SET_PDEATHSIG = 1  # prctl: a signal for this process when its parent (the raylet) dies


def _announce(path: str, port: int) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, path)  # the raylet polls for the file: never let it read half of one


def _stop_with_parent() -> int:
    """Exit on SIGTERM (the raylet stopping its agents) and when the raylet dies: Linux signals
    us (prctl); elsewhere the waits below look at the parent once a second. Returns its pid."""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    parent = os.getppid()
    if parent == 1:  # the raylet died before prctl: nothing will signal us
        os._exit(0)
    return parent


def _exit_if_orphaned(parent: int) -> None:
    if os.getppid() != parent:
        os._exit(0)


def metrics(args: list[str]) -> None:
    parent = _stop_with_parent()
    for path in args:
        if not path.startswith("-"):  # the raylet may append options (--disable-metrics-collection)
            _announce(path, -1)
    while True:
        time.sleep(1.0)
        _exit_if_orphaned(parent)


def runtime_env(port_file: str, agent: str, args: list[str]) -> None:
    parent = _stop_with_parent()
    ip = next((a.split("=", 1)[1] for a in args if a.startswith("--node-ip-address=")), "127.0.0.1")
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    waiting = socket.socket(family, socket.SOCK_STREAM)
    waiting.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the agent binds it again at once
    waiting.bind((ip, 0))
    waiting.listen(64)
    port = waiting.getsockname()[1]
    args = [a for a in args if not a.startswith("--runtime-env-agent-port=")] + [f"--runtime-env-agent-port={port}"]
    _announce(port_file, port)
    waiting.settimeout(1.0)
    while True:
        try:
            first, _ = waiting.accept()  # the raylet's first request: now the agent is needed
            break
        except socket.timeout:
            _exit_if_orphaned(parent)
    # Bound but not listening, with SO_REUSEADDR, the port stays ours until the agent binds it
    # (it sets the option too) and listens.
    reserved = socket.socket(family, socket.SOCK_STREAM)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    waiting.close()
    first.close()
    try:
        reserved.bind((ip, port))
    except OSError:
        reserved.close()  # taken in between (rare): the agent will say so, and Ray with it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the agent's own ways from here
    sys.argv = [agent, *args]
    sys.path.insert(0, os.path.dirname(agent))  # as `python AGENT` would have it
    runpy.run_path(agent, run_name="__main__")


def main(argv: list[str]) -> None:
    kind, rest = argv[0], argv[1:]
    if kind == "metrics":
        metrics(rest)
    elif kind == "runtime-env":
        runtime_env(rest[0], rest[1], rest[2:])
    else:
        sys.exit(f"ray_agents.py: unknown kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
