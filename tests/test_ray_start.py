"""How the Ray executor starts a local Ray of its own (issue 23): without the autoscaler monitor,
the log monitor and the dashboard (Ray's private Node class, with a fallback to the public
path), with light agents and a prompt wait for the raylet. Each Ray runs in a subprocess, which must leave nothing of it running."""

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


def test_light_agents_rewrites_both_agent_commands_or_neither():
    """The raylet's command: its dashboard agent becomes the stand-in that announces "no
    metrics" in Ray's three port files, its runtime-env agent is Ray's own behind the on-demand
    starter; a command where either is not where this Ray has it is left as it was."""
    from ray._raylet import (DASHBOARD_AGENT_LISTEN_PORT_NAME, METRICS_AGENT_PORT_NAME, METRICS_EXPORT_PORT_NAME,
                             RUNTIME_ENV_AGENT_PORT_NAME, get_port_filename)

    from synthgen.run.ray_exec import AGENTS, _light_agents

    node = "ab" * 28
    dash = f"--dashboard_agent_command=/py -u /r/dashboard/agent.py --node-id={node} --session-dir=/s --head"
    rt = f"--runtime_env_agent_command=/py -u /r/_private/runtime_env/agent/main.py --node-id={node} --session-dir=/s"
    out = _light_agents(["/r/raylet", "--x=1", dash, rt])
    assert out[:2] == ["/r/raylet", "--x=1"]
    files = [f"/s/{get_port_filename(node, n)}"
             for n in (METRICS_AGENT_PORT_NAME, METRICS_EXPORT_PORT_NAME, DASHBOARD_AGENT_LISTEN_PORT_NAME)]
    assert out[2] == f"--dashboard_agent_command=/py -u {AGENTS} metrics {' '.join(files)}"
    assert out[3] == (f"--runtime_env_agent_command=/py -u {AGENTS} runtime-env /s/{get_port_filename(node, RUNTIME_ENV_AGENT_PORT_NAME)} "
                      f"/r/_private/runtime_env/agent/main.py --node-id={node} --session-dir=/s")
    for command in (["/r/raylet", dash], ["/r/raylet", rt],  # one of the two missing
                    ["/r/raylet", dash.replace("agent.py", "other.py"), rt],  # not where this Ray has it
                    ["/r/raylet", dash, rt.replace("/py ", '"/my py" ')]):  # quoted: not taken apart
        assert _light_agents(list(command)) == command


def test_prompt_asks_the_gcs_until_the_node_is_there(monkeypatch):
    """Ray's own lookup (which waits a whole second between tries) is made once, after the
    GCS's client lists the node; any trouble with that client leaves Ray's lookup as it is."""
    import ray._raylet

    from synthgen.run.ray_exec import _prompt

    class Id:
        def __init__(self, h):
            self.h = h

        def hex(self):
            return self.h

    answers = [{}, {Id("other"): 0}, {Id("other"): 0, Id("mine"): 0}]
    polls, lookups = [], []

    class Client:
        def __init__(self, address):
            assert address == "gcs:1"

        def get_all_node_info(self, timeout=None):
            polls.append(len(lookups))
            return answers[min(len(polls), len(answers)) - 1]

    monkeypatch.setattr(ray._raylet, "GcsClient", Client)
    get = _prompt(lambda gcs, node_id: lookups.append((gcs, node_id)) or "info")
    assert get("gcs:1", "mine") == "info"
    assert polls == [0, 0, 0] and lookups == [("gcs:1", "mine")]

    class Broken:
        def __init__(self, address):
            raise AttributeError("another Ray")

    monkeypatch.setattr(ray._raylet, "GcsClient", Broken)
    assert get("gcs:1", "mine") == "info" and len(lookups) == 2


def test_lean_ray_agents_stand_in_and_start_on_demand():
    """In the job's local Ray, the raylet's agents are the stand-in (the three metrics port
    files say -1) and the on-demand starter; a task with a runtime_env still gets one (Ray's
    runtime-env agent starts on the raylet's first request), and nothing is left running."""
    code = ("import os, glob, psutil, ray\n"
            "from synthgen.run.ray_exec import ray_session\n"
            "def agents():\n"
            "    node = ray._private.worker._global_node\n"
            "    raylet = node.all_processes['raylet'][0].process.pid\n"
            "    kids = psutil.Process(raylet).children()\n"
            "    return sorted(next(a for a in k.cmdline() if a in ('metrics', 'runtime-env')) for k in kids\n"
            "                  if any(a.endswith('ray_agents.py') for a in k.cmdline()))\n"
            "with ray_session(2):\n"
            "    node = ray._private.worker._global_node\n"
            "    print(agents())\n"
            "    print(sorted(open(f).read() for f in glob.glob(os.path.join(node.get_session_dir_path(), '*port*'))\n"
            "                 if os.path.basename(f).split('_port_')[0] in ('metrics_agent', 'metrics_export', 'dashboard_agent_listen')))\n"
            "    f = ray.remote(num_cpus=1, runtime_env={'env_vars': {'SYNTHGEN_T': 'set'}})(lambda: os.environ.get('SYNTHGEN_T'))\n"
            "    print(ray.get(f.remote(), timeout=120), ray.get(ray.remote(num_cpus=1)(lambda: 7).remote()))\n")
    pid, rc, out, err = _python(code)
    assert rc == 0, err
    kinds, ports, ran = out.splitlines()
    assert kinds == "['metrics', 'runtime-env']", kinds
    assert ports == "['-1', '-1', '-1']"
    assert ran == "set 7"
    assert _no_ray_left(pid) == []


def test_metrics_stand_in_announces_and_dies_with_its_raylet(tmp_path):
    """The stand-in writes -1 to every port file it is given (whole files: written aside and
    renamed), and exits when its parent (the raylet) is killed outright. An option the raylet
    appends (with RAY_enable_metrics_collection=0: --disable-metrics-collection) is not a file."""
    import signal
    import subprocess
    import time

    import psutil

    from synthgen.run.ray_exec import AGENTS

    files = [tmp_path / f"port_{k}" for k in range(3)]
    parent = subprocess.Popen(["sh", "-c", f'"{sys.executable}" "{AGENTS}" metrics {" ".join(map(str, files))} '
                               '--disable-metrics-collection & wait'], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not all(f.exists() for f in files) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [f.read_text() for f in files] == ["-1"] * 3
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.name for f in files)  # no temporary left
        (child,) = psutil.Process(parent.pid).children()
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        child.wait(timeout=15)  # psutil.TimeoutExpired if it outlives its parent
    finally:
        if parent.poll() is None:
            parent.kill()
