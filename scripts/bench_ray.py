"""The Ray executor against the process executor on one machine (issue 23): the same render
command run with `--executor process` and `--executor ray`, alternating (ABAB...), so that a
drift in the machine's load falls on both alike; then Ray's fixed costs, phase by phase
(`python -m synthgen.run.ray_exec`: import, ray.init, first task, shutdown).

    python scripts/bench_ray.py --n 20000 --workers 2 --repeat 3 --out /tmp/bench_ray.json

Prints one line per run and a summary (median walls, the ratio process/ray = Ray's speed as a
share of the process executor's); --out writes every figure as JSON. Each run renders into a
fresh temporary folder (deleted afterwards), so nothing is resumed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


SYNTHGEN = [sys.executable, "-c", "import sys; from synthgen.cli import main; sys.exit(main())"]


def load() -> float:
    return os.getloadavg()[0]


def run_render(pipeline: str, n: int, workers: int, executor: str, extra: list[str]) -> dict:
    out = tempfile.mkdtemp(prefix=f"bench_ray_{executor}_")
    try:
        before = os.times()
        t0 = time.perf_counter()
        p = subprocess.run([*SYNTHGEN, "render", pipeline, "--n", str(n), "--workers",
                            str(workers), "--executor", executor, "--out", out, "-q", *extra],
                           capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = os.times()
        if p.returncode != 0:
            raise SystemExit(f"{executor} run failed ({p.returncode}): {p.stderr.strip()[-500:]}")
        digest = json.load(open(os.path.join(out, "manifest.json")))
        shas = [s.get("sha256") for s in digest.get("shards", [])]
        return {"executor": executor, "wall_s": wall, "samples_per_s": n / wall,
                # children's CPU: the driver and the pool's workers (Ray's workers are the
                # raylet's children and are not counted here)
                "children_cpu_s": (after.children_user - before.children_user) + (after.children_system - before.children_system),
                "load_before": None, "shards_sha": shas}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def start_cost(workers: int) -> dict:
    p = subprocess.run([sys.executable, "-c", "import json; from synthgen.run.ray_exec import start_cost; "
                        f"print(json.dumps(start_cost({workers})))"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"start_cost failed: {p.stderr.strip()[-500:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", default="ocr_line")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="pairs of runs (process, ray)")
    ap.add_argument("--ray-address", help="join this Ray (e.g. auto after `ray start --head`) instead of "
                    "starting a local one per run; the fixed costs are then skipped")
    ap.add_argument("--out", help="write the figures here as JSON")
    ap.add_argument("extra", nargs="*", help="more render options (after --)")
    a = ap.parse_args()
    runs, costs = [], []
    for r in range(a.repeat):
        order = ("process", "ray") if r % 2 == 0 else ("ray", "process")
        for ex in order:
            l0 = load()
            extra = [*a.extra, "--ray-address", a.ray_address] if ex == "ray" and a.ray_address else a.extra
            res = run_render(a.pipeline, a.n, a.workers, ex, extra)
            res["load_before"] = l0
            runs.append(res)
            print(f"{ex:8s} wall {res['wall_s']:7.2f} s  {res['samples_per_s']:7.1f} samples/s  load {l0:.2f}", flush=True)
        if a.ray_address:
            continue
        c = start_cost(a.workers)
        c["load_before"] = load()
        costs.append(c)
        print("ray fixed cost: " + ", ".join(f"{k} {v:.2f}" for k, v in c.items()), flush=True)
    same = len({tuple(r["shards_sha"]) for r in runs}) == 1
    med = {ex: statistics.median(r["wall_s"] for r in runs if r["executor"] == ex) for ex in ("process", "ray")}
    pairs = [p["wall_s"] / q["wall_s"] for p, q in zip([r for r in runs if r["executor"] == "process"],
                                                        [r for r in runs if r["executor"] == "ray"])]
    summary = {"median_wall_s": med, "ratio_process_over_ray": med["process"] / med["ray"],
               "pair_ratios": pairs, "same_shards": same,
               "median_fixed_cost": {k: statistics.median(c[k] for c in costs) for k in costs[0]} if costs else None}
    print(f"median wall: process {med['process']:.2f} s, ray {med['ray']:.2f} s; Ray at "
          f"{summary['ratio_process_over_ray']:.3f}x the process executor (pairs "
          f"{', '.join(f'{x:.3f}' for x in pairs)}); shards identical: {same}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"args": vars(a), "runs": runs, "fixed_costs": costs, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
