"""Text-line benchmark: `ocr_line` end to end into shards (render, augment, JPEG, JSON, tar) in
one process, so images/s is per core.

    python scripts/bench_line.py                       # n=20000, defaults + strength 0.5
    python scripts/bench_line.py --n 5000 --set line.layout.weights.arc=0
    python scripts/bench_line.py --pipeline ocr_line_narrow        # the old narrow variety

Prints, per run: images/s by the wall clock, images per CPU-second of the rendering process
(what one core does; steadier than the wall clock when other jobs share the machine), peak
RSS, and the machine's load average before and after (other jobs skew the wall clock).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _child(conn, n: int, overrides: dict, pipeline: str) -> None:
    import cv2

    cv2.setNumThreads(1)  # one core: OpenCV's thread pool only adds overhead on 32 px images
    from synthgen.run.job import render

    with tempfile.TemporaryDirectory(prefix="bench-line-") as tmp:
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        m = render(pipeline, n=n, out=f"{tmp}/out", workers=1, executor="serial", progress=False,
                   overrides=overrides, shard_size=1000)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        size = sum(s["bytes"] for s in m["shards"])
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    conn.send({"wall": wall, "cpu": cpu, "bytes": size, "rss_mb": r1.ru_maxrss / 1024})


def run(n: int, overrides: dict, pipeline: str = "ocr_line") -> dict:
    ctx = mp.get_context("fork")
    a, b = ctx.Pipe()
    from synthgen.bench import reference_seconds

    ref = reference_seconds()  # how fast this machine runs Python right now (shared machines drift)
    load0 = os.getloadavg()[0]
    p = ctx.Process(target=_child, args=(b, n, overrides, pipeline))
    p.start()
    r = a.recv()
    p.join()
    r["load"] = (load0, os.getloadavg()[0])
    print(f"{pipeline} n={n} {overrides or ''}: {n / r['wall']:.0f} images/s wall, {n / r['cpu']:.0f} images per CPU-s, "
          f"{r['bytes'] / n / 1024:.1f} KiB/image, peak RSS {r['rss_mb']:.0f} MB, "
          f"load average {r['load'][0]:.2f} -> {r['load'][1]:.2f} ({os.cpu_count()} CPUs), reference loop {ref:.3f} s",
          flush=True)
    return r


def main() -> int:
    from synthgen.config import parse_set

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--pipeline", default="ocr_line", help="a line pipeline (default ocr_line)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    a = ap.parse_args()
    if a.sets:
        run(a.n, parse_set(a.sets), a.pipeline)
    else:
        run(a.n, {}, a.pipeline)  # the shipped config: strength 0.3 (noise on most lines, blur on some)
        run(a.n, {"augment.strength": 0.5}, a.pipeline)  # blur on most lines too
    return 0


if __name__ == "__main__":
    sys.exit(main())
