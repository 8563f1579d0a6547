"""Benchmarks of the augmentation stage (speed figures live here, never in tests).

    python scripts/bench_augment.py stage   [--n 60] [--strength 0.5]   # the stage alone, ms / 512x512 sample
    python scripts/bench_augment.py ops     [--strength 0.5]            # each op alone when it fires, x its chance
    python scripts/bench_augment.py albu                                # ours vs albumentations 2.0.8 per op
    python scripts/bench_augment.py compare --rev REV [--n 150]         # ocr_scene images/s per core, this
                                                                        # checkout vs commit REV, alternating runs

One process, OpenCV single-threaded: figures are per core. Times are CPU time of this process
(time.process_time), not wall time: on a shared machine wall time mostly measures waiting for
a core. Shared machines still drift (caches, clocks): every figure is the best of several
rounds, `stage` carries a reference loop, and `compare` alternates the two versions.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def _setup():
    import cv2

    cv2.setNumThreads(1)


def renders(n: int, seed: int = 0):
    """n ocr_scene samples at strength 0 (the render part only) to augment."""
    import synthgen

    pipe = synthgen.load_pipeline("ocr_scene", seed=seed, **{"augment.strength": 0.0})
    return [pipe.sample(i) for i in range(n)], pipe.cfg.augment


def bench_stage(a) -> None:
    """The stage alone, interleaved with a reference loop (OpenCV JPEG q90 of the same frames;
    DESIGN.md: ~0.5-1.2 ms each on the 2-core build machine when it is quiet), so a figure
    from a loaded machine can be read as a ratio."""
    import cv2

    from synthgen.augment import augment
    from synthgen.draws import Draws

    samples, cfg = renders(a.n)
    cfg = cfg.model_copy(update={"strength": a.strength})
    stage, ref = [], []
    for r in range(a.rounds):
        t = time.process_time()
        for s in samples:
            cv2.imencode(".jpg", s.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        ref.append((time.process_time() - t) / len(samples) * 1e3)
        t = time.process_time()
        for i, s in enumerate(samples):
            augment(s.image, s.instances, Draws(1, i), cfg)
        stage.append((time.process_time() - t) / len(samples) * 1e3)
    ratio = statistics.median(x / y for x, y in zip(stage, ref))
    print(f"stage alone, ocr_scene 512x512, strength {a.strength:g}, {a.n} samples x {a.rounds} rounds: "
          f"best {min(stage):.3f} ms/sample, median {statistics.median(stage):.3f} ms; reference JPEG q90 "
          f"best {min(ref):.3f} ms; stage / JPEG = {ratio:.2f} (median of rounds)")


def bench_ops(a) -> None:
    from synthgen.augment import REGISTRY, augment, op_table
    from synthgen.config import AugmentCfg
    from synthgen.draws import Draws

    samples, _ = renders(20)
    total = 0.0
    print(f"{'op':12s} {'ms when fired':>13s} {'p x s':>6s} {'ms / sample':>11s}")
    for op, p, _rng in op_table(None):
        # p = 1: the op fires with chance `strength`; the cost when fired is the extra time
        # over a run where it never fires, divided by the share of samples it fired on
        cfgs = [AugmentCfg(strength=a.strength, ops={n: {"p": q if n == op.name else 0.0} for n in REGISTRY})
                for q in (1.0, 0.0)]
        best, fired = [1e9, 1e9], 0
        for r in range(3):
            for k, cfg in enumerate(cfgs):
                t = time.process_time()
                for i, s in enumerate(samples):
                    d = Draws(2, i)
                    augment(s.image, s.instances, d, cfg)
                    fired += k == 0 and r == 0 and bool(d.factors.get(f"aug.{op.name}.apply"))
                best[k] = min(best[k], (time.process_time() - t) / len(samples) * 1e3)
        when = (best[0] - best[1]) * len(samples) / max(1, fired)
        ps = p * a.strength
        total += ps * when
        print(f"{op.name:12s} {when:13.3f} {ps:6.3f} {ps * when:11.3f}")
    print(f"sum: {total:.3f} ms (an upper bound: geometric ops share one warp)")


def bench_albu(a) -> None:
    import warnings

    import cv2
    import numpy as np

    warnings.filterwarnings("ignore")
    import albumentations as A

    from synthgen.augment import REGISTRY, op_table
    from synthgen.augment.albu import lut
    from synthgen.augment.photometric import motion_kernel, tone_lut

    op_table(None)
    R = REGISTRY
    img = cv2.GaussianBlur((np.random.default_rng(0).random((512, 512, 3)) * 255).astype(np.uint8), (0, 0), 3)

    def t(f, n=40):
        f()
        best = 1e9
        for _ in range(3):
            s = time.process_time()
            for _ in range(n):
                f()
            best = min(best, (time.process_time() - s) / n * 1e3)
        return best

    table = tone_lut([(R["brightness"], {"beta": 20.0}), (R["contrast"], {"alpha": 1.2}), (R["gamma"], {"gamma": 1.3})])
    cases = {
        "tone LUT (b+c+gamma)": (lambda: lut(img, table), lambda: cv2.LUT(img, table)),
        "brightness+contrast": (lambda: lut(img, tone_lut([(R["brightness"], {"beta": 20.0}), (R["contrast"], {"alpha": 1.2})])),
                                lambda: A.RandomBrightnessContrast(p=1).apply(img, alpha=1.2, beta=20 / 255)),
        "gamma": (lambda: R["gamma"].apply(img, {"gamma": 1.3}), lambda: A.RandomGamma(p=1).apply(img, gamma=1.3)),
        "hue": (lambda: R["hue"].apply(img, {"shift": 10}),
                lambda: A.HueSaturationValue(p=1).apply(img, hue_shift=10, sat_shift=0, val_shift=0)),
        "saturation": (lambda: R["saturation"].apply(img, {"factor": 1.3}),
                       lambda: A.HueSaturationValue(p=1).apply(img, hue_shift=0, sat_shift=30, val_shift=0)),
        "motion_blur": (lambda: R["motion_blur"].apply(img, {"length": 5, "angle": 30}),
                        lambda: A.MotionBlur(p=1).apply(img, kernel=motion_kernel(5, 30))),
        "defocus": (lambda: R["defocus"].apply(img, {"radius": 2}), lambda: A.Defocus(p=1).apply(img, radius=2, alias_blur=0.1)),
        "downscale": (lambda: R["downscale"].apply(img, {"loss": 0.4}), lambda: A.Downscale(p=1).apply(img, scale=0.6)),
        "jpeg": (lambda: R["jpeg"].apply(img, {"loss": 40}), lambda: A.ImageCompression(p=1).apply(img, quality=60, image_type=".jpg")),
        "noise": (lambda: R["noise"].apply(img, {"sigma": 8, "seed": 1}),
                  lambda: A.GaussNoise(p=1).apply(img, noise_map=np.random.default_rng(0).normal(0, 8 / 255, (512, 512, 3)).astype(np.float32))),
    }
    print(f"{'op (512x512 RGB)':22s} {'ours ms':>8s} {'albumentations ms':>18s}   (first row: albucore lookup vs cv2.LUT)")
    for k, (ours, theirs) in cases.items():
        print(f"{k:22s} {t(ours):8.3f} {t(theirs):18.3f}")


CHILD = r"""
import sys, time, cv2
cv2.setNumThreads(1)
import synthgen
pipe = synthgen.load_pipeline("ocr_scene", seed=0, **{"augment.strength": %(s)r})
for i in range(5): pipe.sample(10**6 + i)
t = time.process_time()
for i in range(%(n)d): pipe.sample(i)
print(%(n)d / (time.process_time() - t))
"""


def bench_compare(a) -> None:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(f"git -C {a.repo or here} archive {a.rev} | tar -x -C {tmp}", shell=True, check=True)
        # this checkout at the strength, the same at strength 0 (no stage: what the stage costs
        # inside the pipeline), and commit REV at the strength; alternating, best of rounds
        runs = (("this checkout", here, a.strength), ("this checkout", here, 0.0), (a.rev, tmp, a.strength))
        results: dict[tuple, list[float]] = {(n, s): [] for n, _, s in runs}
        for r in range(a.rounds):
            for name, root, strength in runs:
                env = {**os.environ, "PYTHONPATH": root}
                out = subprocess.run([sys.executable, "-c", CHILD % {"s": strength, "n": a.n}], env=env, cwd=root,
                                     capture_output=True, text=True, check=True)
                results[(name, strength)].append(float(out.stdout.strip().splitlines()[-1]))
    for (name, strength), v in results.items():
        print(f"ocr_scene strength {strength:g}, {name:14s}: best {max(v):6.1f} images/s per core "
              f"({1e3 / max(v):.2f} ms CPU/image; rounds: {', '.join(f'{x:.1f}' for x in v)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["stage", "ops", "albu", "compare"])
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--strength", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rev", default="HEAD~1", help="for compare: the commit to compare against")
    ap.add_argument("--repo", help="for compare: the git repository holding --rev (default: this checkout)")
    a = ap.parse_args()
    _setup()
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.1f}")
    {"stage": bench_stage, "ops": bench_ops, "albu": bench_albu, "compare": bench_compare}[a.what](a)


if __name__ == "__main__":
    main()
