#!/usr/bin/env python
"""Does mining help a real model? The demo CRNN, end to end, every command printed.

    python scripts/mine_crnn.py --base runs/crnn/crnn.pt --out runs/mine_exp --replicates 2

Per replicate r (every seed + 1000 r):
1. mine with the base model as judge (`synthgen mine`, strings of the train split): the base
   CRNN's error on random vs on mined samples (report.json), and the bias B the mining found
   (report.json's next_bias)
2. fine-tune two copies of the base for the same steps, batch size, learning rate and training
   seed, on fresh rendered samples of the train split: one with bias B (a 0.2 floor share of
   base samples, as the miner renders), one without; the two streams have the same indices
3. score base and both copies on two held-out sets of the test split (strings never trained
   on; seed 303 + 1000 r, which neither mining nor training used): a hard set drawn from the
   mined distribution (bias B on every sample) and a random set, --eval-n lines each
4. compare the copies per sample: exact McNemar test on the lines one gets right and the other
   wrong, and a paired bootstrap 95% interval of the error difference; pooled over replicates
   by adding the discordant counts (a stratified exact McNemar)
Results: <out>/summary.json (with per-line correctness in <out>/rep*/eval.json) and a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

import numpy as np

from synthgen.crnn.charset import DEMO_OVERRIDES
from synthgen.crnn.metrics import mcnemar_p, paired_bootstrap

DEMO_SETS = [f"{k}={json.dumps(v)}" for k, v in DEMO_OVERRIDES.items()]


def sh(cmd: list[str], env: dict | None = None) -> None:
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, env={**os.environ, **(env or {})})


def sets(*extra: str) -> list[str]:
    out = []
    for s in [*DEMO_SETS, *extra]:
        out += ["--set", s]
    return out


def mcnemar(a: np.ndarray, b: np.ndarray) -> dict:
    """Exact two-sided McNemar test of paired correctness arrays a, b (True = right)."""
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    return {"only_a_right": only_a, "only_b_right": only_b, "p": mcnemar_p(only_a, only_b)}


def bootstrap(a: np.ndarray, b: np.ndarray, seed: int, n: int = 10_000) -> list[float]:
    """95% interval of error(a) - error(b) over lines resampled in pairs (keyed generator)."""
    return [round(v, 4) for v in paired_bootstrap(a, b, seed, n)]


def evaluate(pipeline: str, models: dict[str, str], bias: dict, seed: int, n: int) -> dict:
    """Per-line correctness of each checkpoint on the held-out hard and random sets."""
    import torch

    from synthgen.crnn.data import line_text
    from synthgen.crnn.train import load, predict
    from synthgen.pipeline import load_pipeline

    torch.set_num_threads(1)
    pipe = load_pipeline(pipeline, seed=seed, split="test", **DEMO_OVERRIDES)
    sets_ = {"heldout_hard": [pipe.sample(10**7 + j, bias=bias) for j in range(n)],
             "heldout_random": [pipe.sample(j) for j in range(n)]}
    out: dict = {name: {} for name in sets_}
    for name, samples in sets_.items():
        truths = [line_text(s.instances) for s in samples]
        for m, path in models.items():
            model, charset, _ = load(path)
            preds = predict(model, charset, [s.image for s in samples])
            out[name][m] = [p == t for p, t in zip(preds, truths)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="checkpoint of the base CRNN (scripts/train_crnn.py)")
    ap.add_argument("--out", default="runs/mine_exp")
    ap.add_argument("--pipeline", default="ocr_line_narrow", help="the base model's training pipeline")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--per-round", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=1500, help="fine-tune steps, the same for both copies")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eval-n", type=int, default=3000, help="lines in each held-out set")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--replicates", type=int, default=1, help="independent repeats (all seeds + 1000 r)")
    ap.add_argument("--seed-offset", type=int, default=0, help="added to every seed")
    a = ap.parse_args()
    if not os.path.exists(a.base):
        print(f"mine_crnn: error: no checkpoint at {a.base!r}; train one: python scripts/train_crnn.py", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    py = sys.executable
    summary: dict = {"settings": vars(a), "replicates": []}
    pooled: dict = {}
    for r in range(a.replicates):
        o = a.seed_offset + 1000 * r
        rdir = os.path.join(a.out, f"rep{r}")
        pool = os.path.join(rdir, "mined")
        t0 = time.monotonic()
        mine = [py, "-m", "synthgen.cli", "mine", a.pipeline, "--model", "synthgen.crnn.judge:fails",
                "--rounds", str(a.rounds), "--per-round", str(a.per_round), "-q", "--seed", str(101 + o),
                "--out", pool] + sets("split=train")
        sh(mine, {"SYNTHGEN_CRNN": a.base})
        rep = json.load(open(os.path.join(pool, "report.json")))
        bias = rep["next_bias"]
        ft = [py, "scripts/train_crnn.py", "--pipeline", a.pipeline, "--init", a.base, "--steps", str(a.steps),
              "--batch-size", str(a.batch_size), "--lr", str(a.lr), "--seed", str(404 + o), "--set", "split=train",
              "--workers", str(a.workers), "--eval-n", "0"]
        cmds = {"finetuned_on_mined": ft + ["--bias", os.path.join(pool, "report.json"), "--bias-floor", "0.2",
                                            "--out", os.path.join(rdir, "ft_mined")],
                "finetuned_on_random": ft + ["--out", os.path.join(rdir, "ft_random")]}
        for cmd in cmds.values():
            sh(cmd)
        models = {"base": a.base, "finetuned_on_mined": os.path.join(rdir, "ft_mined", "crnn.pt"),
                  "finetuned_on_random": os.path.join(rdir, "ft_random", "crnn.pt")}
        print(f"evaluating {len(models)} models on 2 x {a.eval_n} held-out lines (seed {303 + o}, split test)",
              flush=True)
        ev = evaluate(a.pipeline, models, bias, 303 + o, a.eval_n)
        with open(os.path.join(rdir, "eval.json"), "w") as f:
            json.dump(ev, f)
        res = {"seed_offset": o, "minutes": round((time.monotonic() - t0) / 60, 1),
               "mining": {k: rep[k] for k in ("fail_rate_random", "n_random", "fail_rate_mined", "n_mined",
                                                "lift_mined_vs_random")},
               "bias": bias, "top_factors": [(f["factor"], f["worst_region"], f["lift"]) for f in rep["factors"][:6]],
               "error_rate": {}, "mined_vs_random": {},
               "commands": {"mine": mine, **cmds}}
        for set_name, by_model in ev.items():
            res["error_rate"][set_name] = {m: round(1 - float(np.mean(v)), 4) for m, v in by_model.items()}
            am, ar = np.array(by_model["finetuned_on_mined"]), np.array(by_model["finetuned_on_random"])
            t = mcnemar(am, ar)
            t["error_diff_mined_minus_random"] = round(float(np.mean(~am) - np.mean(~ar)), 4)
            t["bootstrap_95"] = bootstrap(am, ar, seed=17 + o)
            res["mined_vs_random"][set_name] = t
            p = pooled.setdefault(set_name, [0, 0])
            p[0] += t["only_a_right"]
            p[1] += t["only_b_right"]
        summary["replicates"].append(res)
        summary["pooled_mcnemar"] = {k: {"only_mined_right": x, "only_random_right": y, "p": mcnemar_p(x, y)}
                                     for k, (x, y) in pooled.items()}
        with open(os.path.join(a.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        m = res["mining"]
        print(f"\nreplicate {r}: base CRNN error on random samples {m['fail_rate_random']} (n={m['n_random']}), "
              f"on mined samples {m['fail_rate_mined']} (n={m['n_mined']}); {res['minutes']} min")
        print(f"{'line error rate':22s} {'held-out hard':>14s} {'held-out random':>16s}   (n={a.eval_n} each)")
        for name in models:
            print(f"{name:22s} {res['error_rate']['heldout_hard'][name]:>14.4f} "
                  f"{res['error_rate']['heldout_random'][name]:>16.4f}")
        for set_name, t in res["mined_vs_random"].items():
            print(f"{set_name}: mined - random error {t['error_diff_mined_minus_random']:+.4f} "
                  f"(95% {t['bootstrap_95']}), McNemar {t['only_a_right']} vs {t['only_b_right']}, p={t['p']:.3g}")
    for set_name, t in summary["pooled_mcnemar"].items():
        print(f"pooled {set_name}: only mined right {t['only_mined_right']}, only random right "
              f"{t['only_random_right']}, exact McNemar p={t['p']:.3g}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as e:
        print(f"mine_crnn: error: a step failed (exit {e.returncode}): {shlex.join(e.cmd)}", file=sys.stderr)
        sys.exit(1)
