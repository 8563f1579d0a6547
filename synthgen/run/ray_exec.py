"""The Ray executor: one Ray task per shard, on a local Ray instance or an existing cluster.

Same contract as the local executors (`run.local`): take tasks, yield their results as shards
finish, call `on_progress(k)` as samples complete. Every task calls the pure
`worker.run_task` (render a shard, augment one, or verify a kept one), which writes its shard
under a temporary name and renames it when complete, so a retried task (worker died, I/O
error) writes the same bytes again and never leaves a half shard under the final name. The
driver (`run/job.Job`) writes the manifest last. Test faults travel in the spec
(`run/faults.py`), never in the environment.

- Tasks: `num_cpus=1`, `max_retries` (default 3, env `SYNTHGEN_RAY_MAX_RETRIES`), retried on
  worker death (Ray's system failures) and on `OSError` (I/O to shared storage); other
  exceptions are bugs and fail the job at once.
- Versions: before rendering, a task compares its process's library versions with the
  driver's (the spec's `versions`, `run/versions.py`); a worker with other versions would render
  other bytes, so the job stops with one line naming the host, each package and both versions
  (`UserError`, not retried), unless `--accept-versions`: then the task goes on and the
  differences reach the driver (`on_versions`) for manifest.json's `versions_accepted`.
- Progress by samples: tasks send the driver a UDP datagram every `worker.PROGRESS_EVERY`
  samples (shard, samples done, and a random token of the job, fire and forget) at the
  address it listens on; the driver keeps, per shard, the most samples any attempt has
  finished (`_Progress`), so a retried shard is not counted twice. Progress is cosmetic: a
  datagram that does not arrive (a firewall, Ray Client from outside the cluster) only makes
  the bar move by whole shards. It was a Ray actor until issue 23: the actor's worker process
  (started beside the shard workers, holding a worker slot while it starts) cost ~3 s of a
  20,000-line job on 2 CPUs (Ray at 0.84x the process executor with it, 0.99x without).
- Back-pressure: at most a few tasks per cluster CPU are in flight, so `--n 1e8` does not
  submit 10^5 tasks at once.
- Ray is imported lazily; without it the user gets one line saying how to install it.
- No address (argument or `RAY_ADDRESS`): start a local Ray (`num_cpus=workers`, quiet,
  without the autoscaler monitor, log monitor and dashboard it would not use: `_lean_node`)
  and shut it down at the end. An address (`auto`, `host:port`,
  `ray://host:port`): connect, and disconnect at the end. If the caller has already called
  `ray.init`, that connection is used and left up.
"""

from __future__ import annotations

import inspect
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import RunError, UserError
from ..io.shards import out_of_space, shard_name
from .ray_messages import auth_fix, auth_refused, log_path, routed, stderr_to_log
from .versions import VersionMismatch
from .worker import VerifyTask, one_opencv_thread, run_task

DEFAULT_MAX_RETRIES = 3
POLL_S = 0.5  # driver loop: collect finished shards, refresh the progress counts
IN_FLIGHT_PER_CPU = 2
# A local Ray we start does the user's job and nothing else, so its workers run at the niceness
# of the process executor's (0), not Ray's default 15: at 15, any other busy process on the
# machine (a training run, a second job) takes ~95% of the CPU from the shards (measured:
# 20,000 lines 4x slower than the process executor beside one busy process). A cluster we only
# join keeps its own setting.
LOCAL_SYSTEM_CONFIG = {"worker_niceness": 0}


def import_ray():
    try:
        import ray
    except ImportError:
        raise UserError('the ray executor needs Ray, which is not installed: pip install "synthgen[ray]"') from None
    return ray


def _address(address: str | None) -> str | None:
    """The cluster to join: the argument, else $RAY_ADDRESS, else None (start a local Ray)."""
    return (address or os.environ.get("RAY_ADDRESS") or "").strip() or None


def preflight(address: str | None) -> None:
    """Checks that need nothing written: Ray is installed, and the cluster address answers."""
    ray = import_ray()
    address = _address(address)
    if address and not ray.is_initialized():
        try:
            _check_reachable(address)
        except (ConnectionError, ValueError) as e:
            raise UserError(f"cannot connect to Ray at {address!r} ({e}); start a cluster with "
                            f"`ray start --head`, or leave --ray-address/RAY_ADDRESS unset for a local Ray") from None


def _max_retries(value: int | None) -> int:
    if value is not None:
        return int(value)
    env = os.environ.get("SYNTHGEN_RAY_MAX_RETRIES")
    if env is None:
        return DEFAULT_MAX_RETRIES
    try:
        return int(env)
    except ValueError:
        raise UserError(f"SYNTHGEN_RAY_MAX_RETRIES must be a whole number, got {env!r}") from None


class _Progress:
    """Shard index -> most samples finished by any attempt, for shards in flight (the driver's)."""

    def __init__(self) -> None:
        self.done: dict[int, int] = {}
        self.closed: set[int] = set()

    def report(self, shard: int, done: int) -> None:
        if done > self.done.get(shard, 0) and shard not in self.closed:
            self.done[shard] = done

    def finish(self, shard: int) -> None:
        """The driver has the shard: forget it (`done` holds the shards in flight only)."""
        self.closed.add(shard)
        self.done.pop(shard, None)

    def snapshot(self) -> dict[int, int]:
        return dict(self.done)


class _Listener:
    """The driver's end of the progress datagrams: a UDP socket on this node's address (what
    Ray's workers reach it by), non-blocking, drained into a `_Progress` by the driver loop.
    `address` = (host, port, token) travels to the tasks; a datagram without the job's
    token (another job, a stray packet) is ignored."""

    def __init__(self, host: str) -> None:
        family, _, _, _, addr = socket.getaddrinfo(host, 0, type=socket.SOCK_DGRAM)[0]
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.bind(addr)
            self.sock.setblocking(False)
        except OSError:
            self.sock.close()
            raise
        self.token = os.urandom(8).hex()
        self.address = (host, self.sock.getsockname()[1], self.token)

    def drain(self, into: _Progress) -> None:
        while True:
            try:
                data = self.sock.recv(128)
            except OSError:  # nothing left to read (BlockingIOError), or the socket is gone
                return
            parts = data.split()
            if len(parts) == 3 and parts[0] == self.token.encode() and parts[1].isdigit() and parts[2].isdigit():
                into.report(int(parts[1]), int(parts[2]))

    def close(self) -> None:
        self.sock.close()


def _sender(address: tuple[str, int, str] | None, shard: int) -> Callable[[int], None] | None:
    """A task's `progress(k)`: counts samples and sends the running total to the driver (fire
    and forget; progress is cosmetic, so a send that fails is dropped)."""
    if address is None:
        return None
    host, port, token = address
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError:
        return None
    done = 0

    def progress(k: int) -> None:
        nonlocal done
        done += k
        try:
            sock.sendto(f"{token} {shard} {done}".encode(), addr)
        except OSError:
            pass

    progress.close = sock.close  # type: ignore[attr-defined]
    return progress


def _node_host(ray) -> str:
    """This node's address as the cluster knows it (a local Ray: loopback)."""
    try:
        return ray.util.get_node_ip_address() or "127.0.0.1"
    except Exception:
        return "127.0.0.1"


def _shard_task(spec: Any, task: Any, tracker: Any):
    """Body of the Ray task (module level, so workers import it rather than unpickle code):
    (result, accepted version differences of this worker). Any job's spec: its `versions`,
    `libraries` and `accept_versions` say what to compare."""
    if isinstance(task, VerifyTask):
        return run_task(spec, task), []
    accepted = worker_versions(spec)
    with one_opencv_thread():
        return _run_tracked(spec, task, tracker), accepted


def worker_versions(spec: Any) -> list[dict]:
    """This worker's libraries against the driver's: raises VersionMismatch (one line) on a
    difference, unless the job accepts it; returns the accepted records."""
    import json

    from .versions import check_worker

    return check_worker(json.loads(spec.versions) if spec.versions else None, spec.libraries, spec.accept_versions)


def _run_tracked(spec: Any, task: Any, tracker: tuple[str, int, str] | None):
    progress = _sender(tracker, task.index)
    if progress is None:
        return run_task(spec, task)
    try:
        return run_task(spec, task, progress)
    finally:
        progress.close()  # type: ignore[attr-defined]


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Raise ConnectionError unless something listens at the address's host:port."""
    target = address.strip()
    if target.startswith("ray://"):
        target = target[len("ray://"):]
    elif target == "auto":
        try:  # the address `ray start` recorded on this machine (None: Ray will say so itself)
            from ray._private.services import canonicalize_bootstrap_address

            target = canonicalize_bootstrap_address("auto")
        except Exception:
            return
        if not target:
            return
    target = target.split("/", 1)[0]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError("expected auto, host:port or ray://host:port")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise ConnectionError(f"nothing answers at {host}:{port}: {e.strerror or e}") from None


def _connect(ray, workers: int, address: str | None) -> bool:
    """Make sure Ray is up; True if we started or connected it (and so must shut it down)."""
    if ray.is_initialized():
        return False
    with _keep_cli_sigterm():
        return _init(ray, workers, address)


@contextmanager
def _keep_cli_sigterm() -> Iterator[None]:
    """ray.init sets its own SIGTERM handler (sys.exit(15): exit code 15, no message); the CLI's
    (one line, the job's clean-up, exit code 143) is put back. Other callers keep Ray's."""
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if main and getattr(before, "synthgen_cli", False):
            signal.signal(signal.SIGTERM, before)


_QUIET = dict(log_to_driver=False, logging_level=logging.ERROR)  # no worker output, no Ray chatter


def _init(ray, workers: int, address: str | None) -> bool:
    if address:
        try:
            # Ray itself retries an unreachable address for minutes; fail fast instead.
            _check_reachable(address)
            with stderr_to_log():  # a cluster that refuses us: a C++ warning a second for 20 s
                ray.init(address=address, **_QUIET)
        except Exception as e:
            if auth_refused(e):  # token authentication (docs/ray.md): say so, not "start a cluster"
                raise UserError(auth_fix(address)) from None
            if not isinstance(e, (ConnectionError, TimeoutError, ValueError)):
                raise
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            log = log_path()
            raise UserError(f"cannot connect to Ray at {address!r} ({msg}); start a cluster with "
                            f"`ray start --head`, or leave --ray-address/RAY_ADDRESS unset for a local Ray"
                            f"{f' (Ray: {log})' if os.path.exists(log) else ''}") from None
    else:
        _init_local(ray, workers)
    return True


def _init_local(ray, workers: int) -> None:
    """Start a local Ray for this job alone: "local" (a new instance even if `ray start` left one
    running on this machine), loopback only (it needs no other interface), no dashboard, quiet,
    and without the processes such a Ray does not use (`_lean_node`). Should the lean start
    fail (another Ray version), the public `ray.init` is tried once more, and its error is
    the one raised."""
    kwargs = dict(address="local", num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1",
                  _system_config=LOCAL_SYSTEM_CONFIG, **_QUIET)
    with _lean_node() as lean:
        try:
            ray.init(**kwargs)
            return
        except Exception:
            if not lean:
                raise
            try:
                ray.shutdown()
            except Exception:
                pass
    ray.init(**kwargs)


@contextmanager
def _lean_node() -> Iterator[bool]:
    """While `ray.init` starts a local Ray: Ray's head node without the autoscaler monitor, the
    log monitor and the dashboard (API server) (yields True). A local Ray that runs one job of
    fixed size scales nothing; with `log_to_driver=False` it forwards no worker output; nobody
    browses or queries its dashboard (`include_dashboard=False` still starts its API server,
    and `ray.init` waits until that has imported its modules and published its address). All
    three are Python interpreters that import Ray while the node starts, on the job's CPUs
    (~1-2 s of a 2-CPU start), and the monitor outlives the SIGTERM of `ray.shutdown` by the
    1 s Ray waits before SIGKILL (it reports its death to the GCS, stopped before it). `ray
    start` has switches for two of them (`--no-monitor`, `--include-log-monitor`), `ray.init`
    none: Ray's private `Node` class is swapped, for the call only, for a subclass that sets
    those two parameters and starts no API server. A Ray without these (another version: no
    such class, parameters or method) starts all three as before (yields False).
    For the same call, the raylet's two agents start lighter (`_light_agents`) and the wait
    for the raylet asks every 10 ms instead of every second (`_prompt`): `ray.init` 1.6-1.7 s
    -> 0.6-0.9 s on 2 CPUs (docs/experiments/speed_ray.md)."""
    try:
        from ray._private import node, parameter

        base = node.Node
        ok = ("ray_params" in inspect.signature(base.__init__).parameters
              and {"include_dashboard", "raise_on_failure"} <= set(inspect.signature(base.start_api_server).parameters)
              and {"no_monitor", "include_log_monitor"} <= set(inspect.signature(parameter.RayParams.__init__).parameters))
    except Exception:
        ok = False
    if not ok:
        yield False
        return

    class LeanNode(base):  # type: ignore[misc, valid-type]
        def __init__(self, ray_params, *args, **kwargs):
            if kwargs.get("head"):
                ray_params.no_monitor = True
                ray_params.include_log_monitor = False
            super().__init__(ray_params, *args, **kwargs)

        def start_api_server(self, *, include_dashboard, raise_on_failure):
            self._webui_url = None  # what Ray records when its dashboard did not start

    from ray._private import services

    get_node, start = services.get_node, services.start_ray_process
    with _lean_lock:
        node.Node = LeanNode
        services.get_node = _prompt(get_node)
        services.start_ray_process = _light(start)
        try:
            yield True
        finally:
            node.Node = base
            services.get_node, services.start_ray_process = get_node, start


def _light(start: Callable) -> Callable:
    """`services.start_ray_process`, starting the raylet with its agents as `_light_agents`
    has them."""
    def start_ray_process(command, process_type, *args, **kwargs):
        if process_type == "raylet":  # ray_constants.PROCESS_TYPE_RAYLET
            try:
                command = _light_agents(list(command))
            except Exception:  # another Ray's command: start it as Ray has it
                pass
        return start(command, process_type, *args, **kwargs)

    return start_ray_process


AGENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ray_agents.py")


def _light_agents(command: list[str]) -> list[str]:
    """The raylet's command, its two agents started through run/ray_agents.py: a stand-in that
    announces "no metrics" for the dashboard agent, and Ray's runtime-env agent started on the
    raylet's first request, its port announced at once. The raylet registers its node (and
    `ray.init` goes on) only once both have announced their ports: before this, ~0.5 s of two
    interpreters importing Ray on the job's CPUs. The command as it was unless both are where
    this Ray's are."""
    from ray._raylet import (DASHBOARD_AGENT_LISTEN_PORT_NAME, METRICS_AGENT_PORT_NAME, METRICS_EXPORT_PORT_NAME,
                             RUNTIME_ENV_AGENT_PORT_NAME, get_port_filename)

    def split(value: str) -> list[str]:
        # Ray joins them with subprocess.list2cmdline; plain words only, or leave them be
        return [] if any(c in value for c in "\"'\\") else value.split()

    def option(parts: list[str], name: str) -> str | None:
        return next((p.split("=", 1)[1] for p in parts if p.startswith(f"{name}=")), None)

    def script(parts: list[str], *path: str) -> int | None:
        return next((i for i, p in enumerate(parts) if p.endswith(os.path.join(*path))), None)

    out, done = [], set()
    for arg in command:
        key, _, value = arg.partition("=")
        if key in ("--dashboard_agent_command", "--runtime_env_agent_command"):
            parts = split(value)
            session, node_id = option(parts, "--session-dir"), option(parts, "--node-id")
            at = (script(parts, "dashboard", "agent.py") if key == "--dashboard_agent_command"
                  else script(parts, "runtime_env", "agent", "main.py"))
            if at is None or not session or not node_id:
                return command
            if key == "--dashboard_agent_command":
                files = [os.path.join(session, get_port_filename(node_id, name))
                         for name in (METRICS_AGENT_PORT_NAME, METRICS_EXPORT_PORT_NAME, DASHBOARD_AGENT_LISTEN_PORT_NAME)]
                arg = f"{key}={subprocess.list2cmdline([*parts[:at], AGENTS, 'metrics', *files])}"
            else:
                port_file = os.path.join(session, get_port_filename(node_id, RUNTIME_ENV_AGENT_PORT_NAME))
                arg = f"{key}={subprocess.list2cmdline([*parts[:at], AGENTS, 'runtime-env', port_file, *parts[at:]])}"
            done.add(key)
        out.append(arg)
    return out if len(done) == 2 else command


def _prompt(get_node: Callable) -> Callable:
    """`Node.__init__` asks the GCS for the new raylet (0.1 s after starting it) through a
    lookup that, when the raylet has not registered yet, tries again only a second later. With
    Ray's own agents the raylet registered ~0.55-0.7 s after its start, so every local start
    waited ~0.4 s for nothing (with the light agents it takes ~0.06 s, more on a loaded
    machine). Ask the GCS's client every 10 ms until the node is there, then make Ray's own
    lookup, which answers at once. Any trouble with that client (another Ray): Ray's lookup
    as it is."""
    def prompt_get_node(gcs_address: str, node_id: str):
        try:
            from ray._raylet import GcsClient

            client = GcsClient(address=gcs_address)
            deadline = time.monotonic() + 30  # Ray's own wait for a raylet
            while time.monotonic() < deadline:
                if any(k.hex() == node_id for k in client.get_all_node_info(timeout=2)):
                    break
                time.sleep(0.01)
        except Exception:
            pass
        return get_node(gcs_address, node_id)

    return prompt_get_node


_lean_lock = threading.Lock()


@contextmanager
def ray_session(workers: int = 1, address: str | None = None):
    """Connect to (or start) Ray for a job, before the job writes anything, so that a Ray
    that cannot be reached is refused with nothing left behind; shut down what we started."""
    ray = import_ray()
    with routed():  # a node that dies: one line on stderr, Ray's report in a log file
        owns = _connect(ray, workers, _address(address))
        try:
            yield
        finally:
            if owns:
                ray.shutdown()


def run_ray(spec: Any, tasks: Iterable, on_progress: Callable[[int], None], workers: int = 1,
            address: str | None = None, max_retries: int | None = None,
            on_versions: Callable[[list[dict]], None] | None = None) -> Iterator:
    """Run tasks (shards to make or to verify) as Ray tasks, pulled from `tasks` as slots
    free up; yield results as tasks finish (in completion order). `on_versions(records)` hears
    of a worker's library differences that the job accepts (`spec.accept_versions`)."""
    ray = import_ray()
    address = _address(address)
    retries = _max_retries(max_retries)
    tasks = iter(tasks)
    first = next(tasks, None)
    if first is None:
        return
    owns = _connect(ray, workers, address)
    listener = None
    refs: dict[Any, Any] = {}
    messages = routed()  # a node that dies: one line on stderr, Ray's report in a log file
    messages.__enter__()
    try:
        options: dict[str, Any] = dict(num_cpus=1, max_retries=retries, retry_exceptions=[OSError])
        remote = ray.remote(_shard_task).options(**options)
        counts = _Progress()
        try:
            listener = _Listener(_node_host(ray))
        except OSError:  # no socket here: progress by whole shards
            pass
        tracker = listener.address if listener is not None else None

        def in_flight_limit() -> int:  # a cluster may grow or shrink: ask again now and then
            try:
                cpus = int(ray.cluster_resources().get("CPU", 0))
            except Exception:
                cpus = 0
            return max(2, IN_FLIGHT_PER_CPU * (cpus or workers))

        limit, limit_at = in_flight_limit(), time.monotonic()
        queue = [first]  # the next task to submit (at most one), then the rest of `tasks`
        finished_samples = 0
        shown = 0

        def show() -> None:
            nonlocal shown
            # counts holds the shards in flight only: a finished shard leaves it (counts.finish)
            total = finished_samples + sum(counts.done.values())
            if total > shown:
                on_progress(total - shown)
                shown = total

        while queue or refs:
            if queue and time.monotonic() - limit_at > 10:
                limit, limit_at = in_flight_limit(), time.monotonic()
            while queue and len(refs) < limit:
                t = queue.pop()
                refs[remote.remote(spec, t, tracker)] = t
                nxt = next(tasks, None)
                if nxt is not None:
                    queue.append(nxt)
            # wake on the first task to finish (a shard's result, or the job's last one, is not
            # left waiting for the poll), then take every other one finished by then
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=POLL_S)
            if ready and len(refs) > 1:
                ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=0)
            if listener is not None:
                listener.drain(counts)
            for ref in ready:
                t = refs.pop(ref)
                try:
                    info, accepted = ray.get(ref)
                except ray.exceptions.RayError as e:
                    cause = getattr(e, "cause", None) or e
                    if isinstance(cause, VersionMismatch):
                        raise UserError(str(cause)) from None
                    if out_of_space(cause):
                        raise OSError(cause.errno, cause.strerror, getattr(cause, "filename", None)) from e
                    last = (str(cause).strip().splitlines() or [""])[-1]
                    what = (f"checking {t.name}" if isinstance(t, VerifyTask)
                            else f"{shard_name(t.index)} (samples {t.start}..{t.start + t.count - 1})")
                    raise RunError(f"{what} failed: {type(cause).__name__}: {last} (Ray retries on worker death and "
                                   f"OSError: {retries}); finished shards are kept: rerun the same command to resume") from e
                if accepted and on_versions is not None:
                    on_versions(accepted)
                if isinstance(t, VerifyTask):
                    on_progress(t.bytes)
                    yield info
                    continue
                finished_samples += info.count
                counts.finish(t.index)
                show()
                yield info
            show()
    finally:
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except Exception:
                pass
        if listener is not None:
            listener.close()
        if owns:
            ray.shutdown()
        messages.__exit__(None, None, None)


def start_cost(workers: int = 2) -> dict[str, float]:
    """Seconds to import Ray, start a local instance, run a first trivial task, and shut down."""
    t0 = time.perf_counter()
    ray = import_ray()
    t1 = time.perf_counter()
    if ray.is_initialized():
        raise RuntimeError("start_cost needs Ray not to be running in this process")
    _init_local(ray, workers)
    t2 = time.perf_counter()
    ray.get(ray.remote(num_cpus=1)(_noop).remote())
    t3 = time.perf_counter()
    ray.shutdown()
    t4 = time.perf_counter()
    return {"import_s": t1 - t0, "init_s": t2 - t1, "first_task_s": t3 - t2, "shutdown_s": t4 - t3, "total_s": t4 - t0}


def _noop() -> int:
    return 1


if __name__ == "__main__":  # python -m synthgen.run.ray_exec [workers]: Ray's fixed start cost
    import sys

    r = start_cost(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    print(f"Ray fixed cost: import {r['import_s']:.2f} s, ray.init {r['init_s']:.2f} s, first task "
          f"{r['first_task_s']:.2f} s, shutdown {r['shutdown_s']:.2f} s; total {r['total_s']:.2f} s")
