"""Benchmark (not a test): document cards per second per core, rendered into shards (all labels:
field/line/photo/document quads, char quads, identity JSON, EAST score map; JPEG; tar).

    python scripts/bench_documents.py                      # idcard_cn and passport_td3, n=500
    python scripts/bench_documents.py --n 5000 --repeat 2 --strength 0
    python scripts/bench_documents.py --pipelines idcard_cn --set document.photo.bank=0

One worker process renders (one core). Each figure carries the machine, the time and a
reference-loop time (shared machines drift by 2x; compare runs by it). A run's time includes
the process's warm-up (card art per template and variant, the portrait bank, glyph caches),
which a long run amortises: compare n=500 with n=5000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform

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
        runs = [bench_render(p, n=a.n, workers=1, shard_size=500, executor="process", overrides=over)
                for _ in range(a.repeat)]
        best = max(r["images_per_s"] for r in runs)
        print(f"  {p}: best {best:.1f} cards/s/core of {a.repeat} run(s) (target >= 150)", flush=True)


if __name__ == "__main__":
    main()
