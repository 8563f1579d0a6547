"""Procedural faces: head-and-shoulders portraits drawn from recorded draws (no torch).

A face is first drawn as a *spec* (every random choice, through `Draws` under `<prefix>.*`),
then rasterised. Rendering the same spec twice with one attribute forced on and off gives the
exact same face with and without glasses or a smile: ground truth the GeneGAN paper never had.

Everything is filled polygons in a normalised head frame (head centre (0, 0), face half-width
about 1), posed (roll about the neck, yaw as a depth-weighted shift), scaled to pixels and drawn
anti-aliased with sub-pixel precision by OpenCV, so one code path serves 64 x 64 GAN crops and
300 x 380 card photos. Lighting is a low-resolution gain map resized and multiplied in once.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

ATTRIBUTES = ("glasses", "smile")

_SHIFT = 4  # sub-pixel bits for cv2 polygon drawing
_ONE = 1 << _SHIFT

# Skin tones (RGB) from light to dark; a face blends two neighbours.
_SKIN = np.array([(255, 224, 196), (241, 194, 160), (224, 172, 128), (198, 145, 100),
                  (170, 118, 80), (141, 90, 60), (110, 68, 45), (80, 50, 35)], np.float64)
# Colours drawn at random with these weights; the weight-0 ones only when a card's holder has them
# (pinned: a licence's WHI hair, GRY eyes), so faces drawn at random are as before they existed.
_HAIR = {"black": (28, 24, 22), "dark_brown": (60, 40, 28), "brown": (105, 70, 42),
         "blonde": (200, 165, 105), "red": (150, 68, 35), "gray": (150, 148, 145), "white": (226, 224, 218)}
_HAIR_WEIGHTS = [3, 3, 3, 2, 1, 1, 0]
_EYE = {"brown": (85, 55, 35), "dark": (45, 32, 25), "blue": (70, 110, 160), "green": (75, 115, 75),
        "hazel": (120, 95, 55), "gray": (118, 126, 134)}
_EYE_WEIGHTS = [1, 1, 1, 1, 1, 0]
HAIR_COLORS, EYE_COLORS, SKIN_TONES = tuple(_HAIR), tuple(_EYE), len(_SKIN)  # what a template's photo.look names
_BG = [(222, 230, 240), (236, 236, 236), (200, 214, 232), (238, 232, 220), (180, 200, 215),
       (215, 225, 210), (160, 170, 185), (245, 245, 248)]
_HAIR_STYLES = ("short", "long", "bald", "bob", "curly")
_FACE_SHAPES = {"oval": (0.92, 1.28, 0.30), "round": (1.0, 1.18, 0.18), "square": (1.0, 1.2, 0.08),
                "long": (0.86, 1.38, 0.28), "heart": (0.95, 1.25, 0.42)}
_GLASSES_SHAPES = ("round", "rect", "aviator", "browline")


@lru_cache(maxsize=8)
def _trig(n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    return np.cos(t), np.sin(t)


def _ell(cx: float, cy: float, rx: float, ry: float, n: int = 32) -> np.ndarray:
    c, s = _trig(n)
    return np.stack([cx + rx * c, cy + ry * s], 1)


def _col(c: Any) -> tuple[int, int, int]:
    return (int(c[0]), int(c[1]), int(c[2]))


def _mix(a: Any, b: Any, t: float) -> np.ndarray:
    return np.asarray(a, np.float64) * (1.0 - t) + np.asarray(b, np.float64) * t


def _scale(c: Any, k: float) -> np.ndarray:
    return np.clip(np.asarray(c, np.float64) * k, 0, 255)


# -- the spec: every random choice, recorded ---------------------------------------------------
def face_spec(d: Any, prefix: str = "face") -> dict[str, Any]:
    """Draw one face: every choice goes through `d` under `<prefix>.<factor>`. Attribute
    parameters (glasses shape, smile width) are drawn whether or not the attribute is on, so
    forcing an attribute never changes the rest of the face."""
    p = prefix
    s: dict[str, Any] = {}
    shape = d.choice(f"{p}.shape", list(_FACE_SHAPES))
    w, h, jaw = _FACE_SHAPES[shape]
    s["face_w"] = w * d.uniform(f"{p}.shape.width", 0.93, 1.07)
    s["face_h"] = h * d.uniform(f"{p}.shape.height", 0.95, 1.05)
    s["jaw"] = jaw
    tone = d.uniform(f"{p}.skin.tone", 0.0, len(_SKIN) - 1.0)
    k = min(int(tone), len(_SKIN) - 2)
    s["skin"] = _mix(_SKIN[k], _SKIN[k + 1], tone - k)
    s["hair_color"] = np.asarray(_HAIR[d.choice(f"{p}.hair.color", list(_HAIR), _HAIR_WEIGHTS)], np.float64)
    s["hair_style"] = d.choice(f"{p}.hair.style", list(_HAIR_STYLES), [4, 3, 1, 2, 1.5])
    s["hair_volume"] = d.uniform(f"{p}.hair.volume", 0.08, 0.28)
    s["fringe"] = d.uniform(f"{p}.hair.fringe", -0.15, 0.35)
    s["part"] = d.uniform(f"{p}.hair.part", -0.5, 0.5)
    s["eye_color"] = np.asarray(_EYE[d.choice(f"{p}.eyes.color", list(_EYE), _EYE_WEIGHTS)], np.float64)
    s["eye_y"] = d.uniform(f"{p}.eyes.height", -0.12, 0.02)
    s["eye_dx"] = d.uniform(f"{p}.eyes.spacing", 0.36, 0.46)
    s["eye_w"] = d.uniform(f"{p}.eyes.width", 0.17, 0.23)
    s["eye_open"] = d.uniform(f"{p}.eyes.open", 0.35, 0.6)
    s["gaze"] = d.uniform(f"{p}.eyes.gaze", -0.3, 0.3)
    s["brow_thick"] = d.uniform(f"{p}.brows.thickness", 0.035, 0.085)
    s["brow_arch"] = d.uniform(f"{p}.brows.arch", 0.0, 0.08)
    s["brow_y"] = d.uniform(f"{p}.brows.height", 0.17, 0.26)
    s["nose_len"] = d.uniform(f"{p}.nose.length", 0.28, 0.42)
    s["nose_w"] = d.uniform(f"{p}.nose.width", 0.12, 0.2)
    s["mouth_y"] = d.uniform(f"{p}.mouth.height", 0.55, 0.66)
    s["mouth_w"] = d.uniform(f"{p}.mouth.width", 0.28, 0.4)
    s["lip_color"] = _mix(s["skin"], (175, 70, 75), d.uniform(f"{p}.mouth.lip_tint", 0.25, 0.65))
    s["lip_full"] = d.uniform(f"{p}.mouth.fullness", 0.03, 0.07)
    s["smile_amount"] = d.uniform(f"{p}.smile.amount", 0.7, 1.0)
    s["roll"] = d.uniform(f"{p}.pose.roll", -8.0, 8.0)
    s["yaw"] = d.uniform(f"{p}.pose.yaw", -0.25, 0.25)
    s["pitch"] = d.uniform(f"{p}.pose.pitch", -0.06, 0.06)
    s["head_x"] = d.uniform(f"{p}.pose.shift_x", -0.04, 0.04)
    s["head_y"] = d.uniform(f"{p}.pose.shift_y", -0.03, 0.03)
    s["head_scale"] = d.uniform(f"{p}.pose.scale", 0.93, 1.07)
    s["light_angle"] = d.uniform(f"{p}.lighting.angle", -math.pi, math.pi)
    s["light_strength"] = d.uniform(f"{p}.lighting.strength", 0.0, 0.28)
    s["brightness"] = d.uniform(f"{p}.lighting.brightness", 0.85, 1.12)
    bg = _BG[d.choice(f"{p}.background.color", list(range(len(_BG))))]
    s["bg_top"] = _scale(bg, d.uniform(f"{p}.background.top", 0.95, 1.05))
    s["bg_bottom"] = _scale(bg, d.uniform(f"{p}.background.bottom", 0.78, 0.95))
    hue = d.uniform(f"{p}.clothing.hue", 0.0, 180.0)
    sat = d.uniform(f"{p}.clothing.saturation", 0.0, 200.0)
    val = d.uniform(f"{p}.clothing.value", 30.0, 200.0)
    s["cloth"] = cv2.cvtColor(np.uint8([[[hue, sat, val]]]), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float64)
    s["collar"] = d.choice(f"{p}.clothing.collar", ["v", "round", "shirt"])
    s["shoulder_w"] = d.uniform(f"{p}.clothing.shoulders", 2.1, 2.6)
    s["glasses"] = d.bernoulli(f"{p}.glasses", 0.5)
    s["glasses_shape"] = d.choice(f"{p}.glasses.shape", list(_GLASSES_SHAPES))
    s["glasses_color"] = np.asarray(d.choice(f"{p}.glasses.color", [(20, 20, 20), (70, 45, 30), (150, 150, 155),
                                                                    (120, 30, 30), (25, 35, 80)]), np.float64)
    s["glasses_thick"] = d.uniform(f"{p}.glasses.thickness", 0.035, 0.07)
    s["glasses_size"] = d.uniform(f"{p}.glasses.size", 0.95, 1.15)
    s["glasses_tint"] = d.choice(f"{p}.glasses.tint", [0.0, 0.0, 0.0, 0.25, 0.7])
    s["smile"] = d.bernoulli(f"{p}.smile", 0.5)
    return s


# -- rasterising -------------------------------------------------------------------------------
class _Canvas:
    """Pixel mapping of one posed face: head-frame points -> sub-pixel int32 polygons."""

    def __init__(self, img: np.ndarray, s: dict[str, Any]) -> None:
        self.img = img
        h, w = img.shape[:2]
        self.unit = 0.225 * min(w, h * 0.82) * s["head_scale"]  # pixels per head-frame unit
        self.cx = w * (0.5 + s["head_x"])
        self.cy = h * (0.42 + s["head_y"])
        a = math.radians(s["roll"])
        self.ca, self.sa = math.cos(a), math.sin(a)
        self.yaw, self.pitch = s["yaw"], s["pitch"]
        self.pivot = 1.5  # roll pivots about the neck

    def px(self, pts: np.ndarray, depth: float = 0.0) -> np.ndarray:
        """depth: how far the points stand out of the face plane (nose 1, face outline 0);
        yaw and pitch shift points in proportion to it."""
        x = pts[:, 0] + self.yaw * depth
        y = pts[:, 1] - self.pivot + self.pitch * depth
        xr = self.ca * x - self.sa * y
        yr = self.sa * x + self.ca * y + self.pivot
        out = np.empty((len(pts), 2), np.int32)
        out[:, 0] = np.rint((self.cx + xr * self.unit) * _ONE)
        out[:, 1] = np.rint((self.cy + yr * self.unit) * _ONE)
        return out

    def poly(self, pts: np.ndarray, color: Any, depth: float = 0.0) -> None:
        cv2.fillPoly(self.img, [self.px(pts, depth)], _col(color), cv2.LINE_AA, _SHIFT)

    def line(self, pts: np.ndarray, color: Any, thick: float, depth: float = 0.0, closed: bool = False) -> None:
        t = max(1, int(round(thick * self.unit)))
        cv2.polylines(self.img, [self.px(pts, depth)], closed, _col(color), t, cv2.LINE_AA, _SHIFT)


def _face_outline(s: dict[str, Any], grow: float = 0.0, n: int = 48) -> np.ndarray:
    c, sn = _trig(n)
    lower = np.clip(sn, 0, None)
    w = (s["face_w"] + grow) * (1.0 - s["jaw"] * lower**2)
    return np.stack([w * c, (s["face_h"] + grow) * sn + 0.12], 1)


def _background(h: int, w: int, s: dict[str, Any]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h)[:, None]
    col = (s["bg_top"][None] * (1 - t) + s["bg_bottom"][None] * t).astype(np.uint8)  # h x 3
    return cv2.resize(col[:, None, :], (w, h), interpolation=cv2.INTER_NEAREST)


def _hair_back(cv: _Canvas, s: dict[str, Any]) -> None:
    st, v, hc = s["hair_style"], s["hair_volume"], s["hair_color"]
    fw = s["face_w"]
    if st == "long":
        # one outline: the top arc from the left side over the crown to the right side (both ends
        # at y = -0.25, where the falls start), then the falls widening down to the shoulders.
        # (The arc used to stop one step short of the right side and a second polygon joined it
        # with a crossing edge: a notch in the right-hand outline.)
        rx, ry = fw + v + 0.12, 1.25 + v
        a = np.linspace(math.pi, 2 * math.pi, 21)
        arc = np.stack([rx * np.cos(a), -0.25 + ry * np.sin(a)], 1)
        cv.poly(np.concatenate([arc, [[fw + v + 0.2, 1.9], [-(fw + v + 0.2), 1.9]]]), hc)
    elif st == "bob":
        cv.poly(np.array([[fw + v + 0.1, -0.3], [fw + v + 0.08, 1.0], [-(fw + v + 0.08), 1.0],
                          [-(fw + v + 0.1), -0.3]]), hc)
    elif st == "curly":
        for k in range(9):
            a = math.pi * (0.85 + 1.3 * k / 8)
            cv.poly(_ell((fw + 0.1) * math.cos(a), -0.2 + 1.2 * math.sin(a), 0.38 + v, 0.38 + v, 20), hc)


def _body(cv: _Canvas, s: dict[str, Any]) -> None:
    skin, cloth = s["skin"], s["cloth"]
    sw = s["shoulder_w"]
    neck = np.array([[-0.42, 0.9], [0.42, 0.9], [0.5, 2.2], [-0.5, 2.2]])
    cv.poly(neck, _scale(skin, 0.86))
    body = np.concatenate([[[-sw - 0.6, 4.0]], _ell(0, 2.4, sw, 0.8, 40)[20:], [[sw + 0.6, 4.0]]])
    body[1:-1, 1] = np.minimum(body[1:-1, 1], 2.4)
    cv.poly(body, cloth)
    if s["collar"] == "v":
        cv.poly(np.array([[-0.5, 1.5], [0.5, 1.5], [0.0, 2.4]]), _scale(skin, 0.86))
    elif s["collar"] == "round":
        cv.poly(_ell(0, 1.55, 0.62, 0.3, 24)[:13], _scale(skin, 0.86))
    else:  # shirt collar: two white flaps
        cv.poly(np.array([[-0.5, 1.55], [0.0, 2.2], [-0.45, 2.3], [-0.8, 1.75]]), (235, 235, 230))
        cv.poly(np.array([[0.5, 1.55], [0.0, 2.2], [0.45, 2.3], [0.8, 1.75]]), (235, 235, 230))


def _head(cv: _Canvas, s: dict[str, Any]) -> None:
    skin = s["skin"]
    fw = s["face_w"]
    for side in (-1, 1):  # ears
        cv.poly(_ell(side * (fw - 0.02), 0.12, 0.17, 0.27, 20), _scale(skin, 0.9), depth=-0.4)
    cv.poly(_face_outline(s), skin, depth=0.0)
    # lit-side cheek highlight and shadow side: soft colour steps that read as modelling
    cv.poly(_ell(-0.35 * math.cos(s["light_angle"]), 0.25, 0.55, 0.7, 32), _scale(skin, 1.04), depth=0.3)


def _hair_front(cv: _Canvas, s: dict[str, Any]) -> None:
    st, v, hc = s["hair_style"], s["hair_volume"], s["hair_color"]
    if st == "bald":
        return
    fw, fh = s["face_w"], s["face_h"]
    top = -fh + 0.12
    a = np.linspace(math.pi - 0.05, 2 * math.pi + 0.05, 25)  # left -> top -> right
    rx, ry = fw + v * 0.9, fh + v
    cap = np.stack([rx * np.cos(a), 0.12 + ry * np.sin(a)], 1)
    hairline = top + 0.42 + s["fringe"]
    xs = np.linspace(fw * 0.98, -fw * 0.98, 9)
    part = s["part"] * fw
    fringe = np.stack([xs, hairline + 0.08 * np.abs(xs - part) / fw - 0.05 * (np.arange(9) % 2)], 1)
    fringe[0, 1] = fringe[-1, 1] = 0.05  # temples reach down to the ears
    cv.poly(np.concatenate([cap, fringe]), hc, depth=0.1)
    if st == "curly":
        for k in range(7):
            x = -fw * 0.8 + fw * 1.6 * k / 6
            cv.poly(_ell(x, hairline - 0.02, 0.2, 0.14, 16), _scale(hc, 1.1), depth=0.15)
    # a lighter strand gives the mass some shine: a short arc along the crown, inside the cap on
    # the side of the parting. (It was a straight light bar from the parting towards the
    # hairline, pushed 0.35 sideways: a stray diagonal bar, and past the outline when the parting
    # lay far to one side.)
    # 0.1 inside the outline: the hair is at least ~0.3 thick there, whatever the fringe
    mid = 1.5 * math.pi + 0.4 * s["part"]
    b = np.linspace(mid - 0.3, mid + 0.3, 9)
    cv.line(np.stack([(rx - 0.1) * np.cos(b), 0.12 + (ry - 0.1) * np.sin(b)], 1), _mix(hc, _scale(hc, 1.3) + 10, 0.6),
            0.035, depth=0.1)


def _eyes(cv: _Canvas, s: dict[str, Any]) -> None:
    ey, dx, ew, op = s["eye_y"], s["eye_dx"], s["eye_w"], s["eye_open"]
    skin = s["skin"]
    for side in (-1, 1):
        x0 = side * dx
        socket = _ell(x0, ey + 0.01, ew * 1.25, ew * 0.75, 24)
        cv.poly(socket, _scale(skin, 0.92), depth=0.6)
        white = _ell(x0, ey, ew, ew * op, 24)
        cv.poly(white, (238, 236, 232), depth=0.6)
        ir = ew * 0.52
        gx = x0 + s["gaze"] * ew * 0.4
        cv.poly(_ell(gx, ey, ir, min(ir, ew * op * 0.98), 20), s["eye_color"], depth=0.6)
        cv.poly(_ell(gx, ey, ir * 0.45, min(ir * 0.45, ew * op * 0.6), 12), (15, 12, 12), depth=0.6)
        cv.poly(_ell(gx + ir * 0.3, ey - ir * 0.3, ir * 0.15, ir * 0.15, 8), (250, 250, 250), depth=0.6)
        lid = _ell(x0, ey, ew * 1.02, ew * op * 1.05, 24)[12:]  # upper half: angles pi..2pi
        cv.line(lid, (35, 28, 25), 0.035, depth=0.6)
        # brow
        bx = np.linspace(x0 - side * ew * 1.1, x0 + side * ew * 1.3, 7)
        t = np.linspace(0, 1, 7)
        by = ey - s["brow_y"] - s["brow_arch"] * np.sin(np.pi * t) + 0.03 * t
        th = s["brow_thick"] * (1.0 - 0.5 * t)
        brow = np.concatenate([np.stack([bx, by - th / 2], 1), np.stack([bx, by + th / 2], 1)[::-1]])
        cv.poly(brow, _scale(s["hair_color"], 0.75) if s["hair_style"] != "bald" else (60, 45, 35), depth=0.6)


def _nose(cv: _Canvas, s: dict[str, Any]) -> None:
    skin = s["skin"]
    nl, nw = s["nose_len"], s["nose_w"]
    y0 = s["eye_y"] + 0.05
    yb = y0 + nl
    side = 1.0 if math.cos(s["light_angle"]) < 0 else -1.0
    cv.poly(np.array([[0.0, y0], [side * nw * 0.6, yb - 0.05], [side * nw, yb], [0.0, yb + 0.03]]),
            _scale(skin, 0.88), depth=1.0)
    for sgn in (-1, 1):
        cv.poly(_ell(sgn * nw * 0.45, yb, nw * 0.22, nw * 0.13, 12), _scale(skin, 0.62), depth=1.0)


def _mouth(cv: _Canvas, s: dict[str, Any], smile: bool) -> None:
    my, mw, lip, full = s["mouth_y"], s["mouth_w"], s["lip_color"], s["lip_full"]
    n = 13
    t = np.linspace(-1.0, 1.0, n)
    xs = t * mw
    if smile:
        a = s["smile_amount"]
        lift = 0.13 * a
        mw2 = mw * (1.0 + 0.15 * a)
        xs = t * mw2
        up = my - lift * t**2 - 0.02  # upper edge of the opening curves up to the corners
        lo = my + (0.14 * a) * (1 - t**2) - lift * t**2  # lower edge drops in the middle
        opening = np.concatenate([np.stack([xs, up], 1), np.stack([xs, lo], 1)[::-1]])
        cv.poly(np.concatenate([np.stack([xs * 1.04, up - full], 1),
                                np.stack([xs * 1.04, lo + full], 1)[::-1]]), lip, depth=0.7)
        cv.poly(opening, (70, 25, 30), depth=0.7)
        teeth_lo = up + (lo - up) * 0.55
        cv.poly(np.concatenate([np.stack([xs * 0.9, up + 0.005], 1), np.stack([xs * 0.9, teeth_lo], 1)[::-1]]),
                (240, 236, 225), depth=0.7)
        for sgn in (-1, 1):  # smile lines
            cx = sgn * (mw2 + 0.08)
            cv.line(np.array([[cx - sgn * 0.02, my - lift - 0.17], [cx + sgn * 0.05, my - lift],
                              [cx, my - lift + 0.12]]), _scale(s["skin"], 0.8), 0.025, depth=0.5)
    else:
        curve = 0.015 * (t**2)
        mid = my + curve
        upper = np.concatenate([np.stack([xs, mid], 1),
                                np.stack([xs * 0.96, mid - full * (1 - 0.6 * t**2) - 0.01 * np.cos(np.pi * t * 2)], 1)[::-1]])
        lower = np.concatenate([np.stack([xs, mid], 1), np.stack([xs * 0.96, mid + full * 1.3 * (1 - t**2)], 1)[::-1]])
        cv.poly(upper, _scale(lip, 0.9), depth=0.7)
        cv.poly(lower, lip, depth=0.7)
        cv.line(np.stack([xs, mid], 1), _scale(lip, 0.55), 0.018, depth=0.7)


def _lens(shape: str, x0: float, y0: float, r: float) -> np.ndarray:
    if shape == "round":
        return _ell(x0, y0, r, r * 0.9, 28)
    c, sn = _trig(28)
    if shape == "rect":
        e = 6.0  # superellipse: rounded rectangle
        return np.stack([x0 + r * 1.1 * np.sign(c) * np.abs(c) ** (2 / e), y0 + r * 0.72 * np.sign(sn) * np.abs(sn) ** (2 / e)], 1)
    if shape == "aviator":
        yy = np.where(sn > 0, r * 1.0 * sn, r * 0.65 * sn)
        return np.stack([x0 + r * 1.05 * c + 0.12 * r * np.clip(sn, 0, None) * np.sign(-x0), y0 + yy], 1)
    # browline: flat-topped
    yy = np.where(sn > 0, r * 0.8 * sn, r * 0.55 * sn)
    return np.stack([x0 + r * 1.08 * c, y0 + yy], 1)


def _glasses(cv: _Canvas, s: dict[str, Any]) -> None:
    ey, dx = s["eye_y"], s["eye_dx"]
    r = s["eye_w"] * 1.45 * s["glasses_size"]
    col, th, tint, shape = s["glasses_color"], s["glasses_thick"], s["glasses_tint"], s["glasses_shape"]
    lenses = [_lens(shape, side * dx, ey + 0.02, r) for side in (-1, 1)]
    if tint > 0:  # tinted lenses: blend only inside the glasses' bounding box
        pts = [cv.px(l, 0.75) for l in lenses]
        allp = np.concatenate(pts) >> _SHIFT
        h, w = cv.img.shape[:2]
        x0, y0 = max(0, allp[:, 0].min() - 1), max(0, allp[:, 1].min() - 1)
        x1, y1 = min(w, allp[:, 0].max() + 2), min(h, allp[:, 1].max() + 2)
        if x1 > x0 and y1 > y0:
            roi = cv.img[y0:y1, x0:x1]
            over = roi.copy()
            off = np.array([x0, y0], np.int32) << _SHIFT
            cv2.fillPoly(over, [p - off for p in pts], _col(_scale(col, 0.6)), cv2.LINE_AA, _SHIFT)
            cv2.addWeighted(over, tint, roi, 1.0 - tint, 0.0, dst=roi)
    for l in lenses:
        cv.line(l, col, th, depth=0.75, closed=True)
    if shape == "browline":
        for l in lenses:
            top = l[l[:, 1] < ey + 0.02]
            cv.line(top[np.argsort(top[:, 0])], col, th * 2.2, depth=0.75)
    inner = dx - r * (1.1 if shape != "round" else 1.0)
    cv.line(np.array([[-inner, ey - 0.02], [0.0, ey - 0.06], [inner, ey - 0.02]]), col, th * 0.9, depth=0.85)
    fw = s["face_w"]
    for side in (-1, 1):  # temples back to the ears
        outer = dx + r * 1.05
        cv.line(np.array([[side * outer, ey - 0.02], [side * (fw + 0.02), ey + 0.03]]), col, th * 0.9, depth=0.4)


@lru_cache(maxsize=4096)
def _gain_small(angle_q: int, strength_q: int, bright_q: int) -> np.ndarray:
    """Low-res multiplicative lighting map (x 128, uint8, 3 channels), quantised so it caches."""
    a = angle_q * (2 * math.pi / 64)
    st = strength_q / 100.0
    br = bright_q / 100.0
    ys, xs = np.mgrid[0:8, 0:8].astype(np.float64)
    x, y = (xs - 3.5) / 3.5, (ys - 3.5) / 3.5
    g = br * (1.0 + st * (x * math.cos(a) + y * math.sin(a)) * 0.5) * (1.0 - 0.06 * (x * x + y * y))
    return np.repeat(np.clip(g * 128.0, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def _light(img: np.ndarray, s: dict[str, Any]) -> np.ndarray:
    aq = int(round(s["light_angle"] / (2 * math.pi) * 64)) % 64
    sq = int(round(s["light_strength"] * 100))
    bq = int(round(s["brightness"] * 100))
    h, w = img.shape[:2]
    g = cv2.resize(_gain_small(aq, sq, bq), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(img, g, scale=1.0 / 128.0)


def _size_hw(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    h, w = size
    return int(h), int(w)


def render_spec(s: dict[str, Any], size: int | tuple[int, int], attrs: dict[str, bool] | None = None) -> np.ndarray:
    """Rasterise a face spec at `size` (int or (height, width)); `attrs` overrides attributes."""
    h, w = _size_hw(size)
    if h < 8 or w < 8:
        raise ValueError(f"face size {h}x{w} is too small (at least 8 x 8)")
    on = {a: bool(s[a]) for a in ATTRIBUTES}
    for k, v in (attrs or {}).items():
        if k not in on:
            raise ValueError(f"unknown face attribute {k!r}; known: {', '.join(ATTRIBUTES)}")
        on[k] = bool(v)
    img = _background(h, w, s)
    cv = _Canvas(img, s)
    _hair_back(cv, s)
    _body(cv, s)
    _head(cv, s)
    _nose(cv, s)
    _eyes(cv, s)
    _mouth(cv, s, on["smile"])
    _hair_front(cv, s)
    if on["glasses"]:
        _glasses(cv, s)
    if min(h, w) >= 160:  # soften polygon edges at photo sizes, as a lens would
        img = cv2.GaussianBlur(img, (3, 3), 0)
    return _light(img, s)


def render_face(d: Any, size: int | tuple[int, int], attrs: dict[str, bool] | None = None,
                prefix: str = "face") -> np.ndarray:
    """One procedural portrait, H x W x 3 uint8 RGB. `attrs={"glasses": True}` forces an attribute
    (the drawn value is still recorded under `<prefix>.glasses`; the forced one as derived)."""
    s = face_spec(d, prefix)
    if attrs:
        for k, v in attrs.items():
            _derive(d, f"{prefix}.{k}.forced", bool(v))
    return render_spec(s, size, attrs)


def render_face_pair(d: Any, size: int | tuple[int, int], attr: str = "glasses",
                     prefix: str = "face") -> tuple[np.ndarray, np.ndarray]:
    """The same face with and without `attr`: (with, without). Exact ground truth for swaps."""
    if attr not in ATTRIBUTES:
        raise ValueError(f"unknown face attribute {attr!r}; known: {', '.join(ATTRIBUTES)}")
    s = face_spec(d, prefix)
    return render_spec(s, size, {attr: True}), render_spec(s, size, {attr: False})


def _derive(d: Any, name: str, value: Any) -> None:
    if hasattr(d, "derive"):
        d.derive(name, value)
    else:
        d.factors["derived." + name] = value


# -- the factors declared (synthgen/factors.py) --------------------------------------------------


class _Declaring:
    """A stand-in for `Draws` that declares each draw `face_spec` makes (face_spec draws the
    same names with the same options and ranges whatever the values: no draw depends on
    another) and answers with a valid value (the first option, the low end, False)."""

    def __init__(self, cat) -> None:
        self.cat = cat

    def choice(self, name: str, options, weights=None, src=None):
        self.cat.choice(name, options, src=src)
        return options[0]

    def uniform(self, name: str, lo: float, hi: float, src=None) -> float:
        self.cat.uniform(name, lo, hi, src=src)
        return float(lo)

    def bernoulli(self, name: str, p: float, src=None) -> bool:
        self.cat.bernoulli(name, src=src)
        return False


def declare_face(cat, prefix: str = "face") -> None:
    """What `face_spec(d, prefix)` draws, under `<prefix>.*`."""
    face_spec(_Declaring(cat), prefix)
