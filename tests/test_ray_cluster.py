"""A real two-node Ray cluster on this machine (docs/ray.md, "On a cluster"; issue 22, item 15).

`ray start --head` and a second `ray start --address=...` node, each with one CPU and its
own ports and temp folder, with token authentication as Ray 2.60 sets it up (RAY_AUTH_MODE=token
and a token of the test's own in RAY_AUTH_TOKEN, for every node and the driver). The CLI
renders `ocr_line` through it with `--executor ray --ray-address`; once the second node is
running a shard, its raylet is SIGKILLed. The job must still finish, with shards
byte-identical to the process executor's, and the terminal must stay readable: Ray's
"Raylet is terminated" report (the raylet log's state dump) goes to a log file, and stderr
gets one line naming it.

Nothing here uses `ray stop` (it stops every Ray on the machine, other jobs' too): the
finalizer kills this cluster's processes only, found by a marker in their environment or
the cluster's temp folder in their command line, even when the test fails.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil  # declared in the test extra: missing, the run fails
import pytest

import synthgen
from synthgen import numerics

from .helpers import shard_hashes

ray = pytest.importorskip("ray")

N, SHARD = 200, 25  # 8 shards
MARK = "SYNTHGEN_TEST_RAY_CLUSTER"  # in the environment of every process of the test's cluster


def _free_ports(k: int) -> list[int]:
    socks = []
    try:
        for _ in range(k):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _node_ports() -> list[str]:
    names = ["--node-manager-port", "--object-manager-port", "--dashboard-agent-grpc-port",
             "--dashboard-agent-listen-port", "--metrics-export-port", "--runtime-env-agent-port"]
    return [f"{n}={p}" for n, p in zip(names, _free_ports(len(names)))] + ["--min-worker-port=0", "--max-worker-port=0"]


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tag = root.name
        self.port = _free_ports(1)[0]
        self.address = f"127.0.0.1:{self.port}"
        # a cluster started outside synthgen: without the kernel caps `import synthgen` put in this
        # environment (numerics.py); its workers must cap themselves, or their `numerics` differs
        # from the driver's and the job stops (run/versions.py)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_") and k not in numerics._OWNER}
        package_root = str(Path(synthgen.__file__).resolve().parents[1])  # workers import this synthgen
        self.env.update({
            MARK: self.tag, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
            "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([package_root, *filter(None, [os.environ.get("PYTHONPATH")])]),
        })
        self.seen: dict[int, psutil.Process] = {}

    def ray_start(self, *args: str) -> None:
        cmd = [sys.executable, "-m", "ray.scripts.scripts", "start", "--node-ip-address=127.0.0.1",
               "--num-cpus=1", "--disable-usage-stats", "--include-log-monitor=false", *_node_ports(), *args]
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120)
        self.processes()  # remember them now: what the test kills later is no longer a child of anything
        assert p.returncode == 0, f"{' '.join(cmd)}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"

    def processes(self) -> list[psutil.Process]:
        """This cluster's processes (and everything they started), remembered for the finalizer."""
        found = []
        for p in psutil.process_iter(["cmdline"]):
            if p.pid == os.getpid():
                continue
            try:
                if any(str(self.root) in a for a in p.info["cmdline"] or []) or p.environ().get(MARK) == self.tag:
                    found.append(p)
                    found.extend(p.children(recursive=True))
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        for p in found:
            self.seen.setdefault(p.pid, p)
        return found

    def raylet(self, node: str) -> psutil.Process:
        folder = str(self.root / node)
        for p in self.processes():
            try:
                cmd = p.cmdline()
            except psutil.NoSuchProcess:
                continue
            if cmd and cmd[0].endswith("/raylet") and any(f"{folder}/session_" in a for a in cmd):
                return p
        raise AssertionError(f"no raylet of node {node} in {folder}")

    def stop(self) -> None:
        self.processes()
        procs = []
        for p in self.seen.values():
            try:
                if p.is_running() and p.pid != os.getpid():
                    p.kill()
                    procs.append(p)
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    # A short path: Ray's socket paths (<temp>/session_<date>_<pid>/sockets/plasma_store) must fit
    # in 107 characters, which pytest's tmp_path can exceed.
    c = Cluster(Path(tempfile.mkdtemp(prefix="sgray", dir="/tmp")))
    try:
        c.ray_start("--head", f"--port={c.port}", "--include-dashboard=false", f"--temp-dir={c.root / 'head'}")
        c.ray_start(f"--address={c.address}", f"--temp-dir={c.root / 'second'}")
        yield c
    finally:
        c.stop()
    left = [p.pid for p in c.seen.values() if _alive(p)]
    assert left == [], f"processes of the test cluster still running: {left}"


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _busy_on(raylet: psutil.Process) -> bool:
    """The node's raylet has a worker running a shard (Ray titles it ray::_shard_task)."""
    try:
        return any("_shard_task" in " ".join(w.cmdline()) for w in raylet.children(recursive=True))
    except psutil.NoSuchProcess:
        return False


def test_two_nodes_second_raylet_killed_mid_job(tmp_path, cluster):
    """The second node dies while it renders a shard: Ray retries its shards on the head, the
    job finishes with the process executor's bytes, and the terminal gets one line about it
    (Ray's state dump goes to the log file that line names)."""
    ref = tmp_path / "process"
    synthgen.render("ocr_line", n=N, out=str(ref), shard_size=SHARD, workers=2, progress=False)
    expected = shard_hashes(ref)
    assert len(expected) == N // SHARD

    out = tmp_path / "ray"
    cmd = [sys.executable, "-m", "synthgen.cli", "render", "ocr_line", "--n", str(N), "--shard-size", str(SHARD),
           "--out", str(out), "--executor", "ray", "--ray-address", cluster.address]
    env = {**cluster.env, "TMPDIR": str(tmp_path)}  # the driver's Ray log lands in tmp_path
    env.pop(MARK)  # the driver is the test's, not the cluster's
    raylet = cluster.raylet("second")
    t0 = time.monotonic()
    job = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # a shard is finished and the second node has another in hand: kill its raylet now
        while not (_busy_on(raylet) and any(out.glob("shard-*.tar"))):
            assert job.poll() is None, f"the job ended before the second node ran a shard: {job.communicate()}"
            assert time.monotonic() - t0 < 90, "the second node never got a shard"
            time.sleep(0.05)
        cluster.processes()  # remember its workers: they outlive their raylet for a moment
        os.kill(raylet.pid, signal.SIGKILL)
        killed_at = len(list(out.glob("shard-*.tar")))
        stdout, stderr = job.communicate(timeout=180)
    finally:
        if job.poll() is None:
            job.kill()
            job.communicate()
    assert 0 < killed_at < N // SHARD, "the job had finished before the kill"
    assert job.returncode == 0, stderr
    assert shard_hashes(out) == expected

    # the terminal: the summary on stdout, and on stderr the progress bar and one line for the node
    assert stdout.strip().splitlines() == [f"{N} samples in {N // SHARD} shards -> {out} (ocr_line)"], stdout
    lines = [ln for ln in stderr.replace("\r", "\n").splitlines() if ln.strip() and not ln.startswith("ocr_line:")]
    assert len(lines) <= 3, stderr
    assert "state-dump" not in stderr and "Traceback" not in stderr and "(raylet)" not in stderr, stderr
    died = [ln for ln in lines if "a Ray node died" in ln]
    assert len(died) == 1, stderr
    log = Path(died[0].rsplit("Ray's report: ", 1)[1])
    assert log.parent == tmp_path and "Raylet is terminated" in log.read_text()


def test_no_token_is_one_line(tmp_path, cluster):
    """A driver without the cluster's token (RAY_AUTH_MODE unset): exit 2 and one line that says
    what to set, instead of Ray's C++ warning every second and "start a cluster"."""
    env = {k: v for k, v in cluster.env.items() if k not in (MARK, "RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    env["RAY_gcs_server_port_wait_time_s"] = "2"  # Ray's connect retries (20 s by default)
    env["TMPDIR"] = str(tmp_path)
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "synthgen.cli", "render", "ocr_line", "--n", "2", "-q", "--executor", "ray",
                        "--ray-address", cluster.address, "--out", str(out)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and "refused to connect" in p.stderr and "RAY_AUTH_MODE=token" in p.stderr, p.stderr
    assert "InvalidAuthToken" in "".join(f.read_text() for f in tmp_path.glob("synthgen-ray-*.log"))  # Ray's words, kept
    assert not out.exists()
