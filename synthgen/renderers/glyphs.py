"""Glyph masks and horizontal text layout with exact per-character ink boxes.

Each (font, size, char) is rasterised once per process and cached; a word is composed by
pasting cached glyph masks at their pen positions. Because we draw exactly what we measure,
character boxes are the true ink extents of the drawn glyphs, to a fraction of a pixel: an
edge row (column) of the mask whose brightest pixel has coverage c is ink only over a depth
of at least c (a pixel's coverage is the share of its area under the outline), so the box edge
sits 1 - c inside the pixel edge. For flat edges (a hyphen, a stem's end, a serif) that is the
outline's own edge; a pixel-corner box would be up to a pixel loose on each side, which for a
thin glyph (a 1 px hyphen spread over three rows by anti-aliasing) is over half its box.
For c > 1/2 the edge goes no further in than 1/(2c) - 1/2, where coverage interpolated
bilinearly from the empty row outside (the warps resample so) reaches one half: a pixel the
warp makes half ink keeps its centre inside the box (1 - c alone would leave it up to 0.09 px
outside, at c = 0.71).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .fonts import load_faces, pil_font


class MissingGlyph(ValueError):
    """The font has no glyph for a character: drawing it would give a box ("tofu")."""


class Glyph:
    """One rasterised glyph. A plain slotted class: layouts read these fields in tight loops."""

    __slots__ = ("mask", "x0", "y0", "w", "h", "advance", "blank", "inset")

    def __init__(self, mask: np.ndarray, x0: int, y0: int, advance: float,
                 inset: tuple[float, float, float, float] | None = None) -> None:
        self.mask = mask  # uint8, tight to ink (0 x 0 for blank glyphs)
        self.x0 = x0  # ink box relative to the pen position on the baseline-ascender origin
        self.y0 = y0
        self.h, self.w = mask.shape
        self.advance = advance
        self.blank = mask.size == 0
        # (the glyph atlas stores the insets it computed: they are a function of the mask)
        self.inset = (0.0, 0.0, 0.0, 0.0) if self.blank else (edge_insets(mask) if inset is None else inset)


def edge_insets(mask: np.ndarray) -> tuple[float, float, float, float]:
    """(left, top, right, bottom): how far inside the mask's pixel-corner box the ink's extent
    lies, 1 - (peak coverage of that edge row or column). A single row (column) holds both
    edges: its 1 - c is split between them."""
    h, w = mask.shape
    cols, rows = mask.max(axis=0).tolist(), mask.max(axis=1).tolist()  # two reductions, not four
    cl, cr, ct, cb = cols[0] / 255.0, cols[-1] / 255.0, rows[0] / 255.0, rows[-1] / 255.0
    l, r = ((1.0 - cl) / 2, (1.0 - cl) / 2) if w == 1 else (_inset(cl), _inset(cr))
    t, b = ((1.0 - ct) / 2, (1.0 - ct) / 2) if h == 1 else (_inset(ct), _inset(cb))
    return l, t, r, b


def _inset(c: float) -> float:
    """How far inside its pixel an edge row or column of peak coverage c (0 < c <= 1) ends."""
    return 1.0 - c if c <= 0.5 else min(1.0 - c, 0.5 / c - 0.5)


# Cached glyphs per process, all tables together. Scene text (284 faces x 34 raster sizes) meets
# ~145,000 distinct glyphs in its first 15,000 samples and ~184,000 by 60,000 (then 0.3 new a
# sample): at 65,536 the cache thrashed (25 new glyphs a sample at ~85 us each, 8.4 ms a sample)
# where 262,144 keeps them all (5.5-5.6 ms; peak RSS 480 MB at 15,000 samples as before, 519 MB
# at 60,000, the masks ~72 MiB). Lines need ~42,000.
GLYPH_BUDGET = 262144
# Scene text is rasterised at the next size up this ladder (steps of 1/8 to 1/4) and scaled
# down by at most ~15% in the warp every item gets anyway: 4x fewer glyphs to rasterise
# (~0.2 ms each) than one raster per integer size.
RASTER_LADDER = (4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 23, 26, 30, 34, 38, 43, 48, 54, 60, 67, 75, 84, 94, 105,
                 118, 132, 148, 166, 186, 208, 233, 261, 292)


def raster_size(size: float, ladder: tuple[int, ...] = RASTER_LADDER) -> int:
    """The ladder size that glyphs of font size `size` are drawn at: the first step up (within
    half a pixel); sizes past the ladder are drawn as they are."""
    for z in ladder:
        if z >= size - 0.5:
            return z
    return int(round(size))


class GlyphTable(dict):
    """char -> Glyph for one (font file, face index, size), filled on first use.

    A layout looks glyphs up with `table[ch]`: one dict lookup instead of a 4-argument
    lru_cache call per character."""

    def __init__(self, path: str, index: int, size: int) -> None:
        super().__init__()
        self.path, self.index, self.size = path, index, size
        self.face = load_faces(path)[index]

    def __missing__(self, ch: str) -> Glyph:
        global _cached
        g = _make_glyph(self.face, self.size, ch)
        if _cached >= GLYPH_BUDGET:
            _evict(self)
        self[ch] = g
        if _tables.get((self.path, self.index, self.size)) is self:  # a caller may hold an evicted table
            _cached += 1
        return g


_tables: dict[tuple[str, int, int], GlyphTable] = {}
_cached = 0


def _evict(keep: GlyphTable) -> None:
    """Drop the least recently used tables until half the budget is free. With ~284 faces at a
    dozen sizes the budget fills after a few thousand samples; dropping every table then (as
    before) re-rasterised the common fonts too (~3x the misses per sample for a while)."""
    global _cached
    for key in list(_tables):  # oldest use first (glyph_table moves a table to the end)
        if _cached <= GLYPH_BUDGET // 2:
            break
        t = _tables[key]
        if t is keep:
            continue
        del _tables[key]
        _cached -= len(t)


def glyph_table(path: str, index: int, size: int) -> GlyphTable:
    key = (path, index, size)
    t = _tables.pop(key, None)  # re-inserted last: dict order is the tables' recency
    if t is None:
        t = GlyphTable(path, index, size)
    _tables[key] = t
    return t


def glyph(path: str, index: int, size: int, ch: str) -> Glyph:
    """The cached mask of `ch`. A character outside the font's cmap raises MissingGlyph instead of
    drawing the font's .notdef box (nothing is cached for it)."""
    return glyph_table(path, index, size)[ch]


def _make_glyph(face, size: int, ch: str) -> Glyph:
    if not face.covers(ch):
        raise MissingGlyph(f"font {face.name!r} ({face.path}) has no glyph for {ch!r} (U+{ord(ch):04X})")
    atlas = _atlas(face.path, face.index, size)
    if atlas is not None:
        g = atlas.get(ch)
        if g is None:
            g = atlas.add(ch, _rasterise_glyph(face, size, ch))
        return g
    return _rasterise_glyph(face, size, ch)


def _rasterise_glyph(face, size: int, ch: str) -> Glyph:
    font = pil_font(face.path, face.index, size)
    advance = float(font.getlength(ch))
    m, ox, oy = _rasterise(font, ch)
    if m is None:
        return Glyph(np.zeros((0, 0), np.uint8), 0, 0, advance)
    x, y, w, h = cv2.boundingRect(m)  # trim to the true ink: the bitmap can be a pixel loose
    if w == 0 or h == 0:
        return Glyph(np.zeros((0, 0), np.uint8), 0, 0, advance)
    return Glyph(np.ascontiguousarray(m[y : y + h, x : x + w]), int(ox + x), int(oy + y), advance)


def _rasterise(font, ch: str) -> tuple[np.ndarray | None, int, int]:
    """The glyph's bitmap and its offset from the "la" origin (left of the pen, top of the
    ascender). One FreeType render through getmask2 (rendering CFF hanzi is the expensive part
    of a cache miss); the public draw-based path if that internal API is missing."""
    try:
        core, (ox, oy) = font.getmask2(ch, mode="L", anchor="la")
        if core.size[0] == 0 or core.size[1] == 0:
            return None, 0, 0
        return np.asarray(Image.Image()._new(core)), ox, oy
    except (AttributeError, TypeError):  # pragma: no cover - older/newer Pillow internals
        l, t, r, b = font.getbbox(ch)
        if r <= l or b <= t:
            return None, 0, 0
        im = Image.new("L", (r - l, b - t), 0)
        ImageDraw.Draw(im).text((-l, -t), ch, font=font, fill=255)
        return np.asarray(im), l, t


# -- the glyph atlas: glyphs persisted per machine ---------------------------------------------
# A process rasterises every glyph it meets once (~0.1 ms each: ~20,000 in a line process's
# first 4,000 samples, 2 CPU-s). The atlas keeps them in the machine cache
# (synthgen/machinecache.py), one entry per (font file bytes, face, raster size), keyed also by
# this module's and fonts.py's source and the Pillow / FreeType / OpenCV versions, so a glyph
# read back is the glyph the process would have drawn, bit for bit. Only an entry's index is
# read when its table is first used; each glyph's mask is read from the file when that glyph
# is first asked for (no process holds glyphs it never draws), and checked against its CRC-32.
# New glyphs are written back (merged with what the entry holds by then) every ATLAS_FLUSH new
# glyphs, after every shard a worker writes (run/worker.py) and at exit.
ATLAS_MAX_SIZE = 160  # raster sizes above this are not persisted (rare, and large on disk)
ATLAS_FLUSH = 8192  # new glyphs, process-wide, that trigger a write-back
_ATLAS_FIELDS = ("cps", "geom", "off", "adv", "ins", "crc")


class _Atlas:
    """The persisted glyphs of one (font file, face index, raster size), and the ones this
    process has drawn since it last wrote the entry."""

    __slots__ = ("name", "path", "rows", "arrays", "base", "ident", "pending", "metrics", "damaged", "blob", "_file",
                 "_pid")

    def __init__(self, name: str, path) -> None:
        self.name, self.path = name, path
        self.pending: dict[str, Glyph] = {}
        self.rows: dict[int, int] = {}
        self.arrays = None
        self.base = 0
        self.ident = None  # (device, inode, size, mtime) of the file the index was read from
        self.metrics = None
        self.damaged = False  # a mask that did not read back whole: the entry is written afresh
        self.blob = None  # a small entry's masks, read whole (no file kept open for it)
        self._file = None
        self._pid = 0
        self.open()

    def open(self, blob: bool = False) -> bool:
        """Open the entry for this process; (re)read its index unless it is the file the index
        came from (another process may have replaced it since). A small entry (a Latin face's
        table: a few KB) is read whole when `blob` (its first glyph asked for) and no file is
        kept open for it; a large one (CJK) stays open for reads of single masks. False: there
        is no entry."""
        import os

        self.close()
        try:
            f = open(self.path, "rb")
        except OSError:
            self.rows, self.arrays, self.ident, self.blob = {}, None, None, None
            return False
        try:
            st = os.fstat(f.fileno())
            ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if ident != self.ident:
                entry = _read_index(f)
                self.ident = ident if entry is not None else None
                self.rows, self.arrays, self.base, self.blob = {}, None, 0, None
                if entry is not None:
                    meta, self.arrays, self.base = entry
                    self.rows = dict(zip(self.arrays["cps"].tolist(), range(len(self.arrays["cps"]))))
                    if meta.get("metrics"):
                        self.metrics = (int(meta["metrics"][0]), int(meta["metrics"][1]))
            if self.arrays is None:
                f.close()
                return False
            if st.st_size - self.base <= ATLAS_SLURP:
                if blob and self.blob is None:
                    f.seek(self.base)
                    self.blob = f.read()
                f.close()
                return True
        except OSError:
            f.close()
            self.rows, self.arrays, self.ident, self.blob = {}, None, None, None
            return False
        self._file, self._pid = f, os.getpid()
        _open_files[id(self)] = self
        while len(_open_files) > ATLAS_OPEN_FILES:  # the least recently opened goes
            _open_files.pop(next(iter(_open_files))).close()
        return True

    def get(self, ch: str) -> Glyph | None:
        import os

        cp = ord(ch)
        if cp not in self.rows:
            return None
        if self.blob is None and (self._file is None or self._pid != os.getpid()):  # never share a descriptor with a fork
            if not self.open(blob=True) or cp not in self.rows:
                return None
        i = self.rows[cp]
        a = self.arrays
        # this glyph's row only: Python lists of a whole entry's index (every glyph the machine
        # has drawn in this face and size, most of them never asked for here) cost ~400 bytes a
        # glyph, ~60 MB in a scene worker; a glyph is asked for once per process
        x0, y0, w, h = a["geom"][i].tolist()
        adv = float(a["adv"][i])
        if w * h == 0:
            return Glyph(np.zeros((h, w), np.uint8), x0, y0, adv)
        off = int(a["off"][i])
        if self.blob is not None:
            # a view of the entry's bytes (read-only: glyph masks are only ever read), so the
            # glyphs a process uses are not held twice
            ok = off + w * h <= len(self.blob)
            mask = np.frombuffer(self.blob, np.uint8, w * h, off).reshape(h, w) if ok else None
        else:
            mask = np.empty((h, w), np.uint8)
            try:
                ok = self._read(self.base + off, mask)
            except OSError:
                ok = False
        if not ok or _crc(mask) != int(a["crc"][i]):
            self.damaged = True
            return None
        return Glyph(mask, x0, y0, adv, tuple(a["ins"][i].tolist()))

    def _read(self, pos: int, out: np.ndarray) -> bool:
        import os

        n = out.nbytes
        if hasattr(os, "pread"):
            b = os.pread(self._file.fileno(), n, pos)
            if len(b) != n:
                return False
            out.reshape(-1)[:] = np.frombuffer(b, np.uint8)
            return True
        self._file.seek(pos)
        return self._file.readinto(memoryview(out).cast("B")) == n

    def add(self, ch: str, g: Glyph) -> Glyph:
        global _pending
        self.pending[ch] = g
        _pending += 1
        if _pending >= ATLAS_FLUSH:
            flush_atlas()
        return g

    def close(self) -> None:
        _open_files.pop(id(self), None)
        if self._file is not None:
            import os

            if self._pid == os.getpid():  # a forked child leaves its parent's file object alone
                try:
                    self._file.close()
                except OSError:
                    pass
            self._file = None


def _open_limit() -> int:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return 256 if soft == resource.RLIM_INFINITY else max(16, min(256, soft // 4))
    except (ImportError, OSError, ValueError):  # Windows: no resource module
        return 128


ATLAS_OPEN_FILES = _open_limit()  # large atlas files a process keeps open (scenes use thousands of tables)
ATLAS_SLURP = 65536  # an entry whose masks take no more is read whole when opened
_open_files: dict[int, _Atlas] = {}
_atlases: dict[tuple[str, int, int], _Atlas | None] = {}
_pending = 0


def _crc(mask: np.ndarray) -> int:
    import zlib

    return zlib.crc32(mask)


def _atlas_name(path: str, index: int, size: int) -> str | None:
    import PIL
    from PIL import ImageFont

    from .. import machinecache
    from . import fonts

    if size > ATLAS_MAX_SIZE or machinecache.root() is None:
        return None
    try:
        fid = fonts.font_id(path)
        src = machinecache.source_key(__file__, fonts.__file__)
    except OSError:
        return None
    return machinecache.key("glyphs", fid, index, size, src, PIL.__version__,
                            str(getattr(ImageFont.core, "freetype2_version", "")), cv2.__version__)


def _atlas(path: str, index: int, size: int) -> _Atlas | None:
    """The atlas of (path, index, size), its index read on first use; None when the machine
    cache is off or the size is not persisted."""
    k = (path, index, size)
    try:
        return _atlases[k]
    except KeyError:
        pass
    from .. import machinecache

    name = _atlas_name(path, index, size)
    at = None
    if name is not None:
        p = machinecache.path("glyphs", name)
        if p is not None:
            at = _Atlas(name, p)
    _atlases[k] = at
    return at


def _read_index(f):
    """(meta, index arrays, offset of the masks) of the atlas entry in the open file `f`,
    reading only its head and index; None when it holds no intact one."""
    from .. import machinecache

    f.seek(0)
    head = f.read(machinecache.HEAD_SIZE)
    n = machinecache.entry_length(head)
    if n is None:
        return None
    hit = machinecache.unpack(head + f.read(n))
    if hit is None or any(k not in hit[1] for k in _ATLAS_FIELDS):
        return None
    return hit[0], hit[1], machinecache.HEAD_SIZE + n


def flush_atlas() -> int:
    """Write every atlas entry this process has new glyphs for, merged with what the entry
    holds on disk by now (another process may have added some). Returns the glyphs written."""
    global _pending
    done = 0
    for (path, index, size), at in list(_atlases.items()):
        if at is None or not at.pending:
            continue
        done += len(at.pending)
        _write_atlas(at, path, index, size)
    _pending = 0
    return done


def _write_atlas(at: _Atlas, path: str, index: int, size: int) -> None:
    """Append this process's new glyphs to the entry as it is on disk now (another process
    may have added some since it was read) and replace the entry with the result."""
    from .. import machinecache

    old_arrays, old_blob = None, b""
    try:
        if at.damaged:  # start afresh from this process's glyphs
            raise FileNotFoundError
        with open(at.path, "rb") as f:
            data = f.read()
        hit = machinecache.unpack(data)
        if hit is not None and all(k in hit[1] for k in _ATLAS_FIELDS):
            n = machinecache.entry_length(data)
            old_arrays, old_blob = hit[1], memoryview(data)[machinecache.HEAD_SIZE + n :]
            if hit[0].get("metrics") and at.metrics is None:
                at.metrics = (int(hit[0]["metrics"][0]), int(hit[0]["metrics"][1]))
    except OSError:
        pass
    have = set(old_arrays["cps"].tolist()) if old_arrays is not None else set()
    new = [(ord(ch), g) for ch, g in at.pending.items() if ord(ch) not in have]
    at.pending = {}
    k = len(new)
    geom = np.zeros((k, 4), np.int32)
    off = np.zeros(k, np.int64)
    adv = np.zeros(k, np.float64)
    ins = np.zeros((k, 4), np.float64)
    crc = np.zeros(k, np.uint32)
    parts, pos = [], len(old_blob)
    for i, (_, g) in enumerate(new):
        geom[i] = (g.x0, g.y0, g.w, g.h)
        off[i] = pos
        adv[i] = g.advance
        ins[i] = g.inset
        m = np.ascontiguousarray(g.mask)
        crc[i] = _crc(m)
        parts.append(m.tobytes())
        pos += m.nbytes
    arrays = {"cps": np.array([cp for cp, _ in new], np.uint32), "geom": geom, "off": off, "adv": adv,
              "ins": ins, "crc": crc}
    if old_arrays is not None:
        arrays = {f: np.concatenate([old_arrays[f], arrays[f]]) for f in _ATLAS_FIELDS}
    if at.metrics is None:
        at.metrics = tuple(int(v) for v in pil_font(path, index, size).getmetrics())
    # the entry (index), then the masks back to back: `off` counts from the entry's end
    data = machinecache.pack({"metrics": list(at.metrics)}, arrays) + bytes(old_blob) + b"".join(parts)
    at.close()
    if machinecache.write_raw("glyphs", at.name, data):
        at.damaged = False
    at.open()  # serve later misses from what is there now


def glyph_metrics(path: str, index: int, size: int) -> tuple[int, int]:
    """(ascent, descent) of the font at `size`: from its atlas entry when there is one (no
    FreeType face needs opening then), else from Pillow."""
    at = _atlas(path, index, size)
    if at is not None and at.metrics is not None:
        return at.metrics
    m = tuple(int(v) for v in pil_font(path, index, size).getmetrics())
    if at is not None:
        at.metrics = m
    return m


def _flush_at_exit() -> None:
    try:
        flush_atlas()
    except Exception:  # noqa: BLE001 - a cache must never fail a run at exit
        pass


import atexit  # noqa: E402

atexit.register(_flush_at_exit)


def inset_quads(quads: np.ndarray, path: str, index: int, size: int, text: str) -> np.ndarray:
    """Char quads laid over each glyph's whole mask (vertex 0 at the mask's top-left, 1 at its
    top-right, 3 at its bottom-left: the curved and vertical layouts) pulled in to the ink's
    extent by the glyphs' insets, as compose_line's boxes are."""
    table = glyph_table(path, index, size)
    ins = np.zeros((len(text), 4), np.float64)
    wh = np.ones((len(text), 2), np.float64)
    for k, c in enumerate(text):
        g = table[c]
        if not g.blank:
            ins[k], wh[k] = g.inset, (g.w, g.h)
    if not ins.any():
        return quads
    q = np.asarray(quads, np.float64)
    eu = (q[:, 1] - q[:, 0]) / wh[:, :1]  # one mask pixel along its width, then its height
    ev = (q[:, 3] - q[:, 0]) / wh[:, 1:]
    l, t, r, b = (ins[:, j : j + 1] for j in range(4))
    out = np.stack([q[:, 0] + l * eu + t * ev, q[:, 1] - r * eu + t * ev,
                    q[:, 2] - r * eu - b * ev, q[:, 3] + l * eu - b * ev], axis=1)
    return out.astype(np.float32)


@dataclass
class Layout:
    mask: np.ndarray  # uint8 coverage of the whole text, h x w
    boxes: np.ndarray  # n x 4 float32 char boxes [x0, y0, x1, y1] in mask pixel-corner coords
    ink: tuple[float, float, float, float]  # (x0, y0, x1, y1) of all ink


def compose_line(path: str, index: int, size: int, text: str, spacing: float = 0.0,
                 pad: int = 1, jitter: tuple | None = None) -> tuple[np.ndarray, list[tuple[float, float, float, float]], int]:
    """Paste the cached glyphs of `text` at their pen positions on one horizontal line.

    Returns the canvas (ink plus `pad` px all round), each character's box (x0, y0, x1, y1) in
    canvas pixel coordinates (the ink's extent, Glyph.inset inside its mask; blank characters:
    their advance by the ink height) and the canvas row
    of the glyph origins' top (the baseline lies the font's ascent below it).

    `jitter=(dxs, dys)`: per character, extra advance (px; the pen never moves backwards) and
    an integer offset from the baseline (linestyles.jittered)."""
    # Plain Python over the characters: numpy calls on scalars would cost more than they save.
    table = glyph_table(path, index, size)
    glyphs = [table[c] for c in text]
    dxs, dys = jitter if jitter is not None else (None, None)
    # Pass 1: pen positions and the ink's extent.
    place: list[tuple] = []  # (ink x, ink y) of each glyph, or (pen x, 0) for a blank one
    x = 0.0
    x_min = y_min = 1 << 30
    x_max = y_max = -(1 << 30)
    for k, g in enumerate(glyphs):
        if g.blank:
            place.append((x, 0))
        else:
            gx = int(round(x)) + g.x0
            gy = g.y0 if dys is None else g.y0 + int(dys[k])
            place.append((gx, gy))
            if gx < x_min:
                x_min = gx
            if gx + g.w > x_max:
                x_max = gx + g.w
            if gy < y_min:
                y_min = gy
            if gy + g.h > y_max:
                y_max = gy + g.h
        x += g.advance + spacing if dxs is None else max(1.0, g.advance + spacing + dxs[k])
    if x_max < x_min:
        raise ValueError(f"text {text!r} has no ink")
    ox, oy = pad - x_min, pad - y_min
    W, H = x_max - x_min + 2 * pad, y_max - y_min + 2 * pad
    # Pass 2: paste the masks (max where neighbours overlap, so both inks are kept).
    canvas = np.zeros((H, W), np.uint8)
    boxes = []
    right = 0  # everything pasted so far lies left of this column
    for g, (px, py) in zip(glyphs, place):
        x0 = px + ox
        if g.blank:
            boxes.append((x0, pad, x0 + max(g.advance, 1.0), H - pad))
            continue
        y0 = py + oy
        x1, y1 = x0 + g.w, y0 + g.h
        if x0 >= right:  # clear of every earlier glyph: a plain copy is the same as the max
            canvas[y0:y1, x0:x1] = g.mask
        else:
            region = canvas[y0:y1, x0:x1]
            np.maximum(region, g.mask, out=region)
        if x1 > right:
            right = x1
        il, it, ir, ib = g.inset
        boxes.append((x0 + il, y0 + it, x1 - ir, y1 - ib))
    return canvas, boxes, oy


def layout_line(path: str, index: int, size: int, text: str, spacing: float = 0.0, pad: int = 1,
                jitter: tuple | None = None) -> Layout:
    """Lay `text` out on one horizontal line (see compose_line, and its `jitter`); `ink` is the
    canvas less its pad."""
    canvas, boxes, _ = compose_line(path, index, size, text, spacing, pad, jitter=jitter)
    H, W = canvas.shape
    return Layout(canvas, np.array(boxes, np.float32), (float(pad), float(pad), float(W - pad), float(H - pad)))
