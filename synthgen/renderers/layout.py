"""Text layout primitives with exact per-character quads: straight, curved (arc, sine) and
vertical lines.

Every function returns a `TextLayout`: a uint8 coverage mask of the text, one quad per
character (n x 4 x 2, pixel-corner coordinates of the mask, clockwise on screen starting at
the glyph's own top-left in its reading direction) and a quad for the whole text, oriented
along the reading direction (first vertex = the text's own top-left). Glyph masks come from
the per-process cache in `glyphs.glyph`, so a layout is a few array pastes.

A caller places the layout with any 3 x 3 homography `Hm` (layout -> image coordinates):
warp `mask` with it (see `line.warp`, or `scene.blend`) and push `chars` / `quad` through the
same matrix (`apply_h`). Because each glyph is moved rigidly (translated, or rotated as a
whole for curves), the ink of glyph k lies inside `chars[k]` up to the half pixel of
interpolation fringe that any warp adds.

Conventions:
* Spaces (and other blank glyphs) get a quad spanning their advance and the text's ink
  height (horizontal) or width (vertical), so every character of `text` has a quad.
* Vertical text reads top to bottom. CJK characters stand upright in a column one em wide;
  other characters (Latin, digits, brackets, dashes) are turned 90 degrees clockwise, as in
  printed vertical CJK. The text's own top-left is then the column's top-right on screen.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ..native import lib as _native
from .glyphs import compose_boxes, glyph_metrics, glyph_table, paste_max

_CORNERS = np.array([[0, 1], [2, 1], [2, 3], [0, 3]])


@dataclass
class TextLayout:
    mask: np.ndarray  # uint8 h x w coverage
    chars: np.ndarray  # n x 4 x 2 float32 per-character quads (mask coordinates)
    quad: np.ndarray  # 4 x 2 float32 quad of the whole text, along its reading direction
    text: str
    kind: str = "straight"  # straight | arc | sine | vertical | shaped
    # Points along the baseline (m x 2, mask coordinates) for decorations such as underlines;
    # None where a baseline does not apply (vertical text). May be given as a function that
    # makes them: `baseline` calls it on first use (most layouts are never underlined).
    _baseline: np.ndarray | Callable[[], np.ndarray] | None = None

    @property
    def baseline(self) -> np.ndarray | None:
        b = self._baseline
        if callable(b):
            b = self._baseline = b()
        return b

    @property
    def vertical(self) -> bool:
        return self.kind == "vertical"


def box_quads(boxes: np.ndarray) -> np.ndarray:
    """[x0, y0, x1, y1] (... x 4) -> quads (... x 4 x 2): TL, TR, BR, BL (clockwise on screen)."""
    b = np.asarray(boxes, np.float32)
    if _native is not None and b.ndim == 2 and len(b):  # the same copies in one C call
        q = np.empty((len(b), 4, 2), np.float32)
        if _native.box_quads(b, q) is not NotImplemented:
            return q
    return b[..., _CORNERS]


def apply_h(Hm: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points (..., 2) through a 3 x 3 homography, as float32 (one OpenCV call: ~3x faster
    than the numpy matrix algebra on the few dozen points of a word)."""
    p = np.asarray(pts)
    if p.dtype != np.float32 and p.dtype != np.float64:
        p = p.astype(np.float64)
    if p.size == 0:
        return np.zeros(p.shape, np.float32)
    q = cv2.perspectiveTransform(p.reshape(-1, 1, 2), np.asarray(Hm, np.float64))
    return q.reshape(p.shape).astype(np.float32, copy=False)


def oriented_quad(points: np.ndarray, angle: float) -> np.ndarray:
    """The rectangle along direction `angle` (radians, screen coordinates, y down) that holds
    every point, as TL, TR, BR, BL of that direction's frame (clockwise on screen)."""
    c, s = math.cos(angle), math.sin(angle)
    e = np.array([c, s])  # reading direction
    n = np.array([-s, c])  # the text's "down"
    p = np.asarray(points, np.float64).reshape(-1, 2)
    u, v = p @ e, p @ n  # (OpenBLAS's dgemv: numerics.py)
    if _native is not None:  # the rest in one C call: the same double operations
        out = np.empty((4, 2), np.float32)
        if _native.oriented_box(u, v, c, s, out) is None:
            return out
    u0, u1, v0, v1 = u.min(), u.max(), v.min(), v.max()
    uv = np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]])
    return (uv[:, :1] * e + uv[:, 1:] * n).astype(np.float32)


def expand_quads(quads: np.ndarray, r: float) -> np.ndarray:
    """Grow parallelogram quads (... x 4 x 2) by `r` px on every side, along their own edges."""
    if r == 0:
        return np.asarray(quads, np.float32)
    if _native is not None:  # the same operations in C (synthgen/_native.c)
        q = np.asarray(quads)
        out = np.empty(q.shape, np.float32)
        if _native.expand_quads(q, float(r), out) is None:
            return out
    q = np.asarray(quads, np.float64)
    ex = q[..., 1, :] - q[..., 0, :]
    ey = q[..., 3, :] - q[..., 0, :]
    ex *= r / np.maximum(np.hypot(ex[..., 0], ex[..., 1]), 1e-9)[..., None]  # r px along each edge
    ey *= r / np.maximum(np.hypot(ey[..., 0], ey[..., 1]), 1e-9)[..., None]
    return (q + np.stack([-ex - ey, ex - ey, ex + ey, ey - ex], axis=-2)).astype(np.float32)


@lru_cache(maxsize=4096)
def metrics(path: str, index: int, size: int) -> tuple[int, int]:
    """(ascent, descent) in px: the baseline lies `ascent` below a glyph origin's top (from
    the glyph atlas when it has them: no FreeType face is opened for a warm table)."""
    return glyph_metrics(path, index, size)


# -- straight ---------------------------------------------------------------------------------


def straight(path: str, index: int, size: int, text: str, spacing: float = 0.0, pad: int = 1) -> TextLayout:
    """One horizontal line; `spacing` px added after every character's advance."""
    canvas, b, oy = compose_boxes(path, index, size, text, spacing, pad)
    H, W = canvas.shape
    base_y = oy + metrics(path, index, size)[0]
    baseline = np.array([[pad, base_y], [W - pad, base_y]], np.float32)
    # The ink box (blank characters at either end may reach past it: include them).
    chars, lo, hi = corners_and_span(b)
    qx0, qx1 = min(float(pad), lo), max(float(W - pad), hi)
    quad = np.array([[qx0, pad], [qx1, pad], [qx1, H - pad], [qx0, H - pad]], np.float32)
    return TextLayout(canvas, chars, quad, text, "straight", baseline)


def corners_and_span(b: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(box_quads(b), least x0, greatest x1) of float32 boxes (n x 4, n > 0): one C call."""
    if _native is not None:
        chars = np.empty((len(b), 4, 2), np.float32)
        span = _native.box_quads(b, chars)
        if span is not NotImplemented:
            return chars, span[0], span[1]
    return b[:, _CORNERS], float(b[:, 0].min()), float(b[:, 2].max())


# -- curved -----------------------------------------------------------------------------------


def curved(path: str, index: int, size: int, text: str, kind: str = "arc", bend: float = 0.1,
           wavelength: float = 6.0, phase: float = 0.0, spacing: float = 0.0, pad: int = 2,
           turn: np.ndarray | None = None, lift: np.ndarray | None = None,
           advance: np.ndarray | None = None) -> TextLayout:
    """Glyphs along a curved baseline, each turned (rigidly) to the curve's tangent.

    kind="flat": a straight baseline (for the per-glyph options below on straight lines).
    Per glyph (arrays of len(text), optional): `turn` radians added to the tangent angle (each
    character rotated on its own), `lift` px off the baseline (up > 0, along the normal),
    `advance` px of extra advance after the glyph.

    kind="arc": a circular arc whose sagitta (rise of the middle over the ends) is `bend` x
    size (> 0 arches the text up like a rainbow, < 0 bends it down like a smile); relative to
    the font size, so long lines bend gently and stay readable in a fixed-height crop.
    kind="sine": y = A sin(2 pi x / L + phase) with A = `bend` x size and L = `wavelength` x size.
    """
    table = glyph_table(path, index, size)
    glyphs = [table[c] for c in text]
    n = len(glyphs)
    if all(g.blank for g in glyphs):
        raise ValueError(f"text {text!r} has no ink")
    asc, desc = metrics(path, index, size)
    # Box of each glyph relative to its pen point on the baseline (x along, y down), gathered
    # in lists: one array each (assigning numpy rows one glyph at a time costs more).
    rel_l, pens_l = [], []
    extra = np.asarray(advance, np.float64).tolist() if advance is not None else None
    x = 0.0
    for i, g in enumerate(glyphs):
        pens_l.append(x)
        if g.blank:
            rel_l.append((0.0, -asc, max(g.advance, 1.0), desc))
        else:
            h, w = g.mask.shape
            rel_l.append((g.x0, g.y0 - asc, g.x0 + w, g.y0 - asc + h))
        x += g.advance + spacing + (extra[i] if extra is not None else 0.0)
    total = max(x - spacing, 1.0)
    rel = np.array(rel_l, np.float64)
    pens = np.array(pens_l, np.float64)

    def curve(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point and tangent angle at baseline position s (measured from the text's middle)."""
        if kind == "arc":
            sag = min(bend * size, 0.45 * total)  # at most a half circle
            if abs(sag) < 1e-3:
                return s, np.zeros_like(s), np.zeros_like(s)
            half = total / 2.0
            R = (half * half + sag * sag) / (2.0 * sag)  # signed radius from the sagitta
            th = s / R
            return R * np.sin(th), R * (1.0 - np.cos(th)), th
        if kind == "sine":
            amp, lam = bend * size, max(wavelength * size, 1.0)
            k = 2.0 * math.pi / lam
            return s, amp * np.sin(k * s + phase), np.arctan(amp * k * np.cos(k * s + phase))
        if kind == "flat":
            return s, np.zeros_like(s), np.zeros_like(s)
        raise ValueError(f"unknown curve {kind!r}; use arc, sine or flat")

    cx = (rel[:, 0] + rel[:, 2]) / 2.0
    px, py, th = curve(pens + cx - total / 2.0)
    if lift is not None:  # off the baseline along the curve's normal (y grows downwards)
        lf = np.asarray(lift, np.float64)
        px, py = px + lf * np.sin(th), py - lf * np.cos(th)
    if turn is not None:
        th = th + np.asarray(turn, np.float64)
    cos, sin = np.cos(th), np.sin(th)
    quads, A = np.empty((n, 4, 2), np.float64), np.empty((n, 2, 3), np.float64)
    frame = NotImplemented if _native is None else _native.curved_frame(rel, cx, px, py, cos, sin, pad, quads, A)
    if frame is NotImplemented:  # (the C above computes what this does, in the same double operations)
        frame = _curved_frame(rel, cx, px, py, cos, sin, pad, quads, A)
    lox, loy, W, H, boxes = frame
    lo = np.array([lox, loy])
    canvas = np.zeros((H, W), np.uint8)
    # (OpenCV's defaults: bilinear, zero border)
    ink = [(g, Ai, b) for g, Ai, b in zip(glyphs, A, boxes) if not g.blank]
    paste_max(canvas, [cv2.warpAffine(g.mask, Ai, (x1 - x0, y1 - y0)) for g, Ai, (x0, y0, x1, y1) in ink],
              [b[0] for _, _, b in ink], [b[1] for _, _, b in ink])
    chars = quads.astype(np.float32)
    # Word quad: along the chord from the first to the last character.
    (a0, a1, a2, a3), (b0, b1, b2, b3) = quads[0].tolist(), quads[-1].tolist()
    dx = (b0[0] + b1[0] + b2[0] + b3[0] - a0[0] - a1[0] - a2[0] - a3[0]) / 4.0
    dy = (b0[1] + b1[1] + b2[1] + b3[1] - a0[1] - a1[1] - a2[1] - a3[1]) / 4.0
    angle = math.atan2(dy, dx) if n > 1 and math.hypot(dx, dy) > 1e-6 else 0.0
    quad = oriented_quad(chars, angle)

    def baseline() -> np.ndarray:
        bx, by, _ = curve(np.linspace(-total / 2.0, total / 2.0, max(2, n * 2 + 1)))
        return (np.stack([bx, by], axis=1) - lo).astype(np.float32)

    return TextLayout(canvas, chars, quad, text, kind, baseline)


def _curved_frame(rel: np.ndarray, cx: np.ndarray, px: np.ndarray, py: np.ndarray, cos: np.ndarray,
                  sin: np.ndarray, pad: int, quads: np.ndarray, A: np.ndarray):
    """The geometry of `curved` once each glyph's point on the curve and angle are known (the
    reference of _native.curved_frame): into `quads` each glyph's box corners about its pen
    point, turned and moved onto the curve, then shifted onto the canvas (by -lo); into `A` each
    glyph's 2 x 3 warp into its own integer box. Returns (lo_x, lo_y, W, H, boxes)."""
    # Corners about the glyph's pen point on the baseline, turned by th, moved onto the curve.
    lx = rel[:, [0, 2, 2, 0]] - cx[:, None]
    ly = rel[:, [1, 1, 3, 3]]
    quads[:, :, 0] = lx * cos[:, None] - ly * sin[:, None] + px[:, None]
    quads[:, :, 1] = lx * sin[:, None] + ly * cos[:, None] + py[:, None]
    lo = np.floor(quads.reshape(-1, 2).min(axis=0)) - pad
    hi = np.ceil(quads.reshape(-1, 2).max(axis=0)) + pad
    quads -= lo
    W, H = int(hi[0] - lo[0]), int(hi[1] - lo[1])
    # Each glyph mask maps rigidly onto its quad: mask corner (0, 0) -> quad vertex 0. Warp it
    # into its own bounding box only (OpenCV indexes pixel centres: half-pixel shifts).
    b0 = np.floor(quads.min(axis=1))  # n x 2: each glyph's box, (x0, y0) and (x1, y1)
    b1 = np.ceil(quads.max(axis=1))
    boxes = np.concatenate([b0, b1], axis=1).astype(int).tolist()
    # All glyphs' 2 x 3 matrices at once, each translated into its own box.
    A[:, 0, 0] = cos
    A[:, 0, 1] = -sin
    A[:, 0, 2] = quads[:, 0, 0] + 0.5 * (cos - sin) - 0.5 - b0[:, 0]
    A[:, 1, 0] = sin
    A[:, 1, 1] = cos
    A[:, 1, 2] = quads[:, 0, 1] + 0.5 * (sin + cos) - 0.5 - b0[:, 1]
    return float(lo[0]), float(lo[1]), W, H, boxes


# -- vertical ---------------------------------------------------------------------------------

# Characters turned 90 degrees clockwise in vertical CJK text even though they are fullwidth.
_ROTATE_V = set("（）［］｛｝〈〉《》「」『』【】〔〕〖〗〘〙〚〛—―…‥～－＿ー〜()[]{}<>")
# Punctuation that sits in the top-right corner of its cell in vertical text.
_CORNER_V = set("、。，．")


def upright_in_vertical(ch: str) -> bool:
    if ch in _ROTATE_V:
        return False
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x2FDF  # CJK radicals
        or 0x3000 <= o <= 0x303F  # CJK symbols and punctuation
        or 0x3040 <= o <= 0x30FF  # kana
        or 0x3100 <= o <= 0x31FF  # bopomofo, kana extensions
        or 0x3200 <= o <= 0x4DBF  # enclosed CJK, compatibility, extension A
        or 0x4E00 <= o <= 0x9FFF  # unified ideographs
        or 0xAC00 <= o <= 0xD7AF  # hangul
        or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= o <= 0xFE4F  # CJK compatibility forms
        or 0xFF01 <= o <= 0xFF60  # fullwidth forms
        or 0xFFE0 <= o <= 0xFFE6
        or 0x20000 <= o <= 0x3FFFF
    )


def has_cjk(text: str) -> bool:
    return any(upright_in_vertical(c) and not c.isspace() for c in text)


def vertical(path: str, index: int, size: int, text: str, spacing: float = 0.0, pad: int = 1) -> TextLayout:
    """A column read top to bottom: CJK upright in one-em cells, other characters turned 90
    degrees clockwise with their own advance as height."""
    asc, desc = metrics(path, index, size)
    line_h = asc + desc
    col_w = max(size, line_h)  # column wide enough for both kinds of character
    cx = col_w / 2.0
    em_top = asc - 0.88 * size  # ideographic em box: 0.88 em above the baseline, 0.12 below
    rows: list[list[float]] = []  # each character's quad, 8 coordinates (one array at the end)
    items: list[tuple[np.ndarray, int, int] | None] = []
    y = 0.0
    table = glyph_table(path, index, size)
    for ch in text:
        g = table[ch]
        if upright_in_vertical(ch):
            adv = float(size)
            if g.blank:
                # (the box in float32, as box_quads makes it: array('f') rounds as numpy's cast)
                x0, y0, x1, y1 = array("f", (cx - size / 2.0, y, cx + size / 2.0, y + adv)).tolist()
                rows.append([x0, y0, x1, y0, x1, y1, x0, y1])
                items.append(None)
            else:
                h, w = g.mask.shape
                ex = g.x0 + (size - g.advance) / 2.0  # ink x inside the em cell
                ey = g.y0 - em_top  # ink y inside the em cell
                if ch in _CORNER_V:
                    ex, ey = size - ex - w, size - ey - h
                x0, y0 = int(round(cx - size / 2.0 + ex)), int(round(y + ey))
                x1, y1 = x0 + w, y0 + h  # (whole pixels: exact in float32)
                rows.append([x0, y0, x1, y0, x1, y1, x0, y1])
                items.append((g.mask, x0, y0))
        else:
            adv = max(g.advance, 1.0)
            left = cx - line_h / 2.0
            if g.blank:
                # own top-left is the screen top-right: TR, BR, BL, TL
                x0, x1, y0, y1 = left, left + line_h, y, y + adv
                rows.append([x1, y0, x1, y1, x0, y1, x0, y0])
                items.append(None)
            else:
                h, w = g.mask.shape
                m = np.ascontiguousarray(np.rot90(g.mask, -1))  # clockwise: shape (w, h)
                x0 = int(round(left + line_h - (g.y0 + h)))
                y0 = int(round(y + g.x0))
                x1, y1 = x0 + h, y0 + w
                rows.append([x1, y0, x1, y1, x0, y1, x0, y0])
                items.append((m, x0, y0))
        y += adv + spacing
    if all(it is None for it in items):
        raise ValueError(f"text {text!r} has no ink")
    quads = np.array(rows, np.float64).reshape(-1, 4, 2)
    pts = quads.reshape(-1, 2)
    lo = np.floor(pts.min(axis=0)) - pad
    hi = np.ceil(pts.max(axis=0)) + pad
    quads -= lo
    W, H = int(hi[0] - lo[0]), int(hi[1] - lo[1])
    canvas = np.zeros((H, W), np.uint8)
    for it in items:
        if it is None:
            continue
        m, x0, y0 = it
        x0, y0 = x0 - int(lo[0]), y0 - int(lo[1])
        h, w = m.shape
        region = canvas[y0 : y0 + h, x0 : x0 + w]
        np.maximum(region, m, out=region)
    chars = quads.astype(np.float32)
    return TextLayout(canvas, chars, oriented_quad(chars, math.pi / 2.0), text, "vertical", None)


# 3 x 3 matrices as tuples of row tuples: composing a line's handful of transforms in plain
# Python costs a fraction of the numpy calls it replaces (each ~1 us on 3 x 3 arrays).
def mm3(A, B):
    """A @ B for 3 x 3 tuple matrices (of floats: one C call, synthgen/csrc/layout.c; else
    `_mm3`, the reference)."""
    if _native is not None:
        r = _native.mm3(A, B)
        if r is not NotImplemented:
            return r
    return _mm3(A, B)


def _mm3(A, B):
    (a, b, c), (d, e, f), (g, h, i) = A
    (p, q, r), (s, t, u), (v, w, x) = B
    return ((a * p + b * s + c * v, a * q + b * t + c * w, a * r + b * u + c * x),
            (d * p + e * s + f * v, d * q + e * t + f * w, d * r + e * u + f * x),
            (g * p + h * s + i * v, g * q + h * t + i * w, g * r + h * u + i * x))


# The constructors give floats whatever they are passed (an int pixel offset, a numpy scalar):
# the same doubles in every product, and mm3 / apply_t take their C path.
def t3(tx: float, ty: float):
    return ((1.0, 0.0, float(tx)), (0.0, 1.0, float(ty)), (0.0, 0.0, 1.0))


def s3(s: float):
    s = float(s)
    return ((s, 0.0, 0.0), (0.0, s, 0.0), (0.0, 0.0, 1.0))


def r3(deg: float):
    """Rotation by `deg` degrees, counter-clockwise on screen (y down)."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return ((c, s, 0.0), (-s, c, 0.0), (0.0, 0.0, 1.0))


def apply_t(Hm, pts) -> list[tuple[float, float]]:
    """(x, y) points through a tuple homography (a handful of them: one C call for a matrix of
    floats, else `_apply_t`, the reference in plain Python)."""
    if _native is not None:
        r = _native.apply_t(Hm, pts)
        if r is not NotImplemented:
            return r
    return _apply_t(Hm, pts)


def _apply_t(Hm, pts) -> list[tuple[float, float]]:
    (a, b, c), (d, e, f), (g, h, i) = Hm
    out = []
    for x, y in pts:
        w = g * x + h * y + i
        out.append(((a * x + b * y + c) / w, (d * x + e * y + f) / w))
    return out


def warp(mask: np.ndarray, Hm, size: tuple[int, int]) -> np.ndarray:
    """`mask` (h x w or h x w x k, k <= 4) through homography Hm (3 x 3 array or tuple
    matrix) given in pixel-corner coordinates, into an image of `size` = (width, height)."""
    if isinstance(Hm, np.ndarray):
        Hm = tuple(map(tuple, Hm.tolist()))
    # OpenCV maps pixel-centre indices: shift by half a pixel on both sides.
    Hc = mm3(mm3(t3(-0.5, -0.5), Hm), t3(0.5, 0.5))
    if abs(Hc[2][0]) < 1e-12 and abs(Hc[2][1]) < 1e-12:
        A = np.empty((2, 3))  # np.array(Hc[:2], np.float64) / Hc[2][2], in one C call where it can
        if _native is None or _native.mat3_array(Hc, A, True) is not None:
            A = np.array(Hc[:2], np.float64) / Hc[2][2]
        return cv2.warpAffine(mask, A, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return cv2.warpPerspective(mask, as_array(Hc), size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def as_array(Hm) -> np.ndarray:
    """A tuple matrix as the 3 x 3 float64 array np.array(Hm, np.float64) makes (one C call for
    a matrix of floats)."""
    if _native is not None:
        out = np.empty((3, 3))
        if _native.mat3_array(Hm, out, False) is None:
            return out
    return np.array(Hm, np.float64)


def stack_points(chars: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Char quads (n x 4 x 2) and a quad (4 x 2) as one float64 point list (4n + 4) x 1 x 2, as
    cv2.perspectiveTransform takes it: np.concatenate([chars.reshape(-1, 2), quad]) in float64
    (one C call for float32 arrays)."""
    if _native is not None:
        out = np.empty((chars.size // 2 + quad.size // 2, 1, 2))
        if _native.stack_points(chars, quad, out) is None:
            return out
    return np.concatenate([chars.reshape(-1, 2), quad]).astype(np.float64).reshape(-1, 1, 2)
