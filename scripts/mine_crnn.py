#!/usr/bin/env python
"""Does mining help a real model? The demo CRNN, end to end, with every command printed.

    python scripts/mine_crnn.py --base runs/crnn/crnn.pt --out runs/mine_exp

1. mine a training pool with the base model as judge (strings of the train split):
     error rate on random samples vs on mined samples (report.json of the run)
2. mine a held-out hard set the same way (another seed, strings of the test split)
3. fine-tune two copies of the base model for the same steps and learning rate, one on the
   mined pool, one on fresh random samples (train split)
4. score base, fine-tuned-on-mined and fine-tuned-on-random on the held-out hard set (its
   biased samples) and on a held-out random set (test split)
Results: <out>/summary.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys

from synthgen.crnn.charset import DEMO_OVERRIDES

DEMO_SETS = [f"{k}={json.dumps(v)}" for k, v in DEMO_OVERRIDES.items()]


def sh(cmd: list[str], env: dict | None = None) -> None:
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, env={**os.environ, **(env or {})})


def sets(*extra: str) -> list[str]:
    out = []
    for s in [*DEMO_SETS, *extra]:
        out += ["--set", s]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="checkpoint of the base CRNN (scripts/train_crnn.py)")
    ap.add_argument("--out", default="runs/mine_exp")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--per-round", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eval-n", type=int, default=500)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed-offset", type=int, default=0, help="added to every seed (a replicate of the experiment)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    py, judge = sys.executable, {"SYNTHGEN_CRNN": a.base}
    pool, hard = os.path.join(a.out, "mined_train"), os.path.join(a.out, "mined_heldout")
    mine = [py, "-m", "synthgen.cli", "mine", "ocr_line", "--model", "synthgen.crnn.judge:fails",
            "--rounds", str(a.rounds), "--per-round", str(a.per_round), "-q"]
    sh(mine + ["--seed", str(101 + a.seed_offset), "--out", pool] + sets("split=train"), judge)
    sh(mine + ["--seed", str(202 + a.seed_offset), "--out", hard] + sets("split=test"), judge)
    common = [py, "scripts/train_crnn.py", "--init", a.base, "--eval-n", str(a.eval_n),
              "--eval-seed", str(303 + a.seed_offset),
              "--eval-set", "split=test", "--eval-shards", f"heldout_hard={hard}", "--workers", str(a.workers)]
    runs = {
        "base": common + ["--steps", "0", "--out", os.path.join(a.out, "base")],
        "finetuned_on_mined": common + ["--steps", str(a.steps), "--lr", str(a.lr), "--train-shards", pool,
                                        "--out", os.path.join(a.out, "ft_mined")],
        "finetuned_on_random": common + ["--steps", str(a.steps), "--lr", str(a.lr), "--seed", str(404 + a.seed_offset),
                                         "--set", "split=train", "--out", os.path.join(a.out, "ft_random")],
    }
    summary = {"mining": {}, "models": {}}
    for name, path in (("pool", pool), ("heldout_hard", hard)):
        rep = json.load(open(os.path.join(path, "report.json")))
        summary["mining"][name] = {k: rep[k] for k in ("fail_rate_random", "n_random", "fail_rate_mined", "n_mined",
                                                       "lift_mined_vs_random")}
        summary["mining"][name]["top_factors"] = [(r["factor"], r["worst_region"], r["lift"], r["score"])
                                                  for r in rep["factors"][:6]]
    for name, cmd in runs.items():
        sh(cmd)
        m = json.load(open(os.path.join(cmd[cmd.index("--out") + 1], "metrics.json")))
        summary["models"][name] = {k: {"error_rate": round(v["error_rate"], 4), "cer": round(v["cer"], 4), "n": v["n"]}
                                   for k, v in m["eval"].items()}
    summary["commands"] = {"mine_pool": mine + ["--seed", str(101 + a.seed_offset), "--out", pool] + sets("split=train"),
                           "mine_heldout": mine + ["--seed", str(202 + a.seed_offset), "--out", hard] + sets("split=test"),
                           **{k: v for k, v in runs.items()}}
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    p = summary["mining"]["pool"]
    print(f"\nbase CRNN error rate: random samples {p['fail_rate_random']} (n={p['n_random']}), "
          f"mined samples {p['fail_rate_mined']} (n={p['n_mined']})")
    print(f"{'model':22s} {'held-out hard':>14s} {'held-out random':>16s}   (line error rate; CER)")
    for name, r in summary["models"].items():
        h, q = r["heldout_hard"], r["heldout_random"]
        print(f"{name:22s} {h['error_rate']:>8.3f} ({h['cer']:.3f}) {q['error_rate']:>9.3f} ({q['cer']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
