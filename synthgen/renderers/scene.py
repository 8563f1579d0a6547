"""Scene text: words at random fonts, sizes, colours and angles on a background, no overlaps.

Each word is laid out once horizontally (cached glyph masks), then warped into its own
bounding box on the image and blended there only: work stays inside regions of interest.
Quads are the layout's exact ink boxes pushed through the same affine matrix.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..config import PipelineConfig
from ..core import Instance
from ..draws import Draws
from ..errors import UserError
from .backgrounds import render_background
from .corpus import load_corpus
from .fonts import FontFace, resolve_faces
from .glyphs import Layout, layout_line

CASES = ("as_is", "lower", "upper", "title")
PLACEMENT_TRIES = 8
GRID = 4  # occupancy grid cell, px
_KERNEL = np.ones((3, 3), np.uint8)


def box_corners(box: np.ndarray) -> np.ndarray:
    """[x0, y0, x1, y1] (n x 4) -> quads (n x 4 x 2): TL, TR, BR, BL (clockwise on screen)."""
    return np.asarray(box)[..., _CORNER_INDEX]


_CORNER_INDEX = np.array([[0, 1], [2, 1], [2, 3], [0, 3]])


def rotation(angle_deg: float) -> np.ndarray:
    """2 x 2 matrix turning text counter-clockwise on screen (y axis points down)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, s], [-s, c]], np.float64)


def apply_affine(M: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return (pts @ M[:, :2].T + M[:, 2]).astype(np.float32)


def blend(img: np.ndarray, mask: np.ndarray, M: np.ndarray, color: np.ndarray) -> None:
    """Warp `mask` by affine M (pixel-corner coordinates) and blend `color` into `img` under it,
    touching only the warped mask's bounding box."""
    H, W = img.shape[:2]
    h, w = mask.shape
    corners = apply_affine(M, np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32))
    x0, y0 = max(0, int(math.floor(corners[:, 0].min()))), max(0, int(math.floor(corners[:, 1].min())))
    x1, y1 = min(W, int(math.ceil(corners[:, 0].max()))), min(H, int(math.ceil(corners[:, 1].max())))
    if x1 <= x0 or y1 <= y0:
        return
    # OpenCV samples at pixel centres: shift corner coordinates by half a pixel on both sides.
    Mc = M.astype(np.float64).copy()
    Mc[:, 2] += Mc[:, :2] @ np.array([0.5, 0.5]) - 0.5
    Mc[:, 2] -= (x0, y0)
    a = cv2.warpAffine(mask, Mc, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    roi = img[y0:y1, x0:x1]
    # roi += (color - roi) * a / 255, in OpenCV calls on the ROI only
    a3 = cv2.merge([a, a, a])
    c = color.astype(np.float64) / 255.0
    fg = cv2.multiply(a3, (float(c[0]), float(c[1]), float(c[2]), 0.0))
    np.copyto(roi, cv2.add(cv2.multiply(roi, cv2.bitwise_not(a3), scale=1 / 255), fg))


def luma(rgb: np.ndarray) -> float:
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def text_color(d: Draws, name: str, background_luma: float, contrast: float) -> np.ndarray:
    """A random colour at least `contrast` away in luma from the background under the text."""
    c = np.array([d.uniform(f"{name}.color.{k}", 0, 255) for k in "rgb"], np.float64)
    gap = d.uniform(f"{name}.contrast", contrast, contrast + 60)
    if abs(luma(c) - background_luma) < contrast:
        target = background_luma - gap if background_luma >= 128 else background_luma + gap
        c = c + (np.clip(target, 0, 255) - luma(c))
    return np.clip(np.round(c), 0, 255).astype(np.uint8)


def apply_case(text: str, case: str) -> str:
    return {"lower": text.lower(), "upper": text.upper(), "title": text.title()}.get(case, text)


class SceneRenderer:
    def __init__(self, cfg: PipelineConfig) -> None:
        self.cfg = cfg
        self.faces: list[FontFace] = resolve_faces(cfg.fonts.families, cfg.fonts.folders)
        self.corpora = [load_corpus(c) for c in cfg.text.corpus]
        self.case_names = [c for c in CASES if cfg.text.case.get(c, 0) > 0]
        self.case_weights = [cfg.text.case[c] for c in self.case_names]
        self._coverage: dict[str, list[FontFace]] = {}  # text -> faces covering it (bounded by the corpus)

    # -- text and font ----------------------------------------------------------------------
    def _faces_for(self, text: str) -> list[FontFace]:
        faces = self._coverage.get(text)
        if faces is None:
            faces = self._coverage[text] = [f for f in self.faces if f.covers(text)]
        return faces

    def pick_text(self, d: Draws, name: str) -> tuple[str, FontFace]:
        text = ""
        for _attempt in range(10):
            ci = d.integers(f"{name}.corpus", 0, len(self.corpora) - 1) if len(self.corpora) > 1 else 0
            corpus = self.corpora[ci]
            text = corpus[d.integers(f"{name}.index", 0, len(corpus) - 1)]
            if self.case_names:
                text = apply_case(text, d.choice(f"{name}.case", self.case_names, self.case_weights))
            faces = self._faces_for(text)
            if faces:
                face = faces[d.integers(f"{name}.font_index", 0, len(faces) - 1)]
                d.factors[f"{name}.font"] = face.name
                return text, face
            if self.cfg.fonts.on_missing_glyph == "error":
                missing = sorted({c for c in text if not any(f.covers(c) for f in self.faces)})
                raise UserError(
                    f"no configured font covers {''.join(missing)!r} in {text!r}; add a font that has these glyphs "
                    "(fonts.families / fonts.folders) or set fonts.on_missing_glyph=redraw"
                )
        raise UserError(f"after 10 draws no configured font covers the corpus text (last: {text!r}); check fonts vs corpus with `synthgen fonts check`")

    # -- rendering --------------------------------------------------------------------------
    def render(self, d: Draws) -> tuple[np.ndarray, list[Instance]]:
        cfg = self.cfg
        W, H = cfg.image.width, cfg.image.height
        img = render_background(d, cfg.background.weights, cfg.background.folders, W, H)
        occupied = np.zeros((H // GRID + 2, W // GRID + 2), np.uint8)
        n_words = d.integers("words", *cfg.text.words)
        instances: list[Instance] = []
        for i in range(n_words):
            inst = self._word(d, f"word[{i}]", img, occupied)
            if inst is not None:
                instances.append(inst)
        d.factors["words_placed"] = len(instances)
        return img, instances

    def _word(self, d: Draws, name: str, img: np.ndarray, occupied: np.ndarray) -> Instance | None:
        t = self.cfg.text
        H, W = img.shape[:2]
        text, face = self.pick_text(d, name)
        size = int(round(d.uniform(f"{name}.size", *t.size)))
        angle = d.uniform(f"{name}.angle", *t.angle)
        lay: Layout = layout_line(face.path, face.index, max(size, 4), text)
        R = rotation(angle)
        ink_quad = box_corners(lay.ink)
        centre = (lay.ink[:2] + lay.ink[2:]) / 2.0
        rel = (ink_quad - centre) @ R.T
        half = np.abs(rel).max(axis=0)
        if half[0] * 2 > W - 2 or half[1] * 2 > H - 2:
            d.factors[f"{name}.placed"] = False
            return None
        for _ in range(PLACEMENT_TRIES):
            cx = d.uniform(f"{name}.x", half[0] + 1, W - half[0] - 1)
            cy = d.uniform(f"{name}.y", half[1] + 1, H - half[1] - 1)
            quad = rel + (cx, cy)
            # Occupancy on a coarse grid, inside the word's own box; one free cell kept around words.
            g = np.round(quad / GRID).astype(np.int32)
            gx0, gy0 = max(0, int(g[:, 0].min()) - 1), max(0, int(g[:, 1].min()) - 1)
            gx1, gy1 = int(g[:, 0].max()) + 2, int(g[:, 1].max()) + 2
            cell = np.zeros((gy1 - gy0, gx1 - gx0), np.uint8)
            cv2.fillConvexPoly(cell, g - (gx0, gy0), 1)
            grown = cv2.dilate(cell, _KERNEL)
            if not cv2.countNonZero(grown & occupied[gy0:gy1, gx0:gx1][: grown.shape[0], : grown.shape[1]]):
                break
        else:
            d.factors[f"{name}.placed"] = False
            return None
        d.factors[f"{name}.placed"] = True
        region = occupied[gy0:gy1, gx0:gx1]
        region |= cell[: region.shape[0], : region.shape[1]]
        M = np.hstack([R, (np.array([cx, cy]) - R @ centre)[:, None]])
        x0, y0 = int(max(0, quad[:, 0].min())), int(max(0, quad[:, 1].min()))
        x1, y1 = int(min(W, quad[:, 0].max() + 1)), int(min(H, quad[:, 1].max() + 1))
        bg = np.array(cv2.mean(img[y0:y1, x0:x1])[:3])
        color = text_color(d, name, luma(bg), t.contrast)
        blend(img, lay.mask, M, color)
        chars = apply_affine(M, box_corners(lay.boxes).reshape(-1, 2)).reshape(-1, 4, 2)
        height = float(lay.ink[3] - lay.ink[1])
        return Instance(
            quad=apply_affine(M, ink_quad), text=text, chars=chars, kind="word", ignore=height < t.min_readable
        )
