"""The previous photometric stage, kept only until pipeline.py calls the new stage (then deleted).

Like albumentations, an op draws its parameters once (`get_params`, recorded as factors) and
then applies them (`apply`). Every magnitude scales with one `strength` in [0, 1].
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from ..draws import Draws


class BrightnessContrast:
    name = "brightness_contrast"

    def get_params(self, d: Draws, strength: float) -> dict:
        return {
            "alpha": d.uniform("augment.contrast", 1 - 0.4 * strength, 1 + 0.4 * strength),
            "beta": d.uniform("augment.brightness", -50 * strength, 50 * strength),
        }

    def apply(self, img: np.ndarray, p: dict) -> np.ndarray:
        if p["alpha"] == 1 and p["beta"] == 0:
            return img
        # addWeighted saturates to [0, 255]; convertScaleAbs would fold negatives back up.
        return cv2.addWeighted(img, p["alpha"], img, 0.0, p["beta"])


class Blur:
    name = "blur"

    def get_params(self, d: Draws, strength: float) -> dict:
        return {"sigma": d.uniform("augment.blur_sigma", 0.0, 1.6 * strength)}

    def apply(self, img: np.ndarray, p: dict) -> np.ndarray:
        if p["sigma"] < 0.3:  # below a third of a pixel a blur changes nothing visible
            return img
        # Taps out to 2.5 sigma (>= 98.8% of the weight): OpenCV's default for uint8 reaches
        # 3 sigma, i.e. 5 taps where 3 do at sigma <= 0.6, the common case at low strength.
        k = 2 * max(1, math.ceil(2.5 * p["sigma"] - 0.5)) + 1
        return cv2.GaussianBlur(img, (k, k), p["sigma"])


NOISE_SCALE = 32.0  # the bank stores 128 + 32 * N(0, 1) as uint8


@lru_cache(maxsize=2)
def _noise_bank(size: int) -> np.ndarray:
    # Gaussian noise made once per process from a fixed seed; samples crop it at random offsets.
    rng = np.random.Generator(np.random.PCG64(0x0015E))
    return np.clip(128.0 + NOISE_SCALE * rng.standard_normal((size, size, 3)), 0, 255).astype(np.uint8)


class Noise:
    name = "noise"

    def get_params(self, d: Draws, strength: float) -> dict:
        return {
            "sigma": d.uniform("augment.noise_sigma", 0.0, 14.0 * strength),
            "x": d.uniform("augment.noise_x", 0.0, 1.0),
            "y": d.uniform("augment.noise_y", 0.0, 1.0),
        }

    def apply(self, img: np.ndarray, p: dict) -> np.ndarray:
        if p["sigma"] < 0.5:
            return img
        h, w = img.shape[:2]
        size = max(1024, 2 * max(h, w))
        bank = _noise_bank(size)
        x, y = int(p["x"] * (size - w)), int(p["y"] * (size - h))
        k = p["sigma"] / NOISE_SCALE
        # img + sigma * N(0,1) in one saturating pass
        return cv2.addWeighted(img, 1.0, bank[y : y + h, x : x + w], k, -128.0 * k)


DEFAULT_OPS = (BrightnessContrast(), Blur(), Noise())
_BC, _BLUR, _NOISE = DEFAULT_OPS


def photometric(img: np.ndarray, d: Draws, strength: float) -> np.ndarray:
    """Blur, then contrast/brightness and noise fused into one saturating pass over the image.
    Parameters are drawn first, in a fixed order, exactly as the separate ops would draw them;
    blurring first is equivalent because the tone change is affine."""
    bc, bl, nz = _BC.get_params(d, strength), _BLUR.get_params(d, strength), _NOISE.get_params(d, strength)
    img = _BLUR.apply(img, bl)
    if nz["sigma"] < 0.5:
        return _BC.apply(img, bc)
    h, w = img.shape[:2]
    size = max(1024, 2 * max(h, w))
    x, y = int(nz["x"] * (size - w)), int(nz["y"] * (size - h))
    k = nz["sigma"] / NOISE_SCALE
    # alpha * img + beta + sigma * N(0, 1)
    return cv2.addWeighted(img, bc["alpha"], _noise_bank(size)[y : y + h, x : x + w], k, bc["beta"] - 128.0 * k)
