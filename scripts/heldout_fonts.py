#!/usr/bin/env python
"""Held-out-font experiment: does font variety make a recogniser read fonts it never saw?

Two arms, identical except for the training fonts (same model, seed, steps, batch size,
learning rate, corpus and styles: the demo CRNN of synthgen/crnn on Latin ocr_line lines):

* narrow: the old font set, `fonts.families: [dejavu, noto-cjk]` (DejaVu Sans / Sans Bold /
  Serif / Sans Mono and the Latin glyphs of Noto Sans CJK SC);
* wide:   every shipped family (`fonts.families: [all]`) less the held-out ones and their
  close relatives (`fonts.exclude`).

Both are scored on the same held-out lines: samples 0..eval_n-1 of seed 1000 rendered only in
the held-out families (HELD_OUT, one or two per style; none is in either training set), and on
lines of seed 1000 in their own training fonts (in-distribution, for reference). Everything but
the fonts comes from the pipeline file (default: the shipped ocr_line, copied into <out> at the
start so that an edit to it during a long run cannot change the second arm).

The comparison is paired (both arms read the same held-out lines): per seed, the difference in
held-out line accuracy (wide - narrow) with a 95% paired-bootstrap interval and an exact
McNemar test on the lines one arm reads and the other does not.

    python scripts/heldout_fonts.py --steps 1500 --out runs/heldout_fonts
    python scripts/heldout_fonts.py --steps 4000 --batch-size 64 --workers 8 --device cuda --seeds 0,1 --out runs/hf

Writes <out>/heldout_fonts.json (with every held-out prediction) and prints each arm's line
accuracy and CER, and the paired difference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from synthgen.crnn.charset import DEMO_OVERRIDES, Charset  # noqa: E402
from synthgen.crnn.data import Collate  # noqa: E402
from synthgen.crnn.data import line_text  # noqa: E402
from synthgen.crnn.metrics import mcnemar_p, paired_bootstrap  # noqa: E402
from synthgen.crnn.train import make_model, param_count, predict, score, train  # noqa: E402
from synthgen.config import resolve_path  # noqa: E402
from synthgen.pipeline import load_pipeline  # noqa: E402
from synthgen.torch import SynthIterable  # noqa: E402

# One or two families per style, none of them in the narrow set.
HELD_OUT = ["vollkorn", "eb-garamond", "lato", "cabin", "inconsolata", "roboto-slab", "yanone-kaffeesatz",
            "comfortaa", "comic-neue", "dancing-script"]
# Close relatives of a held-out family (same skeleton): kept out of the wide training set too.
RELATIVES = ["roboto", "roboto-condensed"]
NARROW = {"fonts.families": ["dejavu", "noto-cjk"]}
WIDE = {"fonts.families": ["all"], "fonts.exclude": HELD_OUT + RELATIVES}
BUCKETS = 8


def batches(pipeline: str, overrides: dict, charset: Charset, a, seed: int) -> object:
    ds = SynthIterable(pipeline, seed=seed, start=0, batch_size=a.batch_size * BUCKETS,
                       collate_fn=Collate(charset, split=BUCKETS), **overrides)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=a.workers,
                                     persistent_workers=a.workers > 0, prefetch_factor=2 if a.workers else None)
    for group in dl:
        yield from group


def paired(narrow: list[bool], wide: list[bool], seed: int, reps: int = 10_000) -> dict:
    """Paired comparison of two arms scored on the same lines: accuracy difference, its 95%
    bootstrap interval (lines resampled with replacement) and the exact two-sided McNemar
    test (binomial on the discordant lines)."""
    a, b = np.array(narrow, bool), np.array(wide, bool)
    only_w, only_n = int((b & ~a).sum()), int((a & ~b).sum())
    return {"n": len(a), "narrow": float(a.mean()), "wide": float(b.mean()), "diff": float((b.astype(np.int8) - a.astype(np.int8)).mean()),
            "ci95": paired_bootstrap(a, b, seed, reps), "only_wide": only_w, "only_narrow": only_n,
            "mcnemar_p": mcnemar_p(only_w, only_n)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--eval-n", type=int, default=1000)
    ap.add_argument("--seeds", default=None, help="comma-separated model/data seeds, e.g. 0,1 (default: --seed)")
    ap.add_argument("--pipeline", default="ocr_line", help="line pipeline (name or file) the arms share")
    ap.add_argument("--arms", default="narrow,wide")
    ap.add_argument("--out", default="runs/heldout_fonts")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    cv2.setNumThreads(1)
    os.makedirs(a.out, exist_ok=True)
    pipeline = os.path.join(a.out, "pipeline.yaml")  # frozen copy: both arms read the same file
    shutil.copyfile(resolve_path(a.pipeline), pipeline)
    arms = {"narrow": NARROW, "wide": WIDE}
    seeds = [int(x) for x in (a.seeds or str(a.seed)).split(",")]
    heldout = load_pipeline(pipeline, seed=1000, **{**DEMO_OVERRIDES, "fonts.families": HELD_OUT})
    held_samples = [heldout.sample(i) for i in range(a.eval_n)]
    held_images = [s.image for s in held_samples]
    held_truths = [line_text(s.instances) for s in held_samples]
    results: dict = {"pipeline": a.pipeline, "held_out_families": HELD_OUT, "relatives_excluded": RELATIVES,
                     "steps": a.steps, "batch_size": a.batch_size, "lr": a.lr, "seeds": seeds,
                     "eval_n": a.eval_n, "held_out_truths": held_truths, "runs": {}, "paired": {}}
    out_json = os.path.join(a.out, "heldout_fonts.json")
    for seed in seeds:
        for arm in a.arms.split(","):
            ov = {**DEMO_OVERRIDES, **arms[arm]}
            pipe = load_pipeline(pipeline, seed=1000, **ov)
            fams = sorted({f.family for f in pipe.renderer.faces})
            assert not {f.family for f in heldout.renderer.faces} & set(fams), "a held-out family is in training"
            charset = Charset()
            model = make_model(charset, 1, 96, seed=seed)
            print(f"[{arm} seed {seed}] {len(fams)} training families, CRNN {param_count(model) / 1e6:.2f} M params, "
                  f"{a.steps} steps x {a.batch_size}", flush=True)
            t0 = time.monotonic()
            losses = train(model, batches(pipeline, ov, charset, a, seed), a.steps, lr=a.lr, device=a.device)
            secs = time.monotonic() - t0
            model.to("cpu")
            preds = predict(model, charset, held_images)
            r_held = score(preds, held_truths)
            own = [pipe.sample(i) for i in range(a.eval_n)]
            r_in = score(predict(model, charset, [s.image for s in own]), [line_text(s.instances) for s in own])
            results["runs"][f"{arm}/{seed}"] = {
                "training_families": len(fams), "overrides": ov, "train_seconds": round(secs, 1),
                "final_ctc": sum(losses[-50:]) / max(1, len(losses[-50:])), "heldout_fonts": r_held,
                "in_distribution": r_in, "heldout_predictions": preds}
            print(f"[{arm} seed {seed}] held-out fonts: line accuracy {r_held['accuracy']:.3f} CER "
                  f"{r_held['cer']:.3f}; own fonts: accuracy {r_in['accuracy']:.3f} CER {r_in['cer']:.3f}; "
                  f"trained {secs:.0f}s", flush=True)
            with open(out_json, "w") as f:
                json.dump(results, f, indent=2, default=str)
        runs = results["runs"]
        if f"narrow/{seed}" in runs and f"wide/{seed}" in runs:
            p = paired([x == t for x, t in zip(runs[f"narrow/{seed}"]["heldout_predictions"], held_truths)],
                       [x == t for x, t in zip(runs[f"wide/{seed}"]["heldout_predictions"], held_truths)], seed)
            results["paired"][str(seed)] = p
            print(f"[seed {seed}] held-out accuracy wide - narrow = {p['diff']:+.3f} "
                  f"(95% paired bootstrap {p['ci95'][0]:+.3f} .. {p['ci95'][1]:+.3f}); lines only wide reads "
                  f"{p['only_wide']}, only narrow {p['only_narrow']}; exact McNemar p = {p['mcnemar_p']:.2g}",
                  flush=True)
            with open(out_json, "w") as f:
                json.dump(results, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
