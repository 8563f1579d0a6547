"""The thin albumentations adapter: our draws choose every parameter; albumentations' code
runs where it is faster than ours and gives the same bytes.

Measured per op on a 512 x 512 RGB image, one thread (scripts/bench_augment.py --albu):
albumentations 2.0.8's table lookup (`albucore.sz_lut`, a StringZilla kernel) is ~15x faster
than `cv2.LUT` and exact, so every lookup-table op goes through it (tone: brightness,
contrast, gamma fused into one table; the noise's two tables; the hue rotation). Its
transforms' `apply` lost to ours (or could not match our parameters) for blur, motion blur,
defocus, noise, JPEG, hue and saturation; downscale tied. Only `albucore` is imported (the
`augment` extra; albumentations 2.0.8 pins the same 0.0.24); without it `cv2.LUT` does the same
lookups: the bytes do not change.
"""

from __future__ import annotations

import cv2
import numpy as np

try:  # albumentations' core kernels (the `augment` extra: albucore)
    from albucore import sz_lut as _sz_lut
except ImportError:  # pragma: no cover - the fallback is tested by forcing it
    _sz_lut = None


def lut(img: np.ndarray, table: np.ndarray) -> np.ndarray:
    """img (uint8, any shape) mapped through a 256-entry uint8 table: a new array."""
    if _sz_lut is not None and img.dtype == np.uint8 and img.flags.c_contiguous:
        return _sz_lut(img, table, inplace=False)
    return cv2.LUT(img, table)


def backend() -> str:
    return "albucore.sz_lut" if _sz_lut is not None else "cv2.LUT"
