"""Scene text: words at random fonts, sizes, colours and angles on a background, no overlaps.

Each word is laid out once horizontally (cached glyph masks), then warped into its own
bounding box on the image and blended there only: work stays inside regions of interest.
Quads are the layout's exact ink boxes pushed through the same affine matrix.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..config import ImageCfg, LayoutCfg, PipelineConfig, TextCfg
from ..core import Instance
from ..draws import Draws
from ..errors import UserError
from ..native import lib as _native
from ..splits import Splitter, split_faces
from .backgrounds import render_background
from .corpus import CASES, TextSampler, apply_case, key_of
from . import linestyles as LS
from . import scenestyles as SS
from .fonts import FaceCoverage, FontFace, FontPicker, resolve_faces
from .glyphs import Layout, layout_line, raster_size
from .layout import apply_h, apply_t, as_array, mm3, r3, s3, t3, warp
from .layout import box_quads as box_corners
from .styles import blend as blend_color
from .styles import ink_contrasting, luma_under

PLACEMENT_TRIES = 8
# Glyphs are rasterised at the next step up this ladder (steps of ~1/4) and scaled down by at
# most ~20% in the warp every item gets anyway: with 106 font families, fewer (face, size)
# glyph tables to fill (a cache miss costs ~0.3 ms) than the line renderer's finer ladder.
SCENE_LADDER = (4, 5, 6, 7, 8, 10, 12, 15, 19, 24, 30, 38, 48, 60, 75, 94, 118, 148, 186, 233, 292)
GRID = 4  # occupancy grid cell, px
_KERNEL = np.ones((3, 3), np.uint8)


def blend(img: np.ndarray, mask: np.ndarray, M, color, ink: np.ndarray | None = None, style=None,
          grow: int = 0) -> None:
    """Warp `mask` by M (3 x 3 homography as an array or tuple matrix, or a 2 x 3 affine array;
    pixel-corner coordinates) and blend `color` into `img` under it, touching only the warped
    mask's bounding box (grown by `grow` px). `ink` (H x W uint8): also max the warped mask into
    it. `style(roi, alpha, color)`: draws decorations into the ROI first and may return a colour
    field for the glyphs (scenestyles.paint)."""
    if isinstance(M, np.ndarray):
        M = tuple(map(tuple, (M if M.shape == (3, 3) else np.vstack([M, [0, 0, 1]])).tolist()))
    H, W = img.shape[:2]
    h, w = mask.shape
    corners = apply_t(M, ((0, 0), (w, 0), (w, h), (0, h)))
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    x0, y0 = max(0, math.floor(min(xs)) - grow), max(0, math.floor(min(ys)) - grow)
    x1, y1 = min(W, math.ceil(max(xs)) + grow), min(H, math.ceil(max(ys)) + grow)
    if x1 <= x0 or y1 <= y0:
        return
    a = warp(mask, mm3(t3(-x0, -y0), M), (x1 - x0, y1 - y0))  # into the ROI only
    if callable(color):  # chosen against the background under the warped glyphs
        color = color(img[y0:y1, x0:x1], a)
    field = style(img[y0:y1, x0:x1], a, color) if style is not None else None
    if field is None:
        blend_color(img[y0:y1, x0:x1], a, color)
    else:
        LS.blend_field(img[y0:y1, x0:x1], a, field)
    if ink is not None:
        np.maximum(ink[y0:y1, x0:x1], a, out=ink[y0:y1, x0:x1])


def quad_height(q: np.ndarray) -> float:
    """Distance between the midpoints of the top and bottom edges."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = q.tolist()
    return math.hypot((x3 + x2 - x0 - x1) / 2, (y3 + y2 - y0 - y1) / 2)


class SceneRenderer:
    # the kind's declarations (renderers/registry.py)
    sections = {"image": ImageCfg, "text": TextCfg, "layout": LayoutCfg}
    score_always = True  # detection data: the score map is always in the shard
    stride_multiples = ("image.width", "image.height")  # maps cover the whole image

    def __init__(self, cfg: PipelineConfig, seed: int = 0) -> None:
        self.cfg = cfg
        self.faces: list[FontFace] = split_faces(resolve_faces(cfg.fonts.families, cfg.fonts.folders, cfg.fonts.exclude),
                                                 Splitter.from_config(cfg))
        self.picker = FontPicker(cfg.fonts.styles, self.faces)
        self.by_name = {f.name: f for f in self.faces}
        # Words walk a keyed permutation of the corpus across the whole dataset (without
        # replacement, like lines); block words walk a second one.
        sources = {c: 1.0 for c in cfg.text.corpus}
        split = Splitter.from_config(cfg)
        self.sampler = TextSampler(sources, seed, split=split)
        self.block_sampler = TextSampler(sources, key_of(seed, "scene-block-words"), split=split)
        self.max_items = cfg.text.words[1]
        self.max_block_words = cfg.layout.block_lines[1] * cfg.layout.block_words[1]
        self.case_names = [c for c in CASES if cfg.text.case.get(c, 0) > 0]
        self.case_weights = [cfg.text.case[c] for c in self.case_names]
        ex = cfg.layout.style.extrude
        self.extrude_reach = ex.range[1] + 1.0 if ex.p > 0 else 0.0  # image px
        self.coverage = FaceCoverage(self.faces, self.picker)  # which faces have every character of a text

    # -- the factors declared (synthgen/factors.py) -------------------------------------------
    def factors(self, cat) -> None:
        """Every factor `render` can draw under this config, as `render` draws it."""
        from .backgrounds import declare as declare_background
        from .styles import declare_contrasting

        cfg = self.cfg
        t, lc = cfg.text, cfg.layout
        W, H = cfg.image.width, cfg.image.height
        cat.instances = t.words[1] * (self.max_block_words if lc.block > 0 and lc.small < 1 else 1)
        declare_background(cat, cfg.background.weights, cfg.background.folders, (W, W), (H, H))
        cat.integers("distractors", *lc.distractors, src="layout.distractors")
        if lc.distractors[1] > 0:
            n = "distractor[*]"
            cat.choice(f"{n}.kind", DISTRACTORS)
            cat.rgb(f"{n}.color")
            cat.integers(f"{n}.thickness", 1, 4)
            cat.uniform(f"{n}.x", 0, W)
            cat.uniform(f"{n}.y", 0, H)
            cat.uniform(f"{n}.a", 8, W / 3)
            cat.uniform(f"{n}.b", 8, H / 3)
            cat.uniform(f"{n}.angle", 0, 180)
            for j in range(4):  # a polyline's points, within its drawn extent (a, b)
                cat.uniform(f"{n}.p{j}x", -(W / 3), W / 3, depends=True)
                cat.uniform(f"{n}.p{j}y", -(H / 3), H / 3, depends=True)
        cat.integers("words", *t.words, src="text.words")
        n = "word[*]"
        cat.bernoulli(f"{n}.small", src="layout.small")
        if lc.small < 1:
            cat.bernoulli(f"{n}.block", src="layout.block")
        self.sampler.declare(cat, n)
        if self.case_names and any(src is not None for src in self.sampler.sources.values()):
            cat.choice(f"{n}.case", self.case_names, src="text.case")
        cat.assigned(f"{n}.text")
        cat.choice(f"{n}.font", [f.name for f in self.faces], src="fonts.families", depends=True)
        if lc.small > 0:
            cat.uniform(f"{n}.size", *lc.small_size, src="layout.small_size")
        if lc.small < 1:
            cat.uniform(f"{n}.size", *t.size, src="text.size")
        SS.declare(cat, n, lc.style, t.contrast, self.block_sampler)
        if lc.block > 0 and lc.small < 1:
            cat.integers(f"{n}.lines", *lc.block_lines, src="layout.block_lines")
            cat.uniform(f"{n}.leading", *lc.leading, src="layout.leading")
            cat.integers(f"{n}.line[*].words", *lc.block_words, src="layout.block_words")
            if self.max_block_words > 1:
                self.block_sampler.declare(cat, f"{n}.w[*]")
                cat.assigned(f"{n}.w[*].text")
        cat.uniform(f"{n}.angle", *t.angle, src="text.angle")
        cat.bernoulli(f"{n}.perspective", src="layout.perspective")
        if lc.perspective > 0:
            cat.uniform(f"{n}.tilt_x", -lc.tilt, lc.tilt, src="layout.tilt")
            cat.uniform(f"{n}.tilt_y", -lc.tilt, lc.tilt, src="layout.tilt")
        sg = lc.sign
        if sg.p > 0:
            cat.bernoulli(f"{n}.sign", src="layout.sign.p")
            cat.uniform(f"{n}.sign.pad", *sg.pad, src="layout.sign.pad")
            LS.declare_sign(cat, n, sg.texture, sg.border)
        # the item's centre keeps its footprint inside the frame, a pixel clear of each edge (but a
        # small tilted word's footprint grown past its plane's horizon is not centred on the word
        # and can draw a centre outside this: 1 of 120 samples of ocr_scene with split test by
        # fonts, none of 600 shipped ones)
        cat.uniform(f"{n}.x", 1, W - 1, depends=True)
        cat.uniform(f"{n}.y", 1, H - 1, depends=True)
        cat.derived(f"{n}.placed")
        declare_contrasting(cat, f"{n}.color", t.contrast)
        cat.derived("words_placed")

    # -- text and font ----------------------------------------------------------------------
    def pick_text(self, d: Draws, name: str, slot: int) -> tuple[str, FontFace]:
        """The item's first word (`<name>.text`, pinnable; from the corpus walk, redrawn at
        random while no face covers it) and its face (`<name>.font`, by name, among the faces
        covering the text)."""
        text = ""
        for attempt in range(10):
            word, generated = self.sampler.word(d, name, slot, random=attempt > 0)
            if self.case_names and not generated:
                word = apply_case(word, d.choice(f"{name}.case", self.case_names, self.case_weights, src="text.case"))
            text = str(d.assign(f"{name}.text", word))
            _, faces, weights = self.coverage.of(self.coverage.mask(text))
            if faces:
                return text, self.by_name[d.choice(f"{name}.font", faces, weights, src="fonts.families")]
            if self.cfg.fonts.on_missing_glyph == "error" or d.pin_of(f"{name}.text") is not None:
                missing = sorted({c for c in text if not any(f.covers(c) for f in self.faces)})
                raise UserError(
                    f"no configured font covers {''.join(missing)!r} in {text!r}; add a font that has these glyphs "
                    "(fonts.families / fonts.folders) or set fonts.on_missing_glyph=redraw"
                )
        raise UserError(f"after 10 draws no configured font covers the corpus text (last: {text!r}); check fonts vs corpus with `synthgen fonts check`")

    # -- rendering --------------------------------------------------------------------------
    def render(self, d: Draws, index: int, want_ink: bool = False,
               meta: dict | None = None) -> tuple[np.ndarray, list[Instance], np.ndarray | None]:
        """Background, distractors, then the items one by one; `index` places the sample's
        words in the dataset-wide corpus walk. `want_ink`: also the text coverage as composited
        (max over items of each item's warped mask), before augmentation."""
        cfg = self.cfg
        W, H = cfg.image.width, cfg.image.height
        img = render_background(d, cfg.background.weights, cfg.background.folders, W, H)
        draw_distractors(d, img, cfg.layout.distractors)
        occupied = np.zeros((H // GRID + 6, W // GRID + 6), np.uint8)  # see _place
        n_items = d.integers("words", *cfg.text.words, src="text.words")
        instances: list[Instance] = []
        ink = np.zeros((H, W), np.uint8) if want_ink else None
        for i in range(n_items):
            instances += self._item(d, f"word[{i}]", index * self.max_items + i, img, occupied, ink)
        d.derive("words_placed", len(instances))
        return img, instances, ink

    def _layout(self, d: Draws, name: str, slot: int):
        """Lay out one item: a word, or a block of lines, and draw its styles (scenestyles.draw;
        a single word's jitter is laid out here). Returns the layout, the words as (text, char
        indices into layout.boxes), the scale from the raster size the glyphs were drawn at to
        the drawn font size (applied by the item's warp), the styles, the face and the raster size."""
        t, lay_cfg = self.cfg.text, self.cfg.layout
        small = d.bernoulli(f"{name}.small", lay_cfg.small, src="layout.small")
        block = not small and d.bernoulli(f"{name}.block", lay_cfg.block, src="layout.block")
        text, face = self.pick_text(d, name, slot)
        size = int(round(d.uniform(f"{name}.size", *(lay_cfg.small_size if small else t.size),
                                   src="layout.small_size" if small else "text.size")))
        size = max(size, 4)
        raster = raster_size(size, SCENE_LADDER)
        st = SS.draw(d, name, lay_cfg.style, t.contrast, single=not block)
        if not block:
            if st.jitter:
                lay = SS.jittered(d, name, face.path, face.index, raster, text, st.jitter)
            else:
                lay = layout_line(face.path, face.index, raster, text)
            return lay, [(text, list(range(len(text))))], size / raster, st, face, raster
        # A block: lines of words in one face, left-aligned, stacked at a random leading.
        n_lines = d.integers(f"{name}.lines", *lay_cfg.block_lines, src="layout.block_lines")
        pitch = raster * d.uniform(f"{name}.leading", *lay_cfg.leading, src="layout.leading")
        lines: list[list[str]] = []
        k = 0
        for li in range(n_lines):
            words = []
            for _ in range(d.integers(f"{name}.line[{li}].words", *lay_cfg.block_words, src="layout.block_words")):
                if k == 0:
                    w = text
                else:
                    w = self._pick_word_for(d, f"{name}.w[{k}]", slot * self.max_block_words + k, face)
                words.append(w)
                k += 1
            lines.append(words)
        return (self._stack(face, raster, lines, pitch), [(w, idx) for w, idx in self._word_index(lines)], size / raster,
                st, face, raster)

    def _pick_word_for(self, d: Draws, name: str, slot: int, face: FontFace) -> str:
        """A block's further word (`<name>.text`): the block walk's word, redrawn at random
        while the block's face lacks a glyph of it."""
        w = ""
        for attempt in range(10):
            w, _generated = self.block_sampler.word(d, name, slot, random=attempt > 0)
            w = str(d.assign(f"{name}.text", w))
            if face.covers(w):
                return w
        return d.assign(f"{name}.text", "".join(c for c in w if face.covers(c)) or "text")

    @staticmethod
    def _word_index(lines: list[list[str]]):
        k = 0
        for words in lines:
            for w in words:
                yield w, list(range(k, k + len(w)))
                k += len(w)

    @staticmethod
    def _stack(face: FontFace, size: int, lines: list[list[str]], pitch: float) -> Layout:
        """Stack word-spaced lines into one mask; char boxes of the words only (spaces dropped)."""
        lays = [layout_line(face.path, face.index, size, " ".join(ws), pad=0) for ws in lines]
        width = int(max(l.mask.shape[1] for l in lays)) + 2
        tops = [int(round(i * pitch)) for i in range(len(lays))]
        height = int(max(t + l.mask.shape[0] for t, l in zip(tops, lays))) + 2
        mask = np.zeros((height, width), np.uint8)
        boxes = []
        for top, l, ws in zip(tops, lays, lines):
            h, w = l.mask.shape
            region = mask[1 + top : 1 + top + h, 1 : 1 + w]
            np.maximum(region, l.mask, out=region)
            keep = [k for k, ch in enumerate(" ".join(ws)) if ch != " "]
            boxes.append(l.boxes[keep] + np.array([1, 1 + top, 1, 1 + top], np.float32))
        b = np.concatenate(boxes)
        lo, hi = b.min(axis=0).tolist(), b.max(axis=0).tolist()
        return Layout(mask, b, (lo[0], lo[1], hi[2], hi[3]))

    def _transform(self, d: Draws, name: str, ink: tuple[float, float, float, float], scale: float):
        """Homography (tuple matrix) from layout coordinates to coordinates centred on the item:
        the raster-to-drawn-size scale, a rotation, and sometimes a projective tilt (text on a
        plane seen at an angle)."""
        lc = self.cfg.layout
        x0, y0, x1, y1 = ink
        M = r3(d.uniform(f"{name}.angle", *self.cfg.text.angle, src="text.angle"))
        if d.bernoulli(f"{name}.perspective", lc.perspective, src="layout.perspective"):
            # Tilt in the text's own frame, normalised by its half extents: the scale across the
            # item varies by at most 1 +- tilt whatever its size or angle.
            px = d.uniform(f"{name}.tilt_x", -lc.tilt, lc.tilt, src="layout.tilt") / max((x1 - x0) * scale / 2.0, 1.0)
            py = d.uniform(f"{name}.tilt_y", -lc.tilt, lc.tilt, src="layout.tilt") / max((y1 - y0) * scale / 2.0, 1.0)
            M = mm3(M, ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (px, py, 1.0)))
        return mm3(mm3(M, s3(scale)), t3(-(x0 + x1) / 2.0, -(y0 + y1) / 2.0))

    def _place(self, d: Draws, name: str, rel: list[tuple[float, float]], W: int, H: int, grid: np.ndarray):
        """A free spot for the item's quad `rel` (4 points, centred); marks it occupied. None if
        none found.

        Occupancy is a grid of GRID px cells. The item's footprint is rasterised once, in cells
        relative to its bounding box (to within half a cell), together with a copy grown by one
        cell; a try then costs one AND of that grown copy with the grid at the candidate spot, so
        placed items keep at least a cell between them."""
        (ax, ay), (bx, by), (cx, cy), (ex, ey) = rel
        lo_x, lo_y, hi_x, hi_y = min(ax, bx, cx, ex), min(ay, by, cy, ey), max(ax, bx, cx, ex), max(ay, by, cy, ey)
        if hi_x - lo_x > W - 2 or hi_y - lo_y > H - 2:
            return None
        # footprint cells: 1 cell of margin for the grown copy, the box's corner cell at (1, 1)
        fw, fh = int((hi_x - lo_x) / GRID) + 4, int((hi_y - lo_y) / GRID) + 4
        foot = np.zeros((fh, fw), np.uint8)
        pts = [(int((x - lo_x) / GRID + 1.5), int((y - lo_y) / GRID + 1.5)) for x, y in rel]
        cv2.fillConvexPoly(foot, np.array(pts, np.int32), 1)
        grown = np.empty_like(foot)  # (the dilation in C where it can: synthgen/_native.c)
        if _native is None or _native.dilate3(foot, grown) is not None:
            grown = cv2.dilate(foot, _KERNEL)
        gh, gw = grid.shape
        xn, yn = f"{name}.x", f"{name}.y"
        x_lo, x_hi, y_lo, y_hi = 1 - lo_x, W - 1 - hi_x, 1 - lo_y, H - 1 - hi_y
        for _ in range(PLACEMENT_TRIES):
            cx = d.uniform(xn, x_lo, x_hi)
            cy = d.uniform(yn, y_lo, y_hi)
            # the grid has a one-cell border: footprint cell (i, j) lands on grid cell (k + i, ...)
            kx, ky = int((lo_x + cx) / GRID), int((lo_y + cy) / GRID)
            if kx < 0 or ky < 0 or kx + fw > gw or ky + fh > gh:  # a pinned spot off the image: no fit
                continue
            if _mark(grid, grown, foot, kx, ky):
                return cx, cy
        return None

    def _item(self, d: Draws, name: str, slot: int, img: np.ndarray, occupied: np.ndarray,
              ink: np.ndarray | None = None) -> list[Instance]:
        t = self.cfg.text
        H, W = img.shape[:2]
        lay, words, scale, st, face, raster = self._layout(d, name, slot)
        mask, box = lay.mask, lay.ink
        bent = None  # (char quads, word quads) in the layout frame, when the item is bent
        if st.elastic is not None:
            h = box[3] - box[1]
            # (the mask is bent below, once placed)
            mask, cq, _ = SS.bend(d, name, mask, box_corners(lay.boxes), st.elastic[0] * h, st.elastic[1] * h)
            wq = SS.word_boxes(cq, [i for _, i in words])
            bent = (cq, wq)
            lo, hi = wq.reshape(-1, 2).min(axis=0).tolist(), wq.reshape(-1, 2).max(axis=0).tolist()
            box = (lo[0], lo[1], hi[0], hi[1])
        Hrel = self._transform(d, name, box, scale)
        x0, y0, x1, y1 = box
        rel = apply_t(Hrel, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)))
        sg = self.cfg.layout.sign
        g = 0.0  # a sign's margin in layout px: the footprint placed is the sign's, not the text's
        if sg.p > 0 and d.bernoulli(f"{name}.sign", sg.p, src="layout.sign.p"):
            g = d.uniform(f"{name}.sign.pad", *sg.pad, src="layout.sign.pad") * min(y1 - y0, x1 - x0)
        sign = None if not g else apply_t(Hrel, ((x0 - g, y0 - g), (x1 + g, y0 - g), (x1 + g, y1 + g), (x0 - g, y1 + g)))
        # decorations (box, neighbours, bend, extrusion) keep their reach clear of other items too;
        # extrusion's as configured, drawn or not (a word's place does not depend on its paint)
        m = max(g, st.margin(y1 - y0), self.extrude_reach / max(scale, 1e-6))
        gp = m + 6.0 / max(scale, 1e-6)  # placed 6 px wider than drawn: the grid is coarse (GRID px)
        foot = rel if not m else apply_t(Hrel, ((x0 - gp, y0 - gp), (x1 + gp, y0 - gp), (x1 + gp, y1 + gp), (x0 - gp, y1 + gp)))
        spot = self._place(d, name, foot, W, H, occupied)
        d.derive(f"{name}.placed", spot is not None)
        if spot is None:
            return []
        sx, sy = spot
        if bent is not None:
            mask = mask()
        quad = [(x + sx, y + sy) for x, y in rel]
        Hm = mm3(t3(sx, sy), Hrel)
        if g:
            LS.draw_sign(d, name, img, np.array([(x + sx, y + sy) for x, y in sign], np.float64), sg.texture, sg.border)
        if st.box is not None:  # on the item's plane, under the text: the text colour is chosen against it
            kind, pad, th = st.box
            poly = np.array(apply_t(Hm, SS.box_polygon(box, pad * (y1 - y0)).tolist()), np.float32)
            LS.draw_box(img, poly, kind, 0.0, th, SS.box_color(d, name))
        if st.distract is not None:  # never labelled, never in the ink
            nb = SS.neighbours(d, name, self.block_sampler, slot * self.max_block_words, face, raster, mask.shape, box,
                               *st.distract)
            if nb is not None:  # sometimes faded: an opacity factor (0 hides them, as tests pin it)
                fade = d.uniform(f"{name}.style.distractor_opacity", 0.5, 1.0)
                blend(img, cv2.convertScaleAbs(nb[0], alpha=fade), mm3(Hm, t3(0.0, -nb[1])), lambda roi, a: ink_contrasting(
                    d, f"{name}.style.distractor_color", luma_under(roi, a), t.contrast))
        # text.contrast against the background under the glyphs themselves (styles.ink_contrasting)
        style, grow = st.paint
        blend(img, mask, Hm, lambda roi, a: ink_contrasting(d, f"{name}.color", luma_under(roi, a), t.contrast), ink,
              style, grow)
        Hn = as_array(Hm)
        if bent is not None:  # chars and words bent with the glyphs (scenestyles.bend), one transform
            q = apply_h(Hn, np.concatenate(bent))
            all_chars, word_quads = q[: len(bent[0])], list(q[len(bent[0]) :])
        elif len(words) == 1:  # a single word's box is the layout's ink box, already placed
            all_chars = apply_h(Hn, box_corners(lay.boxes))
            word_quads = [np.array(quad, np.float32)]
        else:  # one transform for every char and word box of the block
            wb = np.array([[lay.boxes[i][:, 0].min(), lay.boxes[i][:, 1].min(), lay.boxes[i][:, 2].max(),
                            lay.boxes[i][:, 3].max()] for _, i in words], np.float32)
            q = apply_h(Hn, box_corners(np.concatenate([lay.boxes, wb])))
            all_chars, word_quads = q[: len(lay.boxes)], q[len(lay.boxes) :]
        # (float32 (4, 2) word quads and (n, 4, 2) char rows: what the constructor's conversions would make)
        return [
            Instance.trusted(wq, text, _rows(all_chars, idx), "word", None, quad_height(wq) < t.min_readable)
            for (text, idx), wq in zip(words, word_quads)
        ]


def _mark(grid: np.ndarray, grown: np.ndarray, foot: np.ndarray, kx: int, ky: int) -> bool:
    """One placement try at grid cell (kx, ky), in bounds: False when an occupied cell lies under
    the grown footprint, else the footprint marked occupied and True (in C where it can)."""
    if _native is not None:
        free = _native.grid_place(grid, grown, foot, kx, ky)
        if free is not NotImplemented:
            return free
    fh, fw = foot.shape
    region = grid[ky : ky + fh, kx : kx + fw]
    # any occupied cell under the grown footprint: the largest cell value under it, one OpenCV
    # call (~4x faster than AND + countNonZero)
    if cv2.norm(region, cv2.NORM_INF, grown):
        return False
    np.bitwise_or(region, foot, out=region)
    return True


def _rows(a: np.ndarray, idx: list[int]) -> np.ndarray:
    """a[idx], a copy: as a slice when idx is a run of consecutive rows (a word's chars always
    are), ~5x cheaper than indexing with a list."""
    if idx and idx == list(range(idx[0], idx[0] + len(idx))):
        return a[idx[0] : idx[0] + len(idx)].copy()
    return a[idx]


DISTRACTORS = ("line", "rect", "circle", "polyline", "ellipse")


def draw_distractors(d: Draws, img: np.ndarray, count: tuple[int, int]) -> None:
    """Non-text shapes (strokes, boxes, rings) so a detector learns that not every edge is text."""
    H, W = img.shape[:2]
    for k in range(d.integers("distractors", *count, src="layout.distractors")):
        n = f"distractor[{k}]"
        kind = d.choice(f"{n}.kind", DISTRACTORS)
        color = tuple(int(d.uniform(f"{n}.color.{c}", 0, 255)) for c in "rgb")
        thick = d.integers(f"{n}.thickness", 1, 4)
        x, y = int(d.uniform(f"{n}.x", 0, W)), int(d.uniform(f"{n}.y", 0, H))
        a, b = int(d.uniform(f"{n}.a", 8, W / 3)), int(d.uniform(f"{n}.b", 8, H / 3))
        if kind == "line":
            cv2.line(img, (x, y), (x + a, y + b - H // 6), color, thick, cv2.LINE_AA)
        elif kind == "rect":
            cv2.rectangle(img, (x, y), (x + a, y + b), color, thick, cv2.LINE_AA)
        elif kind == "circle":
            cv2.circle(img, (x, y), min(a, b) // 2, color, thick, cv2.LINE_AA)
        elif kind == "ellipse":
            cv2.ellipse(img, (x, y), (a // 2, b // 3), d.uniform(f"{n}.angle", 0, 180), 0, 360, color, thick, cv2.LINE_AA)
        else:
            pts = np.array([[x + int(d.uniform(f"{n}.p{j}x", -a, a)), y + int(d.uniform(f"{n}.p{j}y", -b, b))] for j in range(4)], np.int32)
            cv2.polylines(img, [pts], False, color, thick, cv2.LINE_AA)
