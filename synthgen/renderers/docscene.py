"""A rendered card placed in a scene: on a background, in perspective, with clutter, a drop
shadow, light falloff and partial occlusion at the edges (card detection and rectification).

One homography Hm (card pixel corners -> image pixel corners) moves the card, its alpha, its
ink map and every quad: pixels go through `layout.warp`, quads through `layout.apply_h`, the
same matrix in the same pixel-corner convention, so labels follow the pixels exactly. Text
lines the frame cuts or an occluder covers are kept but marked `ignore`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..core import TEXT_KINDS, Instance
from ..draws import Draws
from . import layout as L
from .backgrounds import render_background

SHIFT = 4


def _roi(pts: np.ndarray, W: int, H: int, grow: int = 2) -> tuple[int, int, int, int]:
    x0 = max(0, int(math.floor(pts[:, 0].min())) - grow)
    y0 = max(0, int(math.floor(pts[:, 1].min())) - grow)
    x1 = min(W, int(math.ceil(pts[:, 0].max())) + grow)
    y1 = min(H, int(math.ceil(pts[:, 1].max())) + grow)
    return x0, y0, x1, y1


def card_homography(d: Draws, sc, W: int, H: int, OW: int, OH: int) -> np.ndarray:
    """Card pixel corners -> image: scale, rotation (sometimes upside down), a perspective
    tilt (each corner moved independently) and a position keeping the card in the frame
    unless `out_of_frame` lets the frame cut it."""
    s = d.uniform("scene.scale", sc.scale[0], sc.scale[1]) * OW / W
    ang = d.uniform("scene.rotate", sc.rotate[0], sc.rotate[1])
    if d.bernoulli("scene.flip", sc.flip):
        ang += 180.0
    a = math.radians(ang)
    c, sn = math.cos(a), math.sin(a)
    src = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float64)
    rel = (src - [W / 2, H / 2]) * s
    rot = np.stack([rel[:, 0] * c + rel[:, 1] * sn, -rel[:, 0] * sn + rel[:, 1] * c], axis=1)
    size = max(W, H) * s
    for k in range(4):
        rot[k, 0] += d.uniform(f"scene.tilt[{k}].x", -sc.tilt, sc.tilt) * size
        rot[k, 1] += d.uniform(f"scene.tilt[{k}].y", -sc.tilt, sc.tilt) * size
    lo, hi = rot.min(axis=0), rot.max(axis=0)
    span = hi - lo
    out = d.bernoulli("scene.out_of_frame", sc.out_of_frame)
    slack = 0.3 * span if out else np.zeros(2)
    cx_lo, cx_hi = -lo[0] - slack[0], OW - hi[0] + slack[0]
    cy_lo, cy_hi = -lo[1] - slack[1], OH - hi[1] + slack[1]
    cx = d.uniform("scene.x", cx_lo, cx_hi) if cx_hi > cx_lo else OW / 2
    cy = d.uniform("scene.y", cy_lo, cy_hi) if cy_hi > cy_lo else OH / 2
    dst = rot + [cx, cy]
    return cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)).astype(np.float64)


def _clutter(d: Draws, img: np.ndarray, n: int) -> None:
    H, W = img.shape[:2]
    for k in range(n):
        kind = d.choice(f"scene.clutter[{k}].kind", ("paper", "line", "circle", "box"))
        col = tuple(int(d.uniform(f"scene.clutter[{k}].color.{ch}", 0, 255)) for ch in "rgb")
        x, y = d.uniform(f"scene.clutter[{k}].x", 0, W), d.uniform(f"scene.clutter[{k}].y", 0, H)
        r = d.uniform(f"scene.clutter[{k}].size", 0.05, 0.35) * min(W, H)
        if kind == "paper":
            ang = d.uniform(f"scene.clutter[{k}].angle", 0, 180)
            box = cv2.boxPoints(((x, y), (r * 1.6, r), ang))
            cv2.fillConvexPoly(img, np.round(box * (1 << SHIFT)).astype(np.int32), col, cv2.LINE_AA, SHIFT)
        elif kind == "line":
            ang = math.radians(d.uniform(f"scene.clutter[{k}].angle", 0, 180))
            p0 = (int(x - r * math.cos(ang)), int(y - r * math.sin(ang)))
            p1 = (int(x + r * math.cos(ang)), int(y + r * math.sin(ang)))
            cv2.line(img, p0, p1, col, max(1, int(r / 20)), cv2.LINE_AA)
        elif kind == "circle":
            cv2.circle(img, (int(x), int(y)), int(r / 2), col, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (int(x - r / 2), int(y - r / 3)), (int(x + r / 2), int(y + r / 3)), col,
                          max(1, int(r / 25)), cv2.LINE_AA)


def _falloff(d: Draws, img: np.ndarray, strength: float) -> np.ndarray:
    """Light falling off across the frame: a linear ramp plus a soft spot, as a small gain map
    resized once and multiplied in."""
    s = d.uniform("scene.falloff", 0.0, strength)
    if s < 0.02:
        return img
    H, W = img.shape[:2]
    ang = d.uniform("scene.falloff_angle", 0, 2 * math.pi)
    sx, sy = d.uniform("scene.spot.x", 0, 1), d.uniform("scene.spot.y", 0, 1)
    yy, xx = np.mgrid[0:24, 0:32].astype(np.float32)
    u, v = xx / 31, yy / 23
    ramp = (u - 0.5) * math.cos(ang) + (v - 0.5) * math.sin(ang) + 0.5
    spot = np.exp(-((u - sx) ** 2 + (v - sy) ** 2) / 0.18)
    gain = 1.0 - s * (0.6 * ramp + 0.4 * (1 - spot))
    g = cv2.resize(gain, (W, H), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(img, cv2.cvtColor(g, cv2.COLOR_GRAY2RGB), dtype=cv2.CV_8U)  # g in all 3 channels


OCCLUDER_COLORS = ((224, 172, 128), (198, 145, 100), (141, 90, 60), (241, 194, 160), (40, 40, 45), (90, 110, 160))


def _occluder(d: Draws, corners: np.ndarray, W: int, H: int) -> tuple[np.ndarray, tuple[int, int, int]] | None:
    """A thumb-like ellipse over one card edge: its mask (full frame) and colour."""
    e = d.integers("scene.occluder.edge", 0, 3)
    t = d.uniform("scene.occluder.along", 0.15, 0.85)
    p = corners[e] * (1 - t) + corners[(e + 1) % 4] * t
    edge = corners[(e + 1) % 4] - corners[e]
    L_ = float(np.hypot(*edge))
    rx = d.uniform("scene.occluder.length", 0.08, 0.2) * L_
    ry = rx * d.uniform("scene.occluder.aspect", 0.45, 0.7)
    ang = math.degrees(math.atan2(edge[1], edge[0])) + 90.0
    col = tuple(int(v) for v in d.choice("scene.occluder.color", OCCLUDER_COLORS))
    m = np.zeros((H, W), np.uint8)
    cv2.ellipse(m, (int(p[0] * 16), int(p[1] * 16)), (int(rx * 16), int(ry * 16)), ang, 0, 360, 255, -1,
                cv2.LINE_AA, SHIFT)
    if not m.any():
        return None
    return m, col


def _over(dst: np.ndarray, src, a: np.ndarray) -> None:
    """In place: dst = uint8(src * f + dst * (1 - f) + 0.5), f = float32(a) / 255, per pixel
    (dst H x W x 3 uint8, `src` H x W x 3 or a float32 colour, `a` H x W uint8). Where a is 0
    that is dst and where it is 255 it is src, exactly, so the float arithmetic runs only on
    the pixels in between (a card's or a thumb's anti-aliased rim, a few % of its box): the
    same bytes as the expression over the whole box."""
    rim = cv2.findNonZero(cv2.inRange(a, 1, 254))  # (x, y) of the pixels with 0 < a < 255
    if rim is not None:
        rim = rim.reshape(-1, 2)
        xs, ys = rim[:, 0], rim[:, 1]
        f = a[ys, xs].astype(np.float32)[:, None] / 255
        s = src[ys, xs] if src.ndim == 3 else src
        dst[ys, xs] = (s * f + dst[ys, xs] * (1 - f) + 0.5).astype(np.uint8)
    if src.ndim != 3:  # a colour: whole values, so src + 0.5 truncates to it where a is 255
        fill = np.empty(dst.shape, np.uint8)
        fill[:] = src.astype(np.uint8)
        src = fill
    cv2.copyTo(src, cv2.compare(a, 255, cv2.CMP_EQ), dst)  # where a is 255 (OpenCV writes into the view)


class SceneComposer:
    def __init__(self, cfg) -> None:
        self.sc = cfg.document.scene
        self.bg = cfg.background

    def place(self, d: Draws, card: np.ndarray, alpha: np.ndarray, instances: list[Instance],
              ink: np.ndarray | None):
        sc = self.sc
        OW, OH = sc.width, sc.height
        H, W = card.shape[:2]
        img = render_background(d, self.bg.weights, self.bg.folders, OW, OH).copy()
        _clutter(d, img, d.integers("scene.clutter", sc.clutter[0], sc.clutter[1]))
        Hm = card_homography(d, sc, W, H, OW, OH)
        corners = L.apply_h(Hm, np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float32))
        x0, y0, x1, y1 = _roi(corners, OW, OH)
        if x1 > x0 and y1 > y0:
            local = L.mm3(L.t3(-x0, -y0), tuple(map(tuple, Hm.tolist())))
            a = L.warp(alpha, local, (x1 - x0, y1 - y0))
            if d.bernoulli("scene.shadow", sc.shadow):
                dx = int(round(d.uniform("scene.shadow.dx", -0.02, 0.02) * OW))
                dy = int(round(d.uniform("scene.shadow.dy", 0.0, 0.03) * OH))
                blur = d.uniform("scene.shadow.blur", 2.0, 8.0)
                op = d.uniform("scene.shadow.opacity", 0.2, 0.5)
                sx0, sy0, sx1, sy1 = max(0, x0 + dx), max(0, y0 + dy), min(OW, x1 + dx), min(OH, y1 + dy)
                if sx1 > sx0 and sy1 > sy0:
                    sh = cv2.GaussianBlur(a, (0, 0), blur)[sy0 - y0 - dy : sy1 - y0 - dy, sx0 - x0 - dx : sx1 - x0 - dx]
                    roi = img[sy0:sy1, sx0:sx1]
                    g = 1.0 - op * sh.astype(np.float32) / 255
                    roi[:] = cv2.multiply(roi, cv2.cvtColor(g, cv2.COLOR_GRAY2RGB), dtype=cv2.CV_8U)
            c = L.warp(card, local, (x1 - x0, y1 - y0))
            _over(img[y0:y1, x0:x1], c, a)
        if ink is not None:
            ink = L.warp(ink[:H, :W], Hm, (OW, OH))
        img = _falloff(d, img, sc.falloff)
        occ = None
        if d.bernoulli("scene.occlusion", sc.occlusion):
            o = _occluder(d, corners, OW, OH)
            if o is not None:
                occ, col = o
                bx, by, bw, bh = cv2.boundingRect(occ)  # the thumb's box: the frame outside it is unchanged
                _over(img[by : by + bh, bx : bx + bw], np.asarray(col, np.float32), occ[by : by + bh, bx : bx + bw])
                if ink is not None:
                    ink[occ > 0] = 0
        out = []
        for inst in instances:
            q = L.apply_h(Hm, inst.quad)
            ch = L.apply_h(Hm, inst.chars) if inst.chars is not None else None
            ignore = inst.ignore
            if inst.kind in TEXT_KINDS and not ignore:
                inside = (q[:, 0].min() >= 0 and q[:, 1].min() >= 0 and q[:, 0].max() <= OW and q[:, 1].max() <= OH)
                ignore = not inside or (occ is not None and _covered(occ, q))
            out.append(Instance(q, inst.text, ch, inst.kind, inst.field, bool(ignore)))
        return img, out, ink, Hm


def _covered(occ: np.ndarray, q: np.ndarray) -> bool:
    """Whether the occluder touches the quad."""
    H, W = occ.shape
    x0, y0, x1, y1 = _roi(q, W, H, 0)
    if x1 <= x0 or y1 <= y0:
        return False
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(m, np.round((q - [x0, y0]) * (1 << SHIFT)).astype(np.int32), 255, cv2.LINE_8, SHIFT)
    return bool(np.any(occ[y0:y1, x0:x1][m > 0]))


# -- the factors declared (synthgen/factors.py) --------------------------------------------------


def declare(cat, cfg, card_sizes: list[tuple[int, int]]) -> None:
    """What `SceneComposer.place` draws (cfg: the pipeline config) for cards of `card_sizes`
    (W, H) px: the card's position is declared as the bound of its centre whatever its scale,
    turn and tilt."""
    from .backgrounds import declare as declare_background

    sc, bg = cfg.document.scene, cfg.background
    OW, OH = sc.width, sc.height
    declare_background(cat, bg.weights, bg.folders, (OW, OW), (OH, OH))
    cat.integers("scene.clutter", *sc.clutter, src="document.scene.clutter")
    if sc.clutter[1] > 0:
        cat.choice("scene.clutter[*].kind", ("paper", "line", "circle", "box"))
        cat.rgb("scene.clutter[*].color")
        cat.uniform("scene.clutter[*].x", 0, OW)
        cat.uniform("scene.clutter[*].y", 0, OH)
        cat.uniform("scene.clutter[*].size", 0.05, 0.35)
        cat.uniform("scene.clutter[*].angle", 0, 180)
    cat.uniform("scene.scale", *sc.scale, src="document.scene.scale")
    cat.uniform("scene.rotate", *sc.rotate, src="document.scene.rotate")
    cat.bernoulli("scene.flip", src="document.scene.flip")
    cat.uniform("scene.tilt[*].x", -sc.tilt, sc.tilt, src="document.scene.tilt")
    cat.uniform("scene.tilt[*].y", -sc.tilt, sc.tilt, src="document.scene.tilt")
    cat.bernoulli("scene.out_of_frame", src="document.scene.out_of_frame")
    # the card's reach from its centre: half its diagonal plus two corner shifts, at the largest scale
    reach = max(sc.scale[1] * OW / W * (math.hypot(W, H) / 2 + 2 * sc.tilt * max(W, H)) for W, H in card_sizes)
    slack = 1.6 * reach  # the centre keeps the card in frame, or lets the frame cut up to 0.3 of its span
    cat.uniform("scene.x", -slack, OW + slack, depends=True)
    cat.uniform("scene.y", -slack, OH + slack, depends=True)
    cat.bernoulli("scene.shadow", src="document.scene.shadow")
    if sc.shadow > 0:
        cat.uniform("scene.shadow.dx", -0.02, 0.02)
        cat.uniform("scene.shadow.dy", 0.0, 0.03)
        cat.uniform("scene.shadow.blur", 2.0, 8.0)
        cat.uniform("scene.shadow.opacity", 0.2, 0.5)
    cat.uniform("scene.falloff", 0.0, sc.falloff, src="document.scene.falloff")
    if sc.falloff >= 0.02:
        cat.uniform("scene.falloff_angle", 0, 2 * math.pi)
        cat.uniform("scene.spot.x", 0, 1)
        cat.uniform("scene.spot.y", 0, 1)
    cat.bernoulli("scene.occlusion", src="document.scene.occlusion")
    if sc.occlusion > 0:
        cat.integers("scene.occluder.edge", 0, 3)
        cat.uniform("scene.occluder.along", 0.15, 0.85)
        cat.uniform("scene.occluder.length", 0.08, 0.2)
        cat.uniform("scene.occluder.aspect", 0.45, 0.7)
        cat.choice("scene.occluder.color", OCCLUDER_COLORS)
