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

import os
import zlib
from bisect import bisect_left
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .. import machinecache
from ..native import lib as _native
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
        # (the glyph atlas gives the insets it computed from the mask's edge bytes)
        self.inset = _NO_INSET if self.blank else (edge_insets(mask) if inset is None else inset)


_NO_INSET = (0.0, 0.0, 0.0, 0.0)
_BLANK = np.zeros((0, 0), np.uint8)  # every blank glyph's mask (read-only: masks are only read)
_BLANK.flags.writeable = False


def edge_insets(mask: np.ndarray) -> tuple[float, float, float, float]:
    """(left, top, right, bottom): how far inside the mask's pixel-corner box the ink's extent
    lies, 1 - (peak coverage of that edge row or column). A single row (column) holds both
    edges: its 1 - c is split between them."""
    h, w = mask.shape
    return _insets(_edge_bytes(mask), w, h)


def _inset(c: float) -> float:
    """How far inside its pixel an edge row or column of peak coverage c (0 < c <= 1) ends."""
    return 1.0 - c if c <= 0.5 else min(1.0 - c, 0.5 / c - 0.5)


# The insets of an edge whose peak byte is b, as float objects shared by every glyph (a glyph's
# inset tuple holds no floats of its own): _EDGE[b] = _inset(b / 255), _HALF[b] the half of 1 - c
# a single row or column gives each of its two edges.
_EDGE = tuple(_inset(b / 255.0) for b in range(256))
_HALF = tuple((1.0 - b / 255.0) / 2 for b in range(256))


def _insets(e: int, w: int, h: int) -> tuple[float, float, float, float]:
    """edge_insets of a w x h mask from its edges' peak bytes packed as `_edge_bytes` packs them."""
    cl, ct, cr, cb = e & 255, e >> 8 & 255, e >> 16 & 255, e >> 24 & 255
    l, r = (_HALF[cl], _HALF[cl]) if w == 1 else (_EDGE[cl], _EDGE[cr])
    t, b = (_HALF[ct], _HALF[ct]) if h == 1 else (_EDGE[ct], _EDGE[cb])
    return l, t, r, b


def _edge_bytes(mask: np.ndarray) -> int:
    """The peak bytes of a mask's left, top, right and bottom edges, packed as cl | ct << 8 |
    cr << 16 | cb << 24 (what the atlas stores for _insets)."""
    cols, rows = mask.max(axis=0).tolist(), mask.max(axis=1).tolist()  # two reductions, not four
    return cols[0] | rows[0] << 8 | cols[-1] << 16 | rows[-1] << 24


# Cached glyphs per process, all tables together. Scene text (284 faces x 34 raster sizes) meets
# ~145,000 distinct glyphs in its first 15,000 samples and ~184,000 by 60,000 (then 0.3 new a
# sample): at 65,536 the cache thrashed (25 new glyphs a sample at ~85 us each, 8.4 ms a sample)
# where 262,144 keeps them all (5.5-5.6 ms; peak RSS 480 MB at 15,000 samples as before, 519 MB
# at 60,000, the masks ~72 MiB). Lines need ~42,000. With the compact atlas index (issue 23) a
# glyph costs ~550 bytes with its mask and an ocr_scene worker peaked at ~290 MB (in-process
# VmHWM) at 20,000 samples, 153,000 glyphs; 131,072 held it at 276 MB but cost 3-8 more atlas
# reads a sample (~10 us each) from 12,500 samples on, so the budget stays.
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
        self.atlas = _UNSET  # the table's atlas entry (or None), found on its first miss

    def __missing__(self, ch: str) -> Glyph:
        global _cached
        at = self.atlas
        if at is _UNSET:
            at = self.atlas = _atlas(self.face.path, self.face.index, self.size)
        g = _make_glyph(self.face, self.size, ch, at)
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


_UNSET = object()  # a glyph table's atlas entry not looked up yet


def _make_glyph(face, size: int, ch: str, atlas: "_Atlas | None") -> Glyph:
    """The glyph of `ch` from `atlas`, the atlas entry of (face, size) (None: no machine cache
    or a size not persisted), else rasterised (and added to the entry)."""
    if not face.chars.issuperset(ch):  # (face.covers, without the call)
        raise MissingGlyph(f"font {face.name!r} ({face.path}) has no glyph for {ch!r} (U+{ord(ch):04X})")
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
        return Glyph(_BLANK, 0, 0, advance)
    x, y, w, h = cv2.boundingRect(m)  # trim to the true ink: the bitmap can be a pixel loose
    if w == 0 or h == 0:
        return Glyph(_BLANK, 0, 0, advance)
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
# ATLAS_VERSION and the Pillow / FreeType / OpenCV versions, so a glyph read back is the glyph
# the process would have drawn, bit for bit. Only an entry's index is read when its table is
# first used, and held compactly (sorted code points and one small integer row per glyph; no
# Python object per glyph); each glyph's mask is read from the file when that glyph is first
# asked for (no process holds glyphs it never draws), and checked against its CRC-32. New
# glyphs are written back (merged with what the entry holds by then) every ATLAS_FLUSH new
# glyphs, after every shard a worker writes (run/worker.py) and at exit.
#
# Bump ATLAS_VERSION whenever what an entry holds for a glyph could change for the same font
# file, size and library versions: the rasterising here (_rasterise_glyph, _rasterise, the trim),
# how fonts.pil_font opens a font (layout engine, options), the edge insets (_inset, _insets,
# _edge_bytes) or the entry's layout (_ATLAS_FIELDS, _write_atlas). Every entry is then cold once.
# Editing anything else in this file or fonts.py leaves the atlas warm.
ATLAS_VERSION = 2  # 1: keyed on this file's and fonts.py's source; 2: edge bytes instead of float insets
ATLAS_MAX_SIZE = 160  # raster sizes above this are not persisted (rare, and large on disk)
ATLAS_FLUSH = 8192  # new glyphs, process-wide, that trigger a write-back
_ATLAS_FIELDS = ("cps", "geom", "off", "adv", "edges", "crc")
_ATLAS_FIELDS_IN = ("cps", "off", "geom", "crc", "edges", "adv")  # _native.atlas_index's argument order
_I32 = 2**31


class _Atlas:
    """The persisted glyphs of one (font file, face index, raster size), and the ones this
    process has drawn since it last wrote the entry.

    The index: `cps`, the entry's code points sorted (uint32); `recs`, one row per code point
    (off, x0, y0, w, h, crc, edge bytes: int32, the CRC and edge bytes as their signed 32-bit
    view; int64 for an entry over 2 GB); `advs`, the advances (float64). ~40 bytes a glyph,
    where a dict of rows and the entry's own arrays took ~120."""

    __slots__ = ("name", "path", "cps", "recs", "advs", "base", "ident", "pending", "metrics", "damaged", "blob",
                 "_fd", "_pid", "_views")

    def __init__(self, name: str, path: str) -> None:
        self.name, self.path = name, path
        self.pending: dict[str, Glyph] | None = None
        self.cps = self.recs = self.advs = self._views = None
        self.base = 0
        self.ident = None  # (device, inode, size, mtime) of the file the index was read from
        self.metrics = None
        self.damaged = False  # a mask that did not read back whole: the entry is written afresh
        self.blob = None  # a small entry's masks, read whole (no file kept open for it)
        self._fd = -1
        self._pid = 0
        self.open()

    @property
    def rows(self) -> list[int]:
        """The code points the entry holds (for inspection; get() searches `cps`)."""
        return [] if self.cps is None else self.cps.tolist()

    def _forget(self) -> None:
        self.cps = self.recs = self.advs = self.ident = self.blob = self._views = None

    def open(self) -> bool:
        """Open the entry for this process; (re)read its index unless it is the file the index
        came from (another process may have replaced it since). A small entry's masks (a Latin
        face's table: a few KB; most of them are drawn) are read whole, kept, and its glyphs'
        masks are views of them; no descriptor is kept for it. A large one (CJK) keeps its file
        open for reads of single masks, among _open_files, the ATLAS_OPEN_FILES most recently
        used; one pushed out of it closes its file and opens again on its next miss. False:
        there is no entry."""
        self.close()
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
        except OSError:
            self._forget()
            return False
        keep = False
        try:
            st = os.fstat(fd)
            machinecache.refresh(fd, st)  # its last use, for the cap's order (hourly at most)
            ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if ident != self.ident:
                self._forget()
                # a small file in one read (head, index and masks; ~3x cheaper than three reads
                # into three fresh buffers, a new table's cost in scenes), a large one's index alone
                whole = os.pread(fd, st.st_size, 0) if st.st_size <= ATLAS_SLURP + ATLAS_INDEX_ROOM else None
                entry = _read_index(fd) if whole is None else _index_of(whole)
                if entry is not None:
                    self._load(*entry)
                    self.ident = ident
                    if whole is not None and st.st_size - self.base <= ATLAS_SLURP:
                        # the masks alone, copied out (holding the index's bytes too cost 6 MB
                        # more at 1,500 scenes)
                        self.blob = whole[self.base :]
            if self.cps is None:
                return False
            n = st.st_size - self.base
            if n <= ATLAS_SLURP:
                if self.blob is None:
                    self.blob = os.pread(fd, n, self.base) if n > 0 else b""
                return True
            keep = True
        except OSError:
            self._forget()
            return False
        finally:
            if not keep:
                os.close(fd)
        if keep:
            self._fd, self._pid = fd, os.getpid()
        _open_files[id(self)] = self
        while len(_open_files) > ATLAS_OPEN_FILES:  # the least recently used goes
            _open_files.pop(next(iter(_open_files))).close()
        return True

    def _load(self, meta: dict, arrays: dict[str, np.ndarray], base: int) -> None:
        """Keep a compact, sorted copy of an entry's index (not the entry's bytes)."""
        n = len(arrays["cps"])
        if _native is not None:  # the sort and copies below in one C pass (int32 rows)
            cps, recs, advs = np.empty(n, np.uint32), np.empty((n, 7), np.int32), np.empty(n, np.float64)
            if _native.atlas_index(*(arrays[f] for f in _ATLAS_FIELDS_IN), cps, recs, advs) is None:
                return self._keep(meta, cps, recs, advs, base)
        order = np.argsort(arrays["cps"], kind="stable")
        off = arrays["off"][order].astype(np.int64)
        wide = len(off) and int(off.max()) + int(np.prod(arrays["geom"][:, 2:], axis=1).max()) >= _I32
        recs = np.empty((len(order), 7), np.int64 if wide else np.int32)
        recs[:, 0] = off
        recs[:, 1:5] = arrays["geom"][order]
        recs[:, 5] = arrays["crc"][order].astype(np.uint32).view(np.int32)
        recs[:, 6] = arrays["edges"][order].astype(np.uint8).reshape(-1, 4).copy().view("<u4").ravel().view(np.int32)
        self._keep(meta, np.ascontiguousarray(arrays["cps"][order], np.uint32), recs,
                   np.array(arrays["adv"][order], np.float64), base)

    def _keep(self, meta: dict, cps: np.ndarray, recs: np.ndarray, advs: np.ndarray, base: int) -> None:
        self.cps, self.recs, self.advs, self.base = cps, recs, advs, base
        # get() reads these through memoryviews: bisect and plain indexing give Python ints and
        # floats without a numpy call each (searchsorted with a Python int costs ~20x a bisect)
        self._views = (memoryview(cps), memoryview(recs.reshape(-1)), memoryview(advs))
        if meta.get("metrics"):
            self.metrics = (int(meta["metrics"][0]), int(meta["metrics"][1]))

    def get(self, ch: str) -> Glyph | None:
        cp = ord(ch)
        v = self._views
        if v is None:
            return None
        if self.blob is not None and _native is not None:  # the blob read below in one C call (csrc/glyphs.c)
            g = _native.atlas_glyph(v[0], v[1], v[2], self.blob, cp, Glyph, _EDGE, _HALF)
            if g is not NotImplemented:
                if g is False:
                    self.damaged = True
                    return None
                return g
        i = bisect_left(v[0], cp)
        if i == len(v[0]) or v[0][i] != cp:
            return None
        if self.blob is None and (self._fd < 0 or self._pid != os.getpid()):  # never share a descriptor with a fork
            if not self.open():
                return None
            v = self._views  # the entry may have been replaced: look again
            i = bisect_left(v[0], cp)
            if i == len(v[0]) or v[0][i] != cp:
                return None
        elif self.blob is None:
            k = id(self)
            _open_files[k] = _open_files.pop(k, self)  # most recently used last
        off, x0, y0, w, h, crc, e = v[1][7 * i : 7 * i + 7]
        adv = v[2][i]
        n = w * h
        if n == 0:
            return Glyph(_BLANK if w == h == 0 else np.zeros((h, w), np.uint8), x0, y0, adv)
        if self.blob is not None:  # a view of the entry's bytes: the glyphs drawn are not held twice
            b, o = self.blob, off
            ok = off + n <= len(b) and zlib.crc32(memoryview(b)[off : off + n]) == crc & 0xFFFFFFFF
        else:
            try:
                b, o = os.pread(self._fd, n, self.base + off), 0
            except OSError:
                b = b""
            ok = len(b) == n and zlib.crc32(b) == crc & 0xFFFFFFFF
        if not ok:
            self.damaged = True
            return None
        # read-only, as the bytes are (masks are only ever read); no buffer export of the mask
        mask = np.ndarray((h, w), np.uint8, b, o)
        return Glyph(mask, x0, y0, adv, _insets(e, w, h))

    def add(self, ch: str, g: Glyph) -> Glyph:
        global _pending
        if self.pending is None:
            self.pending = {}
        self.pending[ch] = g
        _pending += 1
        if _pending >= ATLAS_FLUSH:
            flush_atlas()
        return g

    def close(self) -> None:
        """Close the entry's file; its index (and a small entry's bytes) stay."""
        _open_files.pop(id(self), None)
        if self._fd >= 0:
            if self._pid == os.getpid():  # a forked child leaves its parent's descriptor alone
                try:
                    os.close(self._fd)
                except OSError:
                    pass
            self._fd = -1


def _open_limit() -> int:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return 256 if soft == resource.RLIM_INFINITY else max(16, min(256, soft // 4))
    except (ImportError, OSError, ValueError):  # Windows: no resource module
        return 128


ATLAS_OPEN_FILES = _open_limit()  # large atlas files a process keeps open (scenes use thousands of tables)
ATLAS_SLURP = 65536  # an entry whose masks take no more is read whole when opened
ATLAS_INDEX_ROOM = 16384  # a file up to ATLAS_SLURP + this is read in one piece (the index: ~44 bytes a glyph)
_open_files: dict[int, _Atlas] = {}
_atlases: dict[tuple[str, int, int], _Atlas | None] = {}
_pending = 0


_LIBS: tuple[str, str, str] | None = None  # (Pillow, FreeType, OpenCV) versions, as atlas names carry them
_FOLDER: tuple = (None, None)  # (machine cache root, its glyph folder as a string)


def _atlas_name(path: str, index: int, size: int) -> str | None:
    global _LIBS
    from .. import machinecache
    from . import fonts

    if size > ATLAS_MAX_SIZE or machinecache.root() is None:
        return None
    try:
        fid = fonts.font_id(path)
    except OSError:
        return None
    if _LIBS is None:
        import PIL
        from PIL import ImageFont

        _LIBS = (PIL.__version__, str(getattr(ImageFont.core, "freetype2_version", "")), cv2.__version__)
    return machinecache.key("glyphs", ATLAS_VERSION, fid, index, size, *_LIBS)


def _atlas(path: str, index: int, size: int) -> _Atlas | None:
    """The atlas of (path, index, size), its index read on first use; None when the machine
    cache is off or the size is not persisted."""
    global _FOLDER
    k = (path, index, size)
    try:
        return _atlases[k]
    except KeyError:
        pass
    from .. import machinecache

    name = _atlas_name(path, index, size)
    at = None
    if name is not None:
        root = machinecache.root()  # (a string join: pathlib's costs ~20 us a new table in place)
        if root is not None:
            if _FOLDER[0] is not root:
                _FOLDER = (root, str(machinecache.path("glyphs", "x").parent))
            at = _Atlas(name, os.path.join(_FOLDER[1], name))
    _atlases[k] = at
    return at


def _read_index(fd: int):
    """(meta, index arrays, offset of the masks) of the atlas entry in the open file `fd`,
    reading only its head and index; None when it holds no intact one."""
    from .. import machinecache

    head = os.pread(fd, machinecache.HEAD_SIZE, 0)
    n = machinecache.entry_length(head)
    if n is None:
        return None
    return _index_of(head + os.pread(fd, n, machinecache.HEAD_SIZE))


def _index_of(data: bytes):
    """_read_index of an entry's bytes (its head and index, and possibly its masks after them)."""
    from .. import machinecache

    n = machinecache.entry_length(data)
    if n is None:
        return None
    hit = machinecache.unpack(data)
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


def close_atlases() -> None:
    """Close every atlas file this process holds open (their indexes stay)."""
    for at in list(_open_files.values()):
        at.close()


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
    at.pending = None
    k = len(new)
    geom = np.zeros((k, 4), np.int32)
    off = np.zeros(k, np.int64)
    adv = np.zeros(k, np.float64)
    edges = np.zeros((k, 4), np.uint8)
    crc = np.zeros(k, np.uint32)
    parts, pos = [], len(old_blob)
    for i, (_, g) in enumerate(new):
        geom[i] = (g.x0, g.y0, g.w, g.h)
        off[i] = pos
        adv[i] = g.advance
        b = np.ascontiguousarray(g.mask).tobytes()  # (no buffer export of a mask a table holds)
        if b:
            e = _edge_bytes(g.mask)
            edges[i] = (e & 255, e >> 8 & 255, e >> 16 & 255, e >> 24 & 255)
        crc[i] = zlib.crc32(b)
        parts.append(b)
        pos += len(b)
    arrays = {"cps": np.array([cp for cp, _ in new], np.uint32), "geom": geom, "off": off, "adv": adv,
              "edges": edges, "crc": crc}
    if old_arrays is not None:
        arrays = {f: np.concatenate([old_arrays[f], arrays[f]]) for f in _ATLAS_FIELDS}
    if at.metrics is None:
        at.metrics = tuple(int(v) for v in pil_font(path, index, size).getmetrics())
    # the entry (index), then the masks back to back: `off` counts from the entry's end
    data = [machinecache.pack({"metrics": list(at.metrics)}, arrays), old_blob, *parts]
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
    close_atlases()


import atexit  # noqa: E402

atexit.register(_flush_at_exit)


def inset_quads(quads: np.ndarray, path: str, index: int, size: int, text: str) -> np.ndarray:
    """Char quads laid over each glyph's whole mask (vertex 0 at the mask's top-left, 1 at its
    top-right, 3 at its bottom-left: the curved and vertical layouts) pulled in to the ink's
    extent by the glyphs' insets, as compose_line's boxes are."""
    table = glyph_table(path, index, size)
    glyphs = [table[c] for c in text]
    if _native is not None:  # _inset_quads in C (synthgen/_native.c)
        out = np.empty((len(glyphs), 4, 2), np.float32)
        done = _native.inset_quads(quads, glyphs, out)
        if done is not NotImplemented:
            return out if done else quads
    return _inset_quads(quads, glyphs)


def _inset_quads(quads: np.ndarray, glyphs: list[Glyph]) -> np.ndarray:
    ins = np.zeros((len(glyphs), 4), np.float64)
    wh = np.ones((len(glyphs), 2), np.float64)
    for k, g in enumerate(glyphs):
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
    table = glyph_table(path, index, size)
    glyphs = [table[c] for c in text]
    # one C call (synthgen/_native.c: compose), else the code below; with jitter the reference's
    # boxes hold numpy floats where a pen went through numpy: compose_boxes takes that case to C
    if jitter is None and _native is not None:
        out = _native.compose(glyphs, float(spacing), pad)
        if out is not NotImplemented:
            return out
    return _compose(glyphs, text, spacing, pad, jitter)


def compose_boxes(path: str, index: int, size: int, text: str, spacing: float = 0.0, pad: int = 1,
                  jitter: tuple | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """compose_line with the boxes as an n x 4 float32 array: what np.array(boxes, np.float32)
    makes of compose_line's, written by the C compose directly."""
    table = glyph_table(path, index, size)
    glyphs = [table[c] for c in text]
    if _native is not None:
        b = np.empty((len(glyphs), 4), np.float32)
        out = _native.compose(glyphs, float(spacing), pad, b) if jitter is None else \
            _native.compose(glyphs, float(spacing), pad, b, *jitter)
        if out is not NotImplemented:
            return out
    canvas, boxes, oy = _compose(glyphs, text, spacing, pad, jitter)
    return canvas, np.array(boxes, np.float32), oy


def _compose(glyphs: list, text: str, spacing: float, pad: int,
             jitter: tuple | None) -> tuple[np.ndarray, list[tuple[float, float, float, float]], int]:
    """compose_line's reference, on the looked-up glyphs of `text`."""
    # Plain Python over the characters: numpy calls on scalars would cost more than they save.
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
            gx = round(x) + g.x0  # (round of a float is an int)
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
    # Pass 2: paste the masks (max where neighbours overlap, so both inks are kept). Not through
    # paste_max: numpy attaches a buffer-info record to each array it exports through the buffer
    # protocol, for the array's life (~100 B on each cached glyph mask, 9 MB more peak RSS at
    # 5,000 scenes); `compose` above reads the masks' fields in place instead.
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


def paste_max(canvas: np.ndarray, masks: list[np.ndarray], xs: list[int], ys: list[int]) -> None:
    """In place: each mask maxed into `canvas` with its top-left at (x, y), every one inside it:
    one C call (synthgen/_native.c), else numpy. For arrays that die with the sample: it takes
    them through the buffer protocol (see compose_line's pass 2 for why not cached glyph masks)."""
    if _native is not None and _native.paste_max(canvas, masks, xs, ys) is None:
        return
    for m, x0, y0 in zip(masks, xs, ys):
        region = canvas[y0 : y0 + m.shape[0], x0 : x0 + m.shape[1]]
        np.maximum(region, m, out=region)


def layout_line(path: str, index: int, size: int, text: str, spacing: float = 0.0, pad: int = 1,
                jitter: tuple | None = None) -> Layout:
    """Lay `text` out on one horizontal line (see compose_line, and its `jitter`); `ink` is the
    canvas less its pad."""
    canvas, b, _ = compose_boxes(path, index, size, text, spacing, pad, jitter)
    H, W = canvas.shape
    return Layout(canvas, b, (float(pad), float(pad), float(W - pad), float(H - pad)))
