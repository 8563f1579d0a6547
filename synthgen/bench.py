"""Benchmarks (not tests): images/s and peak memory of real renders into shards."""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import tempfile
import time
from typing import Any

from . import native


def _child(conn, kwargs: dict[str, Any]) -> None:
    from .errors import RunError, UserError
    from .run.job import render

    try:
        with tempfile.TemporaryDirectory(prefix="synthgen-bench-") as tmp:
            t0 = time.perf_counter()
            m = render(out=f"{tmp}/out", progress=False, **kwargs)
            dt = time.perf_counter() - t0
            size = sum(s["bytes"] for s in m["shards"])
    except (UserError, RunError) as e:  # the parent raises it again: one line, its exit code
        conn.send({"error": type(e).__name__, "message": str(e)})
        return
    except KeyboardInterrupt:
        return
    except BaseException as e:  # a bug: the parent reports it in one line instead of waiting forever
        conn.send({"error": "RunError", "message": f"the benchmark's render failed: {type(e).__name__}: {e}"})
        raise
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    conn.send({"seconds": dt, "bytes": size, "rss_self_mb": self_kb / 1024, "rss_worker_mb": kids_kb / 1024})


def check_inputs(pipeline: str = "ocr_scene", n: Any = 2000, workers: Any = 1, shard_size: Any = 500,
                 executor: str = "process", overrides: dict | None = None, seed: Any = None) -> None:
    """Every check `render` makes on its input, in this process and before any child starts
    (a child's error would otherwise be a traceback the parent never hears of): counts, the
    executor, the config and its overrides, the seed, pins, and one sample of the pipeline."""
    from .config import load_config
    from .errors import UserError
    from .pipeline import Pipeline
    from .run.job import EXECUTORS, parse_count, parse_seed

    parse_count(n)
    parse_count(workers, "--workers")
    parse_count(shard_size, "--shard-size")
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    cfg, base = load_config(pipeline, overrides or {})
    seed = parse_seed(cfg.seed if seed is None else seed, "seed" if seed is None else "--seed")
    Pipeline(cfg, seed=seed, base=base).sample(0)  # refuses pins and biases of no factor, bad fonts, ...


def _wait(conn, p) -> dict:
    """The child's figures; a child that reports an error, or dies without a word (killed, out of
    memory), is one line here instead of a parent waiting forever."""
    from .errors import RunError, UserError

    try:
        while not conn.poll(0.2):
            if not p.is_alive():
                if conn.poll(0):  # it sent just before exiting
                    break
                p.join()
                raise RunError(f"the benchmark's render process died (exit code {p.exitcode}) before it reported; "
                               "rerun, or run `synthgen render` with the same arguments to see why")
        try:
            r = conn.recv()
        except EOFError:
            p.join()
            raise RunError(f"the benchmark's render process died (exit code {p.exitcode}) before it reported; "
                           "rerun, or run `synthgen render` with the same arguments to see why") from None
    except BaseException:
        if p.is_alive():
            p.terminate()
        p.join()
        raise
    p.join()
    if "error" in r:
        raise (UserError if r["error"] == "UserError" else RunError)(r["message"])
    return r


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
    # spawn, not fork: the parent has built the pipeline (check_inputs), and a fork inherits
    # OpenCV's thread pool in a state its child can deadlock on; a fresh interpreter also makes
    # the peak RSS this run's alone.
    ctx = mp.get_context("spawn")
    a, b = ctx.Pipe()
    kw = dict(pipeline=pipeline, n=n, workers=workers, shard_size=shard_size, executor=executor,
              overrides=overrides or {}, seed=seed)
    p = ctx.Process(target=_child, args=(b, kw))
    p.start()
    b.close()
    r = _wait(a, p)
    ips = n / r["seconds"]
    r.update(n=n, workers=workers, images_per_s=ips, images_per_s_per_worker=ips / workers, reference_s=ref)
    # One worker renders in the benchmark's own process: there is no separate worker to report.
    rss = (f"peak RSS {r['rss_self_mb']:.0f} MB (one process renders)" if r["rss_worker_mb"] < 1 else
           f"peak RSS driver {r['rss_self_mb']:.0f} MB, worker {r['rss_worker_mb']:.0f} MB")
    print(f"{pipeline} n={n} workers={workers} executor={executor}: {ips:.1f} images/s "
          f"({ips / workers:.1f}/worker), {r['seconds']:.1f} s, {r['bytes'] / n / 1024:.1f} KiB/sample, {rss}; "
          f"reference loop {ref:.3f} s; compiled kernels {native.state}",
          file=sys.stdout, flush=True)
    r["native"] = native.state
    return r
