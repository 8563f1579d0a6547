#!/usr/bin/env python
"""Train the demo CRNN + CTC recogniser on `ocr_line_narrow` through the dataset API.

    python scripts/train_crnn.py --out runs/crnn                       # CPU, a few minutes
    python scripts/train_crnn.py --out runs/crnn --device cuda --steps 6000 --batch-size 128
    python scripts/train_crnn.py --init runs/crnn/crnn.pt --train-shards runs/mined --steps 300 \\
        --out runs/crnn_mined --eval-shards hard=runs/hard_eval     # fine-tune on mined shards
    python scripts/train_crnn.py --size base --pipeline ocr_line --no-demo-overrides \\
        --set 'line.corpus.sources={"zh_words": 0, "zh_chars": 0}' --steps 20000 --batch-size 64 \\
        --device cuda --amp --workers 12 --out runs/crnn_base      # the bigger recogniser, wide data

Sizes (--size): `small` (default, the 0.3 M-parameter demo: lr 3e-3, 15% warmup) and `base`
(3.9 M parameters: wider CNN with a second convolution in two stages, 2-layer BiLSTM 256; lr
1e-3, 5% warmup), both trained with AdamW and a one-cycle schedule (linear warmup, cosine
decay), gradient norm clipped at --clip. The parameter count is printed at the start. On the
shared 2-vCPU VM, batch 32 of the new ocr_line defaults (mean padded width ~300 px): base 1.28
CPU-s a model step at --threads 1, 0.55 steps/s end to end with one render worker (0.36 at
--threads 2), so 20000 steps take ~10 h on CPU; small 0.17 CPU-s a model step.

Data: `SynthIterable` over ocr_line_narrow (DejaVu fonts, procedural backgrounds: what a
0.3 M-parameter model learns in minutes; `--pipeline ocr_line` is the wide variety) with the Latin-only demo overrides (1-2 words; see
synthgen/crnn/charset.py), rendered on the fly by DataLoader workers, or `ShardDataset` over
written shards with --train-shards. Held out: samples of another seed (--eval-seed), never
seen in training (their strings may still repeat common words; `synthgen render --split`
segregates strings). Saves <out>/crnn.pt (torch.load(..., weights_only=True) reads it) and
<out>/metrics.json; prints held-out line accuracy and character error rate.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

import cv2
import torch

from synthgen.config import parse_set
from synthgen.crnn.charset import DEMO_OVERRIDES, Charset
from synthgen.crnn.data import Collate
from synthgen.crnn.model import PRESETS
from synthgen.crnn.train import evaluate, load, param_count, preset_model, save, train
from synthgen.errors import UserError
from synthgen.pipeline import load_pipeline
from synthgen.torch import ShardDataset, SynthIterable


BUCKETS = 8  # batches rendered together and cut by line width (less padding)
# Schedule defaults per size (--lr / --warmup override them).
SCHEDULE = {"small": {"lr": 3e-3, "warmup": 0.15}, "base": {"lr": 1e-3, "warmup": 0.05}}


def synth_batches(args, overrides, charset):
    """Rendered on the fly: each worker renders BUCKETS batches' worth of lines, sorts them by
    width and cuts them into BUCKETS batches of similar widths (order fixed by the seed)."""
    ds = SynthIterable(args.pipeline, seed=args.seed, start=args.start, batch_size=args.batch_size * BUCKETS,
                       collate_fn=Collate(charset, split=BUCKETS), bias=args.bias_obj,
                       floor=args.bias_floor if args.bias else 0.0, **overrides)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=args.workers,
                                     persistent_workers=args.workers > 0, prefetch_factor=2 if args.workers else None)
    for group in dl:
        yield from group


def read_bias(path):
    """A `Draws` bias from a JSON file: the bias itself, or a `synthgen mine` report.json (its
    next_bias: what the statistics of all its rounds imply)."""
    if not path:
        return None
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"--bias {path}: cannot read it as JSON ({e})") from None
    if isinstance(data, dict) and "next_bias" in data:  # a mine report
        if not data["next_bias"]:
            print(f"train_crnn: {path}: the mining found no significant factor; training unbiased", file=sys.stderr)
        return data["next_bias"] or None
    bias = data
    if not isinstance(bias, dict) or not bias:
        raise UserError(f"--bias {path}: holds no bias (a dict of factor -> weights, or a mine report.json)")
    return bias


def shard_batches(args, charset):
    """Batches from written shards, epoch after epoch (shard order shuffled per epoch)."""
    ds = ShardDataset(args.train_shards, shuffle=True, seed=args.seed)
    for epoch in itertools.count():
        ds.set_epoch(epoch)
        dl = torch.utils.data.DataLoader(ds, batch_size=args.batch_size * BUCKETS, num_workers=args.workers,
                                         collate_fn=Collate(charset, split=BUCKETS))
        for group in dl:
            yield from (b for b in group if len(b["texts"]) == len(group[0]["texts"]))  # whole batches only


def stored_items(path):
    """Items of written shards; of a `synthgen mine` output only the biased (mined) samples."""
    import numpy as np

    from synthgen.io.readers import Dataset

    out = []
    for st in Dataset(path):
        mine = st.meta.get("mine")
        if mine is not None and not mine.get("biased"):
            continue
        bgr = cv2.imdecode(np.frombuffer(st.image, np.uint8), cv2.IMREAD_COLOR)
        out.append({"key": st.key, "image": torch.from_numpy(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).transpose(2, 0, 1).copy()),
                    "instances": st.instances})
    return out


def eval_sets(args, overrides):
    over = {**overrides, **parse_set(args.eval_sets)}
    pipe = load_pipeline(args.pipeline, seed=args.eval_seed, **over)
    sets = {"heldout_random": [pipe.sample(i) for i in range(args.eval_n)]}
    for spec in args.eval_shards:
        name, _, path = spec.rpartition("=")
        sets[name or os.path.basename(path.rstrip("/"))] = stored_items(path)
    return sets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipeline", default="ocr_line_narrow")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="extra config overrides (on top of the demo's Latin-only overrides)")
    ap.add_argument("--no-demo-overrides", action="store_true", help="train on the pipeline as configured")
    ap.add_argument("--seed", type=int, default=0, help="training stream seed")
    ap.add_argument("--start", type=int, default=0, help="first training sample index")
    ap.add_argument("--steps", type=int, default=2500, help="training steps (0: only evaluate --init)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--size", default="small", choices=tuple(PRESETS),
                    help="model size: small (default, the 0.3 M demo) or base (3.9 M, for the wide distribution)")
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (default: small 3e-3, base 1e-3)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="share of the steps warming up (default: small 0.15, base 0.05)")
    ap.add_argument("--clip", type=float, default=5.0, help="gradient norm clip (default 5)")
    ap.add_argument("--amp", action="store_true", help="with --device cuda: float16 autocast + gradient scaling")
    ap.add_argument("--workers", type=int, default=1, help="DataLoader render workers (default 1)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads (default 1: on a shared 2-core machine more threads ran 5x slower)")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--width", type=int, default=None, help="channel multiplier of the small CNN (default 1)")
    ap.add_argument("--hidden", type=int, default=None, help="LSTM hidden size (default: small 96, base 256)")
    ap.add_argument("--stem", default="stride", choices=("stride", "pool"),
                    help="first layer: stride-2 conv (default, ~30%% less CPU per step) or conv + max pool (v1)")
    ap.add_argument("--init", help="fine-tune from this checkpoint")
    ap.add_argument("--bias", help="render the training stream with this bias (JSON file, or a `synthgen mine` "
                    "report.json: its next_bias)")
    ap.add_argument("--bias-floor", type=float, default=0.2,
                    help="with --bias: share of training samples from the base distribution (default 0.2, as the miner)")
    ap.add_argument("--train-shards", help="train on these written shards instead of rendering on the fly")
    ap.add_argument("--eval-seed", type=int, default=1000, help="seed of the held-out samples")
    ap.add_argument("--eval-n", type=int, default=500)
    ap.add_argument("--eval-set", dest="eval_sets", action="append", default=[], metavar="KEY=VALUE",
                    help="overrides for the held-out random set only, e.g. --eval-set split=test")
    ap.add_argument("--eval-shards", action="append", default=[], metavar="NAME=DIR",
                    help="also report on these written shards (repeatable; of a `synthgen mine` output only the "
                    "biased samples)")
    ap.add_argument("--out", default="runs/crnn")
    args = ap.parse_args(argv)
    try:
        if args.device.startswith("cuda") and not torch.cuda.is_available():
            raise UserError("--device cuda: no CUDA device is visible to torch; use --device cpu")
        if args.threads:
            torch.set_num_threads(args.threads)
        cv2.setNumThreads(1)  # before DataLoader forks its workers
        args.bias_obj = read_bias(args.bias)
        if args.bias and args.train_shards:
            raise UserError("--bias applies to the rendered stream; not with --train-shards")
        overrides = {} if args.no_demo_overrides else dict(DEMO_OVERRIDES)
        overrides.update(parse_set(args.sets))
        if args.init:
            model, charset, prev = load(args.init)
        else:
            charset, prev = Charset(), {}
            model = preset_model(charset, args.size, seed=args.seed, stem=args.stem, width=args.width, hidden=args.hidden)
        batches = (shard_batches(args, charset) if args.train_shards else synth_batches(args, overrides, charset)) \
            if args.steps > 0 else iter(())
        sets = eval_sets(args, overrides)
    except UserError as e:
        print(f"train_crnn: error: {e}", file=sys.stderr)
        return 2
    size = str(prev.get("size", "small")) if args.init else args.size  # a fine-tune keeps its model's size
    lr = args.lr if args.lr is not None else SCHEDULE.get(size, SCHEDULE["small"])["lr"]
    warmup = args.warmup if args.warmup is not None else SCHEDULE.get(size, SCHEDULE["small"])["warmup"]
    print(f"CRNN {size} {'(from ' + args.init + ') ' if args.init else ''}{param_count(model) / 1e6:.2f} M params "
          f"({param_count(model)}), {args.steps} steps x {args.batch_size} on {args.device}"
          f"{' (amp)' if args.amp else ''}, lr {lr:g} one-cycle warmup {warmup:g}, "
          f"torch threads {torch.get_num_threads()}, data: {args.train_shards or load_pipeline(args.pipeline, seed=args.seed, **overrides).name}")
    t0 = time.monotonic()
    losses = (train(model, batches, args.steps, lr=lr, device=args.device, warmup=warmup, clip=args.clip, amp=args.amp)
              if args.steps > 0 else [float("nan")])
    train_s = time.monotonic() - t0
    model.to("cpu")
    results = {name: evaluate(model, charset, samples) for name, samples in sets.items()}
    meta = {"steps": args.steps + int(prev.get("steps", 0)), "batch_size": args.batch_size, "seed": args.seed,
            "size": size, "lr": lr, "warmup": warmup,
            "pipeline": args.pipeline, "overrides": json.dumps(overrides, sort_keys=True),
            "train_shards": args.train_shards or "", "bias": args.bias or "", "init": args.init or "", "train_seconds": round(train_s, 1)}
    save(os.path.join(args.out, "crnn.pt"), model, charset, meta)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"meta": meta, "final_ctc": sum(losses[-50:]) / len(losses[-50:]), "eval": results}, f, indent=2)
    for name, r in results.items():
        print(f"{name}: line accuracy {r['accuracy']:.3f}  CER {r['cer']:.3f}  (n={r['n']})")
    print(f"trained {train_s:.0f}s; checkpoint {os.path.join(args.out, 'crnn.pt')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
