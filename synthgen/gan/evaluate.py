"""`synthgen gan eval`: a checkpoint against exact procedural ground truth.

Held-out pairs (seed 999; training uses seed 0, the classifier 1001/1002): faces A and B drawn
independently. Ground truth for the swap: A without glasses is A's own spec rendered without them;
"B with glasses" is B's spec wearing A's glasses (shape, colour, size, tint), since GeneGAN
transplants A's attribute. Each GAN figure comes with the do-nothing baseline (output = input),
so a swap that changes nothing cannot look good.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..draws import Draws
from ..faces.procedural import face_spec, render_spec

EVAL_SEED = 999
_GLASSES_KEYS = ("glasses_shape", "glasses_color", "glasses_thick", "glasses_size", "glasses_tint")


def pairs(n: int, seed: int = EVAL_SEED, size: int = 64) -> dict[str, np.ndarray]:
    out: dict[str, list] = {k: [] for k in ("a_with", "a_without", "b_without", "b_with")}
    for k in range(n):
        sa = face_spec(Draws(seed, 2 * k), "face")
        sb = face_spec(Draws(seed, 2 * k + 1), "face")
        out["a_with"].append(render_spec(sa, size, {"glasses": True}))
        out["a_without"].append(render_spec(sa, size, {"glasses": False}))
        out["b_without"].append(render_spec(sb, size, {"glasses": False}))
        sb2 = {**sb, **{key: sa[key] for key in _GLASSES_KEYS}}
        out["b_with"].append(render_spec(sb2, size, {"glasses": True}))
    return {k: np.stack(v) for k, v in out.items()}


def l1(x: np.ndarray, y: np.ndarray) -> float:
    """Mean absolute error on the [0, 1] scale."""
    return float(np.abs(x.astype(np.float64) - y.astype(np.float64)).mean() / 255.0)


def psnr(x: np.ndarray, y: np.ndarray) -> float:
    """Mean over images of the per-image PSNR (dB, peak 255)."""
    d = (x.astype(np.float64) - y.astype(np.float64)) ** 2
    mse = d.reshape(len(x), -1).mean(1)
    return float(np.mean([99.0 if m == 0 else 10 * math.log10(255.0**2 / m) for m in mse]))


def region_l1(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error ([0, 1] scale) over the masked pixels only."""
    d = np.abs(x.astype(np.float64) - y.astype(np.float64)).mean(-1)
    return float(d[mask].mean() / 255.0) if mask.any() else 0.0


def attr_mask(with_: np.ndarray, without: np.ndarray) -> np.ndarray:
    """Where the attribute changes the true image (N x H x W bool)."""
    return np.abs(with_.astype(np.int16) - without).max(-1) > 8


def evaluate(gan: Any, n: int = 500, classifier: Any = None, progress: bool = False) -> dict[str, Any]:
    from .classifier import load as load_classifier
    from .classifier import predict

    p = pairs(n)
    a0, bu = gan.swap(p["a_with"], p["b_without"])
    rec_a = gan.reconstruct(p["a_with"])
    rec_b = gan.reconstruct(p["b_without"], null=True)
    net, cmeta = classifier if classifier is not None else load_classifier()
    m: dict[str, Any] = {
        "n": n,
        "add_l1": l1(bu, p["b_with"]), "add_psnr": psnr(bu, p["b_with"]),
        "add_l1_do_nothing": l1(p["b_without"], p["b_with"]), "add_psnr_do_nothing": psnr(p["b_without"], p["b_with"]),
        "remove_l1": l1(a0, p["a_without"]), "remove_psnr": psnr(a0, p["a_without"]),
        "remove_l1_do_nothing": l1(p["a_with"], p["a_without"]),
        "remove_psnr_do_nothing": psnr(p["a_with"], p["a_without"]),
        "add_l1_region": region_l1(bu, p["b_with"], attr_mask(p["b_with"], p["b_without"])),
        "add_l1_region_do_nothing": region_l1(p["b_without"], p["b_with"], attr_mask(p["b_with"], p["b_without"])),
        "remove_l1_region": region_l1(a0, p["a_without"], attr_mask(p["a_with"], p["a_without"])),
        "remove_l1_region_do_nothing": region_l1(p["a_with"], p["a_without"], attr_mask(p["a_with"], p["a_without"])),
        "rec_psnr_a": psnr(rec_a, p["a_with"]), "rec_psnr_b": psnr(rec_b, p["b_without"]),
        "add_acc": float((predict(net, bu) > 0.5).mean()),
        "remove_acc": float((predict(net, a0) < 0.5).mean()),
        "classifier_acc_truth": float(((predict(net, p["b_with"]) > 0.5).mean()
                                       + (predict(net, p["a_without"]) < 0.5).mean()) / 2),
        "classifier_heldout_acc": cmeta.get("heldout_acc"),
    }
    m["_images"] = {"a_with": p["a_with"][:8], "b_without": p["b_without"][:8], "a_0": a0[:8], "b_u": bu[:8],
                    "b_with_true": p["b_with"][:8], "a_without_true": p["a_without"][:8]}
    return m


def report_lines(m: dict[str, Any]) -> list[str]:
    r = [f"pairs: {m['n']} held-out procedural faces (seed {EVAL_SEED})",
         f"add glasses    B_u vs true B-with-A's-glasses: L1 {m['add_l1']:.4f}  PSNR {m['add_psnr']:.2f} dB"
         f"   (do nothing: L1 {m['add_l1_do_nothing']:.4f}, PSNR {m['add_psnr_do_nothing']:.2f} dB)",
         f"remove glasses A_0 vs true A-without:        L1 {m['remove_l1']:.4f}  PSNR {m['remove_psnr']:.2f} dB"
         f"   (do nothing: L1 {m['remove_l1_do_nothing']:.4f}, PSNR {m['remove_psnr_do_nothing']:.2f} dB)",
         f"inside the glasses region (pixels the attribute changes): L1 add {m['add_l1_region']:.4f} "
         f"(do nothing {m['add_l1_region_do_nothing']:.4f}), remove {m['remove_l1_region']:.4f} "
         f"(do nothing {m['remove_l1_region_do_nothing']:.4f})",
         f"reconstruction PSNR: Dec(A,u) {m['rec_psnr_a']:.2f} dB, Dec(B,0) {m['rec_psnr_b']:.2f} dB",
         f"classifier (held-out acc {m['classifier_heldout_acc']}, on true targets {m['classifier_acc_truth']:.3f}): "
         f"adding judged 'glasses' {m['add_acc']:.1%}, removing judged 'no glasses' {m['remove_acc']:.1%} (target >= 90%)"]
    ok = m["add_acc"] >= 0.9 and m["remove_acc"] >= 0.9
    r.append(f"summary: add {m['add_acc']:.1%} / remove {m['remove_acc']:.1%} by classifier, "
             f"swap PSNR add {m['add_psnr']:.1f} / remove {m['remove_psnr']:.1f} dB, "
             f"recon {min(m['rec_psnr_a'], m['rec_psnr_b']):.1f} dB -> {'PASS' if ok else 'BELOW TARGET'}")
    return r
