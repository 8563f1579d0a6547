"""Geometric ops and the one warp they share.

Every matrix op gives a 3x3 src -> dst matrix about the frame centre; they compose into one
matrix M. The elastic op gives a smooth displacement field D on the output grid: output pixel
p samples the source at M^-1(p + D(p)). The image is resampled once (warpPerspective, or remap
when a field is present), and quads and char quads go through exactly the same mapping.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from ..draws import Draws
from ..native import lib as _native
from .base import Ctx, Op, register

BORDER = cv2.BORDER_REPLICATE  # reflecting would mirror text into the frame without a label


def _about_centre(A: np.ndarray, ctx: Ctx) -> np.ndarray:
    cx, cy = (ctx.W - 1) / 2.0, (ctx.H - 1) / 2.0
    T = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]], np.float64)
    Ti = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    return T @ A @ Ti


class MatrixOp(Op):
    kind = "geometric"


@register
class Crop(MatrixOp):
    """Text-aware crop: zoom into a window of (1 - m) of the frame that keeps one chosen
    text instance whole (the window grows to hold it), scaled back to the frame size."""

    name, p, range, param = "crop", 0.1, (0.0, 0.35), "zoom"

    def draw(self, d: Draws, rng, strength: float, ctx: Ctx):
        m = self.magnitude(d, rng, strength)
        keep = d.integers("aug.crop.keep", 0, max(0, len(ctx.quads) - 1)) if ctx.quads else -1
        return {"zoom": m, "keep": keep, "x": d.uniform("aug.crop.x", 0, 1), "y": d.uniform("aug.crop.y", 0, 1)}

    def factors(self, cat, rng, strength, instances=None):
        super().factors(cat, rng, strength, instances)
        if instances is None or instances > 0:  # the instance the window keeps whole (not known: a bound of 2**16)
            hi = 2**16 - 1 if instances is None else instances - 1
            cat.integers("aug.crop.keep", 0, hi, depends=hi > 0)
        cat.uniform("aug.crop.x", 0, 1)
        cat.uniform("aug.crop.y", 0, 1)

    def matrix(self, p: dict[str, Any], ctx: Ctx) -> np.ndarray:
        W, H = ctx.W, ctx.H
        s = 1.0 / (1.0 - p["zoom"])
        if 0 <= p["keep"] < len(ctx.quads):
            q = ctx.quads[p["keep"]]
            bx0, by0 = np.maximum(q.min(0), 0)
            bx1, by1 = np.minimum(q.max(0), (W, H))
            if bx1 > bx0 and by1 > by0:
                s = min(s, W / (bx1 - bx0 + 2), H / (by1 - by0 + 2))
            ww, wh = W / s, H / s
            # window [x0, x0 + ww] must hold [bx0, bx1]: x0 in [bx1 - ww, bx0], and lie in the frame
            lo_x, hi_x = max(0.0, bx1 - ww), min(W - ww, bx0)
            lo_y, hi_y = max(0.0, by1 - wh), min(H - wh, by0)
        else:
            ww, wh = W / s, H / s
            lo_x, hi_x, lo_y, hi_y = 0.0, W - ww, 0.0, H - wh
        x0 = lo_x + p["x"] * max(0.0, hi_x - lo_x)
        y0 = lo_y + p["y"] * max(0.0, hi_y - lo_y)
        return np.array([[s, 0, -s * x0], [0, s, -s * y0], [0, 0, 1]], np.float64)


@register
class Scale(MatrixOp):
    name, p, range, identity, param = "scale", 0.2, (0.8, 1.2), 1.0, "factor"

    def matrix(self, p, ctx):
        f = p["factor"]
        return _about_centre(np.diag([f, f, 1.0]), ctx)


@register
class Rotate(MatrixOp):
    name, p, range, param = "rotate", 0.3, (-8.0, 8.0), "angle"  # degrees, counter-clockwise

    def matrix(self, p, ctx):
        a = math.radians(p["angle"])
        c, s = math.cos(a), math.sin(a)
        # y points down on screen: counter-clockwise is (c, s; -s, c)
        return _about_centre(np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]]), ctx)


@register
class Shear(MatrixOp):
    name, p, range, param = "shear", 0.15, (-0.25, 0.25), "x"  # horizontal shear (dx per dy)

    def matrix(self, p, ctx):
        return _about_centre(np.array([[1, -p["x"], 0], [0, 1, 0], [0, 0, 1]], np.float64), ctx)


@register
class Perspective(MatrixOp):
    """Each frame corner moves by up to m of the frame size; the frame maps onto that quad."""

    name, p, range, param = "perspective", 0.15, (0.0, 0.08), "m"

    def draw(self, d: Draws, rng, strength: float, ctx: Ctx):
        m = self.magnitude(d, rng, strength)
        return {"m": m, "d": [d.uniform(f"aug.perspective.d{k}", 0.0, 1.0) for k in range(8)]}

    def factors(self, cat, rng, strength, instances=None):
        super().factors(cat, rng, strength, instances)
        for k in range(8):
            cat.uniform(f"aug.perspective.d{k}", 0.0, 1.0)

    def matrix(self, p, ctx):
        W, H = ctx.W, ctx.H
        src = np.array([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]], np.float32)
        # corners move inward only: outward ones would pull replicated border into the frame
        inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], np.float32)
        off = np.array(p["d"], np.float32).reshape(4, 2) * inward * (p["m"] * np.array([W, H], np.float32))
        return cv2.getPerspectiveTransform(src, src + off).astype(np.float64)


@register
class Translate(MatrixOp):
    name, p, range, param = "translate", 0.2, (-0.06, 0.06), "x"  # fraction of the frame

    def draw(self, d: Draws, rng, strength: float, ctx: Ctx):
        lo, hi = self.scaled(rng, strength)
        return {"x": d.uniform("aug.translate.x", lo, hi), "y": d.uniform("aug.translate.y", lo, hi)}

    def factors(self, cat, rng, strength, instances=None):
        for ax in "xy":
            cat.uniform(f"aug.translate.{ax}", *self.scaled(rng, strength))

    def useful(self, p):
        return p["x"] != 0 or p["y"] != 0

    def matrix(self, p, ctx):
        return np.array([[1, 0, p["x"] * ctx.W], [0, 1, p["y"] * ctx.H], [0, 0, 1]], np.float64)


@register
class Elastic(Op):
    """A smooth random displacement: per axis a sum of three low-frequency plane waves with
    random direction, phase and weight (at most 3/4 of a cycle across the frame: quads have
    straight edges, so a word may bend only a little), peaking at m x the shorter side."""

    kind, name, p, range, param = "field", "elastic", 0.1, (0.0, 0.02), "m"
    WAVES = 3

    def draw(self, d: Draws, rng, strength: float, ctx: Ctx):
        # the waves come from a recorded seed, made only when the field is evaluated
        return {"m": self.magnitude(d, rng, strength), "seed": d.seed_for("aug.elastic")}

    def factors(self, cat, rng, strength, instances=None):
        super().factors(cat, rng, strength, instances)
        cat.seed("aug.elastic")

    @staticmethod
    @lru_cache(maxsize=64)
    def waves(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = np.random.default_rng(seed)
        n = 2 * Elastic.WAVES
        return g.uniform(-0.75, 0.75, (n, 2)), g.uniform(0, 2 * np.pi, n), g.uniform(0.2, 1.0, n)

    def at(self, p, ctx: Ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """D at points (x, y) (broadcastable arrays): 2 x shape."""
        amp = p["m"] * min(ctx.W, ctx.H)
        freq, phase, weight = self.waves(p["seed"])
        out = []
        for axis in range(2):
            acc = 0.0
            sl = slice(axis * self.WAVES, (axis + 1) * self.WAVES)
            w = weight[sl]
            for (fx, fy), ph, wk in zip(freq[sl], phase[sl], w):
                acc = acc + wk * np.sin(2 * np.pi * (fx * x / ctx.W + fy * y / ctx.H) + ph)
            out.append(acc * (amp / w.sum()))
        return np.stack(np.broadcast_arrays(*out)).astype(np.float64)


# -- the single warp ---------------------------------------------------------------------------
STEP = 8  # px between exact samples of a field warp's source map (linear in between)


class Mapping:
    """src -> dst: x' = M x, then the field: the dst point p with p + D(p) = M x.

    With a field, the source map src(p) = M^-1 (p + D(p)) is computed exactly on a grid every
    STEP px and interpolated linearly (cv2.resize) to every pixel; points are mapped by
    inverting that same interpolated map, so labels follow the pixels as resampled."""

    def __init__(self, M: np.ndarray, fields: list, ctx: Ctx, plain: bool = False) -> None:
        self.M, self.fields, self.ctx = M, fields, ctx
        self.W, self.H = ctx.W, ctx.H
        self._maps = None
        self.plain = plain  # M is the identity matrix as built (no geometric op): points map to themselves

    def is_identity(self) -> bool:
        if self.fields:
            return False
        if self.plain:  # what the check below finds for np.eye(3): every corner exactly in place
            return True
        corners = np.array([[0, 0], [self.W, 0], [self.W, self.H], [0, self.H]], np.float64)
        return bool(np.abs(self.points(corners) - corners).max() < 0.01)

    def maps(self) -> tuple[np.ndarray, np.ndarray]:
        if self._maps is None:
            W, H, s = self.W, self.H, STEP
            gw, gh = -(-W // s) + 2, -(-H // s) + 2  # one extra sample beyond each edge
            # cv2.resize puts coarse sample j at big-image pixel (j + 0.5) * s - 0.5; the big
            # image starts s px before the frame, so sample j sits at x = (j + 0.5) * s - 0.5 - s
            xs = (np.arange(gw) + 0.5) * s - 0.5 - s
            ys = (np.arange(gh) + 0.5) * s - 0.5 - s
            X, Y = np.meshgrid(xs, ys)
            D = sum(op.at(p, self.ctx, X, Y) for op, p in self.fields)
            Mi = np.linalg.inv(self.M)
            px, py = X + D[0], Y + D[1]
            w = Mi[2, 0] * px + Mi[2, 1] * py + Mi[2, 2]
            cx = ((Mi[0, 0] * px + Mi[0, 1] * py + Mi[0, 2]) / w).astype(np.float32)
            cy = ((Mi[1, 0] * px + Mi[1, 1] * py + Mi[1, 2]) / w).astype(np.float32)
            big = (gw * s, gh * s)
            mx = cv2.resize(cx, big, interpolation=cv2.INTER_LINEAR)[s : s + H, s : s + W]
            my = cv2.resize(cy, big, interpolation=cv2.INTER_LINEAR)[s : s + H, s : s + W]
            self._maps = (np.ascontiguousarray(mx), np.ascontiguousarray(my))
        return self._maps

    def points(self, pts: np.ndarray) -> np.ndarray:
        """Label points (pixel-corner coordinates: pixel (x, y) covers [x, x+1) x [y, y+1)) to
        where the warp puts them. OpenCV's warps map pixel centres, so points shift by half a
        pixel into centre coordinates, go through the mapping, and shift back."""
        pts = np.asarray(pts, np.float64).reshape(-1, 2) - 0.5
        if len(pts) == 0:
            return pts.astype(np.float32)
        r = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), self.M).reshape(-1, 2)
        if not self.fields:
            return (r + 0.5).astype(np.float32)
        mx, my = self.maps()
        p = r.copy()
        for _ in range(12):  # solve src(p) = pts: step by the matrix's own forward map
            src = np.stack([_bilinear(mx, p), _bilinear(my, p)], 1)
            step = r - cv2.perspectiveTransform(src.reshape(-1, 1, 2), self.M).reshape(-1, 2)
            p = p + step
            if np.abs(step).max() < 1e-3:
                break
        return (p + 0.5).astype(np.float32)

    def image(self, img: np.ndarray, interp: int = cv2.INTER_LINEAR) -> np.ndarray:
        # 4-channel images take OpenCV's vector path: RGB -> RGBA -> warp -> RGB is ~2x faster
        # than warping RGB (same values: every channel is interpolated on its own)
        three = img.ndim == 3 and img.shape[2] == 3
        src = cv2.cvtColor(img, cv2.COLOR_RGB2RGBA) if three else img
        if not self.fields:
            A = self.M / self.M[2, 2]
            if abs(A[2, 0]) < 1e-12 and abs(A[2, 1]) < 1e-12:
                out = cv2.warpAffine(src, A[:2], (self.W, self.H), flags=interp, borderMode=BORDER)
            else:
                out = cv2.warpPerspective(src, self.M, (self.W, self.H), flags=interp, borderMode=BORDER)
        else:
            mx, my = self.maps()
            out = cv2.remap(src, mx, my, interp, borderMode=BORDER)
        if out.ndim == 2 and img.ndim == 3:
            out = out[:, :, None]
        return cv2.cvtColor(out, cv2.COLOR_RGBA2RGB) if three else out


def _bilinear(f: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The map f (H x W) at float points (n x 2), bilinear; outside the frame it extends
    linearly from the edge (the map is near-affine), so points out of frame map sensibly."""
    if _native is not None:  # the same operations in C (synthgen/_native.c)
        out = np.empty(len(p))
        if _native.bilinear(f, p, out) is None:
            return out
    H, W = f.shape
    x0 = np.clip(np.floor(p[:, 0]).astype(int), 0, W - 2)
    y0 = np.clip(np.floor(p[:, 1]).astype(int), 0, H - 2)
    fx, fy = p[:, 0] - x0, p[:, 1] - y0
    # the four neighbours, gathered first and then widened to float64 (the same values as
    # widening the whole map, which cost a copy of it per call)
    f00, f01 = f[y0, x0].astype(np.float64), f[y0, x0 + 1].astype(np.float64)
    f10, f11 = f[y0 + 1, x0].astype(np.float64), f[y0 + 1, x0 + 1].astype(np.float64)
    return f00 * (1 - fx) * (1 - fy) + f01 * fx * (1 - fy) + f10 * (1 - fx) * fy + f11 * fx * fy


def visible_fraction(quad: np.ndarray, W: int, H: int) -> float:
    """Share of the quad's area inside the frame [0, W] x [0, H]."""
    q = cv2.convexHull(np.asarray(quad, np.float32).reshape(-1, 1, 2)).reshape(-1, 2)
    area = cv2.contourArea(q)
    if area <= 1e-6:
        x, y = q[:, 0], q[:, 1]
        return float(np.all((x >= 0) & (x <= W) & (y >= 0) & (y <= H)))
    frame = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32)
    inter, _ = cv2.intersectConvexConvex(q, frame)
    return float(min(1.0, max(0.0, inter / area)))
