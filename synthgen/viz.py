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


LINE_ASPECT = 2.0  # samples at least this many times wider than high are packed in rows (text lines)
LABEL_H = 16
GAP = 6


def _caption(s: Sample) -> str:
    n_ign = sum(i.ignore for i in s.instances)
    return f"{s.key}  {len(s.instances)} inst, {n_ign} ignored"


def line_sheet(samples: Sequence[Sample], cell: int = 384, cols: int | None = None, chars: bool = True) -> np.ndarray:
    """Text lines packed in rows (RGB uint8): each line at its own aspect, scaled to a readable
    height (cell / 6 px, never below its own height: 64 px for 32 px lines at the default cell;
    a vertical line's width likewise, its length capped at 4 such heights), several per row of
    the sheet's width (cols x cell, as the square grid), key written below each; a line wider
    than the sheet is scaled down to fit it."""
    cols = cols or max(1, math.ceil(math.sqrt(len(samples))))
    width = max(cols * cell, 64)
    font = cv2.FONT_HERSHEY_SIMPLEX
    tiles = []
    line_h = max(8, round(cell / 6))
    for s in samples:
        h, w = s.image.shape[:2]
        scale = max(1.0, line_h / min(h, w))  # the line's height (a vertical line's width) -> line_h
        scale = min(scale, (width - 2 * GAP) / w, max(4 * line_h, h) / h)  # fits the sheet; vertical ones capped
        tile, cap = annotate(s, scale, chars), _caption(s)
        room = max(tile.shape[1], min(width - 2 * GAP, cv2.getTextSize(cap, font, 0.4, 1)[0][0] + 4))  # key below it
        tiles.append((tile, cap, room))
    rows: list[list[tuple[np.ndarray, str, int]]] = [[]]
    x = GAP
    for t in tiles:
        if rows[-1] and x + t[2] > width - GAP:
            rows.append([])
            x = GAP
        rows[-1].append(t)
        x += t[2] + GAP
    heights = [max(t.shape[0] for t, _, _ in row) + LABEL_H for row in rows]
    sheet = np.full((sum(heights) + GAP * (len(rows) + 1), width, 3), 32, np.uint8)
    y = GAP
    for row, rh in zip(rows, heights):
        x = GAP
        for tile, cap, room in row:
            th, tw = tile.shape[:2]
            sheet[y : y + th, x : x + tw] = tile
            cv2.putText(sheet, cap, (x + 2, y + th + 12), font, 0.4, (230, 230, 230), 1, cv2.LINE_AA)
            x += room + GAP
        y += rh + GAP
    return sheet


def contact_sheet(samples: Sequence[Sample], cell: int = 384, cols: int | None = None, chars: bool = True) -> np.ndarray:
    """A grid of annotated samples (RGB uint8), each scaled to fit `cell` px, key written below.
    Text lines (at least half the samples LINE_ASPECT times wider than high) are packed in rows
    instead (`line_sheet`): a 32 px line in a square cell would leave it mostly empty."""
    if samples and 2 * sum(s.image.shape[1] >= LINE_ASPECT * s.image.shape[0] for s in samples) >= len(samples):
        return line_sheet(samples, cell, cols, chars)
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
        cv2.putText(sheet, _caption(s), (x + 4, y + cell + 12),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (230, 230, 230), 1, cv2.LINE_AA)
    return sheet


def save_png(path: str, rgb: np.ndarray) -> None:
    if not cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        from .errors import UserError

        raise UserError(f"cannot write image {path!r}; check the folder exists and the name ends in .png")
