"""GeneGAN speed on CPU: swaps per second at 64 x 64 (batch 64) and card-photo renders per second.

  python scripts/bench_gan.py [--threads N] [--repeat 5] [--ckpt DIR]

Each figure is the best of --repeat runs (shared machines drift); a fixed numpy reference loop
is timed just before, so figures from a loaded machine can be read against it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _ref_loop() -> float:
    import numpy as np

    x = np.random.default_rng(0).random((256, 256))
    t = time.perf_counter()
    for _ in range(20):
        x = x @ x.T
        x /= x.max()
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batches", type=int, default=8, help="batches of 64 per timed run")
    ap.add_argument("--photos", type=int, default=50, help="card photos per timed run")
    ap.add_argument("--ckpt")
    a = ap.parse_args()
    import torch

    from synthgen.draws import Draws
    from synthgen.gan.evaluate import pairs
    from synthgen.gan.infer import GeneGAN
    from synthgen.gan import photo
    from synthgen.gan.photo import genegan_photo

    torch.set_num_threads(a.threads)
    gan = GeneGAN.load(a.ckpt, "cpu", batch=64)
    # card photos with the same checkpoint (photo.py loads the shipped one on first use otherwise)
    photo._STATE.update(pid=os.getpid(), model=GeneGAN.load(a.ckpt, "cpu", batch=1))
    p = pairs(64)
    gan.swap(p["a_with"], p["b_without"])  # warm-up
    best = float("inf")
    for _ in range(a.repeat):
        ref = _ref_loop()
        t = time.perf_counter()
        for _ in range(a.batches):
            gan.swap(p["a_with"], p["b_without"])
        dt = (time.perf_counter() - t) / (a.batches * 64)
        best = min(best, dt)
        print(f"  swap run: {1 / dt:7.0f} swaps/s (reference loop {ref * 1000:.0f} ms)")
    print(f"swaps/s at 64x64, batch 64, {a.threads} thread(s): {1 / best:.0f} (best of {a.repeat}; "
          f"one swap = 2 encodes + 2 decodes)")
    best = float("inf")
    for r in range(a.repeat):
        ref = _ref_loop()
        t = time.perf_counter()
        for i in range(a.photos):
            genegan_photo(Draws(r, i), (380, 300))
        dt = (time.perf_counter() - t) / a.photos
        best = min(best, dt)
        print(f"  photo run: {1 / dt:6.1f} photos/s (reference loop {ref * 1000:.0f} ms)")
    print(f"genegan card photos/s at 380x300, 1 process, {a.threads} thread(s): {1 / best:.1f} (best of {a.repeat})")
    folder = Path(a.ckpt) if a.ckpt else None
    from synthgen.gan.checkpoint import shipped

    folder = folder if folder is None or folder.is_dir() else folder.parent
    folder = folder or shipped()
    size = sum(p.stat().st_size for p in folder.iterdir() if p.name in ("model.safetensors", "config.json"))
    print(f"checkpoint {folder}: compose {gan.compose}, {size / 1e6:.3f} MB (weights + config)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
