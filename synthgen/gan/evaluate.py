"""`synthgen gan eval`: a checkpoint against exact procedural ground truth.

Held-out pairs (seed 999; training uses seed 0, the classifier 1001/1002): faces A and B drawn
independently. Ground truth for the swap: A without glasses is A's own spec rendered without them;
"B with glasses" is B's spec wearing A's glasses (shape, colour, size, tint), since GeneGAN
transplants A's attribute. Each GAN figure comes with the do-nothing baseline (output = input),
so a swap that changes nothing cannot look good.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..draws import Draws
from ..faces.procedural import face_spec, render_spec
from .metrics import attr_mask, eye_band, psnr, speckle, ssim

EVAL_SEED = 999
VAL_SEED = 998  # for choosing among checkpoints; never the figures reported
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


def region_l1(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error ([0, 1] scale) over the masked pixels only."""
    d = np.abs(x.astype(np.float64) - y.astype(np.float64)).mean(-1)
    return float(d[mask].mean() / 255.0) if mask.any() else 0.0


def image_metrics(out: np.ndarray, truth: np.ndarray, inp: np.ndarray, band: np.ndarray, prefix: str) -> dict:
    """PSNR / SSIM of a swap against the exact truth, whole image and inside the eye band, the
    same for doing nothing (output = input), and the speckle score outside the band."""
    m: dict[str, float] = {}
    for who, x in (("", out), ("_do_nothing", inp)):
        m[f"{prefix}_psnr{who}"] = psnr(x, truth)
        m[f"{prefix}_ssim{who}"] = ssim(x, truth)
        m[f"{prefix}_psnr_band{who}"] = psnr(x, truth, band)
        m[f"{prefix}_ssim_band{who}"] = ssim(x, truth, band)
        m[f"{prefix}_l1{who}"] = l1(x, truth)
        m[f"{prefix}_l1_region{who}"] = region_l1(x, truth, attr_mask(truth, inp))
    sp = speckle(out, inp, band)
    m[f"{prefix}_speckle"], m[f"{prefix}_speckle_input"] = sp["swap"], sp["input"]
    m[f"{prefix}_speckle_ratio"], m[f"{prefix}_speckle_residual"] = sp["ratio"], sp["residual"]
    m[f"{prefix}_unchanged_outside"] = sp["unchanged"]
    return m


def evaluate(gan: Any, n: int = 500, classifier: Any = None, progress: bool = False,
             seed: int = EVAL_SEED) -> dict[str, Any]:
    """Every figure of `report_lines`; `seed` 999 is the held-out test set (choose checkpoints
    on another seed, e.g. VAL_SEED, and report 999 once)."""
    from .classifier import load as load_classifier
    from .classifier import predict

    p = pairs(n, seed)
    a0, bu = gan.swap(p["a_with"], p["b_without"])
    rec_a = gan.reconstruct(p["a_with"])
    rec_b = gan.reconstruct(p["b_without"], null=True)
    net, cmeta = classifier if classifier is not None else load_classifier()
    band_b = eye_band(p["b_with"], p["b_without"])
    band_a = eye_band(p["a_with"], p["a_without"])
    m: dict[str, Any] = {"n": n, "seed": seed, "compose": getattr(gan, "compose", "none")}
    m.update(image_metrics(bu, p["b_with"], p["b_without"], band_b, "add"))
    m.update(image_metrics(a0, p["a_without"], p["a_with"], band_a, "remove"))
    m["band_fraction"] = float((band_a.mean() + band_b.mean()) / 2)
    m.update({
        "rec_psnr_a": psnr(rec_a, p["a_with"]), "rec_psnr_b": psnr(rec_b, p["b_without"]),
        "add_acc": float((predict(net, bu) > 0.5).mean()),
        "remove_acc": float((predict(net, a0) < 0.5).mean()),
        "classifier_acc_truth": float(((predict(net, p["b_with"]) > 0.5).mean()
                                       + (predict(net, p["a_without"]) < 0.5).mean()) / 2),
        "classifier_heldout_acc": cmeta.get("heldout_acc"),
    })
    m["_images"] = {"a_with": p["a_with"][:8], "b_without": p["b_without"][:8], "a_0": a0[:8], "b_u": bu[:8],
                    "b_with_true": p["b_with"][:8], "a_without_true": p["a_without"][:8]}
    return m


def checks(m: dict[str, Any]) -> dict[str, bool]:
    """The issue-25 bars: swap beats doing nothing over the whole image (both directions),
    speckle within 10% of the inputs', classifier rates >= 90%."""
    return {
        "psnr_beats_do_nothing": m["add_psnr"] > m["add_psnr_do_nothing"] and m["remove_psnr"] > m["remove_psnr_do_nothing"],
        "speckle_within_10pct": all(abs(m[f"{d}_speckle_ratio"] - 1.0) <= 0.10 for d in ("add", "remove")),
        "classifier_90": m["add_acc"] >= 0.9 and m["remove_acc"] >= 0.9,
    }


def report_lines(m: dict[str, Any]) -> list[str]:
    r = [f"pairs: {m['n']} held-out procedural faces (seed {m.get('seed', EVAL_SEED)}); compose: {m.get('compose', 'none')}; "
         f"eye band: {m['band_fraction']:.1%} of the image"]
    for d, what in (("add", "add glasses    B_u vs true B-with-A's-glasses"), ("remove", "remove glasses A_0 vs true A-without       ")):
        r.append(f"{what}: PSNR {m[f'{d}_psnr']:.2f} dB  SSIM {m[f'{d}_ssim']:.4f}   "
                 f"(do nothing: PSNR {m[f'{d}_psnr_do_nothing']:.2f} dB, SSIM {m[f'{d}_ssim_do_nothing']:.4f})")
        r.append(f"   eye band: PSNR {m[f'{d}_psnr_band']:.2f} dB  SSIM {m[f'{d}_ssim_band']:.4f}   "
                 f"(do nothing: PSNR {m[f'{d}_psnr_band_do_nothing']:.2f} dB, SSIM {m[f'{d}_ssim_band_do_nothing']:.4f})"
                 f";  L1 whole {m[f'{d}_l1']:.4f}, on the attribute's pixels {m[f'{d}_l1_region']:.4f}")
        r.append(f"   speckle outside the band (mean squared Laplacian): swap {m[f'{d}_speckle']:.1f} vs input "
                 f"{m[f'{d}_speckle_input']:.1f} -> ratio {m[f'{d}_speckle_ratio']:.3f} (1 = as the input); "
                 f"change's own energy {m[f'{d}_speckle_residual']:.3f} of the input's; "
                 f"{m[f'{d}_unchanged_outside']:.1%} of the pixels there are the input's exactly")
    r.append(f"reconstruction PSNR: Dec(A,u) {m['rec_psnr_a']:.2f} dB, Dec(B,0) {m['rec_psnr_b']:.2f} dB")
    r.append(f"classifier (held-out acc {m['classifier_heldout_acc']}, on true targets {m['classifier_acc_truth']:.3f}): "
             f"adding judged 'glasses' {m['add_acc']:.1%}, removing judged 'no glasses' {m['remove_acc']:.1%} (target >= 90%)")
    c = checks(m)
    ok = all(c.values())
    r.append(f"summary: add {m['add_acc']:.1%} / remove {m['remove_acc']:.1%} by classifier, "
             f"swap PSNR add {m['add_psnr']:.1f} (do nothing {m['add_psnr_do_nothing']:.1f}) / remove "
             f"{m['remove_psnr']:.1f} (do nothing {m['remove_psnr_do_nothing']:.1f}) dB, speckle ratio add "
             f"{m['add_speckle_ratio']:.2f} / remove {m['remove_speckle_ratio']:.2f} -> "
             + ("PASS" if ok else "BELOW TARGET (" + ", ".join(k for k, v in c.items() if not v) + ")"))
    return r
