"""Text lines for recognition: one crop `line.height` px high (default 32) holding 1-3 words,
with a transcription, a quad for the line and a quad per character.

Per sample: text (keyed permutation of the corpus, see corpus.py) -> a face covering all of
it -> a layout from cached glyph masks (straight, arc, sine, vertical CJK; raqm-shaped for
scripts that need it) -> stroke/underline masks in layout space -> ONE warp of those masks
into the crop (rotation, skew, a mild perspective plane, fit-to-height scale and placement
composed into a single homography) -> shadow, stroke and fill blended over a cached-bank
background crop. Quads go through the same homography, so they follow every style.

Labels: char quads are the glyphs' ink boxes (grown by the stroke width when there is a
stroke); the line quad holds all of them. Shadows and underlines are decoration, not text:
they are drawn but not labelled (a recogniser should read "abc", not the rule under it).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..config import PipelineConfig
from ..core import Instance
from ..draws import Draws
from ..errors import UserError
from ..splits import Splitter, split_faces
from . import layout as L
from . import linestyles as LS
from . import shaping
from .backgrounds import render_background
from .corpus import CASES, TextSampler, apply_case
from .fonts import FaceCoverage, FontFace, FontPicker, resolve_faces
from .glyphs import inset_quads, raster_size
from .layout import apply_t as _apply
from .layout import mm3 as _mm
from .layout import r3 as _R
from .layout import s3 as _S
from .layout import t3 as _T
from .layout import warp
from .styles import (blend, contrasting, ink_contrasting, luma, luma_under, photo_contrasting, shadow, stroke,
                     underline)

REDRAWS = 10
# Glyphs are rasterised at a few sizes only and scaled down in the one warp every line gets
# anyway. Rasterising a hanzi costs ~0.15-0.25 ms (FreeType, CFF outlines), so the glyph cache
# of a process warms in proportion to the sizes it uses: every font size from 0.6x the largest
# the config draws up to that largest shares ONE raster size (the ladder's next step up from
# it), and only smaller text gets its own (the next step up). Default 32 px lines: sizes
# 17.6-27.2 px all come from 28 px glyphs, scaled by 0.63-0.97.
RASTER_SIZES = (6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
                384, 448, 512)
SHARED_RASTER = 0.6  # sizes down to this fraction of the largest share its raster size


MIN_SQUEEZE = 0.6  # below this scale a too-long line drops its last word instead of shrinking



def join(parts: list[str]) -> str:
    """Words joined by spaces, except between two CJK characters (Chinese has no spaces)."""
    out = parts[0]
    for p in parts[1:]:
        out += ("" if L.has_cjk(out[-1]) and L.has_cjk(p[0]) else " ") + p
    return out


class LineRenderer:
    # the kind's declarations (renderers/registry.py): its config section, a recognition crop,
    # EAST maps only when labels.store asks (then the crop height must fit the stride)
    sections = {"line": "synthgen.config:LineCfg"}
    crop = True
    score_always = False
    stride_multiples = ("line.height",)

    def __init__(self, cfg: PipelineConfig, seed: int) -> None:
        if cfg.line is None:
            raise ValueError("LineRenderer needs a kind: line config")
        self.cfg = cfg
        self.lc = cfg.line
        self.faces: list[FontFace] = split_faces(resolve_faces(cfg.fonts.families, cfg.fonts.folders, cfg.fonts.exclude),
                                                 Splitter.from_config(cfg))
        self.picker = FontPicker(cfg.fonts.styles, self.faces)
        self.by_name = {f.name: f for f in self.faces}
        cc = self.lc.corpus
        self.sampler = TextSampler(cc.sources, seed, cc.balance, cc.char_run, split=Splitter.from_config(cfg))
        self.case_names = [c for c in CASES if cc.case.get(c, 0) > 0]
        self.case_weights = [cc.case[c] for c in self.case_names]
        lw = self.lc.layout.weights
        self.layout_names = [k for k in ("straight", "arc", "sine", "vertical") if lw.get(k, 0) > 0]
        self.layout_weights = [lw[k] for k in self.layout_names]
        self.coverage = FaceCoverage(self.faces, self.picker)
        self._plain: set[str] = set()  # characters known to need no shaping, and known to need it
        self._shaping: set[str] = set()
        self.top_raster = raster_size(max(6.0, self.lc.height * self.lc.size[1]), RASTER_SIZES)

    # -- text and font ----------------------------------------------------------------------
    def _cover(self, text: str) -> tuple[int, bool]:
        """(bit mask of the faces covering every character of `text`, whether it needs shaping)."""
        plain = self._plain
        if not plain.issuperset(text):  # (one C-level pass over the text when every character is known)
            for c in set(text).difference(plain, self._shaping):
                (self._shaping if shaping.needs_shaping(c) else plain).add(c)
        return self.coverage.mask(text), not plain.issuperset(text)

    def pick(self, d: Draws, index: int) -> tuple[str, list[str], FontFace, bool]:
        """The line's text (`line.text`, pinnable), its words, a face that has a glyph for
        every character (`line.font`, chosen by name among the faces covering the text), and
        whether the text needs complex shaping. A string no face covers is drawn again (each
        redraw is the next draw of the same factors, so nothing outside the loop moves), or is
        an error, per fonts.on_missing_glyph; never drawn with boxes."""
        cc = self.lc.corpus
        max_words = cc.words[1]
        text = ""
        for attempt in range(REDRAWS):
            n = d.integers("line.words", *cc.words, src="line.corpus.words")
            words = [self.sampler.word(d, f"line.word[{k}]", index * max_words + k, random=attempt > 0)
                     for k in range(n)]
            case = (d.choice("line.case", self.case_names, self.case_weights, src="line.corpus.case")
                    if self.case_names else "as_is")
            # Case applies to corpus words; generated strings (codes, dates, ...) keep theirs.
            parts = [" ".join((w if generated else apply_case(w, case)).split()) for w, generated in words]
            parts = [p for p in parts if p] or ["?"]
            text = join(parts)
            while len(parts) > 1 and len(text) > cc.max_chars:
                parts.pop()
                text = join(parts)
            if len(parts[0]) > cc.max_chars:
                parts = [parts[0][: cc.max_chars].strip() or parts[0][: cc.max_chars]]
                text = parts[0]
            pinned = str(d.assign("line.text", text))
            if pinned != text:
                text, parts = pinned, [pinned]
            mask, shaped = self._cover(text)
            faces, names, weights = self.coverage.of(mask)
            if faces and (not shaped or shaping.available()):
                face = self.by_name[d.choice("line.font", names, weights, src="fonts.families")]
                return text, parts, face, shaped
            if self.cfg.fonts.on_missing_glyph == "error" or d.pin_of("line.text") is not None:
                if not faces:
                    missing = sorted({c for c in text if not any(f.covers(c) for f in self.faces)})
                    raise UserError(
                        f"no configured font covers {''.join(missing)!r} in {text!r}; add a font that has these "
                        "glyphs (fonts.families / fonts.folders) or set fonts.on_missing_glyph=redraw")
                raise UserError(f"{text!r} needs complex shaping but this Pillow has no raqm layout engine; "
                                "install libraqm (e.g. apt-get install libraqm0) or remove such text from the corpus")
        raise UserError(f"after {REDRAWS} draws no configured font covers the line text (last: {text!r}); "
                        "check fonts against the corpus with `synthgen fonts check`")

    # -- the factors declared (synthgen/factors.py) -------------------------------------------
    def factors(self, cat) -> None:
        """Every factor `render` can draw under this config, as `render` draws it."""
        from .backgrounds import declare as declare_background
        from .styles import declare_contrasting, declare_photo_contrasting

        lc = self.lc
        st, lg, lo = lc.style, lc.geometry, lc.layout
        cc = lc.corpus
        cat.instances = 1  # the line
        cat.integers("line.words", *cc.words, src="line.corpus.words")
        self.sampler.declare(cat, "line.word[*]")
        if self.case_names:
            cat.choice("line.case", self.case_names, src="line.corpus.case")
        cat.assigned("line.text")
        cat.choice("line.font", [f.name for f in self.faces], src="fonts.families", depends=True)
        cat.uniform("line.size", *lc.size, src="line.size")
        cat.choice("line.layout", self.layout_names, src="line.layout.weights")
        cat.derived("line.layout")
        # vertical needs CJK text (else straight); text that needs shaping is one shaped run
        kinds = set(self.layout_names) | ({"straight"} if "vertical" in self.layout_names else set())
        if "arc" in kinds:
            cat.uniform("line.layout.arc", *lo.arc, src="line.layout.arc")
            cat.bernoulli("line.layout.arc_up")
        if "sine" in kinds:
            cat.uniform("line.layout.sine_amplitude", *lo.sine_amplitude, src="line.layout.sine_amplitude")
            cat.uniform("line.layout.sine_wavelength", *lo.sine_wavelength, src="line.layout.sine_wavelength")
            cat.uniform("line.layout.sine_phase", 0.0, 2 * math.pi)
        cat.bernoulli("line.style.spacing", src="line.style.spacing.p")
        if st.spacing.p > 0:
            cat.uniform("line.style.spacing_amount", *st.spacing.range, src="line.style.spacing.range")
        cat.bernoulli("line.style.outline_shadow", src="line.style.outline_shadow")
        cat.bernoulli("line.style.stroke", src="line.style.stroke.p")
        if st.stroke.p > 0 or st.outline_shadow > 0:
            cat.uniform("line.style.stroke_width", *st.stroke.range, src="line.style.stroke.range")
            if round(st.stroke.range[1]) > 0:
                declare_contrasting(cat, "line.style.stroke_color", lc.contrast)
        cat.bernoulli("line.style.shadow", src="line.style.shadow.p")
        if st.shadow.p > 0 or st.outline_shadow > 0:
            for ax, side in (("dx", "right"), ("dy", "down")):
                cat.uniform(f"line.style.shadow_{ax}", *st.shadow.offset, src="line.style.shadow.offset")
                cat.bernoulli(f"line.style.shadow_{side}")
            cat.uniform("line.style.shadow_blur", *st.shadow.blur, src="line.style.shadow.blur")
            cat.uniform("line.style.shadow_opacity", *st.shadow.opacity, src="line.style.shadow.opacity")
            declare_contrasting(cat, "line.style.shadow_color", lc.contrast / 2)
        cat.bernoulli("line.style.underline", src="line.style.underline.p")
        if st.underline.p > 0:
            cat.uniform("line.style.underline_gap", *st.underline.gap, src="line.style.underline.gap")
            cat.uniform("line.style.underline_thickness", *st.underline.thickness, src="line.style.underline.thickness")
        cat.uniform("line.geometry.rotate", *lg.rotate, src="line.geometry.rotate")
        cat.uniform("line.geometry.skew", *lg.skew, src="line.geometry.skew")
        cat.bernoulli("line.geometry.perspective", src="line.geometry.perspective")
        if lg.perspective > 0:
            cat.uniform("line.geometry.tilt_x", -lg.tilt, lg.tilt, src="line.geometry.tilt")
            cat.uniform("line.geometry.tilt_y", -lg.tilt, lg.tilt, src="line.geometry.tilt")
        cat.uniform("line.pad_left", *lc.padding, src="line.padding")
        cat.uniform("line.pad_right", *lc.padding, src="line.padding")
        cat.uniform("line.offset_cross", 0.0, 1.0)
        if lc.width is not None:
            cat.uniform("line.offset_along", 0.0, 1.0)
        LS.declare_styles(cat, st, kinds)
        cat.bernoulli("line.geometry.squeeze", src="line.geometry.squeeze.p")  # not with an elastic bend
        if lg.squeeze.p > 0:
            cat.uniform("line.geometry.squeeze_amount", *lg.squeeze.range, src="line.geometry.squeeze.range")
        cat.bernoulli("line.tight", src="line.tight")
        if lc.tight > 0:
            cat.choice("line.tight_side", ("start", "end", "both"))
            cat.derived("line.tight_side")
        cat.derived("line.scale")
        if st.distractor.p > 0 and "straight" in kinds:
            for side in ("above", "below"):
                LS.declare_corpus_line(cat, self.sampler, f"line.style.distractor.{side}")
        if st.overlap.p > 0 and kinds - {"vertical"}:
            LS.declare_corpus_line(cat, self.sampler, "line.style.overlap.text", n=2)
            declare_contrasting(cat, "line.style.overlap_color", lc.contrast / 2)
        # the crop: its length follows the text (or lc.width); an unrotated vertical line is H wide
        along = (lc.width, lc.width) if lc.width is not None else (16, lc.max_width + lc.width_multiple)
        if "vertical" in kinds and not lo.vertical_rotate:
            both = (min(along[0], lc.height), max(along[1], lc.height))
            widths = heights = both
        else:
            widths, heights = along, (lc.height, lc.height)
        declare_background(cat, self.cfg.background.weights, self.cfg.background.folders, widths, heights,
                           busy=lc.busy_background)
        if st.box.p > 0:
            declare_contrasting(cat, "line.style.box_color", lc.contrast / 2)
        if lc.photo_colors > 0:
            cat.bernoulli("line.color_from_photo", src="line.photo_colors")
            declare_photo_contrasting(cat, "line.color_photo")
            cat.derived("line.color_from_photo")
        declare_contrasting(cat, "line.color", lc.contrast)
        if st.extrude.p > 0:
            declare_contrasting(cat, "line.style.extrude_color", lc.contrast / 2)
        if st.fill.gradient > 0 or st.fill.texture > 0:
            declare_contrasting(cat, "line.style.fill_color2", lc.contrast)

    # -- rendering --------------------------------------------------------------------------
    def _layout(self, kind: str, face: FontFace, size: int, text: str, spacing: float, pad: int,
                curve: tuple[float, float, float]) -> L.TextLayout:
        if kind == "shaped":
            return shaping.shaped(face.path, face.index, size, text, pad)
        if kind in ("vertical", "arc", "sine"):
            if kind == "vertical":
                lay = L.vertical(face.path, face.index, size, text, spacing, pad)
            else:
                bend, wavelength, phase = curve
                lay = L.curved(face.path, face.index, size, text, kind, bend, wavelength, phase, spacing, pad)
            # these layouts box each glyph's whole mask: pull the quads in to its ink's extent
            lay.chars = inset_quads(lay.chars, face.path, face.index, size, text)
            return lay
        return L.straight(face.path, face.index, size, text, spacing, pad)

    def _turned(self, d: Draws, face: FontFace, raster: int, text: str, kind: str,
                curve: tuple[float, float, float], spacing: float, pad: int, sty) -> L.TextLayout:
        """Each character turned and lifted on its own (line.style.char_rotate) along the line's
        baseline (flat, arc or sine); with jitter too, its offsets add to the lifts and advances."""
        turns, lifts = LS.char_turns(d.rng_for("line.style.char_rotate"), len(text), raster, *sty.char_turn)
        adv = None
        if sty.jitter:
            adv, dys = LS.jitter_offsets(d.rng_for("line.style.jitter"), len(text), raster, *sty.jitter)
            lifts = lifts - dys  # jitter's dy grows downwards
        bend, wavelength, phase = curve
        lay = L.curved(face.path, face.index, raster, text, kind if kind in ("arc", "sine") else "flat", bend,
                       wavelength, phase, spacing, pad, turn=turns, lift=lifts, advance=adv)
        lay.chars = inset_quads(lay.chars, face.path, face.index, raster, text)
        return lay

    @staticmethod
    def _tighten(Mt, pts_l: np.ndarray, ax: int, n_along: int, side: str, free_width: bool, multiple: int):
        """Mt moved along the line so that the labels' extent `pts_l` (the char quads and the
        line quad hugging them: the first (start), last (end) or both glyphs' ink) meets the
        crop's edge; for both, a free-width crop is cut to the ink (its length
        rounded to the width multiple) and the text stretched or squeezed by under half a
        multiple to fill it. (Mt, n_along)."""
        pts = cv2.perspectiveTransform(pts_l.reshape(-1, 1, 2).astype(np.float64),
                                       np.array(Mt, np.float64)).reshape(-1, 2)
        lo, hi = float(pts[:, ax].min()), float(pts[:, ax].max())
        if side == "both" and free_width and hi - lo >= 16:  # a crop under 16 px: ink on the start only
            n_new = max(16, int(round((hi - lo) / multiple)) * multiple)
            k = n_new / max(hi - lo, 1e-6)
            Sa = ((k, 0.0, -lo * k), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)) if ax == 0 else \
                ((1.0, 0.0, 0.0), (0.0, k, -lo * k), (0.0, 0.0, 1.0))
            return _mm(Sa, Mt), n_new
        shift = n_along - hi if side == "end" else -lo
        return _mm(_T(shift, 0.0) if ax == 0 else _T(0.0, shift), Mt), n_along

    def render(self, d: Draws, index: int, want_ink: bool = False,
               meta: dict | None = None) -> tuple[np.ndarray, list[Instance], np.ndarray | None]:
        lc = self.lc
        st, lg, lo = lc.style, lc.geometry, lc.layout
        H = lc.height
        text, parts, face, shaped = self.pick(d, index)

        # Keyed draws: a style's magnitudes are drawn only when the style is on (pinning one
        # factor moves no other, whatever was or was not drawn before it).
        size = max(6.0, H * d.uniform("line.size", *lc.size, src="line.size"))  # px, before fitting
        kind = d.choice("line.layout", self.layout_names, self.layout_weights, src="line.layout.weights")
        if shaped:
            kind = "shaped"  # one straight run shaped by raqm; no per-glyph curves or columns
        elif kind == "vertical" and not L.has_cjk(text):
            kind = "straight"
        d.derive("line.layout", kind)
        bend = amp = wavelength = phase = 0.0
        arc_up = True
        if kind == "arc":
            bend = d.uniform("line.layout.arc", *lo.arc, src="line.layout.arc")
            arc_up = d.bernoulli("line.layout.arc_up", 0.5)
        elif kind == "sine":
            amp = d.uniform("line.layout.sine_amplitude", *lo.sine_amplitude, src="line.layout.sine_amplitude")
            wavelength = d.uniform("line.layout.sine_wavelength", *lo.sine_wavelength, src="line.layout.sine_wavelength")
            phase = d.uniform("line.layout.sine_phase", 0.0, 2 * math.pi)
        spacing = 0.0
        if kind != "shaped" and d.bernoulli("line.style.spacing", st.spacing.p, src="line.style.spacing.p"):
            # letter-spacing would break joining: shaped runs get none
            spacing = d.uniform("line.style.spacing_amount", *st.spacing.range, src="line.style.spacing.range") * size
        r = 0
        # a border and a drop shadow together: the combination real signs and titles use
        both = d.bernoulli("line.style.outline_shadow", st.outline_shadow, src="line.style.outline_shadow")
        if d.bernoulli("line.style.stroke", 1.0 if both else st.stroke.p, src="line.style.stroke.p"):
            r = int(round(d.uniform("line.style.stroke_width", *st.stroke.range, src="line.style.stroke.range")))
        shadow_on = d.bernoulli("line.style.shadow", 1.0 if both else st.shadow.p, src="line.style.shadow.p")
        if shadow_on:
            sdx = d.uniform("line.style.shadow_dx", *st.shadow.offset, src="line.style.shadow.offset") * (
                1 if d.bernoulli("line.style.shadow_right", 0.5) else -1)
            sdy = d.uniform("line.style.shadow_dy", *st.shadow.offset, src="line.style.shadow.offset") * (
                1 if d.bernoulli("line.style.shadow_down", 0.7) else -1)
            sblur = d.uniform("line.style.shadow_blur", *st.shadow.blur, src="line.style.shadow.blur")
            sop = d.uniform("line.style.shadow_opacity", *st.shadow.opacity, src="line.style.shadow.opacity")
        ul_on = d.bernoulli("line.style.underline", st.underline.p, src="line.style.underline.p")
        if ul_on:
            ul_gap = d.uniform("line.style.underline_gap", *st.underline.gap, src="line.style.underline.gap")
            ul_th = d.uniform("line.style.underline_thickness", *st.underline.thickness,
                              src="line.style.underline.thickness")
        rot = d.uniform("line.geometry.rotate", *lg.rotate, src="line.geometry.rotate")
        skew = d.uniform("line.geometry.skew", *lg.skew, src="line.geometry.skew")
        persp = d.bernoulli("line.geometry.perspective", lg.perspective, src="line.geometry.perspective")
        if persp:
            tilt_x = d.uniform("line.geometry.tilt_x", -lg.tilt, lg.tilt, src="line.geometry.tilt")
            tilt_y = d.uniform("line.geometry.tilt_y", -lg.tilt, lg.tilt, src="line.geometry.tilt")
        pad_l = d.uniform("line.pad_left", *lc.padding, src="line.padding") * H
        pad_r = d.uniform("line.pad_right", *lc.padding, src="line.padding") * H
        u_cross = d.uniform("line.offset_cross", 0.0, 1.0)
        u_along = d.uniform("line.offset_along", 0.0, 1.0) if lc.width is not None else 0.0
        sty = LS.draw_styles(d, st, H, kind)  # jitter, elastic, extrusion, box, fill, distractors, ...
        margin = sty.elastic[0] if sty.elastic else 0.0  # room for the elastic bend inside the crop
        squeeze = 1.0  # not with an elastic bend: its char quads re-fit loosely around squeezed thin glyphs
        if not sty.elastic and d.bernoulli("line.geometry.squeeze", lg.squeeze.p, src="line.geometry.squeeze.p"):
            squeeze = d.uniform("line.geometry.squeeze_amount", *lg.squeeze.range, src="line.geometry.squeeze.range")
        tight = None  # the first and/or last glyph's ink on the crop's edge
        if not sty.elastic and d.bernoulli("line.tight", lc.tight, src="line.tight"):  # the bend needs a margin
            tight = d.choice("line.tight_side", ("start", "end", "both"))
            if tight == "both" and lc.width is not None:
                tight = "start"  # a fixed width cannot be stretched to the ink
            d.derive("line.tight_side", tight)

        vertical_out = kind == "vertical" and not lo.vertical_rotate  # a tall crop
        curve = (bend if arc_up else -bend, wavelength, phase) if kind == "arc" else (amp, wavelength, phase)
        pad = r + 2
        raster = self.top_raster if size >= SHARED_RASTER * self.top_raster else raster_size(size, RASTER_SIZES)
        res = size / raster  # the warp scales raster-size glyphs to the drawn size
        spacing *= raster / size

        # -- lay out; drop trailing words (then shrink) while the line is too long ------------
        limit = lc.width or lc.max_width
        while True:
            if sty.char_turn:
                lay = self._turned(d, face, raster, text, kind, curve, spacing, pad, sty)
            elif sty.jitter:
                lay = LS.jittered(d, face.path, face.index, raster, text, spacing, pad, *sty.jitter)
            else:
                lay = self._layout(kind, face, raster, text, spacing, pad, curve)
            q4 = lay.quad.tolist()
            cx = (q4[0][0] + q4[1][0] + q4[2][0] + q4[3][0]) / 4.0
            cy = (q4[0][1] + q4[1][1] + q4[2][1] + q4[3][1]) / 4.0
            t = math.tan(math.radians(skew))
            if kind == "vertical":
                G = ((squeeze, 0.0, 0.0), (t, 1.0, 0.0), (0.0, 0.0, 1.0))
            else:
                G = ((1.0, -t * squeeze, 0.0), (0.0, squeeze, 0.0), (0.0, 0.0, 1.0))
            if persp:
                hx = max(max(abs(x - cx) for x, _ in q4), 1.0)
                hy = max(max(abs(y - cy) for _, y in q4), 1.0)
                G = _mm(G, ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (tilt_x / hx, tilt_y / hy, 1.0)))
            if kind == "vertical" and lo.vertical_rotate:
                G = _mm(_R(90.0), G)
            G = _mm(_mm(_R(rot), _S(res)), _mm(G, _T(-cx, -cy)))
            chars_l = L.expand_quads(lay.chars, r)
            quad_l = L.expand_quads(lay.quad, r)
            if (kind in ("arc", "sine", "vertical") or sty.char_turn) and r:
                # Grown rotated char quads can poke out of the grown text quad: re-fit it.
                e = lay.quad[1] - lay.quad[0]
                quad_l = L.oriented_quad(np.concatenate([chars_l.reshape(-1, 2), quad_l]), math.atan2(e[1], e[0]))
            if tight is not None:  # the line quad hugs the ink, so the edge glyph's ink meets the frame
                e = quad_l[1] - quad_l[0]
                quad_l = L.oriented_quad(chars_l.reshape(-1, 2), math.atan2(e[1], e[0]))
            outline = _apply(G, quad_l.tolist())
            xs, ys = [x for x, _ in outline], [y for _, y in outline]
            mn, mx = (min(xs), min(ys)), (max(xs), max(ys))
            ext = (mx[0] - mn[0], mx[1] - mn[1])
            along_ax, cross_ax = (1, 0) if vertical_out else (0, 1)
            scale = min(1.0, (H - 2.0 - 2 * margin) / max(float(ext[cross_ax]), 1.0))
            room = limit - pad_l - pad_r - 2.0 - 2 * margin  # and a pixel of margin at each end
            if ext[along_ax] * scale > room:
                fit = max(room, 4.0) / float(ext[along_ax])
                if fit < MIN_SQUEEZE * scale and len(parts) > 1:
                    parts = parts[:-1]
                    text = join(parts)
                    continue
                # one entry of running text (en_text): drop its last word, as a crop would
                if fit < MIN_SQUEEZE * scale and " " in parts[0].strip() and d.pin_of("line.text") is None:
                    parts = [parts[0].strip().rsplit(" ", 1)[0]]
                    text = join(parts)
                    continue
                scale = min(scale, fit)
            break
        d.factors["line.text"] = text  # the text as laid out (trailing words may have been dropped)
        d.derive("line.scale", scale)
        along_len = float(ext[along_ax]) * scale
        if lc.width is not None:
            n_along = lc.width
        else:
            m = lc.width_multiple
            n_along = int(math.ceil((along_len + pad_l + pad_r + 2.0) / m) * m)
            n_along = max(16, min(n_along, lc.max_width))
        free_along = max(0.0, n_along - along_len - pad_l - pad_r - 2.0)
        free_cross = max(0.0, H - float(ext[cross_ax]) * scale)
        off = [0.0, 0.0]
        off[along_ax] = 1.0 + pad_l + (u_along * free_along if lc.width is not None else 0.0)
        # a pixel (plus the elastic bend's reach) clear of both long edges; the fit above leaves
        # room for it. Text placed flush against the frame keeps its ink but loses the warp's
        # anti-aliased fringe and looks cut (sample 15 of seed 0, "CLARET", offset_cross 0.0025)
        m0 = min(1.0 + margin, free_cross / 2)
        off[cross_ax] = m0 + u_cross * max(0.0, free_cross - 2.0 * m0)
        Mt = _mm(_mm(_T(off[0], off[1]), _S(scale)), _mm(_T(-mn[0], -mn[1]), G))
        if tight is not None:
            Mt, n_along = self._tighten(Mt, np.concatenate([chars_l.reshape(-1, 2), quad_l]), along_ax, n_along, tight, lc.width is None, lc.width_multiple)
        M = L.as_array(Mt)
        Wo, Ho = (H, n_along) if vertical_out else (n_along, H)

        # -- masks in layout space, one warp into the crop ---------------------------------
        layers = [lay.mask]
        if r:
            layers.append(stroke(lay.mask, r))
        ul = ul_on and lay.baseline is not None
        if ul:
            layers.append(underline(lay.mask.shape, lay.baseline, ul_gap, ul_th))
        stack = layers[0] if len(layers) == 1 else cv2.merge(layers)
        # elastic: one smooth displacement for every layer, folded into the same resampling
        fdx, fdy = (LS.elastic_field(d.rng_for("line.style.elastic"), Wo, Ho, *sty.elastic) if sty.elastic
                    else (None, None))
        wp = (lambda m, h: LS.warp_displaced(m, h, (Wo, Ho), fdx, fdy)) if sty.elastic else \
            (lambda m, h: warp(m, h, (Wo, Ho)))
        warped = wp(stack, Mt)
        if warped.ndim == 2:
            warped = warped[:, :, None]
        dist_a = None
        if sty.distract is not None and lay.baseline is not None:
            above = LS.corpus_line(self.sampler, d, "line.style.distractor.above", index * 8, face)
            below = LS.corpus_line(self.sampler, d, "line.style.distractor.below", index * 8 + 4, face)
            D, top = LS.distractor_layer(lay, face.path, face.index, raster, above, below, sty.distract)
            dist_a = wp(D, np.array(_mm(Mt, _T(0.0, -float(top))), np.float64))
        ov_a = None
        if sty.overlap is not None:
            ov_text = LS.corpus_line(self.sampler, d, "line.style.overlap.text", index * 8 + 6, face, n=2).strip()
            if ov_text:
                D, A = LS.overlap_layer(lay, face.path, face.index, raster, ov_text, sty.overlap)
                ov_a = wp(D, np.array(_mm(Mt, (tuple(A[0]), tuple(A[1]), (0.0, 0.0, 1.0))), np.float64))
        n = len(chars_l)
        pts = cv2.perspectiveTransform(L.stack_points(chars_l, quad_l), M).reshape(-1, 2).astype(np.float32)
        chars_o, quad_o = pts[: 4 * n].reshape(n, 4, 2), pts[4 * n :]
        if sty.elastic:
            # char quads re-fit where their glyphs went
            chars_o = LS.follow_quads(chars_o, fdx, fdy)
            quad_o = LS.follow_quads(quad_o[None], fdx, fdy, holds=chars_o)[0]
        fill_a = warped[:, :, 0]
        stroke_a = warped[:, :, 1] if r else None
        ul_a = warped[:, :, len(layers) - 1] if ul else None

        img = render_background(d, self.cfg.background.weights, self.cfg.background.folders, Wo, Ho,
                                busy=lc.busy_background)
        if not img.flags.writeable:
            img = img.copy()
        bg_luma = luma(cv2.mean(img)[:3])
        if sty.box:
            LS.draw_box(img, quad_o, sty.box[0], sty.box[1], sty.box[2],
                        contrasting(d, "line.style.box_color", bg_luma, lc.contrast / 2))
        # line.contrast against the background under the glyphs themselves, not its mean
        under = luma_under(img, stroke_a if r else fill_a)
        color = None
        if lc.photo_colors > 0 and d.bernoulli("line.color_from_photo", lc.photo_colors, src="line.photo_colors"):
            color = photo_contrasting(d, "line.color_photo", under, lc.contrast)
            d.derive("line.color_from_photo", color is not None)
        if color is None:
            color = ink_contrasting(d, "line.color", under, lc.contrast)
        img = LS.make_room(img, under, luma(color), lc.contrast)  # a background with no luma to spare
        stroke_color = contrasting(d, "line.style.stroke_color", luma(color), lc.contrast) if r else None
        shadow_color = contrasting(d, "line.style.shadow_color", bg_luma, lc.contrast / 2) if shadow_on else None
        body = stroke_a if stroke_a is not None else fill_a
        if dist_a is not None:  # neighbouring lines: same ink, cut off by the crop, not labelled
            blend(img, dist_a, color)
        if ov_a is not None:  # a fainter word behind the text, not labelled
            blend(img, ov_a, contrasting(d, "line.style.overlap_color", bg_luma, lc.contrast / 2), sty.overlap[0])
        if shadow_on:
            sa = body if ul_a is None else np.maximum(body, ul_a)
            blend(img, shadow(sa, int(round(sdx)), int(round(sdy)), sblur), shadow_color, sop)
        if sty.extrude:
            depth, ux, uy = sty.extrude
            blend(img, LS.extrusion(body, depth, ux, uy),
                  contrasting(d, "line.style.extrude_color", luma(color), lc.contrast / 2))
        if stroke_a is not None:
            blend(img, stroke_a, stroke_color)
        top_a = fill_a if ul_a is None else np.maximum(fill_a, ul_a)
        if sty.fill:
            under2 = luma_under(img, fill_a)
            color2 = LS.same_side(ink_contrasting(d, "line.style.fill_color2", under2, lc.contrast), color, under2)
            LS.blend_field(img, top_a, LS.fill_field(sty.fill, color, color2, sty.fill_angle, (Ho, Wo),
                                                     d.rng_for("line.style.fill_texture"), bg_luma))
        else:
            blend(img, top_a, color)

        # (float32, (4, 2) and (n, 4, 2), owned: what the constructor's conversions would make)
        inst = Instance.trusted(quad_o, text, chars_o, "line", None)
        ink = np.maximum(fill_a, stroke_a) if (want_ink and stroke_a is not None) else (fill_a.copy() if want_ink else None)
        return img, [inst], ink
