"""One job layer (issue 21 item 5): `render`, `augment` and `mine` run on the same `run/job.Job`,
so each has every guarantee render has. The same tests for all three commands (render's own
versions of them are in test_hardening.py and test_render_job.py):

* a second job into a busy folder is refused in one line naming the first one's pid;
* kill -9 of the driver mid-job, then a rerun: the same bytes as an uninterrupted job;
* a kept shard corrupted on disk (size unchanged) is found by its sha256 and made again;
* a malformed manifest.json is one line (exit 2), nothing changed; malformed fields in a
  readable one only cost the shards they describe;
* shards of another sample stream are never mixed in;
* OpenCV's thread count is set in the driver only, never in forked workers;
* workers read no test hooks from the environment (faults travel in the job's spec).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import synthgen
from synthgen.cli import main

from .helpers import fault_cli
from .helpers import until as _until

SMALL = {"image.width": 96, "image.height": 96, "text.size": [8, 20], "text.words": [1, 3]}
SMALL_SET = [x for k, v in SMALL.items() for x in ("--set", f"{k}={json.dumps(v)}")]
COMMANDS = ["render", "augment", "mine"]
DOING = {"render": "rendered", "augment": "augmented", "mine": "mined"}
# each job makes 4 shards of 6 samples (mine: rounds of 6); shard k holds samples 6k .. 6k + 5
SHARD, SHARDS = 6, 4


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inputs")
    src = root / "src"  # augment's input: 12 samples, copied twice -> 24 outputs
    synthgen.render(n=12, out=str(src), shard_size=6, executor="serial", overrides=SMALL, progress=False)
    from .test_mine import _toy_yaml

    return {"src": src, "toy": _toy_yaml(root)}


def _args(cmd: str, out: Path, inputs: dict[str, Path], workers: int = 2) -> list[str]:
    if cmd == "render":
        return ["render", "--n", str(SHARD * SHARDS), "--shard-size", str(SHARD), "--workers", str(workers), "-q",
                "--out", str(out), *SMALL_SET]
    if cmd == "augment":
        return ["augment", str(inputs["src"]), "--out", str(out), "--strength", "0.5", "--copies", "2",
                "--shard-size", str(SHARD), "--workers", str(workers), "-q"]
    return ["mine", str(inputs["toy"]), "--model", "tests.test_mine:toy_fails", "--per-round", str(SHARD),
            "--rounds", str(SHARDS), "--sheet", "2", "--out", str(out), "-q"]


def _files(folder: Path) -> dict[str, bytes]:
    """Everything a job leaves (manifest.json aside: it records versions and, while running, progress)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _one_line(err: str, *words: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def _start(cmd_args: list[str], tmp: Path, **faults) -> subprocess.Popen:
    # output to files, not pipes: workers that outlive a killed driver would hold pipes open
    return subprocess.Popen([*fault_cli(**faults), *cmd_args], stdout=open(tmp / "stdout.txt", "w"),
                            stderr=open(tmp / "stderr.txt", "w"))


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory) -> dict[str, Path]:
    """Each command's job, uninterrupted."""
    root = tmp_path_factory.mktemp("reference")
    out = {}
    for cmd in COMMANDS:
        out[cmd] = root / cmd
        assert main(_args(cmd, out[cmd], inputs)) == 0, cmd
        m = _manifest(out[cmd])
        assert m["state"] == "complete" and len(m["shards"]) == SHARDS and m["stream"] == synthgen.SAMPLE_STREAM
        assert not (out[cmd] / ".synthgen.lock").exists()
    return out


def _stalled(cmd: str, out: Path) -> bool:
    names = {p.name for p in out.glob("*")} if out.exists() else set()
    if cmd != "mine":
        return {"shard-000000.tar", "shard-000001.tar.partial", "shard-000002.tar.partial"} <= names
    try:
        return len(_manifest(out)["shards"]) == 1
    except (OSError, ValueError, KeyError):
        return False


@pytest.mark.parametrize("cmd", COMMANDS)
def test_second_job_into_a_busy_folder_is_refused_naming_the_pid(cmd, inputs, tmp_path, capsys) -> None:
    """A job stuck in shard 1 holds the folder: the same command again is refused in one line
    naming its pid and host, and changes nothing (two augments used to share a .partial and the
    second crashed). Stopped with Ctrl-C, the first leaves no lock behind."""
    out = tmp_path / "out"
    # samples 6 and 12: shards 1 and 2 never finish (two workers busy forever, shard 3 waiting);
    # mine (one process) is stuck in round 1 once round 0 is recorded
    p = _start(_args(cmd, out, inputs), tmp_path, stall_at=[SHARD, 2 * SHARD])
    try:
        _until(lambda: _stalled(cmd, out) or p.poll() is not None, "the job to stall holding the folder")
        assert p.poll() is None, (tmp_path / "stderr.txt").read_text()
        before = {q.name: q.read_bytes() for q in out.iterdir() if not q.name.endswith(".partial")}
        capsys.readouterr()
        assert main(_args(cmd, out, inputs)) == 2
        line = _one_line(capsys.readouterr().err, f"pid {p.pid} on {os.uname().nodename}",
                         f"being {DOING[cmd]} by another synthgen", f"synthgen {cmd}")
        assert line.startswith("synthgen: error: ")
        after = {q.name: q.read_bytes() for q in out.iterdir() if not q.name.endswith(".partial")}
        assert after == before
    finally:
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=60)
    assert rc == 130, (tmp_path / "stderr.txt").read_text()
    assert not (out / ".synthgen.lock").exists() and not list(out.glob("*.partial"))


@pytest.mark.parametrize("cmd", COMMANDS)
def test_kill_9_then_resume_gives_the_same_bytes(cmd, inputs, reference, tmp_path) -> None:
    """The driver (one process: --workers 1; mine always judges in the driver) SIGKILLs itself at
    sample 14, in shard 2: no cleanup at all (a .partial, a stale lock file, a running
    manifest that may not list every finished shard). What is visible as a shard is complete, and a rerun finishes with the bytes of
    an uninterrupted job."""
    out = tmp_path / "out"
    args = _args(cmd, out, inputs, workers=1)
    p = _start(args, tmp_path, kill_at=[2 * SHARD + 2])
    assert p.wait(timeout=300) == -signal.SIGKILL, (tmp_path / "stderr.txt").read_text()
    ref = _files(reference[cmd])
    shards = {k: v for k, v in _files(out).items() if k.endswith(".tar")}
    assert shards and all(ref[k] == v for k, v in shards.items())  # finished shards only, never half ones
    # render and augment were writing shard 2; mine writes a round once it is rendered and judged
    assert "shard-000002.tar" not in shards and (out / "shard-000002.tar.partial").exists() == (cmd != "mine")
    assert _manifest(out)["state"] == "running"
    r = subprocess.run([sys.executable, "-m", "synthgen.cli", *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _files(out) == ref
    m, mr = _manifest(out), _manifest(reference[cmd])
    assert m["state"] == "complete" and m["shards"] == mr["shards"]
    assert not list(out.glob("*.partial")) and not (out / ".synthgen.lock").exists()


def _flip(path: Path, at: int = 3000, n: int = 64) -> None:
    data = bytearray(path.read_bytes())
    for k in range(at, at + n):  # inside the shard, size unchanged
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("cmd", COMMANDS)
def test_corrupt_kept_shard_is_made_again(cmd, inputs, reference, tmp_path, capsys) -> None:
    """A finished job whose shard 1 was damaged on disk (same size): the rerun names it, makes
    it again (mine: that round and the rounds after it, whose bias depends on it) and keeps the
    others untouched; the bytes are the uninterrupted job's again."""
    out = tmp_path / "out"
    shutil.copytree(reference[cmd], out)
    _flip(out / "shard-000001.tar")
    stamps = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("shard-*.tar")}
    capsys.readouterr()
    assert main(_args(cmd, out, inputs)) == 0
    err = capsys.readouterr().err
    assert "shard-000001.tar" in err and ("sha256" in err), err
    if cmd == "mine":
        assert "mining round 1 again" in err
    else:
        assert "3 shards kept" in err and "1 that differ from it (shard-000001.tar: sha256 differs" in err, err
    assert _files(out) == _files(reference[cmd])
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("shard-*.tar")}
    remade = {k for k in after if after[k] != stamps[k]}
    assert remade == ({"shard-000001.tar", "shard-000002.tar", "shard-000003.tar"} if cmd == "mine"
                      else {"shard-000001.tar"})


@pytest.mark.parametrize("cmd", COMMANDS)
def test_intact_job_is_kept_whole(cmd, inputs, reference, tmp_path) -> None:
    """Rerunning a finished job checks it and touches no shard."""
    out = tmp_path / "out"
    shutil.copytree(reference[cmd], out)
    stamps = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("shard-*.tar")}
    assert main(_args(cmd, out, inputs)) == 0
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("shard-*.tar")} == stamps
    assert _files(out) == _files(reference[cmd])


MALFORMED = {
    "not json": b"{not json",
    "empty": b"",
    "a list": b"[1, 2]",
    "a string": b'"manifest"',
    "binary": b"\xff\xfe\x00garbage",
}


@pytest.mark.parametrize("what", sorted(MALFORMED))
@pytest.mark.parametrize("cmd", COMMANDS)
def test_malformed_manifest_is_one_line(cmd, what, inputs, reference, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    shutil.copytree(reference[cmd], out)
    (out / "manifest.json").write_bytes(MALFORMED[what])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(_args(cmd, out, inputs)) == 2
    _one_line(capsys.readouterr().err, "manifest.json is unreadable", str(out))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("cmd", COMMANDS)
def test_malformed_manifest_fields_cost_only_their_shards(cmd, inputs, reference, tmp_path) -> None:
    """A readable manifest of this job whose shard list, versions and accepted versions are of the
    wrong types: no traceback; its shards cannot be trusted, so they are made again."""
    out = tmp_path / "out"
    shutil.copytree(reference[cmd], out)
    m = _manifest(out)
    m.update(shards="x", versions=3, versions_accepted=7)
    (out / "manifest.json").write_text(json.dumps(m))
    assert main(_args(cmd, out, inputs)) == 0
    assert _files(out) == _files(reference[cmd])
    assert _manifest(out)["shards"] == _manifest(reference[cmd])["shards"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_other_sample_stream_is_refused(cmd, inputs, reference, tmp_path, capsys) -> None:
    """Shards of another synthgen's sample stream (or of a mining run from before streams were
    recorded) are never continued: one line, nothing changed."""
    out = tmp_path / "out"
    shutil.copytree(reference[cmd], out)
    (out / "shard-000003.tar").unlink()
    m = _manifest(out)
    m["stream"] = synthgen.SAMPLE_STREAM - 1
    (out / "manifest.json").write_text(json.dumps(m))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(_args(cmd, out, inputs)) == 2
    _one_line(capsys.readouterr().err, f"sample stream {synthgen.SAMPLE_STREAM - 1}, now {synthgen.SAMPLE_STREAM}")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    if cmd == "mine":
        del m["stream"]
        (out / "manifest.json").write_text(json.dumps(m))
        assert main(_args(cmd, out, inputs)) == 2
        _one_line(capsys.readouterr().err, f"sample stream 1, now {synthgen.SAMPLE_STREAM}")


@pytest.mark.parametrize("cmd", ["render", "augment"])
def test_opencv_threads_are_set_in_the_driver_only(cmd, inputs, tmp_path, monkeypatch) -> None:
    """cv2.setNumThreads in a child forked from a process whose OpenCV pool has run can deadlock:
    the job sets one thread in the driver before the pool forks, and no worker calls it (augment's
    workers each did)."""
    import cv2

    calls = tmp_path / "calls.txt"
    real = cv2.setNumThreads

    def recorded(n):
        with open(calls, "a") as f:
            f.write(f"{os.getpid()}\n")
        return real(n)

    monkeypatch.setattr(cv2, "setNumThreads", recorded)
    assert main(_args(cmd, tmp_path / "out", inputs, workers=2)) == 0
    pids = set(calls.read_text().split())
    assert pids == {str(os.getpid())}, pids


def test_workers_read_no_test_hooks_from_the_environment() -> None:
    """Fault injection is a seam (run/faults.py), not environment variables read by workers."""
    root = Path(synthgen.__file__).parent
    for path in [*root.glob("run/*.py"), root / "augment" / "job.py", root / "mine" / "job.py"]:
        text = path.read_text()
        assert "SYNTHGEN_TEST" not in text, path
    from synthgen.run import faults

    assert faults.ACTIVE is None
