"""Benchmark EAST label generation (single process).

Full label sets (score + geo_rbox + geo_quad + mask) per second and score_map-only calls per
second for a 512 x 512 image with 10 rotated word quads (one of them ignored, one too small),
built from JSON-like instance dicts as a data loader would. Prints peak RSS.

    python scripts/bench_east.py [--quads 10] [--size 512] [--seconds 2]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from synthgen.labels import east_targets, score_map  # noqa: E402


def make_instances(n: int, size: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    g = math.ceil(math.sqrt(n))
    cell = size / g
    out = []
    for k in range(n):
        cx, cy = (k % g + 0.5) * cell, (k // g + 0.5) * cell
        w = rng.uniform(0.4, 0.8) * cell
        h = rng.uniform(6, 9) if k == 1 else rng.uniform(0.12, 0.3) * cell
        a = rng.uniform(-0.6, 0.6)
        e = np.array([math.cos(a), math.sin(a)])
        nv = np.array([-math.sin(a), math.cos(a)])
        c = np.array([cx, cy])
        q = [c - w / 2 * e - h / 2 * nv, c + w / 2 * e - h / 2 * nv,
             c + w / 2 * e + h / 2 * nv, c - w / 2 * e + h / 2 * nv]
        out.append({"quad": np.round(np.array(q), 2).tolist(), "text": "word",
                    "kind": "word", "ignore": k == 0})
    return json.loads(json.dumps(out))


def rate(fn, seconds: float) -> tuple[float, float]:
    """(best, median) calls per second over ~50 short timed rounds (~seconds in all).

    Short rounds and the best round make the figure robust to other processes sharing the
    core; the median shows what a loaded machine gives.
    """
    fn()
    n = 1
    while True:                                    # calibrate a round of ~seconds/50
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt > seconds / 50 or n > 1 << 20:
            break
        n *= 2
    per = []
    for _ in range(50):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        per.append((time.perf_counter() - t) / n)
    return 1.0 / min(per), 1.0 / float(np.median(per))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quads", type=int, default=10)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--stride", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()

    inst = make_instances(args.quads, args.size)
    hw = (args.size, args.size)
    quads = [np.asarray(d["quad"], np.float32) for d in inst]
    ignore = [d["ignore"] for d in inst]

    cases = [
        ("full label sets (score, geo_rbox, geo_quad, mask)",
         lambda: east_targets(inst, hw, stride=args.stride)),
        ("score_map only (uint8, from float32 quads)",
         lambda: score_map(quads, ignore, hw, stride=args.stride)),
        ("east_targets score + mask only",
         lambda: east_targets(inst, hw, stride=args.stride, maps=("score", "mask"))),
    ]
    print(f"{args.size}x{args.size}, {args.quads} quads, stride {args.stride}, "
          f"numpy {np.__version__}, pid {os.getpid()}")
    for name, fn in cases:
        best, med = rate(fn, args.seconds)
        print(f"  {name:52s} {best:8.0f} /s ({1e6 / best:6.1f} us)   median round "
              f"{med:8.0f} /s ({1e6 / med:6.1f} us)")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"  peak RSS {peak_kib / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
