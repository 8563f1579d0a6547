"""Benchmark (not a test): document cards per second per core, rendered into shards (all labels:
field/line/photo/document quads, char quads, identity JSON, EAST score map; JPEG; tar).

    python scripts/bench_documents.py                      # idcard_cn and passport_td3, n=500
    python scripts/bench_documents.py --n 5000 --repeat 2 --strength 0
    python scripts/bench_documents.py --pipelines idcard_cn --set document.photo.bank=0

One worker process renders (one core). Each figure carries the machine, the time and a
reference-loop time (shared machines drift by 2x; compare runs by it) and the rendering
process's CPU time: on an oversubscribed machine (load average above the core count) wall
time counts other processes' turns too, and cards per CPU-second is the per-core figure. A run's time includes
the process's warm-up (card art per template and variant, the portrait bank, glyph caches),
which a long run amortises: compare n=500 with n=5000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource

from synthgen.bench import bench_render
from synthgen.config import parse_set


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} vCPU, Python {platform.python_version()}"


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipelines", default="idcard_cn,passport_td3", help="comma-separated (default idcard_cn,passport_td3)")
    ap.add_argument("--n", type=int, default=500, help="cards per run (default 500)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per pipeline; the best is reported too")
    ap.add_argument("--strength", type=float, default=None, help="augment.strength (default: the pipeline's)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    a = ap.parse_args()
    over = parse_set(a.sets)
    if a.strength is not None:
        over["augment.strength"] = a.strength
    print(f"# {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}; overrides {over or 'none'}")
    for p in a.pipelines.split(","):
        best = best_cpu = 0.0
        for _ in range(a.repeat):
            before = _child_cpu()
            r = bench_render(p, n=a.n, workers=1, shard_size=500, executor="process", overrides=over)
            cpu = _child_cpu() - before  # the rendering process's own CPU seconds (user + system)
            best, best_cpu = max(best, r["images_per_s"]), max(best_cpu, a.n / cpu)
            print(f"    CPU time {cpu:.1f} s: {a.n / cpu:.1f} cards per CPU-second; load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} vCPU", flush=True)
        print(f"  {p}: best {best:.1f} cards/s wall, {best_cpu:.1f} cards per CPU-second, of {a.repeat} run(s) "
              "(target >= 150/s/core)", flush=True)


if __name__ == "__main__":
    main()
