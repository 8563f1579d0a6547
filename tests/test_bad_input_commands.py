"""Issue 22: bad input to the newer commands (bench, gan, mine, augment, check) and to --set /
--pin gives one line on stderr naming the problem and the fix, exit code 2, no traceback, and
nothing half-written left behind. Each test here failed (a hang, a traceback, a NaN accepted, a
folder left) before its fix."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthgen.cli import main
from synthgen.errors import RunError, UserError

SMALL = ["--set", "image.width=64", "--set", "image.height=64"]


def _one_line(err: str, needle: str) -> None:
    assert err.count("\n") == 1 and err.startswith("synthgen: error: "), err
    assert "Traceback" not in err, err
    assert needle in err, err


def _cli(args: list[str], cwd: Path, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """The console script in a fresh interpreter, with a timeout: a hang fails the test."""
    return subprocess.run([sys.executable, "-m", "synthgen.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=env)


# -- 1. bench ----------------------------------------------------------------------------------

BENCH = {
    "unknown pipeline": (["bench", "nosuch"], "unknown pipeline 'nosuch'"),
    "unknown set key": (["bench", "ocr_line", "--set", "nokey=1"], "nokey"),
    "pin of no factor": (["bench", "ocr_line", "--pin", "nofactor=1"], "no such factor"),
    "pin not an option": (["bench", "ocr_line", "--pin", "background.kind=banana"], "not one of its options"),
    "seed negative": (["bench", "ocr_line", "--seed", "-1"], "--seed must be from 0"),
    "seed past 64 bits": (["bench", "ocr_line", "--seed", str(2**64)], "--seed must be from 0"),
}


@pytest.mark.parametrize("case", sorted(BENCH))
def test_bench_bad_input_is_one_line_not_a_hang(case, tmp_path):
    """Issue 22.1: the child printed a traceback and the parent waited forever."""
    args, needle = BENCH[case]
    r = _cli([*args, "--n", "4", "--shard-size", "4"], tmp_path, timeout=120)
    assert r.returncode == 2, r.stderr
    _one_line(r.stderr, needle)
    assert list(tmp_path.iterdir()) == []


def _die(conn) -> None:
    os._exit(3)


def _refuse(conn) -> None:
    conn.send({"error": "UserError", "message": "bad thing; do this instead"})


def test_bench_parent_notices_a_dead_child():
    """Issue 22.1: a child killed before it reports (OOM killer, a segfault) is one line in the
    parent, not a wait forever; an error the child reports is raised again in the parent."""
    from synthgen.bench import _wait

    ctx = mp.get_context("fork")
    for target, err, needle in ((_die, RunError, "exit code 3"), (_refuse, UserError, "bad thing")):
        a, b = ctx.Pipe()
        p = ctx.Process(target=target, args=(b,))
        p.start()
        b.close()
        with pytest.raises(err, match=needle):
            _wait(a, p)
        assert not p.is_alive()
