"""Rebuild the shipped GeneGAN artefacts: the glasses attribute classifier used by
`synthgen gan eval`, and the glasses checkpoint (generator only, fp16).

  python scripts/train_gan.py --classifier-only
  python scripts/train_gan.py --out runs/gan_glasses --steps 4000 [--device cuda] [--resume]
  python scripts/train_gan.py --out runs/gan_mask --init shipped --max-minutes 15 --no-export   # CPU budget
  python scripts/train_gan.py --out runs/gan_mask --resume --max-minutes 15 --no-export         # and on

The GAN step runs `synthgen gan train` (default --compose mask; --compose none is the reference
GeneGAN) and then exports OUT/checkpoint (the moving average of the generator, fp16) to
synthgen/data/gan/glasses. Export only a checkpoint that `synthgen gan eval --ckpt` shows better
than the shipped one: run with --no-export, evaluate, then `--export-only`. Any other option of
`synthgen gan train` (--w-area, --mask-budget, --widths, --u-channels, --seed, ...) is passed on
to it as given.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def classifier(steps: int) -> None:
    from synthgen.gan import classifier as C

    t = time.perf_counter()
    net, acc = C.train_classifier(steps=steps)
    C.save(net, C.shipped(), {"heldout_acc": round(acc, 4), "heldout_n": 1000, "train_n": 4000, "steps": steps,
                              "train_seed": C.TRAIN_SEED, "test_seed": C.TEST_SEED})
    print(f"classifier: held-out accuracy {acc:.4f} on 1000 faces, {time.perf_counter() - t:.0f} s -> {C.shipped()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classifier-only", action="store_true")
    ap.add_argument("--classifier-steps", type=int, default=1000)
    ap.add_argument("--out", default="runs/gan_glasses")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--mode", default="hinge")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--max-minutes", type=float)
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--export-only", action="store_true", help="export OUT/checkpoint to the package, no training")
    ap.add_argument("--compose", default="mask", choices=["mask", "none"])
    ap.add_argument("--init", help="start the generator from this checkpoint ('shipped' = the shipped one)")
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--pool", type=int, default=4096)
    ap.add_argument("--sample-every", type=int, default=250)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--w-mask", type=float)
    ap.add_argument("--w-tv", type=float)
    ap.add_argument("--w-grad", type=float)
    ap.add_argument("--w-rec-mask", type=float, help="compose mask: weight of the mean of the reconstruction masks "
                    "(synthgen gan train --w-rec-mask; default there 0: off)")
    ap.add_argument("--w-para", type=float, help="weight of the parallelogram term (synthgen gan train --w-para; "
                    "default there 1)")
    ap.add_argument("--mask-input", action="store_true", help="compose mask: the mask head also reads the input and "
                    "decoded images (synthgen gan train --mask-input; off by default)")
    a, rest = ap.parse_known_args()  # the rest goes to `synthgen gan train`, which checks it
    if a.classifier_only:
        classifier(a.classifier_steps)
        return 0
    if a.export_only:
        from synthgen.gan.checkpoint import export

        dst = export(Path(a.out) / "checkpoint", ROOT / "synthgen" / "data" / "gan" / "glasses")
        print(f"exported {a.out}/checkpoint (moving average, fp16) -> {dst}")
        return 0
    from synthgen.cli import main as cli

    argv = ["gan", "train", "--data", "procedural", "--attr", "glasses", "--out", a.out, "--steps", str(a.steps),
            "--mode", a.mode, "--device", a.device, "--batch", str(a.batch), "--compose", a.compose,
            "--ema", str(a.ema), "--pool", str(a.pool), "--sample-every", str(a.sample_every)]
    for flag, v in (("--init", a.init), ("--lr", a.lr), ("--w-mask", a.w_mask), ("--w-tv", a.w_tv),
                    ("--w-grad", a.w_grad), ("--w-rec-mask", a.w_rec_mask), ("--w-para", a.w_para)):
        argv += [flag, str(v)] if v is not None else []
    argv += ["--mask-input"] if a.mask_input else []
    argv += ["--threads", str(a.threads)] if a.threads else []
    argv += ["--resume"] if a.resume else []
    argv += ["--max-minutes", str(a.max_minutes)] if a.max_minutes else []
    argv += [] if a.no_export else ["--export", str(ROOT / "synthgen" / "data" / "gan" / "glasses")]
    argv += rest
    t = time.perf_counter()
    rc = cli(argv)
    print(f"train wall time {time.perf_counter() - t:.0f} s: synthgen {' '.join(argv)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
