"""`synthgen check DIR --reproduce K` (check/reproduce.py): samples rendered again from
manifest.json match the shards' bytes, and a difference names the samples and its cause."""

import json
import os
import subprocess
import sys

import pytest

from synthgen import numerics
from synthgen.check.reproduce import pick
from synthgen.check.run import check
from synthgen.cli import main


def _render(out, n, shard, *extra, env=None):
    args = ["render", "ocr_line", "--n", str(n), "--shard-size", str(shard), "--workers", "1", "--executor", "serial",
            "-q", "--out", str(out), *extra]
    if env is None:
        assert main(args) == 0
    else:  # another process, as another machine would render it
        r = subprocess.run([sys.executable, "-m", "synthgen.cli", *args], env=env, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]


def test_pick_spreads_over_shards():
    names = [f"s{i}" for i in range(10)]
    assert pick(names, 0) == {}
    assert pick(names, 3) == {"s0": 1, "s3": 1, "s6": 1}
    assert pick(names[:3], 5) == {"s0": 2, "s1": 2, "s2": 1}
    assert sum(pick(names, 10).values()) == 10


def test_same_bytes_here(tmp_path, capsys):
    out = tmp_path / "line"
    _render(out, 12, 4, "--seed", "3")
    r = check(str(out), reproduce=5)
    assert r.reproduced == 5 and "reproduce" not in r.totals
    assert main(["check", str(out), "--reproduce", "2", "-q"]) == 0
    assert "reproduce: 2 samples rendered again here, the same bytes" in capsys.readouterr().out


def test_a_difference_names_the_samples_and_the_stream(tmp_path):
    out = tmp_path / "line"
    _render(out, 6, 3, "--seed", "3")
    p = out / "manifest.json"
    m = json.loads(p.read_text())
    m["seed"], m["stream"] = 4, m["stream"] - 1  # as if made from another seed by an older synthgen
    p.write_text(json.dumps(m))
    r = check(str(out), reproduce=2)
    f = [x for x in r.findings if x.check == "reproduce"]
    assert len(f) == 1 and f[0].severity == "error" and not r.ok
    assert "2 of 2 samples" in f[0].message and "000000000 (" in f[0].message and "000000003 (" in f[0].message
    assert f"sample stream {m['stream']}" in f[0].message
    assert {s["key"] for s in f[0].samples} == {"000000000", "000000003"}
    assert {s["shard"] for s in f[0].samples} == {"shard-000000.tar", "shard-000001.tar"}


@pytest.mark.skipif(not numerics.switches(), reason="this CPU has no AVX-512 kernels")
def test_a_dataset_rendered_with_avx512_kernels_is_caught(tmp_path):
    """Rendered with numpy's and OpenCV's own AVX-512 kernels (switches set to nothing: synthgen
    before it capped them); line 102 comes out otherwise (OpenCV's AVX-512 warp)."""
    out = tmp_path / "line"
    env = {k: v for k, v in os.environ.items() if k not in numerics._OWNER}
    _render(out, 104, 104, "--seed", "0", env={**env, "NPY_DISABLE_CPU_FEATURES": "", "OPENCV_CPU_DISABLE": ""})
    r = check(str(out), reproduce=104)
    f = [x for x in r.findings if x.check == "reproduce"]
    assert len(f) == 1, r.findings
    assert "000000102" in f[0].message and "numerics" in f[0].message, f[0].message
    assert json.loads((out / "manifest.json").read_text())["versions"]["numerics"] != numerics.level()


def test_bad_requests_are_one_line(tmp_path, capsys):
    out = tmp_path / "line"
    _render(out, 2, 2)
    assert main(["check", str(out), "--reproduce", "-1"]) == 2
    assert "--reproduce must be" in capsys.readouterr().err
    p = out / "manifest.json"
    m = json.loads(p.read_text())
    del m["pipeline"]  # not a render's manifest (an augment or older job)
    p.write_text(json.dumps(m))
    assert main(["check", str(out), "--reproduce", "1", "-q"]) == 2
    err = capsys.readouterr().err
    assert "made by `synthgen render`" in err and len(err.strip().splitlines()) == 1
