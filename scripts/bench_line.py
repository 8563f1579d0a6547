"""Text-line benchmark: `ocr_line` end to end into shards (render, augment, JPEG, JSON, tar) in
one process, so images/s is per core.

    python scripts/bench_line.py                       # n=20000, defaults + strength 0.5
    python scripts/bench_line.py --n 5000 --set line.layout.weights.arc=0
    python scripts/bench_line.py --pipeline ocr_line_narrow        # the old narrow variety

Prints, per run: images/s by the wall clock, images per CPU-second of the rendering process
(what one core does; steadier than the wall clock when other jobs share the machine), peak
RSS, and the machine's load average before and after (other jobs skew the wall clock).

Steady state and start-up (issue 23), in fresh interpreters:

    python scripts/bench_line.py --steady                  # start-up to the first sample, then
                                                           # lines per CPU-s over samples 3000-6000
    python scripts/bench_line.py --steady --against /tmp/wt_base   # the same for another checkout,
                                                           # in alternating chunks (paired figures)
    python scripts/bench_line.py --steady --against /tmp/wt_base --runs 5   # five fresh pairs, the median ratio
    python scripts/bench_line.py --stages                  # where a steady sample's time goes

"Start-up" is from launching the interpreter to the first sample rendered and encoded (the
wall clock and the process's own CPU time); "steady" renders and encodes samples
`--warm`..`--warm + --n` after the first `--warm` (glyph tables, banks and photo tiles warm),
counting only this process's CPU time, in chunks of `--chunk`. With `--against`, both
checkouts run side by side and take turns chunk by chunk (ABBA), so the machine's load
drifts over both alike; the speed-up is total CPU over total CPU, and the median of the
paired chunk ratios. Both children use the same machine cache (synthgen/machinecache.py):
run once before timing so that its glyph atlas and banks are warm (`--steady` does a first,
untimed pass when `--prime` is given).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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


_STEADY_CHILD = r"""
import json, os, resource, sys, time
t_launch = float(sys.argv[4])
import synthgen  # before cv2: the kernels `synthgen render` runs (numerics.py)
import cv2
cv2.setNumThreads(1)
from synthgen.io.encode import encode_sample
from synthgen.pipeline import load_pipeline
try:  # malloc as a render worker sets it (run/malloc.py), where the checkout has that
    from synthgen.run.malloc import keep_freed_blocks
    keep_freed_blocks()
except ImportError:
    pass
p = load_pipeline(sys.argv[1], **json.loads(sys.argv[3]))
out = p.cfg.output
encode_sample(p.sample(0), out)
r = resource.getrusage(resource.RUSAGE_SELF)
first = {"first_wall": time.time() - t_launch, "first_cpu": r.ru_utime + r.ru_stime}
warm = int(sys.argv[2])
c0 = time.process_time()
for i in range(1, warm):
    encode_sample(p.sample(i), out)
first["warm_cpu"] = time.process_time() - c0
print(json.dumps(first), flush=True)
for line in sys.stdin:
    a, b = map(int, line.split())
    c = time.process_time()
    for i in range(a, b):
        encode_sample(p.sample(i), out)
    print(json.dumps({"cpu": time.process_time() - c,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""


def steady(pipeline: str, trees: list[str | None], warm: int, n: int, chunk: int, overrides: dict,
           pythons: list[str | None] | None = None) -> list[dict]:
    """Start-up and steady-state lines per CPU-second of each checkout (None: this one), their
    chunks alternating ABBA; `pythons`: the interpreter running each (None: this one). Returns
    one record per checkout."""
    import json
    import statistics
    import subprocess

    here = str(ROOT)
    procs = []
    pythons = pythons or [None] * len(trees)
    labels = [(t or here) + (f" on {py}" if py else "") for t, py in zip(trees, pythons)]
    for t, py in zip(trees, pythons):
        env = dict(os.environ, PYTHONPATH=t or here)
        procs.append(subprocess.Popen([py or sys.executable, "-c", _STEADY_CHILD, pipeline, str(max(1, warm)),
                                       json.dumps(overrides), repr(time.time())],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                      cwd=tempfile.gettempdir()))
        if len(trees) > 1:  # start-up one at a time: the other's imports would slow this one's
            procs[-1].first = json.loads(procs[-1].stdout.readline())
    for p in procs:
        if not hasattr(p, "first"):
            p.first = json.loads(p.stdout.readline())
    cpu: list[list[float]] = [[] for _ in trees]
    rss = [0.0] * len(trees)
    pos, k = warm, 0
    while pos < warm + n:
        step = min(chunk, warm + n - pos)
        order = list(range(len(trees)))
        if k % 2:
            order.reverse()
        for j in order:
            procs[j].stdin.write(f"{pos} {pos + step}\n")
            procs[j].stdin.flush()
            r = json.loads(procs[j].stdout.readline())
            cpu[j].append(r["cpu"])
            rss[j] = r["rss_mb"]
        pos += step
        k += 1
    for p in procs:
        p.stdin.close()
        p.wait()
    out = []
    for j, t in enumerate(trees):
        f = procs[j].first
        rec = {"tree": labels[j], "first_wall_s": f["first_wall"], "first_cpu_s": f["first_cpu"],
               "warm_cpu_s": f["warm_cpu"], "lines_per_cpu_s": n / sum(cpu[j]),
               "median_chunk_lines_per_cpu_s": chunk / statistics.median(cpu[j]), "rss_mb": rss[j], "cpu": cpu[j]}
        out.append(rec)
        print(f"{pipeline} [{rec['tree']}]: start-up to first sample {rec['first_wall_s']:.2f} s wall, "
              f"{rec['first_cpu_s']:.2f} CPU-s; samples 1-{warm - 1} {rec['warm_cpu_s']:.1f} CPU-s; steady "
              f"(samples {warm}-{warm + n}) {rec['lines_per_cpu_s']:.0f} samples per CPU-s (median chunk "
              f"{rec['median_chunk_lines_per_cpu_s']:.0f}); peak RSS {rec['rss_mb']:.0f} MB", flush=True)
    if len(trees) == 2:
        ratios = [b / a for a, b in zip(cpu[0], cpu[1])]
        print(f"speed-up of [{out[0]['tree']}] over [{out[1]['tree']}]: {sum(cpu[1]) / sum(cpu[0]):.3f} "
              f"(total CPU), {statistics.median(ratios):.3f} (median of {len(ratios)} paired chunks); "
              f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    return out


def stages(pipeline: str, warm: int, n: int, overrides: dict) -> None:
    """Where a steady sample's CPU time goes: cProfile over samples warm..warm+n, grouped into
    the stages of a line (text, layout, warp and styles, background, augment, encode)."""
    import cProfile
    import pstats

    import cv2

    cv2.setNumThreads(1)
    from synthgen.io.encode import encode_sample
    from synthgen.pipeline import load_pipeline

    p = load_pipeline(pipeline, **overrides)
    for i in range(warm):
        encode_sample(p.sample(i), p.cfg.output)
    pr = cProfile.Profile()
    pr.enable()
    for i in range(warm, warm + n):
        encode_sample(p.sample(i), p.cfg.output)
    pr.disable()
    st = pstats.Stats(pr)
    total = st.total_tt
    groups = {"text (pick: corpus, case, face)": ("line.py", "pick"), "layout": ("line.py", "_layout"),
              "layout, per-glyph turns": ("line.py", "_turned"), "layout, jitter": ("linestyles.py", "jittered"),
              "background": ("backgrounds.py", "render_background"), "augment": ("stage.py", "augment"),
              "encode (JPEG, JSON)": ("encode.py", "encode_sample"), "elastic quads": ("linestyles.py", "follow_quads"),
              "colours (luma under, contrast)": ("styles.py", "ink_contrasting")}
    print(f"{pipeline}: samples {warm}-{warm + n}, {total:.2f} s under cProfile (inflated ~2x; shares are what count)")
    for label, (fname, func) in groups.items():
        cum = sum(v[3] for k, v in st.stats.items() if k[0].endswith(fname) and k[2] == func)
        print(f"  {100 * cum / total:5.1f}%  {label}")
    st.sort_stats("tottime").print_stats(25)


def main() -> int:
    from synthgen.config import parse_set

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None, help="samples (default 20000; --steady 3000; --stages 1000)")
    ap.add_argument("--pipeline", default="ocr_line", help="a line pipeline (default ocr_line)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--steady", action="store_true", help="start-up to the first sample and steady lines per CPU-s")
    ap.add_argument("--against", metavar="CHECKOUT", help="with --steady: also this checkout, chunks alternating")
    ap.add_argument("--python", metavar="PY", help="with --steady: the interpreter that runs this checkout (default: "
                    "this one); the build of CPython matters (a PGO+LTO build runs our Python-heavy code faster)")
    ap.add_argument("--against-python", metavar="PY", help="with --against: the interpreter that runs that checkout "
                    "(its dependencies and compiled module must be built for it)")
    ap.add_argument("--warm", type=int, default=3000, help="samples before the steady window (default 3000)")
    ap.add_argument("--chunk", type=int, default=250, help="samples a turn with --against (default 250)")
    ap.add_argument("--prime", action="store_true", help="with --steady: one untimed pass first (warms the machine cache)")
    ap.add_argument("--runs", type=int, default=1, help="with --steady --against: repeat the paired run in fresh processes "
                    "and print the median ratio (one pair carries ~+-3%% of per-process luck on a 2-vCPU VM: the same "
                    "code against itself read 0.987 and 1.031)")
    ap.add_argument("--stages", action="store_true", help="cProfile of steady samples, grouped by stage")
    ap.add_argument("--bytecode", choices=("compile", "as-is"), default="compile",
                    help="with --steady: compile: write the checkouts' missing synthgen bytecode first, as a wheel "
                    "install has it (default; synthgen/bench.py `bytecode`); as-is: leave them alone")
    a = ap.parse_args()
    if a.steady or a.stages:
        ov = parse_set(a.sets) if a.sets else {}
        if a.stages:
            stages(a.pipeline, a.warm, a.n or 1000, ov)
            return 0
        trees = [None] + ([a.against] if a.against else [])
        pythons = [a.python] + ([a.against_python] if a.against else [])
        from synthgen.bench import bytecode

        for t, py in zip(trees, pythons):
            if py:  # another interpreter writes (and checks) its own bytecode
                import subprocess

                if a.bytecode == "compile":
                    subprocess.run([py, "-m", "compileall", "-q", str(Path(t or ROOT) / "synthgen")], check=True)
                    print(f"bytecode [{t or 'this checkout'}]: compiled by {py}")
                continue
            c = bytecode(t, compile=a.bytecode == "compile")
            print(f"bytecode [{t or 'this checkout'}]: {c['cached']}/{c['modules']} modules")
        if a.prime:
            steady(a.pipeline, trees, 1, 0, 1, ov, pythons)
        ratios = []
        for k in range(a.runs):
            if a.runs > 1:
                print(f"-- run {k + 1} of {a.runs}: fresh processes", flush=True)
            out = steady(a.pipeline, trees, a.warm, a.n or 3000, a.chunk, ov, pythons)
            if len(out) == 2:
                ratios.append(out[0]["lines_per_cpu_s"] / out[1]["lines_per_cpu_s"])
        if len(ratios) > 1:
            import statistics

            print(f"speed-up over {a.runs} runs (each its own pair of processes): median {statistics.median(ratios):.3f}, "
                  f"runs {', '.join(f'{r:.3f}' for r in ratios)}", flush=True)
        return 0
    a.n = a.n or 20000
    if a.sets:
        run(a.n, parse_set(a.sets), a.pipeline)
    else:
        run(a.n, {}, a.pipeline)  # the shipped config: strength 0.3 (noise on most lines, blur on some)
        run(a.n, {"augment.strength": 0.5}, a.pipeline)  # blur on most lines too
    return 0


if __name__ == "__main__":
    sys.exit(main())
