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
lines of seed 1000 in their own training fonts (in-distribution, for reference).

    python scripts/heldout_fonts.py --steps 1500 --out runs/heldout_fonts
    python scripts/heldout_fonts.py --steps 4000 --batch-size 64 --workers 8 --device cuda --out runs/hf

Writes <out>/heldout_fonts.json and prints both arms' line accuracy and CER.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import torch  # noqa: E402

from synthgen.crnn.charset import DEMO_OVERRIDES, Charset  # noqa: E402
from synthgen.crnn.data import Collate  # noqa: E402
from synthgen.crnn.train import evaluate, make_model, param_count, train  # noqa: E402
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


def batches(overrides: dict, charset: Charset, a) -> object:
    ds = SynthIterable("ocr_line", seed=a.seed, start=0, batch_size=a.batch_size * BUCKETS,
                       collate_fn=Collate(charset, split=BUCKETS), **overrides)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=a.workers,
                                     persistent_workers=a.workers > 0, prefetch_factor=2 if a.workers else None)
    for group in dl:
        yield from group


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
    ap.add_argument("--eval-n", type=int, default=500)
    ap.add_argument("--arms", default="narrow,wide")
    ap.add_argument("--out", default="runs/heldout_fonts")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    cv2.setNumThreads(1)
    os.makedirs(a.out, exist_ok=True)
    arms = {"narrow": NARROW, "wide": WIDE}
    heldout_cfg = {**DEMO_OVERRIDES, "fonts.families": HELD_OUT}
    heldout = load_pipeline("ocr_line", seed=1000, **heldout_cfg)
    held_samples = [heldout.sample(i) for i in range(a.eval_n)]
    results: dict[str, dict] = {"held_out_families": HELD_OUT, "relatives_excluded": RELATIVES,
                                "steps": a.steps, "batch_size": a.batch_size, "lr": a.lr, "seed": a.seed}
    for arm in a.arms.split(","):
        ov = {**DEMO_OVERRIDES, **arms[arm]}
        pipe = load_pipeline("ocr_line", seed=1000, **ov)
        fams = sorted({f.family for f in pipe.renderer.faces})
        assert not {f.family for f in heldout.renderer.faces} & set(fams), "a held-out family is in training"
        charset = Charset()
        model = make_model(charset, 1, 96, seed=a.seed)
        print(f"[{arm}] {len(fams)} training families, CRNN {param_count(model) / 1e6:.2f} M params, "
              f"{a.steps} steps x {a.batch_size}", flush=True)
        t0 = time.monotonic()
        losses = train(model, batches(ov, charset, a), a.steps, lr=a.lr, device=a.device)
        secs = time.monotonic() - t0
        model.to("cpu")
        r_held = evaluate(model, charset, held_samples)
        r_in = evaluate(model, charset, [pipe.sample(i) for i in range(a.eval_n)])
        results[arm] = {"training_families": len(fams), "overrides": ov, "train_seconds": round(secs, 1),
                        "final_ctc": sum(losses[-50:]) / max(1, len(losses[-50:])),
                        "heldout_fonts": r_held, "in_distribution": r_in}
        print(f"[{arm}] held-out fonts: line accuracy {r_held['accuracy']:.3f} CER {r_held['cer']:.3f}; "
              f"own fonts: accuracy {r_in['accuracy']:.3f} CER {r_in['cer']:.3f}; trained {secs:.0f}s", flush=True)
        with open(os.path.join(a.out, "heldout_fonts.json"), "w") as f:
            json.dump(results, f, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
