"""Procedural card art: gradients, guilloche rosettes, wave line fields, microprint, emblem
shapes, watermark text, image assets, the rounded card outline.

All of it is drawn from the template's parameters, never copied from a real national design.
The art is static per (template, variant): drawn once per process (variants are colour
transforms of it from a fixed seed) and cached by the document renderer, which draws only the
per-card variation (fields, portrait, MRZ, SPECIMEN marking) on a copy.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ..templates.loading import Template
from ..templates.schema import (BandLayer, EmblemLayer, GradientLayer, GuillocheLayer, ImageLayer, MicroprintLayer,
                                WatermarkLayer, WaveLayer)
from .fonts import pil_font

SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << SHIFT


def _pts(xy: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(xy, np.float64) * _ONE).astype(np.int32).reshape(-1, 1, 2)


def over(img: np.ndarray, mask: np.ndarray, color, opacity: float = 1.0) -> None:
    """In place, float32 image: img += (color - img) * mask / 255 * opacity, inside the mask's
    bounding box only (uint8 mask, image-sized)."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return
    a = mask[y : y + h, x : x + w].astype(np.float32)[..., None] * (opacity / 255.0)
    roi = img[y : y + h, x : x + w]
    roi += (np.asarray(color, np.float32) - roi) * a


def rounded_mask(w: int, h: int, r: float) -> np.ndarray:
    """uint8 coverage of the card's rounded rectangle (anti-aliased corners)."""
    m = np.zeros((h, w), np.uint8)
    r = max(0.0, min(r, w / 2 - 1, h / 2 - 1))
    if r < 1:
        m[:] = 255
        return m
    ri = int(round(r))
    cv2.rectangle(m, (ri, 0), (w - 1 - ri, h - 1), 255, -1)
    cv2.rectangle(m, (0, ri), (w - 1, h - 1 - ri), 255, -1)
    for cx, cy in ((r, r), (w - r, r), (w - r, h - r), (r, h - r)):
        cv2.circle(m, (int(round((cx - 0.5) * _ONE)), int(round((cy - 0.5) * _ONE))), int(round(r * _ONE)), 255, -1,
                   cv2.LINE_AA, SHIFT)
    return m


def gradient(img: np.ndarray, layer: GradientLayer, px: float) -> None:
    H, W = img.shape[:2]
    x, y, w, h = (np.array(layer.box_mm) * px).tolist() if layer.box_mm else (0, 0, W, H)
    x0, y0, x1, y1 = int(round(x)), int(round(y)), int(round(x + w)), int(round(y + h))
    a = math.radians(layer.angle)
    # t = x cos a + y sin a is a sum of a row and a column: broadcast instead of a full grid
    tx = np.arange(x1 - x0, dtype=np.float32) * math.cos(a)
    ty = np.arange(y1 - y0, dtype=np.float32)[:, None] * math.sin(a)
    lo = min(0.0, float(tx[-1])) + min(0.0, float(ty[-1, 0]))
    span = max(abs(float(tx[-1])) + abs(float(ty[-1, 0])), 1e-6)
    t = (tx + ty - lo) * (1.0 / span)
    c0, c1 = (np.array(c, np.float32) for c in layer.colors)
    roi = img[y0:y1, x0:x1]
    for ch in range(3):  # one channel at a time: no H x W x 3 temporaries
        g = c0[ch] + (c1[ch] - c0[ch]) * t
        roi[..., ch] += (g - roi[..., ch]) * layer.opacity


def guilloche(img: np.ndarray, layer: GuillocheLayer, px: float) -> None:
    """A rosette: `curves` closed curves r(t) = mid + amp * sin(lobes t + phase_j), each phase
    shifted, plus a slower modulation so the curves interlace like engraved security print."""
    H, W = img.shape[:2]
    cx, cy = (v * px for v in layer.center_mm)
    r0, r1 = (v * px for v in layer.radius_mm)
    mid, amp = (r0 + r1) / 2, (r1 - r0) / 2
    t = np.linspace(0, 2 * math.pi, 1440, endpoint=True)
    m = np.zeros((H, W), np.uint8)
    mod = 0.22
    k2 = layer.lobes // 2 + 1
    for j in range(layer.curves):
        ph = 2 * math.pi * j / (layer.curves * layer.lobes)
        r = mid + amp * ((1 - mod) * np.sin(layer.lobes * t + ph * layer.lobes) + mod * np.sin(k2 * t - 3 * ph))
        xy = np.stack([cx + r * np.cos(t) - 0.5, cy + r * np.sin(t) - 0.5], axis=1)
        cv2.polylines(m, [_pts(xy)], True, 255, max(1, int(round(layer.line_px))), cv2.LINE_AA, SHIFT)
    over(img, m, layer.color, layer.opacity)


def waves(img: np.ndarray, layer: WaveLayer, px: float) -> None:
    H, W = img.shape[:2]
    x, y, w, h = (np.array(layer.box_mm) * px).tolist() if layer.box_mm else (0, 0, W, H)
    m = np.zeros((H, W), np.uint8)
    xs = np.linspace(x, x + w, max(2, int(w / 2)))
    amp, per = layer.amplitude_mm * px, layer.period_mm * px
    ph0 = 0.0
    for j in range(layer.lines):
        yc = y + (j + 0.5) * h / layer.lines
        ys = yc + amp * np.sin(2 * math.pi * xs / per + ph0 + 0.35 * j)
        cv2.polylines(m, [_pts(np.stack([xs - 0.5, ys - 0.5], axis=1))], False, 255,
                      max(1, int(round(layer.line_px))), cv2.LINE_AA, SHIFT)
    x0, y0, x1, y1 = int(x), int(y), int(math.ceil(x + w)), int(math.ceil(y + h))
    m[:y0], m[y1:], m[:, :x0], m[:, x1:] = 0, 0, 0, 0  # the wave swing stays inside the box
    over(img, m, layer.color, layer.opacity)


def _text_mask(face, size_px: int, text: str) -> np.ndarray:
    font = pil_font(face.path, face.index, max(4, size_px))
    l, t, r, b = font.getbbox(text)
    im = Image.new("L", (max(1, r - l + 2), max(1, b - t + 2)), 0)
    ImageDraw.Draw(im).text((1 - l, 1 - t), text, font=font, fill=255)
    return np.asarray(im)


def microprint(img: np.ndarray, layer: MicroprintLayer, px: float, face) -> None:
    """Rows of tiny repeated text filling the box (illegible at normal resolution, like the
    real thing; not labelled as text)."""
    H, W = img.shape[:2]
    x, y, w, h = (np.array(layer.box_mm) * px).tolist()
    size = max(4, int(round(layer.size_mm * px)))
    unit = _text_mask(face, size, layer.text + " ")
    uh, uw = unit.shape
    m = np.zeros((H, W), np.uint8)
    x0, y0, x1, y1 = int(x), int(y), min(W, int(x + w)), min(H, int(y + h))
    row = 0
    for yy in range(y0, y1 - uh + 1, uh + 1):
        off = -((row * uw) // 3) % uw
        for xx in range(x0 - off, x1, uw):
            a, b = max(xx, x0), min(xx + uw, x1)
            if b > a:
                m[yy : yy + uh, a:b] = np.maximum(m[yy : yy + uh, a:b], unit[:, a - xx : b - xx])
        row += 1
    over(img, m, layer.color, layer.opacity)


def emblem(img: np.ndarray, layer: EmblemLayer, px: float) -> None:
    """Generic line-art emblems (no real state's arms): star, seal, globe, shield, wreath."""
    H, W = img.shape[:2]
    cx, cy = (v * px for v in layer.center_mm)
    R = layer.size_mm * px / 2
    m = np.zeros((H, W), np.uint8)
    lw = max(1, int(round(R / 40)))

    def poly(pts, closed=True, fill=False):
        p = _pts(np.asarray(pts) - 0.5)
        if fill:
            cv2.fillPoly(m, [p], 255, cv2.LINE_AA, SHIFT)
        else:
            cv2.polylines(m, [p], closed, 255, lw, cv2.LINE_AA, SHIFT)

    def circle(r, fill=False):
        cv2.circle(m, (int((cx - 0.5) * _ONE), int((cy - 0.5) * _ONE)), int(r * _ONE), 255, -1 if fill else lw,
                   cv2.LINE_AA, SHIFT)

    def star(r, k=5, inner=0.42, rot=-math.pi / 2):
        a = rot + np.arange(2 * k) * math.pi / k
        rr = np.where(np.arange(2 * k) % 2 == 0, r, r * inner)
        return np.stack([cx + rr * np.cos(a), cy + rr * np.sin(a)], axis=1)

    if layer.shape == "star":
        poly(star(R), fill=True)
    elif layer.shape == "seal":
        circle(R)
        circle(R * 0.86)
        a = np.linspace(0, 2 * math.pi, 72, endpoint=False)
        for ai in a:
            poly([(cx + R * 0.88 * math.cos(ai), cy + R * 0.88 * math.sin(ai)),
                  (cx + R * 0.98 * math.cos(ai), cy + R * 0.98 * math.sin(ai))], closed=False)
        poly(star(R * 0.45, k=6, inner=0.5))
    elif layer.shape == "globe":
        circle(R)
        for f in (0.3, 0.65):
            cv2.ellipse(m, (int((cx - 0.5) * _ONE), int((cy - 0.5) * _ONE)),
                        (int(R * f * _ONE), int(R * _ONE)), 0, 0, 360, 255, lw, cv2.LINE_AA, SHIFT)
        for f in (-0.5, 0.0, 0.5):
            hw = R * math.sqrt(1 - f * f)
            poly([(cx - hw, cy + f * R), (cx + hw, cy + f * R)], closed=False)
    elif layer.shape == "shield":
        t = np.linspace(0, math.pi, 40)
        bottom = np.stack([cx + R * 0.8 * np.cos(t), cy + R * 0.2 + R * 0.8 * np.sin(t)], axis=1)
        pts = np.vstack([[(cx - R * 0.8, cy - R * 0.9), (cx + R * 0.8, cy - R * 0.9)], bottom])
        poly(pts)
        poly(star(R * 0.35))
    else:  # wreath: two arcs of leaves
        for side in (-1, 1):
            for k in range(9):
                a = math.pi / 2 + side * (0.35 + k * 0.27)
                px_, py_ = cx + R * 0.8 * math.cos(a), cy + R * 0.8 * math.sin(a)
                cv2.ellipse(m, (int((px_ - 0.5) * _ONE), int((py_ - 0.5) * _ONE)),
                            (int(R * 0.16 * _ONE), int(R * 0.07 * _ONE)), math.degrees(a) + 90 * side + 30, 0, 360,
                            255, -1, cv2.LINE_AA, SHIFT)
    over(img, m, layer.color, layer.opacity)


def rotated_text_mask(face, size_px: int, text: str, angle: float, canvas: tuple[int, int],
                      center: tuple[float, float]) -> np.ndarray:
    """`text` rendered at `size_px`, turned `angle` degrees counter-clockwise about its centre,
    centred at `center` on a (W, H) canvas."""
    t = _text_mask(face, size_px, text)
    h, w = t.shape
    M = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), angle, 1.0)
    M[0, 2] += center[0] - w / 2
    M[1, 2] += center[1] - h / 2
    return cv2.warpAffine(t, M, canvas, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def watermark(img: np.ndarray, layer: WatermarkLayer, px: float, face) -> None:
    H, W = img.shape[:2]
    m = rotated_text_mask(face, int(round(layer.size_mm * px)), layer.text, layer.angle, (W, H),
                          tuple(v * px for v in layer.center_mm))
    over(img, m, layer.color, layer.opacity)


def watermark_quad(layer: WatermarkLayer, px: float, face) -> np.ndarray | None:
    """The ink extents of the text `watermark` draws, turned with it: a quad (4 x 2, clockwise
    from the text's top-left, pixel (x, y) covering [x, x+1)); None when it has no ink. Legible
    watermark text is labelled don't-care (document renderer), so a detector is not taught that
    it is background."""
    t = _text_mask(face, int(round(layer.size_mm * px)), layer.text)
    ys, xs = np.nonzero(t)
    if not len(xs):
        return None
    h, w = t.shape
    M = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), layer.angle, 1.0)  # as rotated_text_mask
    M[0, 2] += layer.center_mm[0] * px - w / 2
    M[1, 2] += layer.center_mm[1] * px - h / 2
    x0, x1, y0, y1 = float(xs.min()), float(xs.max()) + 1, float(ys.min()), float(ys.max()) + 1
    # warpAffine maps pixel centres (index x is the centre x + 0.5): corners go through it half a pixel back
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64) - 0.5
    return (pts @ M[:, :2].T + M[:, 2] + 0.5).astype(np.float32)


def band(img: np.ndarray, layer: BandLayer, px: float) -> None:
    x, y, w, h = (np.array(layer.box_mm) * px).tolist()
    x0, y0, x1, y1 = int(round(x)), int(round(y)), int(round(x + w)), int(round(y + h))
    roi = img[y0:y1, x0:x1]
    roi += (np.asarray(layer.color, np.float32) - roi) * layer.opacity


def image(img: np.ndarray, layer: ImageLayer, px: float, path) -> None:
    x, y, w, h = (np.array(layer.box_mm) * px).tolist()
    x0, y0, x1, y1 = int(round(x)), int(round(y)), int(round(x + w)), int(round(y + h))
    im = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if im is None:
        from ..errors import UserError

        raise UserError(f"template image {path} cannot be decoded; use a PNG or JPEG")
    if im.ndim == 2:
        im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGRA)
    elif im.shape[2] == 3:
        im = cv2.cvtColor(im, cv2.COLOR_BGR2BGRA)
    im = cv2.resize(im, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(im[..., :3], cv2.COLOR_BGR2RGB).astype(np.float32)
    a = im[..., 3].astype(np.float32)[..., None] / 255 * layer.opacity
    roi = img[y0:y1, x0:x1]
    roi += (rgb - roi) * a


_BASE: dict[tuple[str, float], np.ndarray] = {}


def draw_art(t: Template, variant: int) -> np.ndarray:
    """The card's static art (H x W x 3 uint8 RGB) for one variant. Variant 0 is the template
    exactly (drawn once per process); others are colour transforms of it from a fixed seed
    (per-channel gain and offset and a slight hue tilt, like print runs of one design), which
    costs milliseconds instead of a full redraw."""
    key = (str(t.file), t.px)
    base = _BASE.get(key)
    if base is None:
        base = _BASE[key] = _draw(t)
    if variant == 0:
        return base
    rng = np.random.Generator(np.random.PCG64([0xCA4D, variant, sum(map(ord, t.name))]))
    M = np.eye(3) * rng.uniform(0.93, 1.05, 3) + rng.uniform(-0.04, 0.04, (3, 3)) * (1 - np.eye(3))
    off = rng.uniform(-10, 10, (3, 1))
    return cv2.transform(base, np.hstack([M, off]).astype(np.float32))


def _draw(t: Template) -> np.ndarray:
    """Every background layer of the template, in order, as specified (no jitter)."""
    W, H = t.size_px
    px = t.px
    img = np.empty((H, W, 3), np.float32)
    img[:] = t.cfg.base_color
    for layer in t.cfg.background:
        if isinstance(layer, GradientLayer):
            gradient(img, layer, px)
        elif isinstance(layer, GuillocheLayer):
            guilloche(img, layer, px)
        elif isinstance(layer, WaveLayer):
            waves(img, layer, px)
        elif isinstance(layer, MicroprintLayer):
            microprint(img, layer, px, t.faces[layer.font])
        elif isinstance(layer, EmblemLayer):
            emblem(img, layer, px)
        elif isinstance(layer, WatermarkLayer):
            watermark(img, layer, px, t.faces[layer.font])
        elif isinstance(layer, BandLayer):
            band(img, layer, px)
        elif isinstance(layer, ImageLayer):
            image(img, layer, px, t.assets[layer.path])
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)
