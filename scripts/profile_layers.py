"""Where a steady sample's CPU goes, by layer and by synthgen function (issue 23).

    python scripts/profile_layers.py ocr_line                   # samples 3000-18000 (render + encode)
    python scripts/profile_layers.py ocr_scene --warm 1000 --n 3000
    python scripts/profile_layers.py ocr_line --render-only     # pipeline.sample alone
    python scripts/profile_layers.py ocr_line --raw stacks.txt  # aggregate a recorded raw file again

A child process renders (and encodes) samples `--warm`..`--warm + --n` of a pipeline on one
thread; once its warm-up is done, `py-spy record --native --format raw` samples it for
`--seconds`. Each stack goes to the layer of its innermost frame: a Python frame (the
interpreter: py-spy folds the CPython C code it runs inline into the Python frame), numpy's C
code, OpenCV (with its libjpeg and libpng), synthgen's compiled kernels, libc / libm, or other.
Then by the innermost synthgen frame: which Python function the time was spent under, and in
which layers. The method of speed_native.md's tables (sessions 9 and 19), as one command.

Needs py-spy (`pip install py-spy`, not a synthgen dependency) and the right to trace a child
process (on Linux, ptrace_scope 0 or 1, or root).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# innermost frame -> layer: shared-object names as py-spy prints them ("0x... (cv2/cv2.abi3.so)")
LAYERS = (
    ("numpy C", re.compile(r"numpy|_multiarray|_umath|_generator|bit_generator|_pcg64|_common|_bounded|openblas")),
    ("OpenCV", re.compile(r"cv2|opencv|libjpeg|libpng|libopenjp|libtiff|libwebp|libavif")),
    ("synthgen kernels", re.compile(r"_native\.")),
    ("libc / libm", re.compile(r"libc\.so|libm\.so|libc-|libm-|ld-linux")),
)
PY_FRAME = re.compile(r"^(?P<fn>.+) \((?P<file>[^()]*\.py):\d+\)$")
SO_FRAME = re.compile(r"\((?P<so>[^()]*\.so[^()]*)\)$")
C_FRAME = re.compile(r"\((?P<file>[^()]*\.c):\d+\)$")  # a native frame py-spy resolved to its source
# synthgen's kernels, as py-spy names their frames ("ctx_unit (keyed.c:41)")
KERNEL_FILES = frozenset(p.name for p in (ROOT / "synthgen" / "csrc").glob("*.c")) | {"_native.c"}

CHILD = r"""
import sys, time
sys.path.insert(0, {root!r})
import cv2
cv2.setNumThreads(1)
from synthgen.pipeline import load_pipeline
from synthgen.io.encode import encode_sample
p = load_pipeline({pipeline!r})
warm, n, render_only = {warm}, {n}, {render_only}
def one(i):
    s = p.sample(i)
    if not render_only:
        encode_sample(s, p.cfg.output)
for i in range(warm):
    one(i)
print("ready", flush=True)
t = time.process_time()
for i in range(warm, warm + n):
    one(i)
print(f"{{n / (time.process_time() - t):.1f}} samples per CPU-s", flush=True)
"""


def layer_of(frame: str) -> str:
    """The layer of a stack's innermost frame."""
    m = SO_FRAME.search(frame)
    if m is None:
        if PY_FRAME.match(frame):
            return "Python frames"
        c = C_FRAME.search(frame)
        if c is not None and c.group("file").replace(os.sep, "/").rsplit("/", 1)[-1] in KERNEL_FILES:
            return "synthgen kernels"
        return "other"
    so = m.group("so").rsplit("/", 1)[-1]
    for name, pat in LAYERS:
        if pat.search(so):
            return name
    return "libpython" if "libpython" in so else "other"


def aggregate(lines) -> tuple[int, collections.Counter, dict[str, collections.Counter]]:
    """py-spy raw lines ("frame;frame;... count", outermost first) -> (samples, by layer,
    {innermost synthgen function: by layer})."""
    total, by_layer = 0, collections.Counter()
    by_fn: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        frames = stack.split(";")
        layer = layer_of(frames[-1])
        total += n
        by_layer[layer] += n
        fn = "(outside synthgen)"
        for f in reversed(frames):
            m = PY_FRAME.match(f)
            if m and "synthgen/" in m.group("file").replace(os.sep, "/"):
                rel = m.group("file").replace(os.sep, "/").split("synthgen/", 1)[1]
                fn = f"{rel}:{m.group('fn')}"
                break
        by_fn[fn][layer] += n
    return total, by_layer, by_fn


def report(total: int, by_layer: collections.Counter, by_fn: dict, top: int) -> str:
    if not total:
        return "no samples recorded"
    out = [f"{total} samples", "", "| layer | share |", "|---|---|"]
    out += [f"| {k} | {100 * v / total:.1f}% |" for k, v in by_layer.most_common()]
    out += ["", "| innermost synthgen function | total | by layer |", "|---|---|---|"]
    for fn, c in sorted(by_fn.items(), key=lambda kv: -sum(kv[1].values()))[:top]:
        parts = ", ".join(f"{k} {100 * v / total:.1f}" for k, v in c.most_common(4))
        out.append(f"| `{fn}` | {100 * sum(c.values()) / total:.1f}% | {parts} |")
    return "\n".join(out)


def record(pipeline: str, warm: int, n: int, seconds: float, rate: int, render_only: bool, out: Path) -> str:
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("profile_layers: py-spy is not installed; `pip install py-spy` (it is not a synthgen dependency)")
    code = CHILD.format(root=str(ROOT), pipeline=pipeline, warm=warm, n=n, render_only=render_only)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        if child.stdout.readline().strip() != "ready":
            sys.exit(f"profile_layers: the child stopped before its warm-up was done (exit {child.wait()})")
        spied = subprocess.run([spy, "record", "--native", "--pid", str(child.pid), "--rate", str(rate),
                                "--format", "raw", "--output", str(out), "--duration", str(int(seconds)),
                                ], capture_output=True, text=True)
        if spied.returncode != 0 or not out.exists():
            sys.exit(f"profile_layers: py-spy failed ({spied.stderr.strip().splitlines()[-1:] or spied.returncode}); "
                     "it needs the right to trace the child (root, or kernel.yama.ptrace_scope <= 1)")
        rate_line = child.stdout.readline().strip()
        child.wait(timeout=120)  # its exit writes the glyphs it drew to the machine cache's atlas
        return rate_line
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pipeline", nargs="?", default="ocr_line")
    ap.add_argument("--warm", type=int, default=3000, help="samples before recording (default 3000)")
    ap.add_argument("--n", type=int, default=15000, help="samples in the recorded loop (default 15000)")
    ap.add_argument("--seconds", type=float, default=12, help="how long py-spy records (default 12)")
    ap.add_argument("--rate", type=int, default=400, help="py-spy samples per second (default 400)")
    ap.add_argument("--render-only", action="store_true", help="pipeline.sample alone, no encode")
    ap.add_argument("--top", type=int, default=30, help="functions listed (default 30)")
    ap.add_argument("--raw", type=Path, help="aggregate this py-spy raw file instead of recording")
    ap.add_argument("--keep", type=Path, help="keep the recorded raw stacks here")
    a = ap.parse_args()
    if a.raw is not None:
        if not a.raw.is_file():
            sys.exit(f"profile_layers: no such file {a.raw}")
        print(report(*aggregate(a.raw.open(encoding="utf-8", errors="replace")), a.top))
        return 0
    with tempfile.TemporaryDirectory(prefix="layers-") as tmp:
        raw = a.keep or Path(tmp) / "stacks.txt"
        t = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        rate = record(a.pipeline, a.warm, a.n, a.seconds, a.rate, a.render_only, raw)
        print(f"# {a.pipeline}, samples {a.warm}-{a.warm + a.n} ({'render' if a.render_only else 'render + encode'}), "
              f"{t}, py-spy --native -r {a.rate} for {a.seconds:g} s; {rate}")
        print(report(*aggregate(raw.open(encoding="utf-8", errors="replace")), a.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
