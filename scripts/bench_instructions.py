"""Benchmark (not a test): instructions a steady sample costs, this checkout against others.

    python scripts/bench_instructions.py --pipeline ocr_line --warm 2000 --n 500 --against /tmp/old
    python scripts/bench_instructions.py --pipeline idcard_cn --warm 300 --n 500 --against /tmp/old

CPU seconds on a shared VM drift by 10% between two runs of the same code minutes apart, so a
change worth 2-5% cannot be seen in them. Instruction counts do not drift: this runs each
checkout's pipeline under `valgrind --tool=callgrind` twice, rendering and encoding samples
0..warm-1 and 0..warm+n-1 in one fresh process each (`pipeline.sample` + `encode_sample`, OpenCV
on one thread), and reports (second - first) / n: the instructions of a steady sample, with
start-up, imports, first-use glyph reads and the exit flush cancelled out. Instructions are
not time (a cache miss costs more than an add), so quote both: this says whether the code does
more or less work, the CPU-time benchmarks what it costs on this machine.

Needs valgrind (`apt-get install valgrind`). Slow: ~50x the plain run (a line ~1.4 ms -> ~7 M
instructions; 2,500 lines take ~3 minutes), runs up to two processes at a time. The machine
cache is shared by the checkouts, as in the other benchmarks: warm it first (a plain run of the
same samples in each checkout) so that both count reads, not rasterising.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys
import synthgen  # before cv2: the kernels `synthgen render` runs (synthgen/numerics.py)
import cv2
cv2.setNumThreads(1)
from synthgen.io.encode import encode_sample
from synthgen.pipeline import load_pipeline
p = load_pipeline(sys.argv[1])
for i in range(int(sys.argv[2])):
    encode_sample(p.sample(i), p.cfg.output)
"""


def count(checkout: Path, pipeline: str, n: int, script: Path) -> int:
    """Instructions of one process rendering samples 0..n-1 of `pipeline` from `checkout`."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    # the interpreter itself, not a launcher script (pyenv's shim is bash: valgrind would count that)
    exe = os.path.realpath(sys.executable)
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", exe, str(script),
                        pipeline, str(n)], env=env, capture_output=True, text=True, cwd=checkout)
    m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
    if r.returncode != 0 or m is None:
        raise SystemExit(f"valgrind run of {checkout} ({pipeline}, n={n}) failed (exit {r.returncode}):\n"
                         f"{r.stderr[-2000:]}")
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", default="ocr_line")
    ap.add_argument("--warm", type=int, default=2000, help="samples before the steady window (default 2000)")
    ap.add_argument("--n", type=int, default=500, help="samples in the steady window (default 500)")
    ap.add_argument("--against", action="append", default=[], metavar="CHECKOUT",
                    help="another checkout of synthgen to count too (repeatable)")
    a = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("bench_instructions: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    if a.warm < 0 or a.n <= 0:
        print("bench_instructions: --warm must be >= 0 and --n > 0", file=sys.stderr)
        return 2
    trees = [ROOT] + [Path(p).resolve() for p in a.against]
    for t in trees:
        if not (t / "synthgen" / "__init__.py").is_file():
            print(f"bench_instructions: {t} is not a synthgen checkout (no synthgen/__init__.py)", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"
        script.write_text(CHILD)
        jobs = [(t, k) for t in trees for k in (a.warm, a.warm + a.n)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = dict(zip(jobs, pool.map(lambda j: count(j[0], a.pipeline, j[1], script), jobs)))
    per = {t: (counts[(t, a.warm + a.n)] - counts[(t, a.warm)]) / a.n for t in trees}
    print(f"{a.pipeline}: instructions a steady sample (samples {a.warm}-{a.warm + a.n}, callgrind)")
    for t in trees:
        ratio = f"  x{per[t] / per[ROOT]:.4f} of this checkout" if t != ROOT else ""
        print(f"  {per[t] / 1e6:9.3f} M  [{t}]{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
