#!/usr/bin/env python
"""DataLoader throughput of SynthIterable: samples/s with 1 and with 2 workers.

    python scripts/bench_loader.py                       # ocr_scene 512 x 512, batches of 16
    python scripts/bench_loader.py --pipeline ocr_line --batch 64 --batches 40

Workers render; the main process only receives batches (no model), so the figure is the
loader's ceiling. Each repeat also times the same rendering in 1 and 2 plain forked processes
(no DataLoader): on a shared machine that says whether a second core was there to use. Runs alternate 1 and 2 workers --repeat times; best and median of each are
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


def run(pipeline: str, workers: int, batch: int, batches: int, start: int) -> tuple[float, float]:
    """(samples/s, main-process CPU ms per sample: the loader's own overhead)."""
    ds = SynthIterable(pipeline, seed=0, start=start, batch_size=batch)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=workers, prefetch_factor=4)
    it = iter(dl)
    for _ in range(2 * workers):  # warm-up: workers started, first batches through
        next(it)
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for _ in range(batches):
        n += len(next(it)["key"])
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    del it
    return n / dt, 1000 * dc / n


_PIPE = None


def _init(pipeline: str) -> None:
    global _PIPE
    from synthgen.pipeline import load_pipeline

    _PIPE = load_pipeline(pipeline)


def _render(args: tuple[int, int]) -> None:
    start, n = args
    for i in range(start, start + n):
        _PIPE.sample(i)


def raw(pipeline: str, procs: int, n: int, start: int) -> float:
    """Samples/s of `procs` plain forked processes rendering n samples each, no DataLoader:
    what the machine gives two processes right now (the loader cannot beat it)."""
    from multiprocessing import get_context

    with get_context("fork").Pool(procs, initializer=_init, initargs=(pipeline,)) as pool:
        pool.map(_render, [(start + 10**7 + k * n, 4) for k in range(procs)])  # warm-up
        t0 = time.perf_counter()
        pool.map(_render, [(start + k * n, n) for k in range(procs)])
        return procs * n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", default="ocr_scene")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sharing", choices=("file_descriptor", "file_system"), default=None,
                    help="torch.multiprocessing sharing strategy (default: torch's, file_descriptor on Linux)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain-process baseline")
    args = ap.parse_args()
    if args.sharing:
        torch.multiprocessing.set_sharing_strategy(args.sharing)
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    print(f"{platform.node()} {os.cpu_count()} CPUs, sharing {torch.multiprocessing.get_sharing_strategy()}, "
          f"load average {tuple(round(x, 2) for x in os.getloadavg())}, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    res: dict[int, list[float]] = {1: [], 2: []}
    for r in range(args.repeat):
        for w in (1, 2):
            # fresh indices every run: nothing cached from the previous one
            rate, main_ms = run(args.pipeline, w, args.batch, args.batches, start=(2 * r + w) * 100_000)
            res[w].append(rate)
            print(f"  run {r + 1}: {w} worker(s): {rate:.1f} samples/s, main process {main_ms:.2f} ms CPU/sample "
                  f"(load {os.getloadavg()[0]:.1f})")
        if args.no_plain:
            continue
        # the same work in plain processes: does the machine itself give a second core now?
        rr = [raw(args.pipeline, p, args.batch * args.batches // 2, start=(2 * r + p) * 100_000 + 50_000) for p in (1, 2)]
        res.setdefault(-1, []).append(rr[0])
        res.setdefault(-2, []).append(rr[1])
        print(f"  run {r + 1}: plain processes, no DataLoader: 1: {rr[0]:.1f}, 2: {rr[1]:.1f} samples/s")
    for w in (1, 2):
        print(f"{args.pipeline}: {w} worker(s): best {max(res[w]):.1f}, median {statistics.median(res[w]):.1f} samples/s")
    if not args.no_plain:
        print(f"plain processes 2 vs 1 (the machine's own scaling now): median "
              f"{statistics.median(res[-2]) / statistics.median(res[-1]):.2f}x")
    print(f"speed-up 2 vs 1 workers: best/best {max(res[2]) / max(res[1]):.2f}x, "
          f"median/median {statistics.median(res[2]) / statistics.median(res[1]):.2f}x")


if __name__ == "__main__":
    main()
