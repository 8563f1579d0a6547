"""Judges: is an augmented sample still a valid training sample? Each verdict carries reasons.

A judge has `reference(ref) -> info` (computed once per index from the strength-0 sample and
cached) and `__call__(aug, info) -> list[str]` (reasons it is bad; empty = good).

- `label`: from labels, factors and pixels: text lost or clipped out of frame, chars under a
  height floor, contrast under the ink under a floor, blur or noise too strong for the text.
- `reader`: paired: a reader (tesseract, or a user `module:function` taking an RGB image and
  returning a string) that reads the strength-0 sample right and the augmented one wrong.
- `human`: verdicts from the HTML page (see report.py), read back from its CSV.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ..augment.geometric import visible_fraction
from ..augment.photometric import blur_sigma
from ..errors import UserError

TEXT_KINDS = ("word", "line", "field")


@dataclass
class Item:
    """One sample as a judge sees it."""

    index: int
    strength: float
    image: np.ndarray
    instances: list
    factors: dict
    ink: np.ndarray | None = None


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
def normalise(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


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
                        "(or pass --judge reader --reader module:function)") from None


def load_reader(spec: str):
    if spec in ("tesseract", "", None):
        return tesseract_read
    mod, _, fn = spec.partition(":")
    if not fn:
        raise UserError(f"--reader {spec!r}: expected module:function, e.g. mypkg.ocr:read_line")
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as e:
        raise UserError(f"--reader {spec!r}: cannot load it ({e})") from None


def rectified(image: np.ndarray, quad: np.ndarray, height: int = 32) -> np.ndarray:
    """The instance's quad warped to an upright crop `height` px high."""
    q = np.asarray(quad, np.float32)
    w = max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))
    h = max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]), 1.0)
    ow = max(8, int(round(w * height / h)))
    dst = np.array([[0, 0], [ow - 1, 0], [ow - 1, height - 1], [0, height - 1]], np.float32)
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(q, dst), (ow, height), borderMode=cv2.BORDER_REPLICATE)


@dataclass
class ReaderJudge:
    reader: str = "tesseract"
    name: str = "reader"

    def __post_init__(self) -> None:
        self.fn = load_reader(self.reader)

    def _reads(self, item: Item) -> list[tuple[str, str]]:
        text = _text(item.instances)
        if len(text) == 1 and text[0].kind == "line":  # a recognition crop: read it whole
            return [(normalise(text[0].text), normalise(self.fn(item.image)))]
        return [(normalise(i.text), normalise(self.fn(rectified(item.image, i.quad)))) for i in text]

    def reference(self, ref: Item) -> tuple[int, bool]:
        reads = self._reads(ref)
        return len(reads), all(gt == got for gt, got in reads)

    def __call__(self, aug: Item, info: tuple[int, bool]) -> list[str]:
        n, ref_ok = info
        if not ref_ok:
            return []  # the reader cannot read the clean sample: it says nothing about augmentation
        reads = self._reads(aug)
        if len(reads) < n:
            return ["lost"]
        return [] if all(gt == got for gt, got in reads) else ["misread"]


def make_judge(name: str, reader: str | None = None, **kw: Any):
    if name == "label":
        return LabelJudge(**kw)
    if name in ("reader", "tesseract"):
        return ReaderJudge(reader=reader or "tesseract")
    raise UserError(f"unknown judge {name!r}; use label, reader (tesseract or --reader module:function) or human")
