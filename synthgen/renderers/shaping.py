"""Complex shaping (Arabic joining, combining marks, Indic clusters, bidi) through Pillow's
raqm layout engine, when this Pillow has it (`PIL.features.check("raqm")`).

The rest of synthgen composes text from cached per-character glyph masks ("basic" layout),
which is exact and fast for scripts whose glyphs do not change with their neighbours. For text
that needs shaping that would draw isolated forms ("tofu of the second kind"), so such text
is rendered whole by raqm instead.

Per-character boxes of shaped text (a documented approximation)
-----------------------------------------------------------------
raqm does not expose clusters through Pillow, so character k's horizontal span is derived
from the advances of shaped prefixes: [adv(text[:k]), adv(text[:k+1])) from the left for
left-to-right text, mirrored from the right for right-to-left text (Arabic, Hebrew). A
prefix that ends inside a joined Arabic word is measured with a zero-width joiner appended,
so its last letter has its in-word (medial/initial) form; what remains approximate are
ligatures (lam-alef: both letters get a share of one glyph) and kerning across the boundary.
Spans tile the
word without gaps, the outermost ones are stretched to the ink's edges, and each box's
vertical extent is the ink inside its span, so the union of the boxes still holds all of the
ink exactly; only the boundaries between neighbouring characters are approximate. A
combining mark (zero advance) shares its base character's box. Strings that mix directions
(bidi runs) get the whole-word box split in proportion to each character's advance.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from .layout import TextLayout, box_quads


@lru_cache(maxsize=1)
def available() -> bool:
    return bool(features.check("raqm"))


_SHAPING_RANGES = (
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan, Mandaic, Arabic ext.
    (0x0900, 0x0DFF),  # Indic scripts
    (0x0E00, 0x0EFF),  # Thai, Lao (marks)
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0xFB1D, 0xFDFF),  # Hebrew/Arabic presentation forms A
    (0xFE70, 0xFEFF),  # Arabic presentation forms B
)


@lru_cache(maxsize=65536)
def _char_needs(ch: str) -> bool:
    o = ord(ch)
    return unicodedata.combining(ch) > 0 or any(a <= o <= b for a, b in _SHAPING_RANGES)


def needs_shaping(text: str) -> bool:
    """True when per-character glyph composition would draw `text` wrongly."""
    return any(_char_needs(c) for c in text)


def _direction(text: str) -> str:
    """'rtl', 'ltr' or 'mixed' from the characters' strong bidi classes."""
    kinds = {unicodedata.bidirectional(c) for c in text}
    rtl = bool(kinds & {"R", "AL"})
    ltr = "L" in kinds
    return "mixed" if rtl and ltr else "rtl" if rtl else "ltr"


ZWJ = "\u200d"


def _prefix_length(font: ImageFont.FreeTypeFont, text: str, k: int) -> float:
    """Advance of text[:k] as it is shaped inside the whole text. A prefix ending in an
    Arabic-type joining letter gets a zero-width joiner, so that letter takes the joining form
    it has in the full word (not its final or isolated form)."""
    if k == 0:
        return 0.0
    if k == len(text):
        return float(font.getlength(text))
    tail = ZWJ if unicodedata.bidirectional(text[k - 1]) == "AL" and unicodedata.bidirectional(text[k]) in ("AL", "NSM") else ""
    return float(font.getlength(text[:k] + tail))


@lru_cache(maxsize=256)
def raqm_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=size, index=index, layout_engine=ImageFont.Layout.RAQM)


@lru_cache(maxsize=4096)
def shaped(path: str, index: int, size: int, text: str, pad: int = 1) -> TextLayout:
    """`text` shaped by raqm as one horizontal run; see the module docstring for char boxes."""
    if not available():
        raise RuntimeError("this Pillow has no raqm layout engine (PIL.features.check('raqm') is False)")
    font = raqm_font(path, index, size)
    l, t, r, b = font.getbbox(text)
    if r <= l or b <= t:
        raise ValueError(f"text {text!r} has no ink")
    im = Image.new("L", (r - l + 2 * pad, b - t + 2 * pad), 0)
    ImageDraw.Draw(im).text((pad - l, pad - t), text, font=font, fill=255)
    full = np.asarray(im)
    ys, xs = np.nonzero(full)
    if len(xs) == 0:
        raise ValueError(f"text {text!r} has no ink")
    # Trim to the ink plus pad.
    x0i, x1i, y0i, y1i = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    mask = np.zeros((y1i - y0i + 2 * pad, x1i - x0i + 2 * pad), np.uint8)
    mask[pad:-pad, pad:-pad] = full[y0i:y1i, x0i:x1i]
    origin_x = (pad - l) - (x0i - pad)  # pen origin in mask coordinates
    ink_x0, ink_x1 = pad, mask.shape[1] - pad
    n = len(text)
    adv = np.array([_prefix_length(font, text, k) for k in range(n + 1)], np.float64)
    adv = np.maximum.accumulate(adv)
    direction = _direction(text)
    if direction == "mixed":
        # Proportional split of the whole box by each character's own advance.
        own = np.array([max(font.getlength(c), 0.0) for c in text])
        if own.sum() <= 0:
            own[:] = 1.0
        cum = np.concatenate([[0.0], np.cumsum(own)]) / own.sum()
        edges = ink_x0 + cum * (ink_x1 - ink_x0)
        lo, hi = edges[:-1], edges[1:]
    elif direction == "rtl":
        total = adv[-1]
        lo, hi = origin_x + total - adv[1:], origin_x + total - adv[:-1]
    else:
        lo, hi = origin_x + adv[:-1], origin_x + adv[1:]
    # Zero-width characters (combining marks) share the box of the character they attach to.
    for k in range(n):
        if hi[k] - lo[k] < 0.5 and k > 0:
            lo[k], hi[k] = lo[k - 1], hi[k - 1]
    # Stretch the outermost spans to the ink edges and clip the others to the ink, so the boxes
    # tile exactly the ink's horizontal extent.
    left, right = float(lo.min()), float(hi.max())
    lo = np.clip(np.where(lo <= left + 1e-6, ink_x0, lo), ink_x0, ink_x1)
    hi = np.clip(np.where(hi >= right - 1e-6, ink_x1, hi), ink_x0, ink_x1)
    boxes = np.empty((n, 4), np.float32)
    H = mask.shape[0]
    col_ink = mask > 0
    for k in range(n):
        a, b2 = int(np.floor(lo[k])), int(np.ceil(hi[k]))
        a, b2 = max(a, 0), min(max(b2, a + 1), mask.shape[1])
        rows = np.nonzero(col_ink[:, a:b2].any(axis=1))[0]
        if len(rows):
            boxes[k] = (lo[k], rows.min(), hi[k], rows.max() + 1)
        else:  # a space: the line's ink height
            boxes[k] = (lo[k], pad, hi[k], H - pad)
    quad = box_quads(np.array([min(ink_x0, boxes[:, 0].min()), pad, max(ink_x1, boxes[:, 2].max()), H - pad], np.float32))
    from .layout import metrics

    # The text was drawn with its top-of-ascender origin at y = pad - t in `im`.
    base_y = float(pad - t - (y0i - pad) + metrics(path, index, size)[0])
    baseline = np.array([[ink_x0, base_y], [ink_x1, base_y]], np.float32)
    mask.setflags(write=False)
    return TextLayout(mask, box_quads(boxes), quad, text, "shaped", baseline)
