"""Reading image files for renderers: decoded once, RGB, or a one-line error naming the file."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import UserError


def read_rgb(path: str, what: str, fix: str = "") -> np.ndarray:
    """H x W x 3 uint8 RGB of the image at `path`; an undecodable file is a UserError
    "<what> '<path>' cannot be decoded[; <fix>]"."""
    im = cv2.imread(path, cv2.IMREAD_COLOR)
    if im is None:
        raise UserError(f"{what} {path!r} cannot be decoded" + (f"; {fix}" if fix else ""))
    return cv2.cvtColor(im, cv2.COLOR_BGR2RGB)
