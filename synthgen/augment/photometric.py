"""Photometric ops: change pixels, never labels.

Each op draws its parameters once (factors `aug.<op>.<param>`) and applies them. Tone ops
(brightness, contrast, gamma) also expose a lookup table so the stage fuses consecutive ones
into a single table lookup (albu.lut). Images are RGB uint8 (BGR only inside OpenCV's JPEG codec).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from .albu import lut
from .base import Op, register

_X = np.arange(256, dtype=np.float32)


class Photo(Op):
    kind = "photometric"


class ToneOp(Photo):
    """An op that is a per-value curve: `curve(x)` maps float levels 0..255 to 0..255."""

    def curve(self, x: np.ndarray, p: dict[str, Any]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def apply(self, img: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        return lut(img, tone_lut([(self, p)]))


def tone_lut(chain: list[tuple[ToneOp, dict[str, Any]]]) -> np.ndarray:
    x = _X
    for op, p in chain:
        x = np.clip(op.curve(x, p), 0, 255)
    return np.round(x).astype(np.uint8)


@register
class Brightness(ToneOp):
    name, p, range, param = "brightness", 0.4, (-40.0, 40.0), "beta"

    def curve(self, x, p):
        return x + p["beta"]


@register
class Contrast(ToneOp):
    name, p, range, identity, param = "contrast", 0.4, (0.6, 1.4), 1.0, "alpha"

    def curve(self, x, p):
        return (x - 128.0) * p["alpha"] + 128.0


@register
class Gamma(ToneOp):
    name, p, range, identity, param = "gamma", 0.2, (0.6, 1.6), 1.0, "gamma"

    def curve(self, x, p):
        return 255.0 * (np.clip(x, 0, 255) / 255.0) ** p["gamma"]


@register
class Hue(Photo):
    name, p, range, param = "hue", 0.1, (-15.0, 15.0), "shift"  # OpenCV hue units (180 = full turn)

    def apply(self, img, p):
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        table = ((np.arange(256) + int(round(p["shift"]))) % 180).astype(np.uint8)
        hsv[:, :, 0] = cv2.LUT(hsv[:, :, 0], table)
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)

    floor = 0.5  # whole hue units


@register
class Saturation(Photo):
    name, p, range, identity, param = "saturation", 0.2, (0.4, 1.6), 1.0, "factor"

    def apply(self, img, p):
        g = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        return cv2.addWeighted(img, p["factor"], g, 1.0 - p["factor"], 0.0)


def _soft_mask(W: int, H: int, fn) -> np.ndarray:
    """A smooth 0..1 mask evaluated on a 32-px-ish grid and upsampled (cheap on big frames)."""
    gw, gh = max(2, min(W, 32)), max(2, min(H, 32))
    xs = (np.arange(gw, dtype=np.float32) + 0.5) * (W / gw)
    ys = (np.arange(gh, dtype=np.float32) + 0.5) * (H / gh)
    small = fn(xs[None, :], ys[:, None]).astype(np.float32)
    return cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)


@register
class Shadow(Photo):
    """A soft-edged shadow over one side of a random line across the frame: darkens by m."""

    name, p, range, param = "shadow", 0.1, (0.0, 0.5), "dark"

    floor = 0.02

    def draw(self, d, rng, strength, ctx):
        m = self.magnitude(d, rng, strength)
        return {"dark": m, "angle": d.uniform("aug.shadow.angle", 0.0, 2 * math.pi),
                "offset": d.uniform("aug.shadow.offset", -0.3, 0.3), "soft": d.uniform("aug.shadow.soft", 0.02, 0.2)}

    def factors(self, cat, rng, strength, instances=None):
        super().factors(cat, rng, strength, instances)
        cat.uniform("aug.shadow.angle", 0.0, 2 * math.pi)
        cat.uniform("aug.shadow.offset", -0.3, 0.3)
        cat.uniform("aug.shadow.soft", 0.02, 0.2)

    def apply(self, img, p):
        H, W = img.shape[:2]
        c, s, diag = math.cos(p["angle"]), math.sin(p["angle"]), math.hypot(W, H)

        def fn(x, y):
            t = ((x - W / 2) * c + (y - H / 2) * s) / diag - p["offset"]
            return 1.0 / (1.0 + np.exp(-t / p["soft"]))

        k = (255.0 * (1.0 - p["dark"] * _soft_mask(W, H, fn))).astype(np.uint8)
        return cv2.multiply(img, cv2.merge([k, k, k]), scale=1 / 255)


@register
class Glare(Photo):
    """A bright Gaussian spot (up to m x 255 added at its centre)."""

    name, p, range, param = "glare", 0.1, (0.0, 0.6), "level"

    floor = 0.02

    def draw(self, d, rng, strength, ctx):
        m = self.magnitude(d, rng, strength)
        return {"level": m, "x": d.uniform("aug.glare.x", 0, 1), "y": d.uniform("aug.glare.y", 0, 1),
                "radius": d.uniform("aug.glare.radius", 0.1, 0.5)}

    def factors(self, cat, rng, strength, instances=None):
        super().factors(cat, rng, strength, instances)
        cat.uniform("aug.glare.x", 0, 1)
        cat.uniform("aug.glare.y", 0, 1)
        cat.uniform("aug.glare.radius", 0.1, 0.5)

    def apply(self, img, p):
        H, W = img.shape[:2]
        cx, cy, r = p["x"] * W, p["y"] * H, p["radius"] * max(W, H)
        spot = _soft_mask(W, H, lambda x, y: np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r)))
        a = (255.0 * p["level"] * spot).astype(np.uint8)
        return cv2.add(img, cv2.merge([a, a, a]))


class _Morph(Photo):
    """Grey-level erosion / dilation (3 x 3), blended in by m: continuous, 0 = identity.
    Dark ink on light paper thickens under erosion and thins under dilation."""

    range = (0.0, 1.0)
    param = "amount"
    _fn = staticmethod(cv2.erode)

    floor = 0.05

    def apply(self, img, p):
        return cv2.addWeighted(img, 1.0 - p["amount"], self._fn(img, _K3), p["amount"], 0.0)


_K3 = np.ones((3, 3), np.uint8)


@register
class Erode(_Morph):
    name, p = "erode", 0.1
    _fn = staticmethod(cv2.erode)


@register
class Dilate(_Morph):
    name, p = "dilate", 0.1
    _fn = staticmethod(cv2.dilate)


@register
class GaussianBlur(Photo):
    name, p, range, param = "blur", 0.3, (0.0, 1.5), "sigma"

    floor = 0.3  # under 1/3 px a blur changes nothing visible

    def apply(self, img, p):
        # taps out to 2.5 sigma (>= 98.8% of the weight)
        k = 2 * max(1, math.ceil(2.5 * p["sigma"] - 0.5)) + 1
        return cv2.GaussianBlur(img, (k, k), p["sigma"])


def motion_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised line kernel `length` px long at `angle` degrees (anti-aliased)."""
    n = 2 * int(math.ceil(length / 2)) + 1
    k = np.zeros((n, n), np.float32)
    c = (n - 1) / 2
    dx, dy = math.cos(math.radians(angle)) * length / 2, -math.sin(math.radians(angle)) * length / 2
    cv2.line(k, (round((c - dx) * 16), round((c - dy) * 16)), (round((c + dx) * 16), round((c + dy) * 16)),
             1.0, 1, cv2.LINE_AA, 4)
    return k / k.sum()


@register
class MotionBlur(Photo):
    name, p, range, param = "motion_blur", 0.1, (0.0, 6.0), "length"  # px

    floor = 1.0

    def draw(self, d, rng, strength, ctx):
        m = self.magnitude(d, rng, strength)
        return {"length": m, "angle": d.uniform("aug.motion_blur.angle", 0.0, 180.0)}

    def factors(self, cat, rng, strength, instances=None):
        super().factors(cat, rng, strength, instances)
        cat.uniform("aug.motion_blur.angle", 0.0, 180.0)

    def apply(self, img, p):
        return cv2.filter2D(img, -1, motion_kernel(p["length"], p["angle"]), borderType=cv2.BORDER_REPLICATE)


@lru_cache(maxsize=32)
def disc_kernel(radius_x4: int) -> np.ndarray:
    r = radius_x4 / 4.0
    n = 2 * int(math.ceil(r)) + 1
    k = np.zeros((n, n), np.float32)
    c = (n - 1) / 2
    cv2.circle(k, (round(c * 16), round(c * 16)), round(r * 16), 1.0, -1, cv2.LINE_AA, 4)
    return k / k.sum()


@register
class Defocus(Photo):
    name, p, range, param = "defocus", 0.1, (0.0, 3.0), "radius"  # px

    floor = 0.75

    def apply(self, img, p):
        return cv2.filter2D(img, -1, disc_kernel(int(round(p["radius"] * 4))), borderType=cv2.BORDER_REPLICATE)


@register
class Downscale(Photo):
    """Down to (1 - m) of the size and back up (bilinear)."""

    name, p, range, param = "downscale", 0.15, (0.0, 0.6), "loss"

    floor = 0.05

    def apply(self, img, p):
        H, W = img.shape[:2]
        f = 1.0 - p["loss"]
        # bilinear both ways (area averaging costs ~8x more at non-integer factors)
        small = cv2.resize(img, (max(1, round(W * f)), max(1, round(H * f))), interpolation=cv2.INTER_LINEAR)
        return cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)


NOISE_SCALE = 32.0  # the banks store 32 x |N(0, 1)|, split by sign, as uint8


NOISE_BANK = 1024  # side of the one noise bank every image size crops from


@lru_cache(maxsize=1)
def _noise_bank() -> tuple[np.ndarray, np.ndarray]:
    """Gaussian noise from a fixed seed; samples crop it at keyed offsets (a fresh normal per
    pixel would cost more than the whole stage). Split into positive and negative parts so
    applying it is two table lookups and two saturating uint8 ops. Built once per machine:
    the machine cache (synthgen/machinecache.py) holds it, and a process reads it back (~2-3 ms)
    instead of drawing 3 M normals (0.12-0.34 s measured; `synthgen bench ocr_line --n 4000`
    takes ~4.5 s in all)."""
    from .. import machinecache

    try:
        name = machinecache.key("noise", NOISE_BANK, NOISE_SCALE, machinecache.source_key(__file__), np.__version__)
    except OSError:
        name = None
    hit = None if name is None else machinecache.read("banks", name)
    if hit is not None and {"pos", "neg"} <= set(hit[1]):
        return hit[1]["pos"], hit[1]["neg"]
    pos, neg = _draw_noise_bank()
    if name is not None:
        machinecache.write("banks", name, {"kind": "noise"}, {"pos": pos, "neg": neg})
    return pos, neg


def _draw_noise_bank() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(0x0015E))
    n = NOISE_SCALE * rng.standard_normal((NOISE_BANK, NOISE_BANK, 3), dtype=np.float32)
    return np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)


def _spans(o: int, length: int, n: int) -> list[tuple[int, int]]:
    """[o, o + length) on a circle of n as slices of [0, n)."""
    out = []
    while length > 0:
        take = min(length, n - o)
        out.append((o, o + take))
        length, o = length - take, 0
    return out


def wrap_crop(a: np.ndarray, y: int, x: int, h: int, w: int) -> np.ndarray:
    """An h x w crop of `a` at (y, x), wrapping around its edges (a periodic tiling of `a`)."""
    n_y, n_x = a.shape[:2]
    ys, xs = _spans(y, h, n_y), _spans(x, w, n_x)
    if len(ys) == 1 and len(xs) == 1:
        return np.ascontiguousarray(a[y : y + h, x : x + w])
    out = np.empty((h, w) + a.shape[2:], a.dtype)
    r = 0
    for y0, y1 in ys:
        c = 0
        for x0, x1 in xs:
            out[r : r + y1 - y0, c : c + x1 - x0] = a[y0:y1, x0:x1]
            c += x1 - x0
        r += y1 - y0
    return out


@register
class Noise(Photo):
    name, p, range, param = "noise", 0.3, (0.0, 12.0), "sigma"  # grey levels

    floor = 0.5

    def draw(self, d, rng, strength, ctx):
        # the bank offsets come from a recorded seed
        return {"sigma": self.magnitude(d, rng, strength), "seed": d.seed_for("aug.noise")}

    def factors(self, cat, rng, strength, instances=None):
        super().factors(cat, rng, strength, instances)
        cat.seed("aug.noise")

    def apply(self, img, p):
        h, w = img.shape[:2]
        pos, neg = _noise_bank()
        g = np.random.default_rng(p["seed"])
        if max(h, w) <= NOISE_BANK // 2:  # a plain crop
            x, y = int(g.random() * (NOISE_BANK - w)), int(g.random() * (NOISE_BANK - h))
        else:  # larger frames tile the bank (a 1024 px period is invisible under noise)
            x, y = int(g.random() * NOISE_BANK), int(g.random() * NOISE_BANK)
        table = np.clip(np.round(np.arange(256) * (p["sigma"] / NOISE_SCALE)), 0, 255).astype(np.uint8)
        out = cv2.add(img, lut(wrap_crop(pos, y, x, h, w), table))
        return cv2.subtract(out, lut(wrap_crop(neg, y, x, h, w), table))


@register
class Jpeg(Photo):
    """JPEG round trip at quality 100 - m (chroma handled as OpenCV does for BGR input)."""

    name, p, range, param = "jpeg", 0.2, (0.0, 75.0), "loss"

    floor = 5.0

    def apply(self, img, p):
        q = int(round(100 - p["loss"]))
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def blur_sigma(factors: dict[str, Any]) -> float:
    """The effective Gaussian sigma (px) of every blur a sample got, from its recorded factors
    (variances add: motion of length L ~ L^2/12, a disc of radius r ~ r^2/4, downscale by f ~
    (1/f)^2/12 of the lost resolution)."""
    v = 0.0
    if factors.get("aug.blur.apply"):
        v += factors.get("aug.blur.sigma", 0.0) ** 2
    if factors.get("aug.motion_blur.apply"):
        v += factors.get("aug.motion_blur.length", 0.0) ** 2 / 12.0
    if factors.get("aug.defocus.apply"):
        v += factors.get("aug.defocus.radius", 0.0) ** 2 / 4.0
    if factors.get("aug.downscale.apply"):
        f = 1.0 - factors.get("aug.downscale.loss", 0.0)
        v += max(0.0, (1.0 / max(f, 1e-3)) ** 2 - 1.0) / 12.0
    return math.sqrt(v)

