"""Contact sheets: look at the data, labels drawn over the pixels."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .core import Sample

WORD = (0, 220, 0)
CHAR = (255, 40, 40)
IGNORED = (150, 150, 150)
FIRST = (255, 220, 0)
SHIFT = 4  # sub-pixel bits for cv2 drawing


def _poly(img: np.ndarray, quad: np.ndarray, scale: float, color, thickness: int = 1) -> None:
    pts = np.round(np.asarray(quad, np.float64) * scale * (1 << SHIFT)).astype(np.int32)
    cv2.polylines(img, [pts.reshape(-1, 1, 2)], True, color, thickness, cv2.LINE_AA, SHIFT)


def annotate(s: Sample, scale: float = 1.0, chars: bool = True) -> np.ndarray:
    """The sample's image (RGB) scaled, with word quads, char quads and each quad's first vertex."""
    img = s.image
    if scale != 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    img = np.ascontiguousarray(img.copy())
    for inst in s.instances:
        color = IGNORED if inst.ignore else WORD
        if chars and inst.chars is not None:
            for q in inst.chars:
                _poly(img, q, scale, CHAR)
        _poly(img, inst.quad, scale, color, 1)
        x, y = inst.quad[0] * scale
        cv2.circle(img, (int(round(x)), int(round(y))), 2, FIRST, -1, cv2.LINE_AA)
    return img


def contact_sheet(samples: Sequence[Sample], cell: int = 384, cols: int | None = None, chars: bool = True) -> np.ndarray:
    """A grid of annotated samples (RGB uint8), each scaled to fit `cell` px, key written below."""
    cols = cols or max(1, math.ceil(math.sqrt(len(samples))))
    rows = math.ceil(len(samples) / cols)
    label_h = 16
    sheet = np.full((rows * (cell + label_h), cols * cell, 3), 32, np.uint8)
    for k, s in enumerate(samples):
        h, w = s.image.shape[:2]
        scale = min(cell / w, cell / h)
        tile = annotate(s, scale, chars)
        r, c = divmod(k, cols)
        y, x = r * (cell + label_h), c * cell
        sheet[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
        n_ign = sum(i.ignore for i in s.instances)
        cv2.putText(sheet, f"{s.key}  {len(s.instances)} inst, {n_ign} ignored", (x + 4, y + cell + 12),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (230, 230, 230), 1, cv2.LINE_AA)
    return sheet


def save_png(path: str, rgb: np.ndarray) -> None:
    if not cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        from .errors import UserError

        raise UserError(f"cannot write image {path!r}; check the folder exists and the name ends in .png")
