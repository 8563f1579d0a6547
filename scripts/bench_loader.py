#!/usr/bin/env python
"""DataLoader throughput of SynthIterable: samples/s with 1 and with 2 workers.

    python scripts/bench_loader.py                       # ocr_scene 512 x 512, batches of 16
    python scripts/bench_loader.py --pipeline ocr_line --batch 64 --batches 40

Workers render; the main process only receives batches (no model), so the figure is the
loader's ceiling. Runs alternate 1 and 2 workers --repeat times; best and median of each are
printed with the machine's CPU count and load average, taken just before (shared machines
drift). OpenCV is set to one thread in the parent before the workers fork.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import cv2
import torch

from synthgen.torch import SynthIterable


def run(pipeline: str, workers: int, batch: int, batches: int, start: int) -> float:
    ds = SynthIterable(pipeline, seed=0, start=start, batch_size=batch)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=workers, prefetch_factor=4)
    it = iter(dl)
    for _ in range(2 * workers):  # warm-up: workers started, first batches through
        next(it)
    t0 = time.perf_counter()
    n = 0
    for _ in range(batches):
        n += len(next(it)["key"])
    dt = time.perf_counter() - t0
    del it
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", default="ocr_scene")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    print(f"{platform.node()} {os.cpu_count()} CPUs, load average {os.getloadavg()}, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    res: dict[int, list[float]] = {1: [], 2: []}
    for r in range(args.repeat):
        for w in (1, 2):
            # fresh indices every run: nothing cached from the previous one
            res[w].append(run(args.pipeline, w, args.batch, args.batches, start=(2 * r + w) * 100_000))
            print(f"  run {r + 1}: {w} worker(s): {res[w][-1]:.1f} samples/s  (load {os.getloadavg()[0]:.1f})")
    for w in (1, 2):
        print(f"{args.pipeline}: {w} worker(s): best {max(res[w]):.1f}, median {statistics.median(res[w]):.1f} samples/s")
    print(f"speed-up 2 vs 1 workers: best/best {max(res[2]) / max(res[1]):.2f}x, "
          f"median/median {statistics.median(res[2]) / statistics.median(res[1]):.2f}x")


if __name__ == "__main__":
    main()
