"""SynthTIGER-class styles for text lines (used by line.py): per-character baseline and
spacing jitter, an elastic / wave distortion whose char quads follow the glyphs, 3-D
extrusion, a border or plate around the text, gradient and texture fills inside the glyphs,
and distractor text from neighbouring lines cut off by the crop's top and bottom.

Every style is a recorded factor `line.style.<name>` (a bernoulli with the configured
chance) and its magnitudes are drawn only when it is on (keyed draws: pinning one moves no
other). Bulk randomness (per-character offsets, the elastic field) comes from
`d.rng_for(name)`, whose seed is the recorded factor.

Labels: jitter and elastic move the glyphs, and the char quads are recomputed from where
the glyphs went (exact for jitter; for elastic, the smallest box along the char's own
direction that holds its quad's boundary mapped through the field). Extrusion, boxes and
distractors are decoration, never labelled, like shadows and underlines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ..draws import Draws
from ..native import lib as _native
from . import layout as L
from .glyphs import compose_boxes, compose_line
from .styles import hist_quantile, luma


@dataclass
class Styles:
    jitter: tuple[float, float] | None = None       # (baseline amplitude, spacing amplitude) x size
    elastic: tuple[float, float] | None = None      # (amplitude px, wavelength px) in the crop
    extrude: tuple[int, float, float] | None = None  # (depth px, unit dx, unit dy)
    box: tuple[str, float, int] | None = None       # (outline | plate, pad px, thickness px)
    fill: str | None = None                          # gradient | texture
    fill_angle: float = 0.0
    distract: float | None = None                    # gap between lines, x size
    char_turn: tuple[float, float] | None = None     # (most turn, degrees; most lift, x size) per character
    overlap: tuple[float, float, float, float, float] | None = None  # (opacity, scale, angle deg, shift across x size, along 0..1)


def draw_styles(d: Draws, sc, H: int, kind: str) -> Styles:
    """Draw which styles a line gets and their magnitudes (sc: the LineStyleCfg)."""
    s = Styles()
    if kind == "straight" and d.bernoulli("line.style.jitter", sc.jitter.p, src="line.style.jitter.p"):
        a = d.uniform("line.style.jitter_amount", *sc.jitter.range, src="line.style.jitter.range")
        s.jitter = (a, a)
    if kind != "vertical" and d.bernoulli("line.style.elastic", sc.elastic.p, src="line.style.elastic.p"):
        amp = d.uniform("line.style.elastic_amplitude", *sc.elastic.amplitude, src="line.style.elastic.amplitude") * H
        wl = d.uniform("line.style.elastic_wavelength", *sc.elastic.wavelength, src="line.style.elastic.wavelength") * H
        s.elastic = (amp, wl)
    if d.bernoulli("line.style.extrude", sc.extrude.p, src="line.style.extrude.p"):
        depth = int(round(d.uniform("line.style.extrude_depth", *sc.extrude.range, src="line.style.extrude.range")))
        ang = d.uniform("line.style.extrude_angle", 0.0, 2 * math.pi)
        s.extrude = (max(1, depth), math.cos(ang), math.sin(ang))
    if d.bernoulli("line.style.box", sc.box.p, src="line.style.box.p"):
        plate = d.bernoulli("line.style.box_plate", sc.box.plate, src="line.style.box.plate")
        pad = d.uniform("line.style.box_pad", *sc.box.pad, src="line.style.box.pad") * H
        th = int(round(d.uniform("line.style.box_thickness", *sc.box.thickness, src="line.style.box.thickness")))
        s.box = ("plate" if plate else "outline", pad, max(1, th))
    fills = [("gradient", sc.fill.gradient), ("texture", sc.fill.texture)]
    p_any = min(1.0, sum(p for _, p in fills))
    if p_any > 0 and d.bernoulli("line.style.fill", p_any, src="line.style.fill"):
        s.fill = d.choice("line.style.fill_kind", [k for k, p in fills if p > 0], [p for _, p in fills if p > 0],
                          src="line.style.fill")
        s.fill_angle = d.uniform("line.style.fill_angle", 0.0, 2 * math.pi)
    if kind == "straight" and d.bernoulli("line.style.distractor", sc.distractor.p, src="line.style.distractor.p"):
        s.distract = d.uniform("line.style.distractor_gap", *sc.distractor.range, src="line.style.distractor.range")
    if kind in ("straight", "arc", "sine") and d.bernoulli("line.style.char_rotate", sc.char_rotate.p,
                                                          src="line.style.char_rotate.p"):
        s.char_turn = (d.uniform("line.style.char_rotate_amount", *sc.char_rotate.range, src="line.style.char_rotate.range"),
                       d.uniform("line.style.char_rotate_lift", *sc.char_rotate.lift, src="line.style.char_rotate.lift"))
    if kind != "vertical" and d.bernoulli("line.style.overlap", sc.overlap.p, src="line.style.overlap.p"):
        o = sc.overlap
        s.overlap = (d.uniform("line.style.overlap_opacity", *o.opacity, src="line.style.overlap.opacity"),
                     d.uniform("line.style.overlap_scale", *o.scale, src="line.style.overlap.scale"),
                     d.uniform("line.style.overlap_angle", *o.angle, src="line.style.overlap.angle"),
                     d.uniform("line.style.overlap_shift", *o.shift, src="line.style.overlap.shift")
                     * (1 if d.bernoulli("line.style.overlap_below", 0.5) else -1),
                     d.uniform("line.style.overlap_along", 0.0, 1.0))
    return s


def char_turns(rng: np.random.Generator, n: int, size: int, turn_deg: float,
               lift: float) -> tuple[np.ndarray, np.ndarray]:
    """Per character (turn in radians, uniform in +-turn_deg; lift in px, uniform in +-lift x
    size), for layout.curved(turn=, lift=): turns drawn first, then lifts."""
    turns = np.radians(rng.uniform(-turn_deg, turn_deg, n))
    return turns, rng.uniform(-lift, lift, n) * size


def overlap_layer(lay: L.TextLayout, path: str, index: int, size: int, text: str,
                  ov: tuple[float, float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Another word behind the laid-out text, in its own frame: (mask of the word, 2 x 3 affine
    from the word's canvas into layout space), scaled by ov[1], turned by ov[2] degrees, its
    centre ov[3] x size across the text's middle and at fraction ov[4] along it."""
    m = compose_line(path, index, size, text, 0.0, 1)[0]
    _, sc, ang, across, along = ov
    h, w = lay.mask.shape
    q = lay.quad.astype(np.float64)
    cx = q[0, 0] + along * (q[1, 0] - q[0, 0])
    cy = (q[0, 1] + q[3, 1]) / 2.0 + across * size
    A = cv2.getRotationMatrix2D((m.shape[1] / 2.0, m.shape[0] / 2.0), ang, sc)
    A[0, 2] += cx - m.shape[1] / 2.0
    A[1, 2] += cy - m.shape[0] / 2.0
    return m, A


# -- per-character jitter (straight lines) ----------------------------------------------------


def jittered(d: Draws, path: str, index: int, size: int, text: str, spacing: float, pad: int,
             amp_y: float, amp_x: float) -> L.TextLayout:
    """A straight line whose glyphs each sit `dy` off the baseline and get `dx` extra advance
    (uniform in +-amp x size, from d.rng_for("line.style.jitter")). Char quads are the glyphs'
    ink boxes where they were pasted: exact."""
    asc, desc = L.metrics(path, index, size)
    jitter = jitter_offsets(d.rng_for("line.style.jitter"), len(text), size, amp_y, amp_x)
    canvas, b, oy = compose_boxes(path, index, size, text, spacing, pad, jitter)
    Hc, W = canvas.shape
    base_y = oy + asc
    baseline = np.array([[pad, base_y], [W - pad, base_y]], np.float32)
    chars, lo, hi = L.corners_and_span(b)
    qx0, qx1 = min(float(pad), lo), max(float(W - pad), hi)
    quad = np.array([[qx0, pad], [qx1, pad], [qx1, Hc - pad], [qx0, Hc - pad]], np.float32)
    return L.TextLayout(canvas, chars, quad, text, "straight", baseline)


def jitter_offsets(rng: np.random.Generator, n: int, size: int, amp_y: float,
                   amp_x: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-character (dx extra advance, dy whole-pixel baseline shift), uniform in +-amp x size,
    for glyphs.compose_line(jitter=...): dy drawn first, then dx."""
    dys = np.rint(rng.uniform(-amp_y, amp_y, n) * size).astype(int)
    return rng.uniform(-amp_x, amp_x, n) * size, dys


# -- distractor lines ---------------------------------------------------------------------------


def distractor_layer(lay: L.TextLayout, path: str, index: int, size: int, above: str, below: str,
                     gap: float) -> tuple[np.ndarray, int]:
    """Lines `above` and `below` the laid-out text in its own frame, `gap` x size clear of its
    ink box: a mask whose row 0 is layout row -top, and top. Characters the face lacks are
    dropped before this is called (never tofu)."""
    h, w = lay.mask.shape
    g = max(2, int(round(gap * size)) + 2)
    parts = []
    for t in (above, below):
        parts.append(compose_line(path, index, size, t, 0.0, 0)[0] if t.strip() else np.zeros((1, 1), np.uint8))
    a, b = parts
    top = a.shape[0] + g
    out = np.zeros((top + h + g + b.shape[0], max(w, a.shape[1], b.shape[1])), np.uint8)
    out[: a.shape[0], : a.shape[1]] = a
    out[top + h + g :, : b.shape[1]] = b
    return out[:, :w], top


# -- elastic / wave field -----------------------------------------------------------------------


def elastic_field(rng: np.random.Generator, W: int, H: int, amp: float,
                  wavelength: float) -> tuple[np.ndarray, np.ndarray]:
    """Displacement (dx, dy), float32 H x W: a travelling wave along the line plus smooth
    random bends (a coarse random grid, cubic-upsampled), peak |d| about `amp` px. `rng`: the
    text's own generator (`d.rng_for("<line or item>.style.elastic")`)."""
    phase, phase2 = rng.uniform(0, 2 * math.pi, 2)
    xs = np.arange(W, dtype=np.float32)
    ys = np.arange(H, dtype=np.float32)
    wave = (0.6 * amp * np.sin(2 * math.pi * xs / max(wavelength, 4.0) + phase)).astype(np.float32)
    cells = max(2, int(W / max(wavelength, 4.0)) + 2)
    gy = rng.uniform(-1, 1, (3, cells)).astype(np.float32)
    gx = rng.uniform(-1, 1, (3, cells)).astype(np.float32)
    ry = cv2.resize(gy, (W, H), interpolation=cv2.INTER_CUBIC)
    rx = cv2.resize(gx, (W, H), interpolation=cv2.INTER_CUBIC)
    s = 0.15 * amp * np.sin(2 * math.pi * ys / max(H, 1) + phase2)
    if _native is not None and ry.ndim == 2:  # the two sums below in one C pass (same precision)
        dx, dy = np.empty((H, W), np.float32), np.empty((H, W), np.float32)
        if _native.elastic_mix(rx, ry, wave, s, 0.4 * amp, 0.3 * amp, dx, dy) is None:
            return dx, dy
    dy = wave[None, :] + 0.4 * amp * ry
    dx = 0.3 * amp * rx + s[:, None]
    # dy is float32 already (no copy); dx is float64 where numpy 2 promotes the float64 column
    return dx.astype(np.float32, copy=False), dy.astype(np.float32, copy=False)


def remap(layer: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Pixel (x, y) of the result is `layer` at (x + dx, y + dy)."""
    H, W = dx.shape
    if _native is not None:  # the grid sums in one C pass, the same float32 additions
        mx, my = np.empty((H, W), np.float32), np.empty((H, W), np.float32)
        if _native.grid_plus(dx, dy, 0.0, mx, my, None) is None:
            return cv2.remap(layer, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    gx, gy = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    return cv2.remap(layer, gx + dx, gy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def warp_displaced(mask: np.ndarray, Hm: np.ndarray, size: tuple[int, int], dx: np.ndarray,
                   dy: np.ndarray) -> np.ndarray:
    """`mask` through homography Hm (pixel-corner coordinates, as layout.warp) and then the
    displacement (dx, dy), in ONE resampling: output pixel centre c reads the mask at
    Hm^-1(c + d(c)). Same result as remap(warp(mask, Hm), dx, dy) without the second blur."""
    W, H = size
    Hi = np.linalg.inv(np.asarray(Hm, np.float64))
    if _native is not None and dx.shape == (H, W):  # the grid sums and the maps' split in C, the same operations
        pts = np.empty((H * W, 1, 2))
        if _native.grid_plus(dx, dy, 0.5, None, None, pts) is None:
            src = cv2.perspectiveTransform(pts, Hi)
            mx, my = np.empty((H, W), np.float32), np.empty((H, W), np.float32)
            if _native.split_maps(src, mx, my) is None:
                return cv2.remap(mask, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    gx, gy = np.meshgrid(np.arange(W, dtype=np.float64) + 0.5, np.arange(H, dtype=np.float64) + 0.5)
    pts = np.stack([gx + dx, gy + dy], -1).reshape(-1, 1, 2)
    src = cv2.perspectiveTransform(pts, Hi).reshape(H, W, 2) - 0.5
    return cv2.remap(mask, src[..., 0].astype(np.float32), src[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


FORWARD_TOL = 1e-4  # px: the fixed point is iterated until it moves less (labels are float32)


def forward(pts: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Where points of the unwarped crop land after `remap`: q with q + d(q) = p (fixed point;
    the field's slope is ~0.1-0.2, so each step cuts the error 5-10x).

    The first steps sample the field with cv2.remap (one C call for both components; its
    bilinear weights come in 1/32 px steps, so it only gets within ~0.004 px), the last ones
    with exact bilinear weights until a step moves less than FORWARD_TOL: ~3x faster than
    exact steps throughout, same answer to 1e-4 px."""
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    H, W = dx.shape
    f2 = cv2.merge([dx, dy])
    q = p.copy()
    for _ in range(6):  # coarse: within ~0.004 px of the fixed point
        m = (q - 0.5).astype(np.float32).reshape(1, -1, 2)
        new = p - cv2.remap(f2, m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(-1, 2)
        done = np.abs(new - q).max() < 1e-2
        q = new
        if done:
            break
    if _native is not None and _native.forward_exact(q, p, f2, H, W, FORWARD_TOL, 8) is None:
        return q  # the steps below in C (synthgen/_native.c): the same float64 operations
    f = f2.reshape(H * W, 2)  # exact: both components from one interleaved array, row-major
    for _ in range(8):
        x = np.clip(q[:, 0] - 0.5, 0, W - 1.001)
        y = np.clip(q[:, 1] - 0.5, 0, H - 1.001)
        x0, y0 = x.astype(np.intp), y.astype(np.intp)
        fx, fy = (x - x0)[:, None], (y - y0)[:, None]
        i = y0 * W + x0
        top = f[i] * (1 - fx) + f[i + 1] * fx
        bot = f[i + W] * (1 - fx) + f[i + W + 1] * fx
        new = p - (top * (1 - fy) + bot * fy)
        done = np.abs(new - q).max() < FORWARD_TOL
        q = new
        if done:
            break
    return q


_NEXT, _PREV = [1, 2, 3, 0], [3, 0, 1, 2]  # a quad's next and previous corner


@lru_cache(maxsize=8)
def _edge_steps(k: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, k, endpoint=False)[None, None, :, None]


def follow_quads(quads: np.ndarray, dx: np.ndarray, dy: np.ndarray, per_edge: int = 8,
                 holds: np.ndarray | None = None) -> np.ndarray:
    """Quads (n x 4 x 2) after the field: the corners mapped forward, then each edge pushed out
    along its normal just far enough to hold the whole boundary (sampled `per_edge` times an
    edge) mapped forward. The quad keeps its own shape (a skewed box stays skewed) and holds
    everything inside the original quad, since the field is smooth between samples. `holds`:
    further points (already mapped) every quad must contain (a line quad holds its chars).
    All quads' boundaries go through one vectorised forward map."""
    quads = np.asarray(quads, np.float64)
    n = len(quads)
    if n == 0:
        return quads.astype(np.float32)
    t = _edge_steps(per_edge)
    # (np.roll along the 4 corners, as fixed index lists: the same values, without roll's overhead)
    ring = quads[:, :, None, :] + (quads[:, _NEXT] - quads)[:, :, None, :] * t  # n x 4 x k x 2
    m = forward(ring.reshape(-1, 2), dx, dy)
    if _native is not None:  # the rest in C (synthgen/_native.c): the same float64 operations
        out = np.empty((n, 4, 2), np.float32)
        h = None if holds is None else np.ascontiguousarray(holds, np.float64).reshape(-1, 2)
        if _native.follow_tail(np.ascontiguousarray(m), h, per_edge, out) is None:
            return out
    m = m.reshape(n, 4 * per_edge, 2)
    c = m[:, ::per_edge]  # n x 4 mapped corners
    if holds is not None:
        h = np.asarray(holds, np.float64).reshape(1, -1, 2)
        m = np.concatenate([m, np.broadcast_to(h, (n, h.shape[1], 2))], axis=1)
    e = c[:, _NEXT] - c  # n x 4 edge vectors
    ln = np.maximum(np.hypot(e[..., 0], e[..., 1]), 1e-9)
    nrm = np.stack([e[..., 1], -e[..., 0]], -1) / ln[..., None]  # outward (clockwise on screen)
    off = np.einsum("nkd,ned->nek", m, nrm) - np.einsum("ned,ned->ne", c, nrm)[..., None]
    p = c + nrm * np.maximum(off.max(axis=2), 0.0)[..., None]  # a point on each pushed edge
    p0, e0 = p[:, _PREV], e[:, _PREV]  # the previous edge of each corner
    den = e0[..., 0] * e[..., 1] - e0[..., 1] * e[..., 0]
    num = (p[..., 0] - p0[..., 0]) * e[..., 1] - (p[..., 1] - p0[..., 1]) * e[..., 0]
    ok = np.abs(den) > 1e-12
    s_ = np.where(ok, num / np.where(ok, den, 1.0), 0.0)
    out = np.where(ok[..., None], p0 + s_[..., None] * e0, p)
    return out.astype(np.float32)


# -- decorations --------------------------------------------------------------------------------


def extrusion(body: np.ndarray, depth: int, ux: float, uy: float) -> np.ndarray:
    """The body shifted 1..depth px along (ux, uy), maximum of all: a solid 3-D side."""
    H, W = body.shape
    out = np.zeros_like(body)
    for k in range(1, depth + 1):
        dx, dy = int(round(k * ux)), int(round(k * uy))
        xs, xd = (0, dx) if dx >= 0 else (-dx, 0)
        ys, yd = (0, dy) if dy >= 0 else (-dy, 0)
        w, h = W - abs(dx), H - abs(dy)
        if w > 0 and h > 0:
            np.maximum(out[yd : yd + h, xd : xd + w], body[ys : ys + h, xs : xs + w], out=out[yd : yd + h, xd : xd + w])
    return out


def draw_box(img: np.ndarray, quad: np.ndarray, kind: str, pad: float, thickness: int, color) -> None:
    """A border (outline) or plate (filled) around the text quad, `pad` px outside it."""
    q = L.expand_quads(np.asarray(quad, np.float32), pad)
    pts = np.round(q * 4).astype(np.int32).reshape(-1, 1, 2)  # 2 fractional bits
    col = tuple(int(round(c)) for c in color)
    if kind == "plate":
        cv2.fillPoly(img, [pts], col, lineType=cv2.LINE_AA, shift=2)
    else:
        cv2.polylines(img, [pts], True, col, thickness, lineType=cv2.LINE_AA, shift=2)


def fill_field(kind: str, color, color2, angle: float, shape: tuple[int, int], rng: np.random.Generator,
               bg_luma: float) -> np.ndarray:
    """The glyphs' colour per pixel: a linear gradient color -> color2 along `angle`, or the
    colour with a texture that only ever pushes away from the background's luma (contrast holds)."""
    H, W = shape
    # Computed one colour plane at a time and merged: an h x w x 1 field against 3 colour
    # values makes numpy loop over 3 values at a time.
    if kind == "gradient":
        # a row of x terms plus a column of y terms: the same float32 sums as full grids
        t = np.arange(W, dtype=np.float32) * math.cos(angle) + np.arange(H, dtype=np.float32)[:, None] * math.sin(angle)
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
        c0, c1 = np.array(color, np.float32), np.array(color2, np.float32)
        dc = c1 - c0
        return cv2.merge([(c0[j] + dc[j] * t).astype(np.uint8) for j in range(len(c0))]).reshape(H, W, len(c0))
    grain = rng.random((max(2, H // 3), max(2, W // 3)), dtype=np.float32)
    grain = cv2.resize(grain, (W, H), interpolation=cv2.INTER_CUBIC)
    c = np.array(color, np.float32)
    lum = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
    k = np.clip(grain, 0, 1) * 0.5
    if lum < bg_luma:  # dark text: darken in places
        k = 1.0 - k
        planes = [c[j] * k for j in range(len(c))]
    else:  # light text: lighten in places
        up = 255.0 - c
        planes = [c[j] + up[j] * k for j in range(len(c))]
    return cv2.merge([np.clip(p, 0, 255).astype(np.uint8) for p in planes]).reshape(H, W, len(c))


def blend_field(img: np.ndarray, alpha: np.ndarray, field: np.ndarray) -> None:
    """In place: img += (field - img) * alpha / 255."""
    if _native is not None and _native.blend_field(img, alpha, field) is None:
        return  # one pass over the pixels, the same float32 operations (synthgen/_native.c)
    a = alpha.astype(np.float32) / 255.0
    if img.ndim == 3:  # alpha repeated per channel: (h, w, 1) x (h, w, 3) loops 3 values at a time
        a = cv2.merge([a] * img.shape[2]).reshape(img.shape)
    img[:] = img.astype(np.float32) * (1 - a) + field.astype(np.float32) * a + 0.5


def corpus_line(sampler, d: Draws, name: str, slot: int, face, n: int = 4) -> str:
    """A few corpus words for a distractor line, less characters the face lacks."""
    words = [sampler.word(d, f"{name}[{k}]", slot + k, random=True)[0] for k in range(n)]
    return "".join(c for c in " ".join(words) if face.covers(c))


# -- scene signs --------------------------------------------------------------------------------


def draw_sign(d: Draws, name: str, img: np.ndarray, poly: np.ndarray, texture_p: float, border_p: float) -> None:
    """A sign under a scene item: the polygon `poly` (its grown box on the item's plane) filled
    with a plain colour or a shipped photo texture, sometimes with a border. Drawn before the
    text, so the text colour is chosen against it."""
    from .backgrounds import _photo_background, solid

    H, W = img.shape[:2]
    x0, y0 = np.floor(poly.min(axis=0)).astype(int)
    x1, y1 = np.ceil(poly.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    textured = d.bernoulli(f"{name}.sign.texture", texture_p, src="layout.sign.texture")
    col = tuple(int(d.uniform(f"{name}.sign.color.{c}", 0, 255)) for c in "rgb")
    border = d.bernoulli(f"{name}.sign.border", border_p, src="layout.sign.border")
    bcol = tuple(int(d.uniform(f"{name}.sign.border_color.{c}", 0, 255)) for c in "rgb")
    bth = d.integers(f"{name}.sign.border_width", 1, 3)
    if x1 <= x0 or y1 <= y0:
        return
    pts = np.round((np.asarray(poly, np.float64) - (x0, y0)) * 4).astype(np.int32).reshape(-1, 1, 2)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA, shift=2)
    if textured:
        field = _photo_background(_Prefixed(d, f"{name}.sign"), x1 - x0, y1 - y0)
    else:
        field = solid(y1 - y0, x1 - x0, col)
    blend_field(img[y0:y1, x0:x1], mask, field)
    if border:
        cv2.polylines(img[y0:y1, x0:x1], [pts], True, bcol, int(bth), lineType=cv2.LINE_AA, shift=2)


class _Prefixed:
    """Draws seen through a name prefix: `background.x` becomes `<prefix>.background.x`."""

    def __init__(self, d: Draws, prefix: str) -> None:
        self.d, self.prefix = d, prefix

    def __getattr__(self, attr):
        f = getattr(self.d, attr)
        if attr in ("uniform", "integers", "choice", "bernoulli", "derive", "rng_for"):
            return lambda name, *a, **k: f(f"{self.prefix}.{name}", *a, **k)
        return f


def make_room(img: np.ndarray, under: np.ndarray, ink_luma: float, contrast: float, q: float = 10.0) -> np.ndarray:
    """The background, dimmed (light ink) or washed out (dark ink) just enough that the ink's
    luma is `contrast` away from the q-th / (100 - q)-th percentile of the luma under the glyphs
    (`under`: luma_under's histogram). A photo that is dark at one end of the line and bright at
    the other leaves the colour picker no luma that contrasts everywhere; without this the text
    vanishes into one end. Returns `img` itself when the ink already stands out."""
    lo, hi = hist_quantile(under, q / 100.0), hist_quantile(under, 1.0 - q / 100.0)
    if ink_luma <= lo - contrast or ink_luma >= hi + contrast:
        return img
    if ink_luma >= (lo + hi) / 2:  # light ink: scale the background down to hi' = ink - contrast
        a = max(0.0, ink_luma - contrast) / max(hi, 1.0)
        return cv2.convertScaleAbs(img, alpha=a, beta=0.0)
    # dark ink: pull the background towards white until lo' = ink + contrast
    a = max(0.0, 255.0 - ink_luma - contrast) / max(255.0 - lo, 1.0)
    return cv2.convertScaleAbs(img, alpha=a, beta=255.0 * (1.0 - a))


def same_side(color2: tuple, color: tuple, under: np.ndarray) -> tuple:
    """A glyph gradient's second colour moved to the ink's side of the background (same luma as
    `color` if it fell on the other side): a gradient from below the background's luma to above
    it passes through it, and the text disappears in the middle."""
    mid = hist_quantile(under, 0.5)
    y1, y2 = luma(color), luma(color2)
    if (y1 < mid) == (y2 < mid):
        return color2
    shift = y1 - y2
    return tuple(int(round(min(255.0, max(0.0, v + shift)))) for v in color2)


# -- the factors declared (synthgen/factors.py) --------------------------------------------------


def declare_styles(cat, sc, kinds: set[str]) -> None:
    """What `draw_styles` draws (sc: the LineStyleCfg) for lines laid out as any of `kinds`
    (straight, arc, sine, vertical, shaped). A style's switch is drawn whatever its chance (a
    chance of 0 draws False); its magnitudes only when the chance is > 0."""
    def switch(name: str, p: float, src: str, when: bool = True) -> bool:
        if not when:
            return False
        cat.bernoulli(f"line.style.{name}", src=src)
        return p > 0

    if switch("jitter", sc.jitter.p, "line.style.jitter.p", "straight" in kinds):
        cat.uniform("line.style.jitter_amount", *sc.jitter.range, src="line.style.jitter.range")
        cat.seed("line.style.jitter")  # per-character offsets (jitter_offsets)
    if switch("elastic", sc.elastic.p, "line.style.elastic.p", bool(kinds - {"vertical"})):
        cat.uniform("line.style.elastic_amplitude", *sc.elastic.amplitude, src="line.style.elastic.amplitude")
        cat.uniform("line.style.elastic_wavelength", *sc.elastic.wavelength, src="line.style.elastic.wavelength")
        cat.seed("line.style.elastic")  # the displacement field (elastic_field)
    if switch("extrude", sc.extrude.p, "line.style.extrude.p"):
        cat.uniform("line.style.extrude_depth", *sc.extrude.range, src="line.style.extrude.range")
        cat.uniform("line.style.extrude_angle", 0.0, 2 * math.pi)
    if switch("box", sc.box.p, "line.style.box.p"):
        cat.bernoulli("line.style.box_plate", src="line.style.box.plate")
        cat.uniform("line.style.box_pad", *sc.box.pad, src="line.style.box.pad")
        cat.uniform("line.style.box_thickness", *sc.box.thickness, src="line.style.box.thickness")
    fills = [(k, p) for k, p in (("gradient", sc.fill.gradient), ("texture", sc.fill.texture)) if p > 0]
    if fills:
        cat.bernoulli("line.style.fill", src="line.style.fill")
        cat.choice("line.style.fill_kind", [k for k, _ in fills], src="line.style.fill")
        cat.uniform("line.style.fill_angle", 0.0, 2 * math.pi)
        cat.seed("line.style.fill_texture")  # drawn for gradients too (an argument of fill_field)
    if switch("distractor", sc.distractor.p, "line.style.distractor.p", "straight" in kinds):
        cat.uniform("line.style.distractor_gap", *sc.distractor.range, src="line.style.distractor.range")
    if switch("char_rotate", sc.char_rotate.p, "line.style.char_rotate.p", bool(kinds & {"straight", "arc", "sine"})):
        cat.uniform("line.style.char_rotate_amount", *sc.char_rotate.range, src="line.style.char_rotate.range")
        cat.uniform("line.style.char_rotate_lift", *sc.char_rotate.lift, src="line.style.char_rotate.lift")
        cat.seed("line.style.char_rotate")  # per-character turns and lifts (char_turns)
    if switch("overlap", sc.overlap.p, "line.style.overlap.p", bool(kinds - {"vertical"})):
        o = sc.overlap
        for f in ("opacity", "scale", "angle", "shift"):
            cat.uniform(f"line.style.overlap_{f}", *getattr(o, f), src=f"line.style.overlap.{f}")
        cat.bernoulli("line.style.overlap_below")
        cat.uniform("line.style.overlap_along", 0.0, 1.0)


def declare_corpus_line(cat, sampler, name: str, n: int = 4) -> None:
    """What `corpus_line(sampler, d, name, slot, face, n)` draws: n words at random."""
    sampler.declare(cat, f"{name}[*]", walk=False)


def declare_sign(cat, name: str, texture_p: float, border_p: float) -> None:
    """What `draw_sign` draws for a sign under item `name` (a photo texture through the
    backgrounds' declaration under `<name>.sign`)."""
    from .backgrounds import _declare_photo

    cat.bernoulli(f"{name}.sign.texture", src="layout.sign.texture")
    cat.rgb(f"{name}.sign.color")
    cat.bernoulli(f"{name}.sign.border", src="layout.sign.border")
    cat.rgb(f"{name}.sign.border_color")
    cat.integers(f"{name}.sign.border_width", 1, 3)
    if texture_p > 0:
        # a sign is at least a few px and at most the frame: its crop offsets are bounded by the tile
        _declare_photo(cat.prefixed(f"{name}.sign"), (1, 1), (1, 1))
