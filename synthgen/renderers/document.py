"""ID cards and passports from templates (kind: document).

Per process, each (template, variant) gets its static art drawn once (background layers,
captions) and cached; per sample only what varies is drawn on a copy: the identity's fields,
the portrait, the MRZ, the SPECIMEN marking. Text goes through the shared glyph cache and
straight layout (`layout.straight`), pasted at whole-pixel offsets and blended inside each
line's own box, so char quads are the exact ink boxes of the drawn glyphs.

Labels: one `field` instance per printed line (field name set; an MRZ line is `mrz[0]`, ...),
captions and the SPECIMEN marking as `line` instances, the portrait as `photo`, the card
outline as `document`. The identity record (meta `identity`) holds every attribute, so a
field's text can be checked against it. With `document.in_scene` the card is warped onto a
background (see docscene.py) and every quad goes through the same homography.
"""

from __future__ import annotations

import math
import string
import zlib
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..core import Instance
from ..draws import Draws
from ..errors import UserError
from ..splits import RETRIES, Splitter, person_key
from ..templates import mrz as MRZ
from ..config.document import DocumentCfg
from ..templates.identity import draw_identity, to_json
from ..templates.loading import Template, load_template
from ..templates.schema import FieldCfg, WatermarkLayer
from . import layout as L
from .cardart import draw_art, rounded_mask, watermark_quad
from .fonts import FontFace
from .glyphs import glyph_table
from .photos import PHOTO_SOURCES, Holder, face_traits
from .styles import blend, blend_parts, blend_with

CORNER_FILL = (255, 255, 255)
PHOTO_BANK_SEED = 0xFACE_BA4C  # flat cards: the canvas outside the rounded corners
_FORMATTER = string.Formatter()


def fill(text: str, ident: dict) -> str:
    """A field's format string over the identity record (validated at load: known attributes,
    dates with strftime specs only)."""
    out = []
    for literal, name, spec, _ in _FORMATTER.parse(text):
        out.append(literal)
        if name is None:
            continue
        base, _, sub = name.partition(".")
        v = ident.get(base)
        if v is None:
            continue
        if sub:
            v = getattr(v, sub)
        out.append(format(v, spec) if spec else str(v))
    return "".join(out)


@dataclass
class Placed:
    """A laid-out line at its place on the card: mask top-left (x, y), mask, quads."""

    x: int
    y: int
    lay: L.TextLayout

    def instance(self, kind: str, field: str | None) -> Instance:
        off = np.array([self.x, self.y], np.float32)
        quad, chars = self.lay.quad + off, self.lay.chars + off
        if quad.dtype == np.float32 and chars.dtype == np.float32 and chars.ndim == 3:
            return Instance.trusted(quad, self.lay.text, chars, kind, field)
        return Instance(quad, self.lay.text, chars, kind, field)


class _Line:
    """A field line as `layout_field` places it, kept for cards that print the same text at the
    same size (sexes, dates, codes, cities): its quads on the card, float32. (Keeping its blend
    parts too was slower: reading them back from memory costs more than recomputing them from
    the mask.)"""

    __slots__ = ("p", "quad", "chars")

    def __init__(self, p: Placed) -> None:
        self.p = p
        off = np.array([p.x, p.y], np.float32)
        self.quad = (p.lay.quad + off).astype(np.float32, copy=False)
        self.chars = (p.lay.chars + off).astype(np.float32, copy=False).reshape(-1, 4, 2)


class _Ref:
    """Per (face, size): ascent and the vertical ink extent of a reference glyph (its centre
    is put on a line's centre, so captions and fields of one font line up)."""

    _cache: dict[tuple[str, int, int], tuple[int, float]] = {}

    @classmethod
    def get(cls, face: FontFace, size: int) -> tuple[int, float]:
        key = (face.path, face.index, size)
        r = cls._cache.get(key)
        if r is None:
            asc, _ = L.metrics(face.path, face.index, size)
            ch = "国" if face.covers("国") else "H"
            g = glyph_table(face.path, face.index, size)[ch]
            r = cls._cache[key] = (asc, g.y0 + g.h / 2.0 - asc)  # ink centre relative to the baseline
        return r


_LAYOUTS: dict[tuple, L.TextLayout] = {}
_LAYOUT_BUDGET = 8192
_LINE_BUDGET = 2048  # placed field lines kept per renderer (`DocumentRenderer._lines`)


def straight(face: FontFace, size: int, text: str, spacing: float = 0.0) -> L.TextLayout:
    """`layout.straight`, memoised: cards repeat many strings (codes, sexes, months, cities,
    authorities, MRZ fillers are not repeated but short fields are). Layouts are read only here."""
    key = (face.path, face.index, size, text, spacing)
    lay = _LAYOUTS.get(key)
    if lay is None:
        if len(_LAYOUTS) >= _LAYOUT_BUDGET:
            _LAYOUTS.clear()
        lay = _LAYOUTS[key] = L.straight(face.path, face.index, size, text, spacing)
    return lay


def _paste(img: np.ndarray, ink: np.ndarray | None, p: Placed, color, opacity: float = 1.0,
           parts: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Blend p's mask in colour at its place (clipped to the card); `parts`: the mask's own
    `blend_parts(mask, color, opacity)`, when kept from an earlier card."""
    m = p.lay.mask
    H, W = img.shape[:2]
    h, w = m.shape
    x0, y0, x1, y1 = max(p.x, 0), max(p.y, 0), min(p.x + w, W), min(p.y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    win = (slice(y0 - p.y, y1 - p.y), slice(x0 - p.x, x1 - p.x))
    sub = m[win]
    if parts is not None:
        blend_with(img[y0:y1, x0:x1], parts[0][win], parts[1][win])
    else:
        blend(img[y0:y1, x0:x1], sub, color, opacity)
    if ink is not None:
        r = ink[y0:y1, x0:x1]
        np.maximum(r, sub, out=r)


def _wrap(text: str, face: FontFace, size: int, spacing: float, width: float) -> list[str]:
    """Greedy line breaks by glyph advances: at spaces for text that has them, else anywhere
    (Chinese)."""
    table = glyph_table(face.path, face.index, size)
    adv = lambda s: sum(table[c].advance + spacing for c in s)  # noqa: E731
    if " " in text:
        lines, cur = [], ""
        for word in text.split(" "):
            cand = f"{cur} {word}" if cur else word
            if cur and adv(cand) > width:
                lines.append(cur)
                cur = word
            else:
                cur = cand
        return lines + [cur]
    lines, cur, w = [], "", 0.0
    for c in text:
        a = table[c].advance + spacing
        if cur and w + a > width:
            lines.append(cur)
            cur, w = "", 0.0
        cur += c
        w += a
    return lines + [cur]


def layout_field(f: FieldCfg, face: FontFace, text: str, size: int, box: tuple[int, int, int, int],
                 name: str) -> list[Placed]:
    """Lay `text` out inside the pixel box (x0, y0, x1, y1): shrink (and wrap) until every line's
    ink fits, then place each line by alignment, its reference glyph centred in its line slot."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    slots = f.max_lines if f.fit == "wrap" else 1
    pitch = bh / slots
    for _ in range(40):
        spacing = f.spacing_em * size
        lines = _wrap(text, face, size, spacing, bw) if f.fit == "wrap" else [text]
        lines = [ln.strip() for ln in lines if ln.strip()]
        lays = [straight(face, size, ln, spacing) for ln in lines]
        widest = max(float(q.quad[1, 0] - q.quad[0, 0]) for q in lays)
        tallest = max(float(q.quad[2, 1] - q.quad[0, 1]) for q in lays)
        if len(lines) <= slots and widest <= bw and tallest <= pitch + 0.25 * pitch * (slots > 1) and tallest <= bh:
            break
        if size <= 4:
            raise UserError(f"field {name!r}: text {text!r} does not fit its box even at 4 px; enlarge box_mm")
        shrink = min(bw / widest, pitch / tallest, 1.0) if len(lines) <= slots else 0.92
        size = max(4, min(size - 1, int(size * shrink)))
    asc, ref = _Ref.get(face, size)
    out = []
    for k, lay in enumerate(lays):
        (qx0, qy0), (qx1, _), (_, qy1) = lay.quad[0], lay.quad[1], lay.quad[2]
        base_mask = float(lay.baseline[0, 1])
        centre = y0 + (k + 0.5) * pitch
        y = int(round(centre - ref - base_mask))
        # keep the ink inside the box whatever the glyphs' extent
        y = max(y, int(math.ceil(y0 - qy0)))
        y = min(y, int(math.floor(y1 - qy1)))
        if f.align == "left":
            x = int(math.ceil(x0 - qx0))
        elif f.align == "right":
            x = int(math.floor(x1 - qx1))
        else:
            x = int(round(x0 + (bw - (qx1 - qx0)) / 2 - qx0))
        out.append(Placed(x, y, lay))
    return out


def _px_box(box_mm, px: float) -> tuple[int, int, int, int]:
    """The whole pixels inside a mm box."""
    x, y, w, h = box_mm
    return (int(math.ceil(x * px)), int(math.ceil(y * px)), int(math.floor((x + w) * px)), int(math.floor((y + h) * px)))


class _CardArt:
    """One (template, variant): the art on the output canvas, caption instances, and the
    SPECIMEN marking's mask (blended last, over the photo)."""

    def __init__(self, t: Template, variant: int, stride: int) -> None:
        W, H = t.size_px
        CW, CH = -(-W // stride) * stride, -(-H // stride) * stride
        art = draw_art(t, variant)
        self.alpha = rounded_mask(W, H, t.cfg.corner_radius_mm * t.px)
        canvas = np.empty((CH, CW, 3), np.uint8)
        canvas[:] = CORNER_FILL
        a = self.alpha.astype(np.float32)[..., None] / 255
        canvas[:H, :W] = (art * a + np.asarray(CORNER_FILL, np.float32) * (1 - a) + 0.5).astype(np.uint8)
        self.captions: list[Instance] = []
        self.caption_ink = np.zeros((CH, CW), np.uint8)
        for cap in t.cfg.captions:
            face = t.faces[cap.font]
            size = max(4, int(round(cap.size_mm * t.px)))
            lay = L.straight(face.path, face.index, size, cap.text)
            asc, _ = L.metrics(face.path, face.index, size)
            x = int(round(cap.at_mm[0] * t.px - float(lay.quad[0, 0])))
            y = int(round(cap.at_mm[1] * t.px - (float(lay.baseline[0, 1]) - asc)))
            p = Placed(x, y, lay)
            _paste(canvas, self.caption_ink, p, cap.color)
            self.captions.append(p.instance("line", "caption"))
        # legible watermark text in the art: a don't-care line (its text, ignore), never unlabelled text
        self.ignored: list[Instance] = []
        for layer in t.cfg.background:
            if isinstance(layer, WatermarkLayer) and layer.opacity > 0 and layer.text.strip():
                q = watermark_quad(layer, t.px, t.faces[layer.font])
                if q is not None:
                    self.ignored.append(Instance(q, layer.text, None, "line", "watermark", True))
        self.canvas = canvas
        self.size = (W, H)
        self.specimen: tuple[Placed, np.ndarray] | None = None
        sp = t.cfg.specimen
        if sp.enabled:
            face = t.faces[sp.font]
            size = max(4, int(round(sp.size_mm * t.px)))
            lay = L.straight(face.path, face.index, size, sp.text)
            cx, cy = (sp.center_mm if sp.center_mm else (t.cfg.size_mm[0] / 2, t.cfg.size_mm[1] / 2))
            qc = lay.quad.mean(axis=0)
            Hm = L.mm3(L.t3(cx * t.px, cy * t.px), L.mm3(L.r3(sp.angle), L.t3(-float(qc[0]), -float(qc[1]))))
            corners = L.apply_t(Hm, [(0, 0), (lay.mask.shape[1], 0), (lay.mask.shape[1], lay.mask.shape[0]),
                                      (0, lay.mask.shape[0])])
            bx0 = int(math.floor(min(c[0] for c in corners)))
            by0 = int(math.floor(min(c[1] for c in corners)))
            bx1 = int(math.ceil(max(c[0] for c in corners)))
            by1 = int(math.ceil(max(c[1] for c in corners)))
            local = L.mm3(L.t3(-bx0, -by0), Hm)
            m = L.warp(lay.mask, local, (bx1 - bx0, by1 - by0))
            moved = L.TextLayout(m, L.apply_h(np.array(local), lay.chars), L.apply_h(np.array(local), lay.quad),
                                 sp.text)
            self.specimen = (Placed(bx0, by0, moved), np.array(Hm))
            # blended the same way on every card of this art: its parts are kept (~0.1 ms a card)
            self.specimen_parts = blend_parts(m, sp.color, sp.opacity) if sp.opacity > 0 else None


class DocumentRenderer:
    # the kind's declarations (renderers/registry.py); cards are padded to a multiple of
    # labels.stride (_CardArt), so no size rule
    sections = {"document": DocumentCfg}
    score_always = False

    @classmethod
    def template_config(cls, template: Template, in_scene: bool = False, strength: float = 0.0) -> dict:
        """A pipeline config (plain data) drawing every card from one template, each portrait
        rendered for its card: what `synthgen templates preview` shows."""
        return {"name": f"template_{template.name}", "kind": "document",
                "document": {"templates": {str(template.folder): 1}, "in_scene": bool(in_scene), "photo": {"bank": 0}},
                "augment": {"strength": float(strength)}}

    def __init__(self, cfg, seed: int = 0) -> None:
        if cfg.document is None:
            raise ValueError("DocumentRenderer needs a kind: document config")
        self.cfg = cfg
        self.dc = cfg.document
        self.templates: list[Template] = [load_template(k) for k in self.dc.templates]
        # each template's photo.look, built once (a Holder per card refers to it)
        self.looks = {t.name: t.cfg.photo.look.look() for t in self.templates
                      if t.cfg.photo is not None and t.cfg.photo.look is not None}
        if self.dc.px_per_mm is not None:  # one resolution for every template
            self.templates = [replace(t, cfg=t.cfg.model_copy(update={"px_per_mm": self.dc.px_per_mm}))
                              for t in self.templates]
        self.names = [t.name for t in self.templates]
        self.weights = list(self.dc.templates.values())
        self.stride = cfg.labels.stride
        self._art: dict[tuple[int, int], _CardArt] = {}
        # per template: its identity options, and per field what `render` needs besides the text
        # (factor name, face, pixel box), worked out once
        self._opts = [t.cfg.identity.options() for t in self.templates]
        self._fields = [[(name, f, f"field[{name}].size", t.faces[f.font], _px_box(f.box_mm, t.px))
                         for name, f in t.cfg.fields.items()] for t in self.templates]
        self._lines: dict[tuple, list[_Line]] = {}  # (template, field, text, size) -> its lines
        self._seen: set[tuple] = set()  # the keys of lines laid out once
        self._bank: dict[tuple, np.ndarray] = {}
        self.split = Splitter.from_config(cfg)
        for t in self.templates:  # check photo sources now (one line, exit 2), not at the first sample
            if t.cfg.photo is not None:
                src = self.dc.photo.source or t.cfg.photo.source
                if src == "folder":
                    from .photos import photo_files

                    folder = self.dc.photo.folder or t.cfg.photo.folder
                    if not folder:
                        raise UserError(f"template {t.name!r}: photo source 'folder' needs document.photo.folder")
                    photo_files(folder)
        if self.dc.in_scene:
            from .docscene import SceneComposer

            self.scene = SceneComposer(cfg)

    def art(self, k: int, variant: int) -> _CardArt:
        a = self._art.get((k, variant))
        if a is None:
            a = self._art[(k, variant)] = _CardArt(self.templates[k], variant, self.stride)
        return a

    # -- the factors declared (synthgen/factors.py) -------------------------------------------
    def factors(self, cat) -> None:
        """Every factor `render` can draw under this config, as `render` draws it."""
        from ..templates.identity import attributes, declare_identity, empty_attributes
        from .photos import declare_source, holders

        if len(self.names) > 1:
            cat.choice("document.template", self.names, src="document.templates")
        sizes = []
        for t in self.templates:
            c = t.cfg
            opts = c.identity.options()
            # the template's `identity` section (profile, age, options) sets what these draw
            declare_identity(cat.with_src(f"template identity ({c.identity.profile})"), c.identity.profile, opts)
            if self.dc.variants and c.variants > 1:
                cat.integers("document.variant", 0, c.variants - 1, src="document.variants (template variants)")
            if c.photo is not None:
                src = self.dc.photo.source or c.photo.source
                kinds = holders(c.identity.profile, opts, self.looks.get(t.name))
                if self.dc.photo.bank and src != "folder":
                    per = [max(2, self.dc.photo.bank // h.cells()) for h in kinds]
                    cat.integers("photo.bank", 0, max(per) - 1, src="document.photo.bank", depends=len(set(per)) > 1)
                    cat.uniform("photo.gain", 0.85, 1.15, src="document.photo.bank (fixed range)")
                    cat.uniform("photo.bias", -18.0, 18.0, src="document.photo.bank (fixed range)")
                else:
                    declare_source(cat, src, self.dc.photo.folder or c.photo.folder, kinds)
            attrs, empty = attributes(c.identity.profile, opts), empty_attributes(c.identity.profile, opts)
            for name, f in c.fields.items():
                # a field whose text is empty on every card is skipped before its size is drawn
                parts = list(_FORMATTER.parse(f.text))
                shown = any(lit.strip() for lit, _, _, _ in parts) or any(
                    key is not None and key.partition(".")[0] in attrs and key.partition(".")[0] not in empty
                    for _, key, _, _ in parts)
                if shown:
                    cat.uniform(f"field[{name}].size", *f.size_mm, src="template fields.*.size_mm")
            sizes.append(t.size_px)
            # the card, captions, portrait, field lines, MRZ lines, SPECIMEN
            n = 1 + len(c.captions) + (c.photo is not None) + sum(f.max_lines if f.fit == "wrap" else 1
                                                                   for f in c.fields.values())
            n += (3 if c.mrz.format == "TD1" else 2) if c.mrz is not None else 0
            n += bool(c.specimen.enabled and self.dc.specimen)
            cat.instances = max(cat.instances or 0, n)
        if self.dc.in_scene:
            from .docscene import declare as declare_scene

            declare_scene(cat, self.cfg, sizes)

    # -- one card -------------------------------------------------------------------------
    def render(self, d: Draws, index: int, want_ink: bool = False, meta: dict | None = None):
        k = self.names.index(d.choice("document.template", self.names, self.weights)) if len(self.names) > 1 else 0
        t = self.templates[k]
        c = t.cfg
        opts = self._opts[k]
        ident = draw_identity(d, c.identity.profile, opts)
        for _ in range(RETRIES if self.split.active("identities") else 0):  # held-out identities (splits.py)
            if self.split.accepts("identities", person_key(ident)):
                break
            ident = draw_identity(d, c.identity.profile, opts)  # next draws of the same factors
        if c.mrz is not None:
            ident["mrz"] = MRZ.build(c.mrz.format, ident)
        variant = d.integers("document.variant", 0, c.variants - 1) if self.dc.variants and c.variants > 1 else 0
        art = self.art(k, variant)
        img = art.canvas.copy()
        ink = art.caption_ink.copy() if want_ink else None
        W, H = art.size
        instances = [Instance.trusted(np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32), "", None, "document", None)]
        instances += [Instance.trusted(i.quad.copy(), i.text, i.chars.copy(), i.kind, i.field) for i in art.captions]
        instances += [Instance.trusted(i.quad.copy(), i.text, None, i.kind, i.field, True) for i in art.ignored]
        px = t.px
        portrait = None
        if c.photo is not None:
            inst, portrait = self._photo(d, t, img, ident)
            instances.append(inst)
        lines = self._lines
        for name, f, factor, face, box in self._fields[k]:
            text = fill(f.text, ident)
            if f.case == "upper":
                text = text.upper()
            if not text.strip():
                continue
            size = max(4, int(round(d.uniform(factor, f.size_mm[0], f.size_mm[1]) * px)))
            key = (k, name, text, size)
            placed = lines.get(key)
            if placed is None:
                placed = [_Line(p) for p in layout_field(f, face, text, size, box, name)]
                seen = self._seen  # kept from its second card on: names, numbers, addresses never come back
                if key in seen:
                    if len(lines) >= _LINE_BUDGET:
                        lines.clear()
                    lines[key] = placed
                else:
                    if len(seen) >= 4 * _LINE_BUDGET:
                        seen.clear()
                    seen.add(key)
            for ln in placed:
                _paste(img, ink, ln.p, f.color)
                instances.append(Instance.trusted(ln.quad.copy(), ln.p.lay.text, ln.chars.copy(), "field", name))
        if c.mrz is not None:
            for j, p in enumerate(self._mrz(t, ident["mrz"])):
                _paste(img, ink, p, c.mrz.color)
                instances.append(p.instance("field", f"mrz[{j}]"))
        if art.specimen is not None and self.dc.specimen:
            p, _ = art.specimen
            _paste(img, ink, p, c.specimen.color, c.specimen.opacity, art.specimen_parts)
            instances.append(p.instance("line", "specimen"))
        rec = {"template": t.name, "identity": to_json(ident), "card_size": [W, H]}
        if portrait is not None:
            rec["portrait"] = portrait
        if self.dc.in_scene:
            img, instances, ink, Hm = self.scene.place(d, img[:H, :W], art.alpha, instances, ink)
            rec["card_homography"] = np.asarray(Hm, np.float64).tolist()
        if meta is not None:
            meta.update(rec)
        return img, instances, ink

    def _photo(self, d: Draws, t: Template, img: np.ndarray, ident: dict) -> tuple[Instance, dict]:
        """The portrait in its slot, showing the card's holder (sex, age at issue, the template's
        look): (photo instance, meta `portrait`: what the face shows)."""
        ph = t.cfg.photo
        x0, y0, x1, y1 = _px_box(ph.box_mm, t.px)
        src = self.dc.photo.source or ph.source
        folder = self.dc.photo.folder or ph.folder
        bank = self.dc.photo.bank
        holder = Holder.of(ident, self.looks.get(t.name))
        if bank and src != "folder":
            per = max(2, bank // holder.cells())  # about N portraits in all, shared among the kinds of holder
            im, traits = self._banked(src, d.integers("photo.bank", 0, per - 1), (y1 - y0, x1 - x0), folder, holder)
            gain, bias = d.uniform("photo.gain", 0.85, 1.15), d.uniform("photo.bias", -18.0, 18.0)
            slot = img[y0:y1, x0:x1]
            if not ph.grayscale and slot.shape == im.shape:  # straight into the card: no temporary
                cv2.convertScaleAbs(im, dst=slot, alpha=gain, beta=bias)
                im = None
            else:
                im = cv2.convertScaleAbs(im, alpha=gain, beta=bias)
        else:
            im = PHOTO_SOURCES[src](d, (y1 - y0, x1 - x0), folder, holder)
            traits = face_traits(d.factors, src)
        if im is not None:
            if ph.grayscale:
                g = (im.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
                im = np.repeat(g[..., None], 3, axis=2)
            img[y0:y1, x0:x1] = im
        quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
        return Instance.trusted(quad, "", None, "photo", "photo"), {"source": src, "sex": holder.sex, "age_band": holder.band,
                                                            **traits}

    def _banked(self, src: str, k: int, hw: tuple[int, int], folder, holder: Holder) -> tuple[np.ndarray, dict]:
        """Portrait k of the bank for this slot size and holder (sex, age band, look): drawn from
        its own fixed key, so every process holds the same bank; filled on first use."""
        key = (src, k, hw, holder)
        hit = self._bank.get(key)
        if hit is None:
            salt = zlib.crc32(repr(holder).encode())
            dk = Draws(PHOTO_BANK_SEED ^ salt, k)
            hit = self._bank[key] = (PHOTO_SOURCES[src](dk, hw, folder, holder), face_traits(dk.factors, src))
        return hit

    def _mrz(self, t: Template, lines: list[str]) -> list[Placed]:
        """Monospaced OCR-B lines filling the MRZ box: the character pitch is the box width over
        the line length (44 or 30), the size the largest whose advance fits that pitch."""
        mz = t.cfg.mrz
        face = t.faces[mz.font]
        x0, y0, x1, y1 = _px_box(mz.box_mm, t.px)
        n = len(lines[0])
        pitch = (x1 - x0) / n
        slot = (y1 - y0) / len(lines)
        adv100 = glyph_table(face.path, face.index, 100)["<"].advance / 100.0
        size = max(4, min(int(pitch / adv100), int(slot * 0.9)))
        adv = glyph_table(face.path, face.index, size)["<"].advance
        spacing = pitch - adv
        asc, ref = _Ref.get(face, size)
        out = []
        for k, ln in enumerate(lines):
            lay = L.straight(face.path, face.index, size, ln, spacing)
            (qx0, qy0), (_, qy1) = lay.quad[0], lay.quad[2]
            y = int(round(y0 + (k + 0.5) * slot - ref - float(lay.baseline[0, 1])))
            y = min(max(y, int(math.ceil(y0 - qy0))), int(math.floor(y1 - qy1)))
            out.append(Placed(int(math.ceil(x0 - qx0)), y, lay))
        return out
