"""`synthgen bench PIPELINE`: throughput and peak memory of a render."""

from __future__ import annotations

import argparse

from ..errors import UserError
from ._args import add_pipeline_args, overrides_of

ORDER = 90
INTERRUPTED = "nothing was kept (a benchmark renders into a temporary folder)"  # cli.py


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    b = sub.add_parser("bench", help="throughput and peak memory of a render",
                       description="Render into a temporary folder and print images/s (per worker and total) and peak "
                       "RSS. Shared or virtual machines drift by 2x from minute to minute: each run also prints a "
                       "reference time (a fixed pure-Python loop) taken just before it, so runs can be compared, and "
                       "--repeat keeps the best run (the machine's speed when nothing else interferes). Every worker pays "
                       "its own start-up and warm-up (a process's first ~1,000 scenes are its slowest: glyphs, tables "
                       "and pages met for the first time), so compare worker counts with a few thousand samples per "
                       "worker: ocr_scene on 2 workers read x1.41 one worker's rate at --n 2000 and x1.86 at --n 6000.")
    add_pipeline_args(b)
    b.add_argument("--n", default="2000", help="samples per run (default 2000)")
    b.add_argument("--workers", default="1", help="comma-separated worker counts (default 1)")
    b.add_argument("--shard-size", default="500", help="samples per shard (default 500)")
    b.add_argument("--executor", choices=["serial", "process", "ray"], default="process")
    b.add_argument("--repeat", type=int, default=1, help="runs per worker count; the best is reported too (default 1)")
    return b


def run(a: argparse.Namespace) -> int:
    from ..bench import bench_render, check_inputs
    from ..run.job import parse_count

    workers = [parse_count(w, "--workers") for w in str(a.workers).split(",")]
    if a.repeat < 1:
        raise UserError(f"--repeat must be at least 1, got {a.repeat}")
    n, shard_size, overrides = parse_count(a.n), parse_count(a.shard_size, "--shard-size"), overrides_of(a)
    # Checked here, before any child starts: a child's error would leave this process waiting.
    check_inputs(a.pipeline, n=n, workers=workers[0], shard_size=shard_size, executor=a.executor,
                 overrides=overrides, seed=a.seed)
    for w in workers:
        runs = [bench_render(a.pipeline, n=n, workers=w, shard_size=shard_size,
                             executor=a.executor, overrides=overrides, seed=a.seed) for _ in range(a.repeat)]
        if a.repeat > 1:
            best = max(runs, key=lambda r: r["images_per_s"])
            every = ", ".join(f"{r['images_per_s']:.1f}" for r in runs)
            print(f"  best of {a.repeat}: {best['images_per_s']:.1f} images/s ({best['images_per_s_per_worker']:.1f}/worker); "
                  f"all: {every}", flush=True)
    return 0
