"""How the Ray executor starts a local Ray of its own (issue 23): without the autoscaler monitor,
the log monitor and the dashboard (Ray's private Node class, with a fallback to the public
path), and, in the synthgen command's process, ahead of the job in a background thread
(`preflight(address, workers)`), taken over by the job's `ray_session` or stopped at exit.
Each Ray runs in a subprocess, which must leave nothing of it running."""

import os
import subprocess
import sys
import time

import psutil
import pytest

from .test_ray import _no_ray_left

ray = pytest.importorskip("ray")

# the synthgen command marks its SIGTERM handler (cli._on_sigterm); the early start needs it
AS_COMMAND = ("import signal\n"
              "def on_term(*a): raise SystemExit(143)\n"
              "on_term.synthgen_cli = True\n"
              "signal.signal(signal.SIGTERM, on_term)\n")


def _python(code: str) -> tuple[int, int, str, str]:
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "RAY_ADDRESS": ""})
    try:
        out, err = p.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    return p.pid, p.returncode, out, err


def _left_of(pid: int, wait_s: float = 15.0) -> list:
    """What is left of the Ray that `pid` started, including processes that renamed themselves
    (Ray's agents: `ray::DashboardAgent`), found by the session folder they hold open; waits
    up to `wait_s` for what is still stopping."""
    tag = f"_{pid}/"

    def renamed() -> list:
        found = []
        for p in psutil.process_iter():
            try:
                if any("/ray/session_" in f.path and tag in f.path for f in p.open_files()):
                    found.append(p)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return found

    left = _no_ray_left(pid, wait_s)
    deadline = time.monotonic() + wait_s
    while (more := renamed()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left + [p for p in more if p not in left]


def test_lean_node_is_swapped_in_for_the_call_only(monkeypatch):
    from ray._private import node, parameter

    from synthgen.run.ray_exec import _lean_node

    base = node.Node
    with _lean_node() as lean:
        assert lean and node.Node is not base and issubclass(node.Node, base)
    assert node.Node is base

    class Other:  # a Ray whose RayParams has no such switches: nothing is swapped
        def __init__(self, num_cpus=None):
            pass

    monkeypatch.setattr(parameter, "RayParams", Other)
    with _lean_node() as lean:
        assert not lean and node.Node is base
    monkeypatch.undo()
    monkeypatch.delattr(base, "start_api_server")  # nor one whose Node starts no API server
    with _lean_node() as lean:
        assert not lean and node.Node is base


def test_local_ray_starts_without_monitors_and_falls_back():
    """The job's local Ray has no autoscaler monitor, log monitor or dashboard; where the private
    switch is not there, the public ray.init starts them all, and tasks run the same. A lean
    start that fails is tried again on the public path."""
    code = ("import ray\nfrom synthgen.run import ray_exec\n"
            "from synthgen.run.ray_exec import ray_session\n"
            "def kinds():\n"
            "    return sorted(ray._private.worker._global_node.all_processes)\n"
            "with ray_session(2):\n"
            "    print(kinds(), ray.get(ray.remote(num_cpus=1)(lambda: 7).remote()))\n"
            "import contextlib\n"
            "@contextlib.contextmanager\n"
            "def public():\n"
            "    yield False\n"
            "ray_exec._lean_node = public\n"
            "with ray_session(2):\n"
            "    print(kinds(), ray.get(ray.remote(num_cpus=1)(lambda: 7).remote()))\n"
            "del ray_exec._lean_node\n"
            "import synthgen.run.ray_exec as again\n"
            "from importlib import reload\n"
            "reload(again)\n"
            "init, calls = ray.init, []\n"
            "def failing(**kw):\n"
            "    calls.append(ray._private.node.Node.__name__)\n"
            "    if len(calls) == 1:\n"
            "        raise RuntimeError('lean start failed')\n"
            "    return init(**kw)\n"
            "ray.init = failing\n"
            "with again.ray_session(2):\n"
            "    print(calls, kinds(), ray.get(ray.remote(num_cpus=1)(lambda: 7).remote()))\n")
    pid, rc, out, err = _python(code)
    assert rc == 0, err
    lean, full, retried = out.splitlines()
    assert lean == "['gcs_server', 'raylet'] 7"
    assert "'monitor'" in full and "'log_monitor'" in full and "'dashboard'" in full and full.endswith(" 7")
    assert retried.startswith("['LeanNode', 'Node'] ") and "'dashboard'" in retried and retried.endswith(" 7")
    assert _left_of(pid) == []


def test_early_start_is_taken_over_by_the_job():
    """preflight(None, workers) in the command's process starts the Ray in a thread; the job's
    ray_session takes it over (the same instance), keeps the command's SIGTERM handler, and
    stops it; then the thread that started it (whose end would kill Ray's processes: Linux's
    PR_SET_PDEATHSIG) ends. A start of other --workers is replaced by one of the job's size. Outside the
    command, preflight starts nothing."""
    code = AS_COMMAND + (
        "import ray\nfrom synthgen.run import ray_exec\n"
        "ray_exec.preflight(None, 2)\n"
        "early = ray_exec._early\n"
        "assert early is not None and early.thread.name == 'synthgen-ray-start'\n"
        "assert early.wait() is None and early.thread.is_alive()\n"
        "gcs = ray.get_runtime_context().gcs_address\n"
        "with ray_exec.ray_session(2):\n"
        "    print(ray_exec._early is None, ray.get_runtime_context().gcs_address == gcs,\n"
        "          ray.cluster_resources()['CPU'], signal.getsignal(signal.SIGTERM) is on_term)\n"
        "early.thread.join(30)\n"
        "print(ray.is_initialized(), early.thread.is_alive())\n"
        "ray_exec.preflight(None, 1)\n"
        "with ray_exec.ray_session(2):\n"
        "    print(ray.cluster_resources()['CPU'])\n"
        "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "ray_exec.preflight(None, 2)\n"
        "print(ray_exec._early is None, ray.is_initialized())\n")
    pid, rc, out, err = _python(code)
    assert rc == 0, err
    assert out.splitlines() == ["True True 2.0 True", "False False", "2.0", "True False"]
    assert "SIGTERM handler" not in err
    assert _left_of(pid) == []


def test_early_start_without_a_job_is_stopped_at_exit():
    """The command stops after preflight (bad input found later), here once the raylet has
    started its agents and ray.init has not returned: the Ray begun for it is shut down when
    the process exits, agents included (a raylet killed half-started would leave them)."""
    code = AS_COMMAND + (
        "import time, psutil\nfrom synthgen.run import ray_exec\n"
        "ray_exec.preflight(None, 2)\n"
        "deadline = time.monotonic() + 120\n"
        "def agents():\n"
        "    return [c for r in psutil.Process().children() if r.name() == 'raylet' for c in r.children()]\n"
        "while not agents() and not ray_exec._early.ready.is_set() and time.monotonic() < deadline:\n"
        "    time.sleep(0.02)\n"
        "print(ray_exec._early.ready.is_set())\n"
        "raise SystemExit(2)\n")
    pid, rc, out, err = _python(code)
    assert rc == 2, err
    assert err == ""
    assert _left_of(pid) == []
