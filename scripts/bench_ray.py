"""The Ray executor against the process executor on one machine (issue 23): the same render
command run with `--executor process` and `--executor ray`, alternating (ABAB...), so that a
drift in the machine's load falls on both alike; then Ray's fixed costs, phase by phase
(`python -m synthgen.run.ray_exec`: import, ray.init, first task, shutdown).

    python scripts/bench_ray.py --n 20000 --workers 2 --repeat 3 --out /tmp/bench_ray.json
    python scripts/bench_ray.py --against /tmp/wt_old ...   # also Ray from another checkout

Prints one line per run and a summary (median walls, the ratio process/ray = Ray's speed as a
share of the process executor's, and when the first shard was done and how long the command ran
after the last one, from the shard files' mtimes: where a per-command Ray's start and shutdown
show); --out writes every figure as JSON. Each run renders into a
fresh temporary folder (deleted afterwards), so nothing is resumed.

--against DIR (a checkout of synthgen, e.g. `git worktree add /tmp/wt_old HEAD~1`; repeatable):
each round also runs the Ray render (and its fixed-cost probe) with DIR's synthgen, and the
round's runs rotate their order (process, ray, ray@DIR; then ray, ray@DIR, process; ...). A
run uses a tree by running in it with it first on PYTHONPATH (Ray's workers inherit both).

--bytecode compile (the default) writes each tree's missing synthgen bytecode first, as an
installed wheel has it; `as-is` leaves the trees as they are. Without it (an editable checkout in
a shell with PYTHONDONTWRITEBYTECODE=1) every fresh interpreter compiles synthgen from source,
which a Ray run pays in its driver and in each new worker and the process executor once
(synthgen/bench.py, `bytecode`). The figures record how many modules had bytecode.
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


# as the console script runs it (cli.entry; a checkout from before it: main())
SYNTHGEN = [sys.executable, "-c", "import sys, synthgen.cli as c; getattr(c, 'entry', lambda: sys.exit(c.main()))()"]
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tree_env(tree: str) -> dict:
    """The environment that makes `import synthgen` find the checkout `tree`."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(x for x in (tree, os.environ.get("PYTHONPATH")) if x)}


def load() -> float:
    return os.getloadavg()[0]


def run_render(pipeline: str, n: int, workers: int, executor: str, extra: list[str], tree: str = HERE) -> dict:
    out = tempfile.mkdtemp(prefix=f"bench_ray_{executor}_")
    try:
        before = os.times()
        t0, start_ns = time.perf_counter(), time.time_ns()
        p = subprocess.run([*SYNTHGEN, "render", pipeline, "--n", str(n), "--workers",
                            str(workers), "--executor", executor, "--out", out, "-q", *extra],
                           capture_output=True, text=True, cwd=tree, env=tree_env(tree))
        wall = time.perf_counter() - t0
        end_ns = time.time_ns()
        after = os.times()
        if p.returncode != 0:
            raise SystemExit(f"{executor} run failed ({p.returncode}): {p.stderr.strip()[-500:]}")
        digest = json.load(open(os.path.join(out, "manifest.json")))
        shas = [s.get("sha256") for s in digest.get("shards", [])]
        # when each shard was finished (its file's mtime: written, then renamed): the start
        # before the first one and the tail after the last, with no instrumentation in the job
        done = sorted(os.stat(os.path.join(out, s["name"])).st_mtime_ns for s in digest.get("shards", []))
        return {"executor": executor, "tree": tree, "wall_s": wall, "samples_per_s": n / wall,
                "first_shard_done_s": (done[0] - start_ns) / 1e9 if done else None,
                "last_shard_to_exit_s": (end_ns - done[-1]) / 1e9 if done else None,
                # children's CPU: the driver and the pool's workers (Ray's workers are the
                # raylet's children and are not counted here)
                "children_cpu_s": (after.children_user - before.children_user) + (after.children_system - before.children_system),
                "load_before": None, "shards_sha": shas}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def start_cost(workers: int, tree: str = HERE) -> dict:
    p = subprocess.run([sys.executable, "-c", "import json; from synthgen.run.ray_exec import start_cost; "
                        f"print(json.dumps(start_cost({workers})))"], capture_output=True, text=True,
                       cwd=tree, env=tree_env(tree))
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
    ap.add_argument("--against", action="append", default=[], metavar="DIR",
                    help="another checkout of synthgen: each round also runs its Ray render (repeatable)")
    ap.add_argument("--bytecode", choices=("compile", "as-is"), default="compile",
                    help="compile: write the trees' missing synthgen bytecode first, as a wheel install has it "
                    "(default); as-is: leave the trees alone")
    ap.add_argument("--out", help="write the figures here as JSON")
    ap.add_argument("extra", nargs="*", help="more render options (after --)")
    a = ap.parse_args()
    # (label, executor, tree): the runs of one round, rotated from round to round
    kinds = [("process", "process", HERE), ("ray", "ray", HERE)]
    for tree in a.against:
        kinds.append((f"ray@{os.path.basename(os.path.abspath(tree))}", "ray", os.path.abspath(tree)))
    sys.path.insert(0, HERE)
    from synthgen.bench import bytecode

    compiled = {tree: bytecode(tree, compile=a.bytecode == "compile") for tree in dict.fromkeys(t for *_, t in kinds)}
    print("bytecode (modules with it): " + ", ".join(f"{x} {c['cached']}/{c['modules']}" for x, c in compiled.items()),
          flush=True)
    runs, costs = [], []
    for r in range(a.repeat):
        k = r % len(kinds)
        order = kinds[k:] + kinds[:k] if a.against else (kinds if r % 2 == 0 else kinds[::-1])
        for label, ex, tree in order:
            l0 = load()
            extra = [*a.extra, "--ray-address", a.ray_address] if ex == "ray" and a.ray_address else a.extra
            res = run_render(a.pipeline, a.n, a.workers, ex, extra, tree)
            res["label"], res["round"], res["load_before"] = label, r, l0
            runs.append(res)
            print(f"{label:12s} wall {res['wall_s']:7.2f} s  {res['samples_per_s']:7.1f} samples/s  first shard done "
                  f"{res['first_shard_done_s']:.2f} s, last shard to exit {res['last_shard_to_exit_s']:.2f} s  load {l0:.2f}",
                  flush=True)
        if a.ray_address:
            continue
        for label, ex, tree in kinds:
            if ex != "ray":
                continue
            c = start_cost(a.workers, tree)
            c["label"], c["load_before"] = label, load()
            costs.append(c)
            print(f"{label} fixed cost: " + ", ".join(f"{k} {v:.2f}" for k, v in c.items() if k != "label"), flush=True)
    same = len({tuple(r["shards_sha"]) for r in runs}) == 1
    labels = [k[0] for k in kinds]
    med = {x: statistics.median(r["wall_s"] for r in runs if r["label"] == x) for x in labels}
    proc = {r["round"]: r["wall_s"] for r in runs if r["label"] == "process"}
    pairs = {x: [proc[r["round"]] / r["wall_s"] for r in runs if r["label"] == x] for x in labels if x != "process"}
    summary = {"median_wall_s": med, "ratio_process_over_ray": {x: med["process"] / med[x] for x in pairs},
               "pair_ratios": pairs, "same_shards": same,
               "median_fixed_cost": {x: {k: statistics.median(c[k] for c in costs if c["label"] == x)
                                         for k in costs[0] if k not in ("label",)} for x in pairs} if costs else None}
    for key in ("first_shard_done_s", "last_shard_to_exit_s"):
        summary[f"median_{key}"] = {x: statistics.median(r[key] for r in runs if r["label"] == x) for x in labels}
    print("median first shard done: " + ", ".join(f"{x} {v:.2f} s" for x, v in summary["median_first_shard_done_s"].items())
          + "; last shard to exit: " + ", ".join(f"{x} {v:.2f} s" for x, v in summary["median_last_shard_to_exit_s"].items()))
    for x in pairs:
        print(f"median wall: process {med['process']:.2f} s, {x} {med[x]:.2f} s; at "
              f"{summary['ratio_process_over_ray'][x]:.3f}x the process executor (pairs "
              f"{', '.join(f'{v:.3f}' for v in pairs[x])})")
    print(f"shards identical: {same}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"args": vars(a), "bytecode": compiled, "runs": runs, "fixed_costs": costs, "summary": summary}, f, indent=1)

if __name__ == "__main__":
    main()
