"""The same bytes on an AVX-512 machine as on an AVX2 one (synthgen/numerics.py).

An AVX2 machine is simulated on an AVX-512 one through the switches numpy and OpenCV read at
import (numpy's documented NPY_DISABLE_CPU_FEATURES, OpenCV's OPENCV_CPU_DISABLE): a process
given them runs exactly the kernels an AVX2 CPU would. The comparison that could fail: the same
samples with the switches set to nothing (numpy's and OpenCV's own AVX-512 kernels, what
synthgen ran before it capped them) differ from the AVX2 machine's."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from synthgen import numerics

AVX512 = numerics.switches() != {}
needs_avx512 = pytest.mark.skipif(not AVX512, reason="this CPU has no AVX-512 kernels to cap")

# samples that an uncapped AVX-512 machine rendered differently (stream 8): ocr_line 102 and 127
# (OpenCV's AVX-512 warps), ocr_scene 131 (a gradient background's `x ** gamma`, numpy's SVML)
SAMPLES = {"ocr_line": [100, 101, 102, 127], "ocr_scene": [130, 131]}

_RENDER = r"""
import hashlib, json, sys
import synthgen
from synthgen import numerics
from synthgen.io.encode import encode_sample
out = {"level": numerics.level()}
for name, idx in json.loads(sys.argv[1]).items():
    p = synthgen.load_pipeline(name, seed=0)
    out[name] = [hashlib.sha256(b"".join(v for _, v in encode_sample(p.sample(i), p.cfg.output))).hexdigest()
                 for i in idx]
print(json.dumps(out))
"""


def _render(env_extra: dict, cache) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in numerics._OWNER}
    env.update(env_extra, SYNTHGEN_CACHE_DIR=str(cache))
    r = subprocess.run([sys.executable, "-c", _RENDER, json.dumps(SAMPLES)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def test_switches_follow_the_cpu():
    v4 = frozenset({"avx2", "fma", "avx512f", "avx512cd", "avx512bw"})
    sw = numerics.switches(v4)
    assert set(sw) == {"NPY_DISABLE_CPU_FEATURES", "OPENCV_CPU_DISABLE", "OPENBLAS_CORETYPE"}
    assert "AVX512-CLX" not in sw["OPENCV_CPU_DISABLE"]  # OpenCV would print a line for an absent feature
    assert numerics.switches(frozenset({"avx2", "fma"})) == {}  # an AVX2 machine runs its kernels as they are
    assert numerics.switches(frozenset({"sse4_2"})) == {}
    assert numerics.switches(frozenset()) == {}  # arm64, macOS: nothing known, nothing set


def test_this_process_is_capped():
    # tests/conftest.py imports synthgen first, as the `synthgen` command does
    assert numerics.late() is None
    lvl = numerics.level()
    assert "numpy" in lvl and "opencv" in lvl
    if AVX512:
        assert "X86_V4" not in lvl and "AVX512" not in lvl, lvl


@needs_avx512
def test_same_bytes_as_an_avx2_machine(tmp_path):
    sw = numerics.switches()
    mine = _render({}, tmp_path / "cache_here")  # this machine, capped by `import synthgen`
    avx2 = _render({"NPY_DISABLE_CPU_FEATURES": sw["NPY_DISABLE_CPU_FEATURES"],
                    "OPENCV_CPU_DISABLE": sw["OPENCV_CPU_DISABLE"]}, tmp_path / "cache_avx2")
    native = _render({"NPY_DISABLE_CPU_FEATURES": "", "OPENCV_CPU_DISABLE": ""}, tmp_path / "cache_native")
    assert mine == avx2
    assert native["level"] != mine["level"]
    differ = [(k, i) for k in SAMPLES for i, a, b in zip(SAMPLES[k], mine[k], native[k]) if a != b]
    assert differ, ("no sample differs between AVX-512 and AVX2 kernels any more: pick others for SAMPLES "
                    "(render a few hundred with NPY_DISABLE_CPU_FEATURES='' and compare)")


@needs_avx512
def test_numpy_kernels_differ_where_synthgen_caps_them(tmp_path):
    """The premise, on numpy alone: x ** 0.73 and exp in float64 round differently under the AVX-512
    kernels than under the AVX2 ones (numpy's SVML), so a cap is needed, not a nicety."""
    code = ("import numpy as np, hashlib; x = np.linspace(0.001, 1, 100001); "
            "print(hashlib.md5((x ** 0.73).tobytes() + np.exp(-x * 7).tobytes()).hexdigest())")
    env = {k: v for k, v in os.environ.items() if k not in numerics._OWNER}
    run = [subprocess.run([sys.executable, "-c", code], env={**env, "NPY_DISABLE_CPU_FEATURES": v},
                          capture_output=True, text=True, check=True).stdout for v in
           ("", numerics.switches()["NPY_DISABLE_CPU_FEATURES"])]
    assert run[0] != run[1]
    x = np.linspace(0.001, 1, 100001)
    here = hashlib.md5((x ** 0.73).tobytes() + np.exp(-x * 7).tobytes()).hexdigest()
    assert here + "\n" == run[1]  # this (capped) process computes what the AVX2 kernels do


def test_numpy_imported_first_is_reported(tmp_path):
    code = ("import sys, warnings, numpy, synthgen\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    synthgen.load_pipeline('ocr_line').sample(0)\n"  # in-process sampling: no warning
            "    quiet = len(w)\n"
            "    synthgen.render('ocr_line', n=2, out=sys.argv[1], workers=1, executor='serial', progress=False)\n"
            "print(quiet, len([x for x in w if 'imported before synthgen' in str(x.message)]))\n")
    env = {k: v for k, v in os.environ.items() if k not in numerics._OWNER}
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["0", "1" if AVX512 else "0"]


def test_level_is_recorded_and_a_resume_at_another_level_refused(tmp_path, capsys):
    from synthgen.cli import main
    from synthgen.run import versions as libs

    assert libs.versions()["numerics"] == numerics.level()
    assert "numerics" in libs.RENDER and "numerics" in libs.AUGMENT
    out = tmp_path / "line"
    args = ["render", "ocr_line", "--n", "4", "--seed", "1", "--shard-size", "2", "--workers", "1", "--executor",
            "serial", "-q", "--out", str(out)]
    assert main(args) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["versions"]["numerics"] == numerics.level()
    other = "x86_64 numpy 2:X86_V3+X86_V4+AVX512_ICL opencv:SSE4.1+SSE4.2+AVX+FP16+AVX2+AVX512-SKX"
    m["versions"]["numerics"] = other
    (out / "manifest.json").write_text(json.dumps(m))
    (out / "shard-000001.tar").unlink()
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "numerics" in err and "--accept-versions" in err and len(err.strip().splitlines()) == 1, err
    assert main(args + ["--accept-versions"]) == 0
