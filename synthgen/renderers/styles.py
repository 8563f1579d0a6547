"""Text styles: stroke (border), shadow, underline, colours, and the alpha blend they share.

Masks are uint8 coverage (0..255). Everything works on the small arrays of one text line or
word, never on a full frame. Style *choices* are made by the renderer through `Draws`; the
functions here are deterministic.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from ..draws import Draws
from ..native import lib as _native
from .backgrounds import _photo, _photo_file, photo_tiles
from .tiles import PAGE


@lru_cache(maxsize=16)
def disc(r: int) -> np.ndarray:
    """A filled disc of radius r (2r+1 square) as a dilation kernel."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def stroke(mask: np.ndarray, r: int) -> np.ndarray:
    """The glyphs grown by r px in every direction (the border is this minus the fill). The
    mask needs >= r px of zero padding for the border not to be cut."""
    return cv2.dilate(mask, disc(r)) if r > 0 else mask


def underline(shape: tuple[int, int], baseline: np.ndarray, gap: float, thickness: float) -> np.ndarray:
    """A line `gap` px below the baseline polyline (m x 2), `thickness` px thick, as a mask."""
    m = np.zeros(shape, np.uint8)
    pts = np.asarray(baseline, np.float64) + (0.0, gap + thickness / 2.0)
    shift = 4
    p = np.round(pts * (1 << shift) - (1 << shift) / 2).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(m, [p], False, 255, max(1, int(round(thickness))), cv2.LINE_AA, shift)
    return m


def luma(rgb) -> float:
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def contrasting(d: Draws, name: str, against: float, contrast: float) -> tuple[int, int, int]:
    """A random RGB colour whose luma is at least `contrast` away from `against`."""
    r, g, b = d.uniform(f"{name}.r", 0, 255), d.uniform(f"{name}.g", 0, 255), d.uniform(f"{name}.b", 0, 255)
    gap = d.uniform(f"{name}.gap", contrast, contrast + 60)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    if abs(y - against) < contrast:
        target = min(255.0, max(0.0, against - gap if against >= 128 else against + gap))
        shift = target - y
        r, g, b = (min(255.0, max(0.0, v + shift)) for v in (r, g, b))
        if abs(0.299 * r + 0.587 * g + 0.114 * b - against) < contrast:  # clipping ate the shift: grey
            r = g = b = target
    return int(round(r)), int(round(g)), int(round(b))


@lru_cache(maxsize=1)
def _gray_agrees() -> bool:
    """Whether _native's grey values are this OpenCV's COLOR_RGB2GRAY (checked once a process
    on 32,768 colours spread over the cube; another OpenCV could round otherwise)."""
    v = np.arange(0, 1 << 24, 512, dtype=np.uint32) + 37
    img = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8).reshape(128, 256, 3)
    out = np.empty((128, 256), np.uint8)
    return _native.gray(img, out) is None and np.array_equal(out, cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))


def mean_u8(a: np.ndarray) -> float:
    """float(np.mean(a)) of a non-empty uint8 image (h x w, or h x w x 1-4), from OpenCV's
    per-channel sums: a sum of bytes is an integer, exact in double in any order (numpy's
    pairwise float64 sum gets the same one), and the one division rounds as numpy's does. One
    OpenCV call instead of numpy's Python-level mean."""
    if a.dtype == np.uint8 and (a.ndim == 2 or (a.ndim == 3 and a.shape[2] <= 4)) and 0 < a.size < 2**45:
        return float(sum(cv2.sumElems(a)) / a.size)
    return float(np.mean(a))


def luma_under(img: np.ndarray, alpha: np.ndarray, level: int = 128) -> np.ndarray:
    """Histogram (256 bins) of the luma of the background pixels the glyphs will cover
    (`alpha` >= level; any coverage if none reaches it), `img` and `alpha` the same size."""
    out = np.empty(256, np.float32) if _native is not None else None
    # the same counts in one pass, no grey image, no boolean-mask copies (synthgen/_native.c)
    if out is not None and _gray_agrees() and _native.luma_hist(img, alpha, level, out) is None:
        return out
    y = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    if out is not None and _native.masked_hist(y, alpha, level, out) is None:
        return out
    # the pixels' lumas counted by np.bincount: calcHist's fixed cost is ~5x that on a word's box
    # (the same counts, float32 like calcHist's)
    v = y[alpha >= level]
    if not v.size:
        v = y[alpha > 0]
        if not v.size:
            v = y.ravel()
    return np.bincount(v, minlength=256).astype(np.float32)


_cumsum_of: list = [None, None]  # the last histogram asked about and its cumulative sum
# the compiled quantile computes `f * c[-1]` as numpy 2 does (a float32: NEP 50); numpy 1.x
# promotes it to float64 and casts it back for the search, which it does not follow
_QUANTILE_C = _native is not None and type(0.5 * np.float32(1.0)) is np.float32


def hist_quantile(hist: np.ndarray, f: float) -> float:
    """The luma level below which a share f of a 256-bin histogram lies. A line asks up to six
    quantiles of one histogram (photo and ink colour, make_room): its cumulative sum is kept
    for the next call with the same array (histograms are never changed in place)."""
    if _QUANTILE_C:
        q = _native.hist_quantile(hist, f)
        if q is not NotImplemented:
            return q
    if _cumsum_of[0] is hist:
        c = _cumsum_of[1]
    else:
        c = hist.cumsum()
        _cumsum_of[0], _cumsum_of[1] = hist, c
    return float(c.searchsorted(f * c[-1])) if c[-1] > 0 else 128.0


def ink_contrasting(d: Draws, name: str, under: np.ndarray, contrast: float, q: float = 10.0) -> tuple[int, int, int]:
    """A random RGB colour that stands out from the background actually under the glyphs:
    its luma is at least `contrast` below the q-th percentile of the background's luma under
    the ink (`under`: its 256-bin histogram, see luma_under) or at least `contrast` above the
    (100 - q)-th. Against a mean, a textured background hides the text where the two match;
    against the percentiles at most q% of the ink can come closer than `contrast`. Same
    factors as `contrasting`."""
    r, g, b = d.uniform(f"{name}.r", 0, 255), d.uniform(f"{name}.g", 0, 255), d.uniform(f"{name}.b", 0, 255)
    gap = d.uniform(f"{name}.gap", contrast, contrast + 60)
    lo, hi = hist_quantile(under, q / 100.0), hist_quantile(under, 1.0 - q / 100.0)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    if y <= lo - contrast or y >= hi + contrast:
        return int(round(r)), int(round(g)), int(round(b))
    dark_ok, light_ok = lo >= contrast, hi <= 255 - contrast
    if dark_ok and light_ok:  # both sides fit: the one nearer the drawn colour changes it least
        dark = y < (lo + hi) / 2
    else:
        dark = dark_ok or (not light_ok and lo > 255 - hi)  # neither fits: the side with more room
    target = max(0.0, lo - gap) if dark else min(255.0, hi + gap)
    shift = target - y
    r, g, b = (min(255.0, max(0.0, v + shift)) for v in (r, g, b))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    if (dark and y > lo - contrast) or (not dark and y < hi + contrast):  # clipping ate the shift: grey
        r = g = b = target
    return int(round(r)), int(round(g)), int(round(b))


PHOTO_COLOUR_TRIES = 64
# the walk's steps k * 0.381966 (rows) and k * 0.618034 (columns), k = 0..PHOTO_COLOUR_TRIES-1,
# as float64 products
_WALK_V = [k * 0.381966 for k in range(PHOTO_COLOUR_TRIES)]
_WALK_U = [k * 0.618034 for k in range(PHOTO_COLOUR_TRIES)]


def photo_contrasting(d: Draws, name: str, under: np.ndarray, contrast: float, q: float = 10.0):
    """A text colour taken from a real photo (a pixel of a shipped photo tile: the palettes of
    walls, signs, plants and sky rather than uniform RGB) that stands out from the background
    under the glyphs as ink_contrasting requires: tile `<name>.tile`, then the pixel at
    (`<name>.u`, `<name>.v`) or, if it does not contrast, the first that does along a fixed
    low-discrepancy walk from it (PHOTO_COLOUR_TRIES pixels; None if none does)."""
    tiles = photo_tiles()
    if not tiles:
        return None
    lo, hi = hist_quantile(under, q / 100.0), hist_quantile(under, 1.0 - q / 100.0)
    path = tiles[d.integers(f"{name}.tile", 0, len(tiles) - 1)]
    ft = _photo_file(path)  # each pixel one small read of the store's file, not a page of its map
    t = ft if ft is not None else _photo(path, PHOTO_COLOUR_TRIES * PAGE)  # (a page a pixel)
    u, v = d.uniform(f"{name}.u", 0.0, 1.0), d.uniform(f"{name}.v", 0.0, 1.0)
    h, w = t.shape[:2]
    # the walk one pixel at a time in plain Python, stopping at the first that contrasts (most
    # calls stop within a few; a fifth find none): each pixel of the walk is a page of the tile
    # to touch, and numpy calls on the whole walk cost more than the few pixels read. The
    # same float64 operations as `luma`, in its order.
    lo_c, hi_c = lo - contrast, hi + contrast
    if ft is not None and _native is not None:  # the walk below in C, a pread a pixel (synthgen/csrc/pixels.c)
        got = _native.photo_walk(ft.fd, ft.off, h, w, t.shape[2], u, v, lo_c, hi_c, PHOTO_COLOUR_TRIES)
        if got is not NotImplemented:
            return got
    for k in range(PHOTO_COLOUR_TRIES):
        at = int(((v + _WALK_V[k]) % 1.0) * (h - 1)), int(((u + _WALK_U[k]) % 1.0) * (w - 1))
        r, g, b = ft.pixel(*at) if ft is not None else t[at].tolist()
        y = 0.299 * r + 0.587 * g + 0.114 * b
        if y <= lo_c or y >= hi_c:
            return r, g, b
    return None


def blend(img: np.ndarray, alpha: np.ndarray, color, opacity: float = 1.0) -> None:
    """In place: img += (color - img) * alpha / 255 * opacity (img H x W x 3 uint8)."""
    if opacity > 0:
        a = alpha if opacity >= 1 else cv2.multiply(alpha, opacity)
        # one pass, the same float32 operations (synthgen/_native.c), else the parts of `a`
        if _native is None or _native.blend(img, a, float(color[0]), float(color[1]), float(color[2])) is not None:
            blend_with(img, *blend_parts(a, color))


def blend_parts(alpha: np.ndarray, color, opacity: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(255 - a, colour * a / 255) per channel, a = alpha x opacity: what `blend_with` needs.
    Worth keeping for a mask blended the same way on every sample (a card's SPECIMEN mark)."""
    a = alpha if opacity >= 1 else cv2.multiply(alpha, opacity)
    r, g, b = color
    if r == g == b:  # a grey colour (a card field's default): one channel, copied three times
        return (cv2.cvtColor(cv2.bitwise_not(a), cv2.COLOR_GRAY2RGB),
                cv2.cvtColor(cv2.convertScaleAbs(a, alpha=r / 255.0), cv2.COLOR_GRAY2RGB))
    return _parts_rgb(a, color)


def _parts_rgb(a: np.ndarray, color) -> tuple[np.ndarray, np.ndarray]:
    """blend_parts of the (opacity-scaled) alpha `a` for any colour, channel by channel."""
    # colour * alpha / 255, one channel at a time: convertScaleAbs on the 1-channel alpha is
    # ~3x faster than multiplying the 3-channel alpha by a scalar triple (same rounded values)
    fg = cv2.merge([cv2.convertScaleAbs(a, alpha=color[0] / 255.0), cv2.convertScaleAbs(a, alpha=color[1] / 255.0),
                    cv2.convertScaleAbs(a, alpha=color[2] / 255.0)])
    return cv2.bitwise_not(cv2.merge([a, a, a])), fg


def blend_with(img: np.ndarray, inv: np.ndarray, fg: np.ndarray) -> None:
    """In place: img = img * inv / 255 + fg (the parts from `blend_parts`)."""
    cv2.add(cv2.multiply(img, inv, scale=1 / 255), fg, dst=img)


def shadow(alpha: np.ndarray, dx: int, dy: int, blur: float) -> np.ndarray:
    """`alpha` shifted by (dx, dy) px (same size, zero filled) and blurred (Gaussian sigma)."""
    H, W = alpha.shape
    out = np.zeros_like(alpha)
    xs, xd = (0, dx) if dx >= 0 else (-dx, 0)
    ys, yd = (0, dy) if dy >= 0 else (-dy, 0)
    w, h = W - abs(dx), H - abs(dy)
    if w > 0 and h > 0:
        out[yd : yd + h, xd : xd + w] = alpha[ys : ys + h, xs : xs + w]
    if blur >= 0.3:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    return out


# -- the factors declared (synthgen/factors.py) --------------------------------------------------


def declare_contrasting(cat, name: str, contrast: float) -> None:
    """What `contrasting` and `ink_contrasting` draw for colour `name`."""
    cat.rgb(name)
    cat.uniform(f"{name}.gap", contrast, contrast + 60)


def declare_photo_contrasting(cat, name: str) -> None:
    """What `photo_contrasting` draws for colour `name` (nothing without shipped photo tiles)."""
    from .backgrounds import photo_tiles

    tiles = photo_tiles()
    if tiles:
        cat.integers(f"{name}.tile", 0, len(tiles) - 1)
        cat.uniform(f"{name}.u", 0.0, 1.0)
        cat.uniform(f"{name}.v", 0.0, 1.0)
