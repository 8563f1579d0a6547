"""Image metrics for `synthgen gan eval` (numpy + OpenCV, no torch): what a person sees.

Every function takes uint8 (or float) N x H x W x 3 RGB batches on the 0..255 scale and answers
a mean over images, so a few bad swaps are not hidden in a pooled figure.

- `psnr`: per-image PSNR (peak 255), mean over images; identical images give +inf.
- `ssim`: Wang et al. 2004 SSIM with the usual constants (11 x 11 Gaussian window, sigma 1.5,
  K1 0.01, K2 0.03, L 255), per channel; the SSIM map is defined where the whole window fits
  in the image ("valid", as skimage and the reference MATLAB code crop it), and an image's score
  is the mean of its map over all three channels -- over the whole valid area, or over the
  valid pixels of a region (`mask`).
- `eye_band`: per image, the bounding box (plus a margin) of the pixels the attribute changes in
  the exact pair; "outside the band" is everything else.
- `hf_energy`: high-frequency energy, the mean squared 3 x 3 Laplacian per channel, over the
  pixels outside the band (1-pixel image border left out); `speckle` compares it for the swap
  and for its input.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SSIM_WIN, SSIM_SIGMA, SSIM_K1, SSIM_K2, PEAK = 11, 1.5, 0.01, 0.03, 255.0
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float64)


def _f(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[None]
    return x.astype(np.float64)


def psnr_each(x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """PSNR (dB) of each image, over the whole image or the pixels of `mask` (N x H x W bool);
    +inf where the two are identical there."""
    d = (_f(x) - _f(y)) ** 2
    if mask is None:
        mse = d.reshape(len(d), -1).mean(1)
    else:
        m = np.asarray(mask, bool).reshape(d.shape[:3])
        mse = np.array([d[i][m[i]].mean() if m[i].any() else 0.0 for i in range(len(d))])
    with np.errstate(divide="ignore"):
        return np.where(mse == 0, np.inf, 10.0 * np.log10(PEAK**2 / np.maximum(mse, 1e-300)))


def psnr(x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean over images of the per-image PSNR (dB, peak 255); +inf if any pair is identical."""
    return float(np.mean(psnr_each(x, y, mask)))


def _gauss_window() -> np.ndarray:
    r = SSIM_WIN // 2
    g = np.exp(-(np.arange(-r, r + 1, dtype=np.float64) ** 2) / (2 * SSIM_SIGMA**2))
    return g / g.sum()


def ssim_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """SSIM per pixel and channel, N x H x W x 3, NaN where the window does not fit (the
    SSIM_WIN // 2 pixels next to each edge)."""
    x, y = _f(x), _f(y)
    if x.shape != y.shape:
        raise ValueError(f"ssim: shapes differ, {x.shape} vs {y.shape}")
    g = _gauss_window()
    c1, c2 = (SSIM_K1 * PEAK) ** 2, (SSIM_K2 * PEAK) ** 2
    n, h, w, c = x.shape
    r = SSIM_WIN // 2
    out = np.full(x.shape, np.nan)
    if h < SSIM_WIN or w < SSIM_WIN:
        raise ValueError(f"ssim: images must be at least {SSIM_WIN} x {SSIM_WIN}")

    def blur(a: np.ndarray) -> np.ndarray:  # 'same' filtering; only the valid part is kept below
        return cv2.sepFilter2D(a, cv2.CV_64F, g, g, borderType=cv2.BORDER_REFLECT)

    for i in range(n):
        for k in range(c):
            a, b = x[i, :, :, k], y[i, :, :, k]
            mx, my = blur(a), blur(b)
            sxx = blur(a * a) - mx * mx
            syy = blur(b * b) - my * my
            sxy = blur(a * b) - mx * my
            s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
            out[i, r:h - r, r:w - r, k] = s[r:h - r, r:w - r]
    return out


def ssim_each(x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean SSIM of each image over the valid area, or over its valid pixels inside `mask`
    (N x H x W bool; NaN for an image whose mask has no valid pixel)."""
    s = ssim_map(x, y)
    valid = ~np.isnan(s[..., 0])
    m = valid if mask is None else valid & np.asarray(mask, bool).reshape(valid.shape)
    return np.array([s[i][m[i]].mean() if m[i].any() else np.nan for i in range(len(s))])


def ssim(x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean over images of the per-image SSIM (whole valid area, or inside `mask`)."""
    return float(np.nanmean(ssim_each(x, y, mask)))


def attr_mask(with_: np.ndarray, without: np.ndarray, thresh: int = 8) -> np.ndarray:
    """Where the attribute changes the true image by more than `thresh` grey levels (N x H x W)."""
    return np.abs(_f(with_) - _f(without)).max(-1) > thresh


def eye_band(with_: np.ndarray, without: np.ndarray, margin: int = 2) -> np.ndarray:
    """Per image, the bounding box of `attr_mask` grown by `margin` pixels (N x H x W bool): the
    region the attribute owns. An image whose pair does not differ gets an empty band."""
    m = attr_mask(with_, without)
    n, h, w = m.shape
    band = np.zeros_like(m)
    for i in range(n):
        ys, xs = np.nonzero(m[i])
        if len(ys):
            band[i, max(0, ys.min() - margin):min(h, ys.max() + margin + 1),
                 max(0, xs.min() - margin):min(w, xs.max() + margin + 1)] = True
    return band


def laplacian(x: np.ndarray) -> np.ndarray:
    """3 x 3 Laplacian per channel (N x H x W x 3, float), zero on the 1-pixel border."""
    x = _f(x)
    out = np.zeros_like(x)
    out[:, 1:-1, 1:-1] = (x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:]
                          - 4.0 * x[:, 1:-1, 1:-1])
    return out


def hf_energy(x: np.ndarray, outside: np.ndarray | None = None) -> np.ndarray:
    """Per image: mean squared Laplacian (grey levels^2, over channels) over the interior pixels,
    or over the interior pixels where `outside` (N x H x W bool) is True."""
    lap2 = (laplacian(x) ** 2).mean(-1)
    n, h, w = lap2.shape
    inner = np.zeros((h, w), bool)
    inner[1:-1, 1:-1] = True
    m = np.broadcast_to(inner, lap2.shape) if outside is None else np.asarray(outside, bool) & inner
    return np.array([lap2[i][m[i]].mean() if m[i].any() else 0.0 for i in range(n)])


def speckle(out: np.ndarray, inp: np.ndarray, band: np.ndarray) -> dict[str, float]:
    """High-frequency energy outside the attribute's band: of the swap, of its input, their
    ratio (1.0 = the swap is exactly as sharp and clean there as its input; below 1 blurrier,
    above 1 speckled), the energy of the change itself (swap - input) relative to the input's
    (0 = nothing changed outside the band), and the share of pixels outside the band that are
    the input's exactly (all three channels)."""
    outside = ~np.asarray(band, bool)
    e_out, e_in = hf_energy(out, outside), hf_energy(inp, outside)
    e_diff = hf_energy(_f(out) - _f(inp), outside)
    s_in = float(e_in.mean())
    same = (np.asarray(out) == np.asarray(inp)).all(-1)
    return {"swap": float(e_out.mean()), "input": s_in, "unchanged": float(same[outside].mean()) if outside.any() else 1.0,
            "ratio": float(e_out.mean() / s_in) if s_in > 0 else math.nan,
            "residual": float(e_diff.mean() / s_in) if s_in > 0 else math.nan}
