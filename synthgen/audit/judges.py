"""Judges: is an augmented sample still a valid training sample? Each verdict carries reasons.

A judge has `reference(ref) -> info` (computed once per index from the strength-0 sample and
cached) and `__call__(aug, info) -> list[str]` (reasons it is bad; empty = good).

- `label`: from labels, factors and pixels: text lost or clipped out of frame, chars under a
  height floor, contrast under the ink under a floor, blur or noise too strong for the text.
- `reader`: paired: a reader (`ppocr`, PP-OCRv4 recognition from rapidocr-onnxruntime, the
  default; `tesseract`; or a user `module:function` taking an RGB image and returning a string)
  that reads the strength-0 sample right and the augmented one wrong (compared by `canon`:
  NFKC, case- and space-insensitive). A sample it cannot read at strength 0 gets no verdict
  (None): "unreadable clean", never a good augmented sample.
- `human`: verdicts from the HTML page (see report.py), read back from its CSV.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ..augment.geometric import visible_fraction
from ..augment.photometric import blur_sigma
from ..core import TEXT_KINDS
from ..errors import UserError


@dataclass
class Item:
    """One sample as a judge sees it."""

    index: int
    strength: float
    image: np.ndarray
    instances: list
    factors: dict
    ink: np.ndarray | None = None
    # a recognition crop (read whole)? Its renderer kind says (registry.is_crop); None when the
    # kind is not known (an ICDAR folder, a plug-in kind read without its plug-in): the labels say
    crop: bool | None = None


def _text(instances) -> list:
    return [i for i in instances if i.kind in TEXT_KINDS and not i.ignore]


def char_height(inst) -> float:
    """The text's size: the 90th percentile of its char quads' heights (mid-top to mid-bottom;
    char quads are ink boxes, so this is about the cap height, not the x-height), else the
    quad's height."""
    quads = inst.chars if inst.chars is not None and len(inst.chars) else inst.quad[None]
    q = np.asarray(quads, np.float64)
    top, bottom = (q[:, 0] + q[:, 1]) / 2, (q[:, 3] + q[:, 2]) / 2
    return float(np.percentile(np.linalg.norm(bottom - top, axis=1), 90))


def ink_contrast(image: np.ndarray, ink: np.ndarray, window: int, q: float = 10.0, stroke: bool = False) -> float | None:
    """The q-th percentile, over the core ink pixels, of |luma - local background luma|: the
    background is the mean of non-ink pixels in a window around each pixel. A low percentile
    catches text whose colour matches part of a textured background. `stroke`: the ink is a
    fill inside a border; the glyphs read if either edge shows, so the spread between the two
    colours inside the ink (90th - 10th percentile) counts too (a border the colour of the
    background just vanishes)."""
    L = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    core = ink >= 192
    if core.sum() < 8:
        return None
    bg = (ink <= 16).astype(np.float32)
    k = (window | 1, window | 1)
    num = cv2.boxFilter(L * bg, -1, k, normalize=False, borderType=cv2.BORDER_REPLICATE)
    den = cv2.boxFilter(bg, -1, k, normalize=False, borderType=cv2.BORDER_REPLICATE)
    ok = core & (den >= 3)
    if ok.sum() < 8:
        return None
    outer = float(np.percentile(np.abs(L[ok] - num[ok] / den[ok]), q))
    if not stroke:
        return outer
    lo, hi = np.percentile(L[core], (q, 100 - q))
    return max(outer, float(hi - lo))


def box_contrast(image: np.ndarray, quad: np.ndarray) -> float:
    """Without an ink mask: the 95th - 5th percentile of smoothed luma in the quad's box grown
    by a quarter of its height (so a label box tight on solid ink still sees its background)."""
    H, W = image.shape[:2]
    m = max(2.0, 0.25 * float(np.ptp(quad[:, 1])))
    x0, y0 = np.maximum(np.floor(quad.min(0) - m).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(quad.max(0) + m).astype(int), (W, H))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    L = cv2.blur(cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY), (3, 3))
    lo, hi = np.percentile(L, [5, 95])
    return float(hi - lo)


@dataclass
class LabelJudge:
    name: str = "label"
    min_char_height: float = 8.0  # px
    min_char_visible: float = 0.75  # share of each char quad left in the frame
    min_contrast: float = 30.0  # grey levels between ink and the background under it (10th percentile)
    max_blur: float = 0.12  # effective blur sigma / char height
    min_snr: float = 2.5  # contrast / noise sigma

    def reference(self, ref: Item) -> int:
        return len(_text(ref.instances))

    def __call__(self, aug: Item, ref_count: int) -> list[str]:
        reasons: list[str] = []
        H, W = aug.image.shape[:2]
        text = _text(aug.instances)
        if len(text) < ref_count:
            reasons.append("lost")
        for inst in text:
            cq = inst.chars if inst.chars is not None and len(inst.chars) else inst.quad[None]
            if min(visible_fraction(c, W, H) for c in cq) < self.min_char_visible:
                reasons.append("clipped")
                break
        if not text:
            return reasons
        h = min(char_height(i) for i in text)
        if h < self.min_char_height:
            reasons.append("small")
        if blur_sigma(aug.factors) > self.max_blur * h:
            reasons.append("blur")
        if aug.ink is not None:
            c = ink_contrast(aug.image, aug.ink, max(5, int(round(h))), stroke=bool(aug.factors.get("line.style.stroke")))
        else:
            c = min(box_contrast(aug.image, i.quad) for i in text)
        noise = aug.factors.get("aug.noise.sigma", 0.0) if aug.factors.get("aug.noise.apply") else 0.0
        if c is not None:
            if noise > 0 and c / noise < self.min_snr:
                reasons.append("noise")
            if c < self.min_contrast:
                reasons.append("contrast")
        return reasons


# -- readers ------------------------------------------------------------------------------------
READERS = ("ppocr", "tesseract")
DEFAULT_READER = "ppocr"
UNREADABLE = "unreadable clean"  # the reader cannot read the strength-0 sample: no verdict


def normalise(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def canon(s: str) -> str:
    """What "read exactly" compares: NFKC-normalised, case-folded, every space removed (readers
    differ in where they put word spaces; ￥ and ¥, full- and half-width forms are one)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s).casefold())


def tesseract_read(image: np.ndarray) -> str:
    """One text line with tesseract (`--psm 7`, 2x upscaled, a margin of the edge colour)."""
    try:
        import pytesseract
    except ImportError:
        raise UserError("the tesseract judge needs pytesseract: pip install 'synthgen[audit]' "
                        "(and the tesseract-ocr program: apt-get install tesseract-ocr)") from None
    from PIL import Image

    big = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    pad = max(8, big.shape[0] // 4)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    try:
        return pytesseract.image_to_string(Image.fromarray(big), config="--psm 7")
    except pytesseract.TesseractNotFoundError:
        raise UserError("the tesseract judge needs the tesseract-ocr program: apt-get install tesseract-ocr "
                        "(or pass --reader ppocr, or --reader module:function)") from None


_PPOCR = None  # one engine per process, made on first use (loading three ONNX sessions)


def ppocr_engine():
    """The process's RapidOCR engine (PP-OCRv4 detection and recognition, shipped in the
    rapidocr-onnxruntime wheel; onnxruntime on the CPU, one thread per session)."""
    global _PPOCR
    if _PPOCR is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            raise UserError("the ppocr reader needs rapidocr-onnxruntime: pip install 'synthgen[audit]' "
                            "(or pass --reader tesseract)") from None
        _PPOCR = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False)
    return _PPOCR


def ppocr_read(image: np.ndarray) -> str:
    """One text line (an RGB crop, text left to right) with PP-OCRv4 recognition only: no
    detection, no angle classifier."""
    res, _ = ppocr_engine().text_rec(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return str(res[0][0])


def ppocr_detect(image: np.ndarray) -> list[np.ndarray]:
    """PP-OCRv4 text detection on a whole RGB image: a list of 4 x 2 boxes (image pixels)."""
    boxes, _ = ppocr_engine()(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), use_det=True, use_cls=False, use_rec=False)
    return [np.asarray(b, np.float32).reshape(4, 2) for b in boxes or []]


def ppocr_alphabet() -> frozenset[str]:
    """The characters PP-OCRv4 recognition can emit."""
    return frozenset(ppocr_engine().text_rec.postprocess_op.character)


def load_reader(spec: str | None):
    """`ppocr` (default), `tesseract`, or `module:function` (RGB crop -> text)."""
    if spec in ("ppocr", "", None):
        return ppocr_read
    if spec == "tesseract":
        return tesseract_read
    mod, _, fn = spec.partition(":")
    if not fn:
        raise UserError(f"--reader {spec!r}: use ppocr, tesseract or module:function, e.g. mypkg.ocr:read_line")
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as e:
        raise UserError(f"--reader {spec!r}: cannot load it ({e})") from None


def rectified(image: np.ndarray, quad: np.ndarray, height: int = 32, margin: float = 0.0) -> np.ndarray:
    """The instance's quad warped to an upright crop `height` px high; `margin` (a share of
    the quad's height) widens it on every side with the image around it."""
    q = np.asarray(quad, np.float32)
    w = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
    h = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]), 1.0)
    ow = max(8, int(round(w * height / h)))
    m = margin * height
    dst = np.array([[m, m], [ow - 1 + m, m], [ow - 1 + m, height - 1 + m], [m, height - 1 + m]], np.float32)
    size = (int(round(ow + 2 * m)), int(round(height + 2 * m)))
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(q, dst), size, borderMode=cv2.BORDER_REPLICATE)


def _axes(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A quad's reading direction and its "down" (unit vectors, image coordinates)."""
    ux = (q[1] - q[0]) + (q[2] - q[3])
    ux = ux / max(1e-6, float(np.linalg.norm(ux)))
    uy = (q[3] - q[0]) + (q[2] - q[1])
    uy = uy - ux * float(uy @ ux)
    return ux, uy / max(1e-6, float(np.linalg.norm(uy)))


def vertical_strip(image: np.ndarray, inst, height: int = 48) -> np.ndarray | None:
    """A vertical line (reading downwards) laid out left to right for a horizontal reader:
    each upright glyph (stacked CJK or Latin) becomes one tile, each run of glyphs set
    sideways along the line one tile, every tile rectified in the glyphs' own axes across the
    line's full thickness, then side by side. None if the line is not vertical."""
    q = np.asarray(inst.quad, np.float64)
    lx, _ = _axes(q)
    if abs(lx[1]) <= abs(lx[0]) or inst.chars is None or len(inst.chars) != len(inst.text):
        return None
    groups: list[list[np.ndarray]] = []
    along_prev = False
    for ch, cq in zip(inst.text, np.asarray(inst.chars, np.float64)):
        if ch.isspace():
            along_prev = False
            continue
        along = abs(float(_axes(cq)[0] @ lx)) > 0.7  # the glyph is set sideways, along the line
        if along and along_prev:
            groups[-1].append(cq)
        else:
            groups.append([cq])
        along_prev = along
    tiles = []
    for g in groups:
        ux, uy = _axes(g[0])
        pts = np.concatenate(g)
        span = []
        for u in (ux, uy):  # along the line: the glyphs' extent; across it: the line's thickness
            src = pts if abs(float(u @ lx)) > 0.7 else q
            p = src @ u
            pad = 0.12 * float(np.ptp(q @ _axes(q)[1])) if src is pts else 0.0
            span.append((p.min() - pad, p.max() + pad))
        (x0, x1), (y0, y1) = span
        corners = np.array([ux * x0 + uy * y0, ux * x1 + uy * y0, ux * x1 + uy * y1, ux * x0 + uy * y1])
        tiles.append(rectified(image, corners.astype(np.float32), height))
    if not tiles:
        return None
    gap = np.repeat(tiles[0][:, :1], max(2, height // 8), axis=1)
    return np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], axis=1)


def read_instance(fn, image: np.ndarray, inst, whole: bool = False) -> str:
    """What reader `fn` reads for one text instance: a vertical line as a horizontal strip of
    its glyphs; else the whole image (`whole`: a recognition crop) or the instance's quad
    rectified with a margin of a sixth of its height."""
    strip = vertical_strip(image, inst)
    crop = strip if strip is not None else (image if whole else rectified(image, inst.quad, height=48, margin=1 / 6))
    name = getattr(fn, "__qualname__", repr(fn))
    try:
        got = fn(crop)
    except Exception as e:  # a user reader's failure is bad input, said in one line
        raise UserError(f"reader {name} raised {type(e).__name__}: {e} (on a {crop.shape[1]} x {crop.shape[0]} "
                        "RGB crop); a reader takes an RGB uint8 image and returns the text it reads") from None
    if not isinstance(got, str):
        raise UserError(f"reader {name} returned {type(got).__name__} {got!r:.40}, not a string; return '' "
                        "for an image it cannot read")
    return got


def is_crop(instances) -> bool:
    """A recognition crop by its labels alone (its only text, not ignored, is one `line`): for
    samples whose renderer kind is not known (`Item.crop` is None)."""
    text = _text(instances)
    return len(text) == 1 and text[0].kind == "line"


@dataclass
class ReaderJudge:
    """Paired: bad when the reader reads the strength-0 sample right (`canon` equal) and the
    augmented one wrong. A sample it cannot read at strength 0 gets no verdict at any strength
    (None): it is reported as unreadable clean, never counted as a good augmented sample."""

    reader: str = DEFAULT_READER
    name: str = "reader"
    unjudged: str = UNREADABLE

    def __post_init__(self) -> None:
        self.fn = load_reader(self.reader)
        if self.fn is ppocr_read:
            ppocr_engine()  # a missing package is said before any work

    def _reads(self, item: Item) -> list[tuple[str, str]]:
        text = _text(item.instances)
        whole = item.crop if item.crop is not None else is_crop(item.instances)  # a crop: read it whole
        return [(canon(i.text), canon(read_instance(self.fn, item.image, i, whole))) for i in text]

    def reference(self, ref: Item) -> tuple[int, bool]:
        reads = self._reads(ref)
        return len(reads), bool(reads) and all(gt == got for gt, got in reads)

    def __call__(self, aug: Item, info: tuple[int, bool]) -> list[str] | None:
        n, ref_ok = info
        if not ref_ok:
            return None  # the reader cannot read the clean sample: it says nothing about augmentation
        reads = self._reads(aug)
        if len(reads) < n:
            return ["lost"]
        return [] if all(gt == got for gt, got in reads) else ["misread"]


def make_judge(name: str, reader: str | None = None, **kw: Any):
    if name == "label":
        return LabelJudge(**kw)
    if name == "reader":
        return ReaderJudge(reader=reader or DEFAULT_READER)
    if name == "tesseract":  # the old name of `--judge reader --reader tesseract`
        return ReaderJudge(reader="tesseract")
    raise UserError(f"unknown judge {name!r}; use label, reader (--reader ppocr, tesseract or module:function) or human")
