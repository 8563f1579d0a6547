"""Glyph masks and horizontal text layout with exact per-character ink boxes.

Each (font, size, char) is rasterised once per process and cached; a word is composed by
pasting cached glyph masks at their pen positions. Because we draw exactly what we measure,
character boxes are the true ink extents of the drawn glyphs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from .fonts import load_faces, pil_font


class MissingGlyph(ValueError):
    """The font has no glyph for a character: drawing it would give a box ("tofu")."""


@dataclass(frozen=True)
class Glyph:
    mask: np.ndarray  # uint8, tight to ink (0 x 0 for blank glyphs)
    x0: int  # ink box relative to the pen position on the baseline-ascender origin
    y0: int
    advance: float

    @property
    def blank(self) -> bool:
        return self.mask.size == 0


@lru_cache(maxsize=65536)
def glyph(path: str, index: int, size: int, ch: str) -> Glyph:
    """The cached mask of `ch`. A character outside the font's cmap raises MissingGlyph instead of
    drawing the font's .notdef box (checked once per key: the result is cached)."""
    face = load_faces(path)[index]
    if not face.covers(ch):
        raise MissingGlyph(f"font {face.name!r} ({path}) has no glyph for {ch!r} (U+{ord(ch):04X})")
    font = pil_font(path, index, size)
    advance = float(font.getlength(ch))
    m, ox, oy = _rasterise(font, ch)
    if m is None:
        return Glyph(np.zeros((0, 0), np.uint8), 0, 0, advance)
    ys, xs = np.nonzero(m)
    if len(xs) == 0:
        return Glyph(np.zeros((0, 0), np.uint8), 0, 0, advance)
    # Trim to the true ink: the bitmap can be a pixel loose.
    m = np.ascontiguousarray(m[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
    return Glyph(m, int(ox + xs.min()), int(oy + ys.min()), advance)


def _rasterise(font, ch: str) -> tuple[np.ndarray | None, int, int]:
    """The glyph's bitmap and its offset from the "la" origin (left of the pen, top of the
    ascender). One FreeType render through getmask2 (rendering CFF hanzi is the expensive part
    of a cache miss); the public draw-based path if that internal API is missing."""
    try:
        core, (ox, oy) = font.getmask2(ch, mode="L", anchor="la")
        if core.size[0] == 0 or core.size[1] == 0:
            return None, 0, 0
        return np.asarray(Image.Image()._new(core)), ox, oy
    except (AttributeError, TypeError):  # pragma: no cover - older/newer Pillow internals
        l, t, r, b = font.getbbox(ch)
        if r <= l or b <= t:
            return None, 0, 0
        im = Image.new("L", (r - l, b - t), 0)
        ImageDraw.Draw(im).text((-l, -t), ch, font=font, fill=255)
        return np.asarray(im), l, t


@dataclass
class Layout:
    mask: np.ndarray  # uint8 coverage of the whole text, h x w
    boxes: np.ndarray  # n x 4 float32 char boxes [x0, y0, x1, y1] in mask pixel-corner coords
    ink: np.ndarray  # [x0, y0, x1, y1] of all ink


def layout_line(path: str, index: int, size: int, text: str, spacing: float = 0.0, pad: int = 1) -> Layout:
    """Lay `text` out on one horizontal line. Blank characters (spaces) get a box spanning their
    advance and the line's ink height, so every character has a quad."""
    # Plain Python over the characters (numpy scalars would cost more than they save here).
    glyphs = [glyph(path, index, size, c) for c in text]
    pens: list[float] = []
    x = 0.0
    for g in glyphs:
        pens.append(x)
        x += g.advance + spacing
    gx = [int(round(p)) + g.x0 for p, g in zip(pens, glyphs)]
    inked = [i for i, g in enumerate(glyphs) if not g.blank]
    if not inked:
        raise ValueError(f"text {text!r} has no ink")
    x_min = min(gx[i] for i in inked)
    y_min = min(glyphs[i].y0 for i in inked)
    x_max = max(gx[i] + glyphs[i].mask.shape[1] for i in inked)
    y_max = max(glyphs[i].y0 + glyphs[i].mask.shape[0] for i in inked)
    ox, oy = pad - x_min, pad - y_min
    W, H = x_max - x_min + 2 * pad, y_max - y_min + 2 * pad
    canvas = np.zeros((H, W), np.uint8)
    boxes = []
    for i, g in enumerate(glyphs):
        if g.blank:
            x0 = pens[i] + ox
            boxes.append((x0, pad, x0 + max(g.advance, 1.0), H - pad))
            continue
        x0, y0 = gx[i] + ox, g.y0 + oy
        h, w = g.mask.shape
        region = canvas[y0 : y0 + h, x0 : x0 + w]
        np.maximum(region, g.mask, out=region)
        boxes.append((x0, y0, x0 + w, y0 + h))
    ink = np.array([pad, pad, W - pad, H - pad], np.float32)
    return Layout(canvas, np.array(boxes, np.float32).reshape(-1, 4), ink)
