"""Side by side with SynthTIGER: lines per CPU-second on one core, and one contact sheet
(ours | theirs). Not a test: it runs only when given a virtual environment that has
SynthTIGER installed (synthtiger==1.2.1 needs numpy<2 and pillow<10, so it cannot share ours)
and a checkout of SynthTIGER's repository for its example template and resources.

    python -m venv /tmp/st-venv
    /tmp/st-venv/bin/pip install synthtiger==1.2.1 'numpy<2' 'pillow<10'
    python scripts/compare_synthtiger.py --venv /tmp/st-venv --repo /path/to/synthtiger \\
        --n 100 --out sheet.png [--config examples/synthtiger/config_horizontal.yaml] [--core 0]

SynthTIGER runs as its own CLI (`synthtiger -w 0`: in one process) twice, for 1 and for n
lines; its per-line CPU time is the difference over n - 1 (imports and template set-up
excluded). Ours: `pipeline.sample(i)` plus a JPEG encode per line, in this process, after
a few warm-up lines, cv2 on one thread. CPU time is the process's user + system time, so a
loaded machine changes it less than wall time. Both are pinned to `--core` when given.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

CELL_W, CELL_H = 320, 32  # each line is scaled to 32 px high and cut / padded to 320 px


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_synthtiger(venv: Path, repo: Path, config: str, n: int, out: Path, core: int | None) -> tuple[float, float]:
    """Run SynthTIGER's example template for n lines into `out`: (CPU s, wall s)."""
    exe = venv / "bin" / "synthtiger"
    cmd = [str(exe), "-o", str(out), "-c", str(n), "-w", "0", "-s", "0",
           "examples/synthtiger/template.py", "SynthTiger", config]
    if core is not None:
        cmd = ["taskset", "-c", str(core)] + cmd
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    c0, t0 = children_cpu(), time.perf_counter()
    r = subprocess.run(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=3600)
    if r.returncode != 0:
        sys.exit(f"compare_synthtiger: error: synthtiger failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    return children_cpu() - c0, time.perf_counter() - t0


def theirs_lines(out: Path, n: int) -> list[tuple[np.ndarray, str]]:
    """SynthTIGER's images and texts (gt.txt: `path<TAB>text`)."""
    rows = []
    for line in (out / "gt.txt").read_text(encoding="utf-8").splitlines()[:n]:
        path, text = line.split("\t", 1)
        img = cv2.imread(str(out / path), cv2.IMREAD_COLOR)
        rows.append((img[:, :, ::-1], text))
    return rows


def ours_lines(pipeline: str, n: int, seed: int) -> tuple[list[tuple[np.ndarray, str]], float, float]:
    """Our lines (image RGB, text), and the CPU s and wall s of rendering + JPEG-encoding them."""
    import synthgen

    cv2.setNumThreads(1)
    pipe = synthgen.load_pipeline(pipeline, seed=seed)
    for i in range(10):  # warm the glyph and texture caches, as a long render would have them
        pipe.sample(10_000_000 + i)
    rows = []
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        s = pipe.sample(i)
        cv2.imencode(".jpg", s.image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        rows.append((s.image, s.instances[0].text if s.instances else ""))
    return rows, time.process_time() - c0, time.perf_counter() - t0


def cell(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    w2 = max(1, int(round(w * CELL_H / h)))
    im = cv2.resize(img, (w2, CELL_H), interpolation=cv2.INTER_AREA if h > CELL_H else cv2.INTER_LINEAR)
    out = np.full((CELL_H, CELL_W, 3), 255, np.uint8)
    out[:, : min(w2, CELL_W)] = im[:, :CELL_W]
    return out


def sheet(ours: list, theirs: list, rows: int, title_l: str, title_r: str) -> np.ndarray:
    """Two blocks of `rows` x 2 cells each, ours on the left, theirs on the right."""
    def block(lines):
        cells = [cell(im) for im, _ in lines[: 2 * rows]]
        cells += [np.full((CELL_H, CELL_W, 3), 255, np.uint8)] * (2 * rows - len(cells))
        cols = [np.concatenate([c, np.full((4, CELL_W, 3), 255, np.uint8)]) for c in cells]
        left = np.concatenate(cols[:rows])
        right = np.concatenate(cols[rows:])
        return np.concatenate([left, np.full((left.shape[0], 4, 3), 255, np.uint8), right], axis=1)

    a, b = block(ours), block(theirs)
    gap = np.full((a.shape[0], 24, 3), 200, np.uint8)
    body = np.concatenate([a, gap, b], axis=1)
    head = np.full((28, body.shape[1], 3), 255, np.uint8)
    cv2.putText(head, title_l, (4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(head, title_r, (a.shape[1] + 28, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([head, body])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--venv", type=Path, required=True, help="virtual environment with synthtiger==1.2.1")
    ap.add_argument("--repo", type=Path, required=True, help="SynthTIGER checkout (examples/ and resources/)")
    ap.add_argument("--config", default="examples/synthtiger/config_horizontal.yaml", help="relative to --repo")
    ap.add_argument("--pipeline", default="ocr_line", help="our pipeline (default ocr_line)")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--rows", type=int, default=20, help="lines per column on the sheet (2 columns a side)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--core", type=int, default=None, help="pin both to this CPU core (taskset / sched_setaffinity)")
    ap.add_argument("--out", type=Path, required=True, help="contact sheet PNG")
    a = ap.parse_args(argv)
    if not (a.venv / "bin" / "synthtiger").exists():
        print(f"compare_synthtiger: error: {a.venv}/bin/synthtiger not found; pip install synthtiger==1.2.1 into that venv",
              file=sys.stderr)
        return 2
    if not (a.repo / a.config).is_file() or not (a.repo / "examples/synthtiger/template.py").is_file():
        print(f"compare_synthtiger: error: {a.repo} has no {a.config} or examples/synthtiger/template.py", file=sys.stderr)
        return 2
    if a.n < 2:
        print("compare_synthtiger: error: --n must be at least 2", file=sys.stderr)
        return 2
    if a.core is not None:
        os.sched_setaffinity(0, {a.core})
    with tempfile.TemporaryDirectory() as tmp:
        c1, w1 = run_synthtiger(a.venv, a.repo, a.config, 1, Path(tmp) / "one", a.core)
        cn, wn = run_synthtiger(a.venv, a.repo, a.config, a.n, Path(tmp) / "n", a.core)
        theirs = theirs_lines(Path(tmp) / "n", a.n)
    st_cpu = (cn - c1) / (a.n - 1)
    ours, oc, ow = ours_lines(a.pipeline, a.n, a.seed)
    print(f"SynthTIGER 1.2.1 ({a.config}): {a.n} lines in {cn:.2f} CPU-s ({wn:.1f} s wall) incl. start-up "
          f"{c1:.2f} CPU-s; {1 / st_cpu:.1f} lines per CPU-s after start-up")
    print(f"synthgen {a.pipeline}: {a.n} lines in {oc:.2f} CPU-s ({ow:.2f} s wall); {a.n / oc:.1f} lines per CPU-s")
    print(f"ratio (per CPU-s): {a.n / oc * st_cpu:.0f}x")
    img = sheet(ours, theirs, a.rows, f"synthgen {a.pipeline} (seed {a.seed})", f"SynthTIGER 1.2.1 {Path(a.config).name}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(a.out), img[:, :, ::-1])
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
