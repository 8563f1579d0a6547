"""Backgrounds: procedural (plain, gradient, texture, noise, fractal, paper), shipped
real-photo texture tiles (photo) or crops of user images (image).

Procedural fields are expensive to make, so each process builds a small bank once from a
fixed seed (the same bank in every process) and a sample only crops, flips and colours one:
two random colours mapped through a lookup table, which costs a fraction of a millisecond.
Paper adds a fold (a shaded crease) and stains per sample, inside their own small regions.
Photo tiles (synthgen/data/textures, made by scripts/make_textures.py, licences in its
LICENSE.md) are decoded once per process and scaled, mirrored to size, turned and toned.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .. import numerics
from ..draws import Draws
from ..errors import UserError
from ..io.images import read_rgb
from ..native import lib as _native
from .tiles import FILE_WINDOW_MAX, PAGE, FileTile, TileStore, mapped, turned, used, window

BANK_SEED = 0x5EED_BA4C
NOISE_SIZE = 512  # fractal and paper banks: mirrored out when an output is larger
TEXTURES = Path(__file__).resolve().parent.parent / "data" / "textures"
KINDS = ("plain", "gradient", "texture", "noise", "fractal", "paper", "photo", "image")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
# how many fields each bank holds (the factor declaration reads these; see `declare`)
BANK_COUNTS = {"texture": 6, "gradient": 4, "noise": 2}
FRACTAL_SPECS = (("fbm", 1, 6, 0.5), ("fbm", 2, 8, 0.65), ("turbulence", 1, 7, 0.55), ("ridged", 1, 6, 0.5),
                 ("ridged", 2, 7, 0.6), ("turbulence", 3, 8, 0.7))  # (kind, octaves lo, hi, persistence)
FRACTALS, PAPERS, STAINS = len(FRACTAL_SPECS), 4, 6
PAPER_STAINS = 3  # most stains on one paper background
STAIN_BROWN = np.array((120, 85, 45), np.float32)


def _octaves(rng: np.random.Generator, size: int, lo: int, hi: int, persistence: float) -> np.ndarray:
    """Sum of upsampled random grids from 2**lo to 2**hi cells: smooth value noise in [0, 1]."""
    out = np.zeros((size, size), np.float32)
    amp, total = 1.0, 0.0
    for k in range(lo, hi + 1):
        cells = 2**k
        grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
        out += amp * cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= persistence
    out /= total
    out -= out.min()
    out /= max(float(out.max()), 1e-6)
    return out


def _to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _persisted(fn):
    """Build a bank once per machine: the arrays go to the machine cache (synthgen/machinecache.py),
    keyed by this module's source, the arguments, the numpy / OpenCV versions and the kernels they
    run (numerics.level: a bank built with AVX-512 kernels differs in the last bit), and every
    later process reads them back (a few ms) instead of building them (~0.1-0.4 s each)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args):
        from .. import machinecache

        name = None
        if machinecache.root() is not None:
            try:
                name = machinecache.key("bank", fn.__name__, args, machinecache.source_key(__file__),
                                        np.__version__, cv2.__version__, numerics.level())
            except OSError:
                name = None
        if name is not None:
            hit = mapped("banks", name)  # views of the file in the page cache (tiles.mapped)
            if hit is not None:
                meta, arrays = hit
                try:
                    if meta["kind"] == "dict":
                        return {k: tuple(arrays[f"{k}:{i}"] for i in range(n)) for k, n in meta["counts"]}
                    return tuple(arrays[str(i)] for i in range(meta["n"]))
                except KeyError:
                    pass
        out = fn(*args)
        if name is not None:
            if isinstance(out, dict):
                machinecache.write("banks", name, {"kind": "dict", "counts": [[k, len(v)] for k, v in out.items()]},
                                   {f"{k}:{i}": a for k, v in out.items() for i, a in enumerate(v)})
            else:
                machinecache.write("banks", name, {"kind": "tuple", "n": len(out)}, {str(i): a for i, a in enumerate(out)})
        return out

    return wrapper


@lru_cache(maxsize=2)
@_persisted
def bank(size: int) -> dict[str, tuple[np.ndarray, ...]]:
    rng = np.random.Generator(np.random.PCG64(BANK_SEED))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    textures = []
    for i in range(BANK_COUNTS["texture"]):
        base = _octaves(rng, size, 2, 7, 0.55)
        if i % 3 == 1:  # wood/marble: stripes bent by noise
            base = 0.5 + 0.5 * np.sin((xx * rng.uniform(8, 30) + base * rng.uniform(2, 6)) * np.pi)
        elif i % 3 == 2:  # paper/stone: fine grain over soft blotches
            base = 0.7 * base + 0.3 * _octaves(rng, size, 6, 8, 0.8)
        textures.append(_to_u8(base))
    gradients = []
    for i in range(BANK_COUNTS["gradient"]):
        if i < 2:
            a = rng.uniform(0, np.pi)
            g = np.cos(a) * xx + np.sin(a) * yy
        else:
            cx, cy = rng.uniform(0.2, 0.8, 2)
            g = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        g = (g - g.min()) / max(float(np.ptp(g)), 1e-6)
        gradients.append(_to_u8(0.85 * g + 0.15 * _octaves(rng, size, 1, 3, 0.5)))
    noises = [_to_u8(np.clip(rng.normal(0.5, 0.18, (size, size)), 0, 1)) for _ in range(BANK_COUNTS["noise"])]
    return {"texture": tuple(textures), "gradient": tuple(gradients), "noise": tuple(noises)}


def _perlin(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """One octave of gradient (Perlin) noise on a `cells` x `cells` lattice, size x size, ~[-1, 1]."""
    ang = rng.uniform(0, 2 * np.pi, (cells + 1, cells + 1)).astype(np.float32)
    gx, gy = np.cos(ang), np.sin(ang)
    t = (np.arange(size, dtype=np.float32) + 0.5) * cells / size
    i = np.minimum(t.astype(np.int32), cells - 1)
    f = t - i
    fy, fx = f[:, None], f[None, :]
    iy, ix = i[:, None], i[None, :]

    def dot(oy, ox):
        return gx[iy + oy, ix + ox] * (fx - ox) + gy[iy + oy, ix + ox] * (fy - oy)

    u = fx * fx * fx * (fx * (fx * 6 - 15) + 10)  # quintic fade
    v = fy * fy * fy * (fy * (fy * 6 - 15) + 10)
    top = dot(0, 0) + u * (dot(0, 1) - dot(0, 0))
    bot = dot(1, 0) + u * (dot(1, 1) - dot(1, 0))
    return (top + v * (bot - top)) * 1.4


def _norm(x: np.ndarray) -> np.ndarray:
    x = x - x.min()
    return x / max(float(x.max()), 1e-6)


def _fbm(rng: np.random.Generator, size: int, lo: int, hi: int, persistence: float, kind: str = "fbm") -> np.ndarray:
    """Fractal sums of Perlin octaves 2**lo..2**hi: plain fBm, turbulence (|n|) or ridged (1-|n|)^2.
    A coarse octave is computed at 8 px a cell and resized (it is smooth): the bank builds fast."""
    out = np.zeros((size, size), np.float32)
    amp = 1.0
    for k in range(lo, hi + 1):
        res = min(size, 8 * 2**k)
        n = _perlin(rng, res, 2**k)
        if res < size:
            n = cv2.resize(n, (size, size), interpolation=cv2.INTER_CUBIC)
        if kind == "turbulence":
            n = np.abs(n)
        elif kind == "ridged":
            n = (1.0 - np.abs(n)) ** 2
        out += amp * n
        amp *= persistence
    return _norm(out)


@lru_cache(maxsize=2)
@_persisted
def fractal_bank(size: int) -> tuple[np.ndarray, ...]:
    rng = np.random.Generator(np.random.PCG64(BANK_SEED + 1))
    return tuple(_to_u8(_fbm(rng, size, lo, hi, p, kind)) for kind, lo, hi, p in FRACTAL_SPECS)


@lru_cache(maxsize=2)
@_persisted
def paper_bank(size: int) -> tuple[np.ndarray, ...]:
    """Paper luminance: soft cloudiness, fine grain and fibres (noise smeared along one axis)."""
    rng = np.random.Generator(np.random.PCG64(BANK_SEED + 2))
    out = []
    for i in range(PAPERS):
        cloud = _fbm(rng, size, 1, 5, 0.5)
        grain = rng.random((size, size), dtype=np.float32)
        grain = cv2.GaussianBlur(grain, (0, 0), 0.7)
        fib = rng.random((size, size), dtype=np.float32)
        klen = (9, 1) if i % 2 == 0 else (1, 9)  # fibres run with the paper's grain
        fib = cv2.blur(fib, klen)
        field = 0.45 * cloud + 0.3 * _norm(grain) + 0.25 * _norm(fib)
        out.append(_to_u8(0.55 + 0.45 * _norm(field)))  # paper is light: the field spans the top half
    return tuple(out)


@lru_cache(maxsize=2)
@_persisted
def stain_bank() -> tuple[np.ndarray, ...]:
    """Stain alphas (float32 in [0, 1], 128 x 128): blotches with a darker tide-line rim."""
    rng = np.random.Generator(np.random.PCG64(BANK_SEED + 3))
    yy, xx = (np.mgrid[0:128, 0:128].astype(np.float32) - 63.5) / 64.0
    r = np.sqrt(xx * xx + yy * yy)
    out = []
    for _ in range(STAINS):
        wobble = _fbm(rng, 128, 1, 4, 0.5) - 0.5
        edge = r + 0.45 * wobble
        inside = np.clip((0.75 - edge) * 8.0, 0, 1)
        rim = np.exp(-(((edge - 0.72) / 0.05) ** 2))
        out.append(np.clip(0.35 * inside + 0.65 * rim, 0, 1).astype(np.float32))
    return tuple(out)


@lru_cache(maxsize=1)
def photo_tiles() -> tuple[str, ...]:
    return tuple(sorted(str(p) for p in TEXTURES.glob("*.jpg")))


@lru_cache(maxsize=1)
def photo_categories() -> dict[str, tuple[str, ...]]:
    """category -> tile paths (file names are `<category>__<source>__<k>.jpg`)."""
    out: dict[str, list[str]] = {}
    for t in photo_tiles():
        out.setdefault(Path(t).name.split("__")[0], []).append(t)
    return {k: tuple(v) for k, v in sorted(out.items())}


def _photo(path: str, touch: int = 0) -> np.ndarray:
    """A shipped tile, decoded (read-only): from the machine's tile store (tiles.TileStore: in
    the page cache, shared by every worker), else decoded and kept by this process. `touch`:
    the bytes the caller reads (tiles.used)."""
    store = _tile_store()
    t = store.get(path, touch) if store is not None else None
    return _decoded(path) if t is None else t


def _photo_shape(path: str) -> tuple[int, ...]:
    """A shipped tile's (height, width, channels), from the tile store's index when it has one."""
    store = _tile_store()
    shape = store.shape(path) if store is not None else None
    return shape if shape is not None else _photo(path).shape


def _photo_file(path: str, transposed: bool = False) -> FileTile | None:
    """A shipped tile (`transposed`: the tile transposed) whose regions are read from the tile
    store's file (tiles.FileTile: no page of the map enters the process), or None (no store, no
    os.pread): use `_photo`."""
    store = _tile_store(True) if transposed else _tile_store()  # (one cache key each)
    return store.file_tile(path) if store is not None else None


def _window_tile(path: str, quarter: bool, small: bool, touch: int):
    """(the tile a photo window is cut from, whether it is the transposed one): a quarter turn's
    window from the transposed tile where there is a transposed store (a short band of its rows,
    or one mirror of a view instead of a rotate: tiles.window); a small window from a store's
    file, a large one through the map (`touch`: the bytes it reads, tiles.used)."""
    if small:
        for transposed in ((True, False) if quarter else (False,)):
            t = _photo_file(path, transposed)
            if t is not None:
                return t, transposed
    used(touch)
    store = _tile_store(True) if quarter else None
    t = store.get(path, 0) if store is not None else None
    return (t, True) if t is not None else (_photo(path), False)


@lru_cache(maxsize=2)
def _tile_store(transposed: bool = False) -> TileStore | None:
    """The shipped tiles decoded, in the machine cache (tiles.TileStore); `transposed`: a second
    store of them transposed (as large, ~106 MB), made from the first once per machine when a
    quarter-turned window first needs it."""
    from ..io import images

    if transposed:
        return TileStore.open(photo_tiles(), _transposed_tile, sources=(images.__file__,), variant="transposed")
    return TileStore.open(photo_tiles(), _decode_tile, sources=(images.__file__,))


def _transposed_tile(path: str) -> np.ndarray:
    t = _photo(path, touch=0)
    out = np.ascontiguousarray(t.transpose(1, 0, 2))
    used(t.nbytes)  # the whole tile read through the map: counted, so its pages get dropped
    return out


def _decode_tile(path: str) -> np.ndarray:
    return read_rgb(path, "shipped texture", "reinstall synthgen")


@lru_cache(maxsize=256)
def _decoded(path: str) -> np.ndarray:
    return _decode_tile(path)


@lru_cache(maxsize=512)
def _ramp(gamma: float) -> np.ndarray:
    """(v / 255) ** gamma for v in 0..255, as a 256 x 1 column (gamma comes in 1/100 steps)."""
    return ((np.arange(256, dtype=np.float32) / 255.0) ** gamma)[:, None]


def _colour_map(c0, c1, gamma: float) -> np.ndarray:
    """The 256 x 1 x 3 uint8 user map for cv2.applyColorMap: grey v -> c0 + (c1 - c0) * (v / 255) ** gamma."""
    if _native is not None and 0 <= min(*c0, *c1) and max(*c0, *c1) <= 255:
        out = np.empty((256, 1, 3), np.uint8)  # the float32 operations below, in C (synthgen/_native.c)
        if _native.colour_map(tuple(c0), tuple(c1), _ramp(round(gamma, 2)), out) is None:
            return out
    a = np.array(c0, np.float32)
    b = np.array(c1, np.float32)
    return (a + 0.5 + (b - a) * _ramp(round(gamma, 2))).astype(np.uint8).reshape(256, 1, 3)


@lru_cache(maxsize=16)
def image_files(folders: tuple[str, ...]) -> tuple[str, ...]:
    files: list[str] = []
    for f in folders:
        p = Path(f).expanduser()
        if not p.is_dir():
            raise UserError(f"background folder {f!r} does not exist (background.folders)")
        files += sorted(str(x) for x in p.rglob("*") if x.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(f"background folders {list(folders)} hold no images")
    return tuple(files)


@lru_cache(maxsize=16)
def _read_image(path: str) -> np.ndarray:
    return read_rgb(path, "background image")


BUSY_WINDOWS = 4


def _detail(win: np.ndarray) -> float:
    """Mean absolute Laplacian of a window's grey: how much fine detail text over it competes with."""
    g = cv2.cvtColor(win, cv2.COLOR_RGB2GRAY) if win.ndim == 3 else win
    return float(cv2.mean(np.abs(cv2.Laplacian(g, cv2.CV_16S)))[0])


def _photo_background(d: Draws, width: int, height: int, busy: float = 0.0) -> np.ndarray:
    tiles = photo_tiles()
    if not tiles:
        raise UserError(f"no shipped texture tiles in {TEXTURES}; reinstall synthgen or set background.weights.photo=0")
    # a category first (wood, stone, brick, foliage, sky, ...), then one of its tiles: the
    # categories with many tiles (flowers, foliage) do not crowd out the others
    cats = photo_categories()
    cat = d.choice("background.photo_category", list(cats))
    names = cats[cat]
    # a pinned index past this category's end (the factor's range is the union over categories) is clamped
    path = names[min(max(d.integers("background.photo", 0, len(names) - 1), 0), len(names) - 1)]
    shape = _photo_shape(path)
    turn = d.integers("background.photo_turn", 0, 3)
    flip = d.bernoulli("background.photo_flip", 0.5)
    # scale 0.5x-2x of the tile's own resolution, at least enough for the tile to cover the
    # output (up to 2x); what is still short is mirrored out (reflection: no seam). The
    # window is cut in tile pixels first and resized once, so the cost follows the output.
    th, tw = (shape[1], shape[0]) if turn % 2 else (shape[0], shape[1])
    s = max(d.uniform("background.photo_scale", 0.5, 2.0), min(max(width, height) / th, 2.0))
    ww, wh = max(1, int(np.ceil(width / s))), max(1, int(np.ceil(height / s)))
    if ww <= tw and wh <= th:  # the usual case: turn and mirror the window alone (tiles.py)
        # a small window read from a store's file (one read of its rows' band), a large one (a
        # scene's) through the map (tiles.FILE_WINDOW_MAX)
        tile, transposed = _window_tile(path, turn % 2 == 1, ww * wh * shape[2] <= FILE_WINDOW_MAX,
                                        height * max(width * 3, PAGE))
        x = _at(d, "background.x", tw - ww)
        y = _at(d, "background.y", th - wh)
        win = window(tile, turn, flip, x, y, ww, wh, transposed)
        if busy > 0 and d.bernoulli("background.photo_busy", busy, src="line.busy_background"):
            # the busiest of BUSY_WINDOWS crops: the drawn one and its shifts by fixed fractions of
            # the free range (no further draws: every recorded factor still moves the pixels)
            best, best_k = _detail(win), 0
            for k in range(1, BUSY_WINDOWS):
                xk = int(x + k * 0.618 * (tw - ww + 1)) % (tw - ww + 1)
                yk = int(y + k * 0.382 * (th - wh + 1)) % (th - wh + 1)
                wk = window(tile, turn, flip, xk, yk, ww, wh, transposed)
                dk = _detail(wk)
                if dk > best:
                    best, best_k, win = dk, k, wk
            d.derive("background.busy_window", best_k)
    else:  # (the whole tile, turned and mirrored out: through the map)
        used(height * max(width * 3, PAGE))
        tile = _photo(path)
        tile = cv2.copyMakeBorder(turned(tile, turn, flip), 0, max(0, wh - th), 0, max(0, ww - tw), cv2.BORDER_REFLECT_101)
        x = _at(d, "background.x", tile.shape[1] - ww)
        y = _at(d, "background.y", tile.shape[0] - wh)
        win = tile[y : y + wh, x : x + ww]
    crop = cv2.resize(win, (width, height), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    gain = d.uniform("background.photo_gain", 0.6, 1.25)
    bias = d.uniform("background.photo_bias", -30.0, 30.0)
    if d.bernoulli("background.photo_grey", 0.15):
        crop = cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.convertScaleAbs(crop, alpha=gain, beta=bias)


PAPER_TONES = ((246, 243, 235), (250, 250, 248), (238, 228, 200), (222, 214, 196), (205, 180, 140), (232, 236, 240))


def solid(height: int, width: int, colour) -> np.ndarray:
    """A height x width RGB image of one colour (uint8 channel values): a memset per channel,
    merged; ~30x faster than broadcasting the colour triple (numpy copies 3 bytes at a time)."""
    return cv2.merge([np.full((height, width), c, np.uint8) for c in colour])


def _at(d: Draws, name: str, hi: int) -> int:
    """A crop offset in 0..hi; a pinned one past the end (the factor's range is the union over
    texture and frame sizes) is clamped, so the crop keeps the frame's size."""
    return min(max(d.integers(name, 0, hi), 0), hi)


def _mirrored(tex: np.ndarray, width: int, height: int) -> np.ndarray:
    """`tex`, mirrored out (no seam) when the output is larger than it."""
    h, w = tex.shape[:2]
    if width <= w and height <= h:
        return tex
    return cv2.copyMakeBorder(tex, 0, max(0, height - h), 0, max(0, width - w), cv2.BORDER_REFLECT_101)


def _apply_map(grey: np.ndarray, cmap: np.ndarray) -> np.ndarray:
    """The grey crop (a view of a bank is fine) through a 256-entry colour table: in one C pass
    (synthgen/csrc/pixels.c: colour_lut; ~2x faster than OpenCV's two), else cv2.applyColorMap
    with the user map (~20% faster than three 1-channel LUTs and a merge, ~5x faster than a
    3-channel LUT): the same pixels."""
    if _native is not None:
        out = np.empty((*grey.shape[:2], 3), np.uint8)
        if _native.colour_lut(grey, cmap, out) is None:
            return out
    return cv2.applyColorMap(np.ascontiguousarray(grey), cmap)


def _fold(img: np.ndarray, fa: float, fo: float, fs: float) -> np.ndarray:
    """A fold across the paper: a straight crease at angle fa (offset fo), one side a little lit
    and the other shaded by up to fs, fading with the distance from it (the image it returns may
    be `img`, changed in place). The arithmetic around numpy's tanh and exp in C (synthgen/csrc/
    pixels.c: fold_args, fold_shade: a 512 px fold 4.9 ms against the numpy's 9.7, of which
    tanh and exp, numpy's in both, take 3.4), else `_fold_reference`: the same bytes."""
    height, width = img.shape[:2]
    if _native is not None and img.dtype == np.uint8 and img.ndim == 3 and img.flags.c_contiguous:
        yy, xx = np.ogrid[0:height, 0:width]
        nx, ny = np.cos(fa), np.sin(fa)
        w = max(2.0, 0.04 * max(width, height))
        t, e = np.empty((height, width)), np.empty((height, width))
        if _native.fold_args(((xx - width / 2) * nx).ravel(), ((yy - height / 2) * ny).ravel(),
                             (fo - 0.5) * max(width, height), w, 6 * w, t, e) is None:
            np.tanh(t, out=t)
            np.exp(e, out=e)
            if _native.fold_shade(img, t, e, fs) is None:  # (in place: the caller's fresh image)
                return img
    return _fold_reference(img, fa, fo, fs)


def _fold_reference(img: np.ndarray, fa: float, fo: float, fs: float) -> np.ndarray:
    height, width = img.shape[:2]
    yy, xx = np.ogrid[0:height, 0:width]
    nx, ny = np.cos(fa), np.sin(fa)
    dist = (xx - width / 2) * nx + (yy - height / 2) * ny - (fo - 0.5) * max(width, height)
    w = max(2.0, 0.04 * max(width, height))
    shade = (1.0 + fs * np.tanh(dist / w) * np.exp(-np.abs(dist) / (6 * w))).astype(np.float32)
    # the shade as 3 channels (cv2.merge): a (h, w, 1) operand broadcast against (h, w, 3)
    # makes numpy loop 3 elements at a time, ~4x slower (the same products)
    return np.clip(img * cv2.merge([shade, shade, shade]), 0, 255).astype(np.uint8)


def _paper_background(d: Draws, width: int, height: int) -> np.ndarray:
    tone = PAPER_TONES[d.integers("background.paper.tone", 0, len(PAPER_TONES) - 1)]
    tint = [d.uniform(f"background.paper.tint.{c}", -12.0, 12.0) for c in "rgb"]
    light = [min(255.0, max(0.0, t + k)) for t, k in zip(tone, tint)]
    depth = d.uniform("background.paper.depth", 0.55, 0.85)  # once: a name drawn again is a redraw
    dark = [v * depth for v in light]
    options = paper_bank(NOISE_SIZE)
    tex = _mirrored(options[d.integers("background.texture", 0, len(options) - 1)], width, height)
    x = _at(d, "background.x", tex.shape[1] - width)
    y = _at(d, "background.y", tex.shape[0] - height)
    crop = tex[y : y + height, x : x + width]
    img = _apply_map(crop, _colour_map(dark, light, 1.0))
    # a fold: a straight crease, one side a little lit and the other shaded, fading with distance
    fold = d.bernoulli("background.paper.fold", 0.3)
    fa = d.uniform("background.paper.fold_angle", 0.0, np.pi)
    fo = d.uniform("background.paper.fold_offset", 0.2, 0.8)
    fs = d.uniform("background.paper.fold_strength", 0.04, 0.16)
    if fold:
        img = _fold(img, fa, fo, fs)
    # stains: up to three tide-marked blotches, blended inside their own boxes
    n = d.integers("background.paper.stains", 0, PAPER_STAINS) if d.bernoulli("background.paper.stain", 0.25) else 0
    bank = stain_bank()
    for k in range(PAPER_STAINS):
        sel = d.integers(f"background.paper.stain[{k}].shape", 0, len(bank) - 1)
        sz = d.uniform(f"background.paper.stain[{k}].size", 0.2, 0.9) * min(max(width, height), 2 * min(width, height))
        cx = d.uniform(f"background.paper.stain[{k}].x", 0.0, 1.0) * width
        cy = d.uniform(f"background.paper.stain[{k}].y", 0.0, 1.0) * height
        op = d.uniform(f"background.paper.stain[{k}].opacity", 0.08, 0.35)
        if k >= n:
            continue
        side = max(4, int(sz))
        a = cv2.resize(bank[sel], (side, side), interpolation=cv2.INTER_LINEAR) * op
        x0, y0 = int(cx - side / 2), int(cy - side / 2)
        ax0, ay0 = max(0, -x0), max(0, -y0)
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(width, x0 + side - ax0), min(height, y0 + side - ay0)
        if x1 <= x0 or y1 <= y0:
            continue
        a = a[ay0 : ay0 + (y1 - y0), ax0 : ax0 + (x1 - x0)]
        a = cv2.merge([a, a, a])
        roi = img[y0:y1, x0:x1].astype(np.float32)
        # roi * (brown / 255) and the alpha on whole rows: broadcasting a (3,) or (h, w, 1)
        # operand over (h, w, 3) makes numpy loop 3 elements at a time (the same products)
        rh, rw = roi.shape[:2]
        tint = (roi.reshape(rh, rw * 3) * np.tile(STAIN_BROWN / 255.0, rw)).reshape(rh, rw, 3)
        img[y0:y1, x0:x1] = (roi * (1 - a) + tint * a).astype(np.uint8)
    return img


def render_background(d: Draws, weights: dict[str, float], folders: list[str], width: int, height: int,
                      busy: float = 0.0) -> np.ndarray:
    """An H x W x 3 uint8 RGB background; every choice recorded under `background.*`.
    `busy`: the chance that a photo background is the most detailed of BUSY_WINDOWS crops
    (text over busy photo detail); at 0 nothing more is drawn."""
    kinds = [k for k, w in weights.items() if w > 0 and (k != "image" or folders)]
    kind = d.choice("background.kind", kinds, [weights[k] for k in kinds])
    if kind == "photo":  # (counts its own reads of a map)
        return _photo_background(d, width, height, busy)
    # now and then, drop this process's pages of the mapped banks and tiles (tiles.used): a
    # background reads about `height` rows of its bank, each at least a page
    used(height * max(width * 3, PAGE))
    if kind == "paper":
        return _paper_background(d, width, height)
    if kind == "image":
        files = image_files(tuple(folders))
        im = _read_image(files[d.integers("background.image", 0, len(files) - 1)])
        h, w = im.shape[:2]
        scale = max(width / w, height / h) * d.uniform("background.zoom", 1.0, 1.5)
        cw, ch = min(w, int(np.ceil(width / scale))), min(h, int(np.ceil(height / scale)))
        x = _at(d, "background.x", w - cw)
        y = _at(d, "background.y", h - ch)
        return cv2.resize(im[y : y + ch, x : x + cw], (width, height), interpolation=cv2.INTER_AREA)
    c0 = [d.uniform("background.color0.r", 0, 255), d.uniform("background.color0.g", 0, 255),
          d.uniform("background.color0.b", 0, 255)]
    if kind == "plain":
        return solid(height, width, [int(round(v)) for v in c0])
    c1 = [d.uniform("background.color1.r", 0, 255), d.uniform("background.color1.g", 0, 255),
          d.uniform("background.color1.b", 0, 255)]
    if kind == "fractal":
        options = fractal_bank(NOISE_SIZE)
        tex = _mirrored(options[d.integers("background.texture", 0, len(options) - 1)], width, height)
        x = _at(d, "background.x", tex.shape[1] - width)
        y = _at(d, "background.y", tex.shape[0] - height)
        crop = tex[y : y + height, x : x + width]
        flip = d.integers("background.flip", 0, 3)
        if flip:
            crop = cv2.flip(crop, flip - 2)
        gamma = d.uniform("background.gamma", 0.5, 2.0)
        return _apply_map(crop, _colour_map(c0, c1, gamma))
    size = max(1024, 2 * max(width, height))
    options = bank(size)[kind]
    tex = options[d.integers("background.texture", 0, len(options) - 1)]
    x = _at(d, "background.x", size - width)
    y = _at(d, "background.y", size - height)
    crop = tex[y : y + height, x : x + width]
    flip = d.integers("background.flip", 0, 3)
    if flip:
        crop = cv2.flip(crop, flip - 2)  # -1 both, 0 vertical, 1 horizontal
    gamma = d.uniform("background.gamma", 0.5, 2.0)
    return _apply_map(crop, _colour_map(c0, c1, gamma))


# -- the factors declared (synthgen/factors.py) --------------------------------------------------


@lru_cache(maxsize=16)
def _largest_side(files: tuple[str, ...]) -> int:
    """The longest side among image files, from their headers (no decoding)."""
    from PIL import Image

    side = 1
    for f in files:
        try:
            with Image.open(f) as im:
                side = max(side, *im.size)
        except OSError:
            raise UserError(f"background image {f!r} cannot be read") from None
    return side


def _declare_photo(cat, widths: tuple[int, int], heights: tuple[int, int], busy: float = 0.0,
                   busy_src: str = "line.busy_background") -> None:
    """What `_photo_background` draws, for outputs of `widths` x `heights` (min, max) px."""
    cats = photo_categories()
    cat.choice("background.photo_category", list(cats))
    sizes = {len(v) for v in cats.values()} or {1}
    cat.integers("background.photo", 0, max(sizes) - 1, depends=len(sizes) > 1)
    cat.integers("background.photo_turn", 0, 3)
    cat.bernoulli("background.photo_flip")
    cat.uniform("background.photo_scale", 0.5, 2.0)
    # a window of at least ceil(side / 2) tile px (scale <= 2) inside a tile (or the tile mirrored out)
    side = _largest_side(photo_tiles()) if photo_tiles() else 1
    cat.integers("background.x", 0, max(0, side - math.ceil(widths[0] / 2.0)), depends=True)
    cat.integers("background.y", 0, max(0, side - math.ceil(heights[0] / 2.0)), depends=True)
    if busy > 0:
        cat.bernoulli("background.photo_busy", src=busy_src)
        cat.derived("background.busy_window")
    cat.uniform("background.photo_gain", 0.6, 1.25)
    cat.uniform("background.photo_bias", -30.0, 30.0)
    cat.bernoulli("background.photo_grey")


def declare(cat, weights: dict[str, float], folders: list[str], widths: tuple[int, int],
            heights: tuple[int, int], busy: float = 0.0) -> None:
    """The factors `render_background` draws (under `background.*`) for outputs of `widths` x
    `heights` px (each a (min, max) range: a line crop's width follows its text): crop offsets
    are declared as the largest the smallest output allows."""
    kinds = [k for k, w in weights.items() if w > 0 and (k != "image" or folders)]
    cat.choice("background.kind", kinds, src="background.weights")
    w0, h0 = widths[0], heights[0]
    for kind in kinds:
        if kind == "photo":
            _declare_photo(cat, widths, heights, busy)
        elif kind == "paper":
            cat.integers("background.paper.tone", 0, len(PAPER_TONES) - 1)
            for c in "rgb":
                cat.uniform(f"background.paper.tint.{c}", -12.0, 12.0)
            cat.uniform("background.paper.depth", 0.55, 0.85)
            cat.integers("background.texture", 0, PAPERS - 1)
            cat.integers("background.x", 0, max(0, NOISE_SIZE - w0), depends=True)
            cat.integers("background.y", 0, max(0, NOISE_SIZE - h0), depends=True)
            cat.bernoulli("background.paper.fold")
            cat.uniform("background.paper.fold_angle", 0.0, np.pi)
            cat.uniform("background.paper.fold_offset", 0.2, 0.8)
            cat.uniform("background.paper.fold_strength", 0.04, 0.16)
            cat.bernoulli("background.paper.stain")
            cat.integers("background.paper.stains", 0, PAPER_STAINS)
            cat.integers("background.paper.stain[*].shape", 0, STAINS - 1)
            for f, lo, hi in (("size", 0.2, 0.9), ("x", 0.0, 1.0), ("y", 0.0, 1.0), ("opacity", 0.08, 0.35)):
                cat.uniform(f"background.paper.stain[*].{f}", lo, hi)
        elif kind == "image":
            files = image_files(tuple(folders))
            cat.integers("background.image", 0, len(files) - 1, src="background.folders")
            cat.uniform("background.zoom", 1.0, 1.5)
            side = _largest_side(files)
            cat.integers("background.x", 0, side, depends=True)
            cat.integers("background.y", 0, side, depends=True)
        else:
            cat.rgb("background.color0")
            if kind == "plain":
                continue
            cat.rgb("background.color1")
            if kind == "fractal":
                cat.integers("background.texture", 0, FRACTALS - 1)
                cat.integers("background.x", 0, max(0, NOISE_SIZE - w0), depends=True)
                cat.integers("background.y", 0, max(0, NOISE_SIZE - h0), depends=True)
            else:
                cat.integers("background.texture", 0, BANK_COUNTS[kind] - 1)
                # the bank's side is max(1024, 2 x the output's longer side); the offset runs to side - output
                w1, h1 = widths[1], heights[1]
                cat.integers("background.x", 0, max(1024 - w0, 2 * h1 - w0, w1), depends=True)
                cat.integers("background.y", 0, max(1024 - h0, 2 * w1 - h0, h1), depends=True)
            cat.integers("background.flip", 0, 3)
            cat.uniform("background.gamma", 0.5, 2.0)
