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


# -- 2. dates in --set / --pin --------------------------------------------------------------------

PINS = {
    "not a date": (["--pin", "identity.birth_date=1985-02-30"], "pinned identity.birth_date='1985-02-30' is not a date"),
    "month 13": (["--pin", "identity.birth_date=1985-13-01"], "is not a date; give it as YYYY-MM-DD"),
    "born after the card": (["--pin", "identity.birth_date=2030-01-01"], "identity.birth_date=2030-01-01 is outside"),
    "born too long ago": (["--pin", "identity.birth_date=1587-01-01"], "16 to 75 years old"),
    "issued before birth": (["--pin", "identity.birth_date=1990-06-01", "--pin", "identity.issue_date=1980-01-01"],
                            "identity.issue_date=1980-01-01 is outside"),
    "issued after the reference date": (["--pin", "identity.issue_date=2026-01-01"], "identity.issue_date=2026-01-01"),
    "date in a --set": (["--set", "seed=2020-13-01"], "seed: Input should be a valid integer"),
}


@pytest.mark.parametrize("case", sorted(PINS))
def test_dates_in_set_and_pin_are_one_line(case, tmp_path, capsys):
    """Issue 22.2: YAML parsed `1985-02-30` as a date and raised ValueError (a traceback in every
    command); a birth date after the card's issue, or outside the template's ages, was rendered."""
    args, needle = PINS[case]
    out = tmp_path / "out"
    assert main(["render", "idcard_cn", "--n", "2", "-q", "--out", str(out), *args]) == 2
    _one_line(capsys.readouterr().err, needle)
    assert list(tmp_path.iterdir()) == []


def test_date_like_set_values_are_strings():
    from synthgen.config import parse_set

    assert parse_set(["description=2020-13-01", "a=1985-03-14", "b=[2020-01-01]", "c=0.5"]) == {
        "description": "2020-13-01", "a": "1985-03-14", "b": ["2020-01-01"], "c": 0.5}


def test_a_valid_birth_date_pin_is_used(tmp_path):
    import synthgen

    pipe = synthgen.load_pipeline("idcard_cn", **{"factors.pin": {"identity.birth_date": "1985-03-14"}})
    s = pipe.sample(3)
    assert s.meta["identity"]["birth_date"] == "1985-03-14" and s.factors["identity.birth_date"] == "1985-03-14"
    assert s.meta["identity"]["issue_date"] >= "2001-03-14"  # on or after the 16th birthday
