"""How the Ray executor starts a local Ray of its own (issue 23): without the autoscaler monitor,
the log monitor and the dashboard (Ray's private Node class, with a fallback to the public
path). Each Ray runs in a subprocess, which must leave nothing of it running."""

import sys

import pytest

from .test_ray import _no_ray_left, _run

ray = pytest.importorskip("ray")

def _python(code: str) -> tuple[int, int, str, str]:
    return _run([sys.executable, "-c", code], {"RAY_ADDRESS": ""})


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
    assert _no_ray_left(pid) == []
