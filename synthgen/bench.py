"""Benchmarks (not tests): images/s and peak memory of real renders into shards."""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import tempfile
import time
from typing import Any


def _child(conn, kwargs: dict[str, Any]) -> None:
    from .run.job import render

    with tempfile.TemporaryDirectory(prefix="synthgen-bench-") as tmp:
        t0 = time.perf_counter()
        m = render(out=f"{tmp}/out", progress=False, **kwargs)
        dt = time.perf_counter() - t0
        size = sum(s["bytes"] for s in m["shards"])
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    conn.send({"seconds": dt, "bytes": size, "rss_self_mb": self_kb / 1024, "rss_worker_mb": kids_kb / 1024})


def reference_seconds(loops: int = 3_000_000) -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this machine runs Python right now
    (lower is faster). Printed beside each figure because shared machines drift."""
    t = time.process_time()
    s = 0
    for i in range(loops):
        s += i
    return time.process_time() - t


def bench_render(pipeline: str = "ocr_scene", n: int = 2000, workers: int = 1, shard_size: int = 500,
                 executor: str = "process", overrides: dict | None = None, seed: int | None = None) -> dict:
    """Run one render in a fresh process (so peak RSS is this run's alone) and print the figures."""
    ref = reference_seconds()
    ctx = mp.get_context("fork")
    a, b = ctx.Pipe()
    kw = dict(pipeline=pipeline, n=n, workers=workers, shard_size=shard_size, executor=executor,
              overrides=overrides or {}, seed=seed)
    p = ctx.Process(target=_child, args=(b, kw))
    p.start()
    r = a.recv()
    p.join()
    ips = n / r["seconds"]
    r.update(n=n, workers=workers, images_per_s=ips, images_per_s_per_worker=ips / workers, reference_s=ref)
    # One worker renders in the benchmark's own process: there is no separate worker to report.
    rss = (f"peak RSS {r['rss_self_mb']:.0f} MB (one process renders)" if r["rss_worker_mb"] < 1 else
           f"peak RSS driver {r['rss_self_mb']:.0f} MB, worker {r['rss_worker_mb']:.0f} MB")
    print(f"{pipeline} n={n} workers={workers} executor={executor}: {ips:.1f} images/s "
          f"({ips / workers:.1f}/worker), {r['seconds']:.1f} s, {r['bytes'] / n / 1024:.1f} KiB/sample, {rss}; "
          f"reference loop {ref:.3f} s",
          file=sys.stdout, flush=True)
    return r
