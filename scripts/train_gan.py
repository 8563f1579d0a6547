"""Rebuild the shipped GeneGAN artefacts: the glasses attribute classifier used by
`synthgen gan eval`, and the glasses checkpoint (generator only, fp16).

  python scripts/train_gan.py --classifier-only
  python scripts/train_gan.py --out runs/gan_glasses --steps 4000 [--device cuda] [--resume]

The GAN step runs `synthgen gan train` and then exports OUT/checkpoint to synthgen/data/gan/glasses.
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
    a = ap.parse_args()
    if a.classifier_only:
        classifier(a.classifier_steps)
        return 0
    from synthgen.cli import main as cli

    argv = ["gan", "train", "--data", "procedural", "--attr", "glasses", "--out", a.out, "--steps", str(a.steps),
            "--mode", a.mode, "--device", a.device, "--batch", str(a.batch)]
    argv += ["--threads", str(a.threads)] if a.threads else []
    argv += ["--resume"] if a.resume else []
    argv += ["--max-minutes", str(a.max_minutes)] if a.max_minutes else []
    argv += [] if a.no_export else ["--export", str(ROOT / "synthgen" / "data" / "gan" / "glasses")]
    t = time.perf_counter()
    rc = cli(argv)
    print(f"train wall time {time.perf_counter() - t:.0f} s: synthgen {' '.join(argv)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
