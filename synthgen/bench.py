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


def bytecode(tree: str | None = None, compile: bool = False) -> dict[str, int]:
    """{"modules", "cached"}: synthgen's modules under the checkout `tree` (None: the imported
    package) and how many have current bytecode (a .pyc whose header matches this Python and the
    source's mtime and size, as the import system checks it); `compile`: write the missing or
    stale ones first, as pip does when it installs a wheel.

    A fresh interpreter without it compiles every synthgen module it imports (~0.1-0.15 CPU-s
    on the 2-core VM). An installed wheel has it; an editable checkout in a shell with
    PYTHONDONTWRITEBYTECODE=1 (as on the team's VMs) never gets it, and a benchmark there
    charges that compile to every fresh process: once to the process executor (its workers
    fork) but three times to a Ray run (the driver and each new worker)."""
    import compileall
    import os
    import struct
    from importlib.util import MAGIC_NUMBER, cache_from_source
    from pathlib import Path

    pkg = Path(tree, "synthgen") if tree else Path(__file__).resolve().parent
    if compile:
        compileall.compile_dir(str(pkg), quiet=1, workers=1)
    modules = cached = 0
    for src in pkg.rglob("*.py"):
        modules += 1
        try:
            with open(cache_from_source(str(src)), "rb") as f:
                head = f.read(16)
            st = os.stat(src)
        except OSError:
            continue
        # PEP 552 header: magic, flags (0: checked by the source's mtime and size), mtime, size
        cached += head == MAGIC_NUMBER + struct.pack("<III", 0, int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
    return {"modules": modules, "cached": cached}


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
