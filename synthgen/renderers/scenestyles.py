"""SynthTIGER-class styles for scene words (used by scene.py): per-character baseline and
spacing jitter, an elastic / wave bend whose char quads follow the glyphs, 3-D extrusion, a
box (outline or plate) around the word on its own plane, gradient / texture fills inside the
glyphs, and neighbouring text cut off near the word.

The pixel work is linestyles.py's and glyphs.py's (called, not copied); what is here is the
scene side: which styles an item gets (recorded factors `word[i].style.<name>`, chances and
magnitudes from the config's `layout.style`), and how each lands in the item's own frame
(the layout's raster coordinates, before the item's homography), so a style follows the
item's rotation and tilt like the glyphs do.

Labels: jitter and elastic move glyphs, and the char quads are recomputed from where the
glyphs went (jitter: the pasted glyphs' ink boxes, exact; elastic: linestyles.follow_quads).
Extrusion, boxes and cut-off neighbours are decoration: never labelled, never in the ink.
Magnitudes are drawn only when a style is on (keyed draws: pinning one moves no other).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..draws import Draws
from ..native import lib as _native
from . import linestyles as LS
from .backgrounds import solid
from .glyphs import Layout, compose_line, layout_line
from .layout import box_quads
from .styles import contrasting, ink_contrasting, luma, luma_under, mean_u8


@dataclass
class WordStyle:
    jitter: float = 0.0  # baseline and spacing amplitude, x font size (0 = off)
    elastic: tuple[float, float] | None = None  # (amplitude, wavelength), x text height
    box: tuple[str, float, int] | None = None  # (outline | plate, pad x text height, thickness px)
    distract: tuple[float, float] | None = None  # (gap, visible cut), x text height
    paint: tuple = (None, 0)  # extrusion and glyph fill: (callback for scene.blend, ROI growth px)

    def margin(self, h: float) -> float:
        """How far (layout px, text height `h`) the item's decorations reach past its ink box:
        placement keeps this clear of other items."""
        m = 0.0
        if self.box is not None:
            m = max(m, self.box[1] * h + self.box[2])
        if self.distract is not None:
            m = max(m, (self.distract[0] + self.distract[1]) * h + 2)
        if self.elastic is not None:
            m = max(m, self.elastic[0] * h + 1)
        return m


def draw(d: Draws, name: str, sc, contrast: float, single: bool) -> WordStyle:
    """Which styles item `name` gets and their magnitudes (sc: the SceneStyleCfg). Jitter and
    cut-off neighbours only for single words (a block's lines are its own neighbours)."""
    s = WordStyle()
    if single and sc.jitter.p > 0 and d.bernoulli(f"{name}.style.jitter", sc.jitter.p, src="layout.style.jitter.p"):
        s.jitter = d.uniform(f"{name}.style.jitter_amount", *sc.jitter.range, src="layout.style.jitter.range")
    if sc.elastic.p > 0 and d.bernoulli(f"{name}.style.elastic", sc.elastic.p, src="layout.style.elastic.p"):
        s.elastic = (d.uniform(f"{name}.style.elastic_amplitude", *sc.elastic.amplitude, src="layout.style.elastic.amplitude"),
                     d.uniform(f"{name}.style.elastic_wavelength", *sc.elastic.wavelength, src="layout.style.elastic.wavelength"))
    if sc.box.p > 0 and d.bernoulli(f"{name}.style.box", sc.box.p, src="layout.style.box.p"):
        plate = d.bernoulli(f"{name}.style.box_plate", sc.box.plate, src="layout.style.box.plate")
        pad = d.uniform(f"{name}.style.box_pad", *sc.box.pad, src="layout.style.box.pad")
        th = int(round(d.uniform(f"{name}.style.box_thickness", *sc.box.thickness, src="layout.style.box.thickness")))
        s.box = ("plate" if plate else "outline", pad, max(1, th))
    if single and sc.distractor.p > 0 and d.bernoulli(f"{name}.style.distractor", sc.distractor.p,
                                                      src="layout.style.distractor.p"):
        s.distract = (d.uniform(f"{name}.style.distractor_gap", *sc.distractor.gap, src="layout.style.distractor.gap"),
                      d.uniform(f"{name}.style.distractor_cut", *sc.distractor.cut, src="layout.style.distractor.cut"))
    s.paint = paint(d, name, sc, contrast)  # extrusion and glyph fills
    return s


def paint(d: Draws, name: str, sc, contrast: float):
    """(style callback for scene.blend or None, ROI growth px) for an item's extrusion and glyph
    fill, each a recorded factor `<name>.style.*` drawn only when its chance is > 0. The
    callback draws the extrusion into the ROI (a colour `contrast` / 2 from the text's) and
    returns the glyphs' colour field: a gradient whose second colour stands out from the
    background under the glyphs on the same side as the text colour (linestyles.same_side: a
    gradient across the background's luma would vanish in its middle), or a texture."""
    ext = fill = None
    if sc.extrude.p > 0 and d.bernoulli(f"{name}.style.extrude", sc.extrude.p, src="layout.style.extrude.p"):
        depth = int(round(d.uniform(f"{name}.style.extrude_depth", *sc.extrude.range, src="layout.style.extrude.range")))
        ang = d.uniform(f"{name}.style.extrude_angle", 0.0, 2 * math.pi)
        ext = (max(1, depth), math.cos(ang), math.sin(ang))
    fills = [(k, p) for k, p in (("gradient", sc.fill.gradient), ("texture", sc.fill.texture)) if p > 0]
    if fills and d.bernoulli(f"{name}.style.fill", min(1.0, sum(p for _, p in fills)), src="layout.style.fill"):
        kind = d.choice(f"{name}.style.fill_kind", [k for k, _ in fills], [p for _, p in fills], src="layout.style.fill")
        fill = (kind, d.uniform(f"{name}.style.fill_angle", 0.0, 2 * math.pi))
    if ext is None and fill is None:
        return None, 0

    def style(roi: np.ndarray, a: np.ndarray, color) -> np.ndarray | None:
        if ext is not None:
            side = solid(*roi.shape[:2], contrasting(d, f"{name}.style.extrude_color", luma(color), contrast / 2))
            LS.blend_field(roi, LS.extrusion(a, *ext), side)
        if fill is None:
            return None
        under = luma_under(roi, a)
        c2 = LS.same_side(ink_contrasting(d, f"{name}.style.fill_color2", under, contrast), color, under)
        bg = mean_u8(roi) if roi.size else 128.0
        return LS.fill_field(fill[0], color, c2, fill[1], roi.shape[:2], d.rng_for(f"{name}.style.fill_texture"), bg)

    return style, (ext[0] + 1 if ext else 0)


# -- glyph placement: jitter and elastic ---------------------------------------------------------


def jittered(d: Draws, name: str, path: str, index: int, size: int, text: str, amount: float) -> Layout:
    """A single word whose glyphs each sit off the baseline and get extra advance, uniform in
    +-amount x size (bulk values from d.rng_for(`<name>.style.jitter`)): the glyphs are pasted
    there by glyphs.compose_line, and the char boxes are their ink boxes where pasted."""
    jitter = LS.jitter_offsets(d.rng_for(f"{name}.style.jitter"), len(text), size, amount, amount)
    return layout_line(path, index, size, text, jitter=jitter)


def bend(d: Draws, name: str, mask: np.ndarray, chars: np.ndarray, amp: float,
         wavelength: float):
    """The item bent by an elastic / wave field in its own frame (linestyles.elastic_field:
    a wave along the text plus smooth random bends; `amp` and `wavelength` in layout px).
    The mask is padded first so nothing bends off it. Returns (bent mask, char quads, pad): the
    bent mask as a function that bends it when called (the quads place the item; an item that
    finds no room, a fifth of a scene's, is never bent: the pixels take no draws); the quads in
    the padded frame, pushed out to hold their glyphs' mapped boundaries
    (linestyles.follow_quads). A word's quad is then the box of its bent chars (word_boxes):
    each char's ink lies in its quad, so the word's lies in that box."""
    p = int(math.ceil(amp)) + 2
    h, w = mask.shape
    H, W = h + 2 * p, w + 2 * p
    dx, dy = LS.elastic_field(d.rng_for(f"{name}.style.elastic"), W, H, amp, wavelength)

    def pixels() -> np.ndarray:
        return LS.remap(cv2.copyMakeBorder(mask, p, p, p, p, cv2.BORDER_CONSTANT, value=0), dx, dy)

    # the field bends over >= 2 text heights: 4 samples a char edge hold its boundary
    return pixels, LS.follow_quads(chars + p, dx, dy, per_edge=4), p


def word_boxes(cq: np.ndarray, words: list[list[int]]) -> np.ndarray:
    """Each word's quad (k x 4 x 2): the axis box, in the item's own frame, of its chars' quads."""
    if _native is not None:  # the boxes in one C call: the same min / max
        b = np.empty((len(words), 4), np.float32)
        if _native.word_boxes(cq, words, b) is None:
            return box_quads(b)
    b = np.array([[*cq[i].reshape(-1, 2).min(axis=0), *cq[i].reshape(-1, 2).max(axis=0)] for i in words], np.float32)
    return box_quads(b)


# -- decorations ---------------------------------------------------------------------------------


def box_polygon(ink: tuple[float, float, float, float], pad: float) -> np.ndarray:
    """The item's ink box grown by `pad` layout px, as 4 points (to go through its homography)."""
    x0, y0, x1, y1 = ink
    return box_quads(np.array([x0 - pad, y0 - pad, x1 + pad, y1 + pad], np.float32))


def box_color(d: Draws, name: str) -> tuple[int, int, int]:
    return tuple(int(d.uniform(f"{name}.style.box_color.{c}", 0, 255)) for c in "rgb")


def neighbours(d: Draws, name: str, sampler, slot: int, face, size: int, mask_shape: tuple[int, int],
               ink: tuple[float, float, float, float], gap: float, cut: float) -> tuple[np.ndarray, int] | None:
    """Lines of other text just above and below a word, cut off `cut` x text height past their
    edge nearest the word, `gap` x text height clear of its ink box: a mask in the word's own
    frame whose row 0 is layout row -top, and top (None when the face covers none of the
    drawn words). Never labelled, never ink: slivers of text a reader cannot read, as on a
    crop of a sign whose other lines run past the frame."""
    h = max(ink[3] - ink[1], 1.0)
    above = LS.corpus_line(sampler, d, f"{name}.style.distractor_above", slot, face)
    below = LS.corpus_line(sampler, d, f"{name}.style.distractor_below", slot + 4, face)
    g = max(1, int(round(gap * h)))
    c = max(1, int(round(cut * h)))
    Hm, Wm = mask_shape
    shift = int(d.uniform(f"{name}.style.distractor_shift", 0, 0.5) * h)  # lines start left of the word
    # only what spans the word can show: no face advances less than 0.2 em a character on average
    keep = int((Wm + shift) / (0.2 * size)) + 2
    parts = []
    for t in (above[:keep], below[:keep]):
        parts.append(compose_line(face.path, face.index, size, t, 0.0, 0)[0] if t.strip() else None)
    if parts[0] is None and parts[1] is None:
        return None
    iy0, iy1 = int(math.floor(ink[1])), int(math.ceil(ink[3]))
    top = g + c - iy0  # layout row iy0 - g - c lands on row 0
    out = np.zeros((top + iy1 + g + c, Wm), np.uint8)
    for part, edge in zip(parts, ("above", "below")):
        if part is None:
            continue
        ph, pw = part.shape
        # the neighbour's ink ends `g` px from the word's ink box; only `c` px of it show
        if edge == "above":
            rows = part[max(0, ph - c):]
            y = top + iy0 - g - rows.shape[0]
        else:
            rows = part[: min(ph, c)]
            y = top + iy1 + g
        src = rows[:, shift: shift + Wm]
        out[y: y + src.shape[0], : src.shape[1]] = np.maximum(out[y: y + src.shape[0], : src.shape[1]], src)
    return out, top


# -- the factors declared (synthgen/factors.py) --------------------------------------------------


def declare(cat, name: str, sc, contrast: float, sampler, single: bool = True) -> None:
    """What `draw`, `paint`, the box colour and `neighbours` draw for items `name` (sc: the
    SceneStyleCfg; `single`: whether items can be single words; the
    neighbours' words come from `sampler`, at random). Every style is off at chance 0."""
    from .styles import declare_contrasting

    if single and sc.jitter.p > 0:
        cat.bernoulli(f"{name}.style.jitter", src="layout.style.jitter.p")
        cat.uniform(f"{name}.style.jitter_amount", *sc.jitter.range, src="layout.style.jitter.range")
        cat.seed(f"{name}.style.jitter")
    if sc.elastic.p > 0:
        cat.bernoulli(f"{name}.style.elastic", src="layout.style.elastic.p")
        cat.uniform(f"{name}.style.elastic_amplitude", *sc.elastic.amplitude, src="layout.style.elastic.amplitude")
        cat.uniform(f"{name}.style.elastic_wavelength", *sc.elastic.wavelength, src="layout.style.elastic.wavelength")
        cat.seed(f"{name}.style.elastic")
    if sc.box.p > 0:
        cat.bernoulli(f"{name}.style.box", src="layout.style.box.p")
        cat.bernoulli(f"{name}.style.box_plate", src="layout.style.box.plate")
        cat.uniform(f"{name}.style.box_pad", *sc.box.pad, src="layout.style.box.pad")
        cat.uniform(f"{name}.style.box_thickness", *sc.box.thickness, src="layout.style.box.thickness")
        cat.rgb(f"{name}.style.box_color")
    if single and sc.distractor.p > 0:
        cat.bernoulli(f"{name}.style.distractor", src="layout.style.distractor.p")
        cat.uniform(f"{name}.style.distractor_gap", *sc.distractor.gap, src="layout.style.distractor.gap")
        cat.uniform(f"{name}.style.distractor_cut", *sc.distractor.cut, src="layout.style.distractor.cut")
        for side in ("above", "below"):
            LS.declare_corpus_line(cat, sampler, f"{name}.style.distractor_{side}")
        cat.uniform(f"{name}.style.distractor_shift", 0, 0.5)
        cat.uniform(f"{name}.style.distractor_opacity", 0.5, 1.0)
        declare_contrasting(cat, f"{name}.style.distractor_color", contrast)
    if sc.extrude.p > 0:
        cat.bernoulli(f"{name}.style.extrude", src="layout.style.extrude.p")
        cat.uniform(f"{name}.style.extrude_depth", *sc.extrude.range, src="layout.style.extrude.range")
        cat.uniform(f"{name}.style.extrude_angle", 0.0, 2 * math.pi)
        declare_contrasting(cat, f"{name}.style.extrude_color", contrast / 2)
    fills = [(k, p) for k, p in (("gradient", sc.fill.gradient), ("texture", sc.fill.texture)) if p > 0]
    if fills:
        cat.bernoulli(f"{name}.style.fill", src="layout.style.fill")
        cat.choice(f"{name}.style.fill_kind", [k for k, _ in fills], src="layout.style.fill")
        cat.uniform(f"{name}.style.fill_angle", 0.0, 2 * math.pi)
        declare_contrasting(cat, f"{name}.style.fill_color2", contrast)
        cat.seed(f"{name}.style.fill_texture")  # drawn for gradients too (an argument of fill_field)
