"""A window of a turned and mirrored texture tile, cut before the turn.

`_photo_background` (backgrounds.py) turns a whole 512 x 512 tile by a multiple of 90 degrees,
mirrors it, then keeps a window about the size of the output (a 32 px line: a few hundred
pixels of 262,144): ~0.3 ms a photo background. Turning and mirroring only permute pixels, so
the same window can be cut from the unturned tile first and then turned: the same bytes for
a fraction of the work.
"""

from __future__ import annotations

import math
import mmap
import os
import threading
import zlib

import cv2
import numpy as np

from .. import numerics

_ROTATE = (None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE)


def turned_shape(tile: np.ndarray, turn: int) -> tuple[int, int]:
    """(height, width) of `tile` turned `turn` quarter turns clockwise."""
    h, w = tile.shape[:2]
    return (w, h) if turn % 2 else (h, w)


def turned(tile: np.ndarray, turn: int, flip: bool) -> np.ndarray:
    """The whole tile turned `turn` quarter turns clockwise, then mirrored if `flip`."""
    out = tile if turn == 0 else cv2.rotate(tile, _ROTATE[turn])
    return cv2.flip(out, 1) if flip else out


def window(tile: np.ndarray, turn: int, flip: bool, x: int, y: int, ww: int, wh: int,
           transposed: bool = False) -> np.ndarray:
    """`cv2.flip(cv2.rotate(tile, turn), 1)[y : y + wh, x : x + ww]` (flip only if `flip`; turn
    0-3 quarter turns clockwise), computed on the window alone. The window must lie inside the
    turned tile. `transposed`: `tile` is the tile transposed (tile.transpose(1, 0, 2)), for a
    quarter turn only: a wide window of a turned tile is a tall one of the tile, whose band of
    whole rows (what a FileTile reads) is ~7x the window's; of the transposed tile it is a short
    band again (rotate = transpose + mirror: the same pixels)."""
    H, W = (tile.shape[1], tile.shape[0]) if transposed else tile.shape[:2]
    RH, RW = (W, H) if turn % 2 else (H, W)
    if transposed and turn % 2 == 0:
        raise ValueError("a transposed tile serves quarter turns only")
    if not (0 <= x and 0 <= y and x + ww <= RW and y + wh <= RH and ww > 0 and wh > 0):
        raise ValueError(f"window {x},{y} {ww}x{wh} outside the turned {RW}x{RH} tile")
    if flip:  # a mirrored column c of the turned tile is its column RW - 1 - c
        x = RW - x - ww
    if transposed:
        if turn == 1:  # rotate clockwise = transpose, then mirror left-right; `flip` mirrors it back
            out = tile[y : y + wh, H - x - ww : H - x]
            return out if flip else cv2.flip(out, 1)
        out = tile[W - y - wh : W - y, x : x + ww]  # counter-clockwise = transpose, then upside down
        return cv2.flip(out, -1 if flip else 0)
    if turn == 0:
        out = tile[y : y + wh, x : x + ww]
    elif turn == 1:  # R[r, c] = T[H - 1 - c, r]
        out = cv2.rotate(tile[H - x - ww : H - x, y : y + wh], _ROTATE[1])
    elif turn == 2:  # R[r, c] = T[H - 1 - r, W - 1 - c]
        out = cv2.rotate(tile[H - y - wh : H - y, W - x - ww : W - x], _ROTATE[2])
    else:  # R[r, c] = T[c, W - 1 - r]
        out = cv2.rotate(tile[x : x + ww, W - y - wh : W - y], _ROTATE[3])
    return cv2.flip(out, 1) if flip else out


# -- machine-cache entries through the page cache --------------------------------------------
# Decoded, the 141 shipped photo tiles take 111 MB, which every worker used to hold (decoded on
# first use, kept for the process's life): a third of a scene worker's peak RSS; the background
# banks read back from the machine cache are 15 MB (a 512 px scene) to 58 MB (a wide line) more.
# Both are served as read-only views of their machine-cache files mapped into memory: the pixels
# live in the OS page cache, once for all workers, and a process holds only the pages it touched
# since it last dropped them (madvise(MADV_DONTNEED) once its uses have touched about
# DROP_EVERY x USE_BYTES of them; a later read faults them back in from the page cache). Uses
# count what they touch: a 32 px line's background ~128 KiB, a 512 px scene's ~0.8 MiB, a photo
# colour's 64 scattered pixels 64 pages. Lines drop every ~60 samples: dropping every 16 uses
# (~10 lines), a photo colour's 64-pixel walk took 79 us instead of 23 (re-faulted pages) and
# the drops themselves ~15 us a line. Scenes drop about as often as before. What a view shows
# is what was written: an entry's CRC-32 is checked when it is mapped, each tile's on its first
# read in a process.
# The faults back in after each drop cost: 30-40 us of kernel time a steady `ocr_line` sample
# (sys 48-61 us a sample with the drops, 20 us with none, but then peak RSS 364 MB instead of
# 169). So photo windows and the photo-colour walk now read the tile store's file instead
# (FileTile: a window's band of rows in one pread, a pixel in one small read; ~the copy the
# window needed anyway): no page of the tiles' map enters the process, nothing to drop or fault
# back, sys 20 us a sample at the same RSS (x1.04 lines per CPU-s side by side; scenes as before).
# The banks, and the rare whole-tile reads (an output larger than the tile), still go through
# the map and the drops. So do windows over FILE_WINDOW_MAX bytes (a 512 px scene's): read
# from the file, a scene's ~786 KB band a sample, each into a fresh bytes object, grew a
# 20,000-scene worker to 414 MB peak RSS (283 through the map) and slowed it from 196 to 153
# scenes per CPU-s; bands are now read into one reused buffer, and a scene's window, which
# covers most of its tile, is read through the map as before.
FILE_WINDOW_MAX = 128 << 10
DROP_EVERY = 12
USE_BYTES = 1 << 20  # what a use touches unless it says
PAGE = 4096
_MAPS: list[mmap.mmap] = []  # the maps whose pages this process drops
_touched = 0  # bytes counted since the last drop


def _map(path) -> mmap.mmap | None:
    from .. import machinecache

    try:
        with open(path, "rb") as f:
            machinecache.refresh(f.fileno(), os.fstat(f.fileno()))  # its last use, for the cap's order
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # absent, or empty
        return None


def _keep(mm: mmap.mmap) -> None:
    _MAPS.append(mm)
    _drop(mm)


def _drop(mm: mmap.mmap) -> None:
    if hasattr(mm, "madvise"):
        try:
            mm.madvise(mmap.MADV_DONTNEED)  # this process's pages of the map; the page cache keeps them
        except (OSError, ValueError):
            pass


def used(nbytes: int = USE_BYTES) -> None:
    """Count one use of mapped pages (a background, a tile read) that touches about `nbytes`;
    once DROP_EVERY x USE_BYTES have been counted, this process's pages of every map are dropped."""
    global _touched
    _touched += nbytes
    if _touched >= DROP_EVERY * USE_BYTES:
        _touched = 0
        for mm in _MAPS:
            _drop(mm)


def mapped(kind: str, name: str):
    """Machine-cache entry `kind/name` as (meta, arrays) like machinecache.read, its arrays
    read-only views of the file mapped into memory; None when absent, off or damaged."""
    from .. import machinecache

    path = machinecache.path(kind, name)
    mm = None if path is None else _map(path)
    if mm is None:
        return None
    n = machinecache.entry_length(mm[: machinecache.HEAD_SIZE])
    hit = None if n is None or len(mm) < machinecache.HEAD_SIZE + n else machinecache.unpack(memoryview(mm))
    if hit is None:
        try:
            mm.close()
        except BufferError:  # a view is still alive: leave the map to the collector
            pass
        return None
    _keep(mm)
    return hit


class TileStore:
    """Decoded images of a fixed list of files, served as read-only views of a memory-mapped
    machine-cache entry (`open` returns None when the machine cache is off or unwritable: the
    caller decodes as before)."""

    def __init__(self, mm, index: dict[str, tuple[int, tuple[int, ...], int]], file: str | None = None) -> None:
        self.mm = mm
        self.index = index  # path -> (byte offset in the map, shape, crc32)
        self.checked: set[str] = set()
        self.file = file  # the entry's file, for FileTile reads (None: the map only)
        self._fd = -1

    @classmethod
    def open(cls, paths: tuple[str, ...], decode, kind: str = "tiles", sources: tuple[str, ...] = (),
             variant: str = ""):
        """The store of `paths`, each decoded by `decode(path)` (H x W x C uint8) once per
        machine; `sources`: source files besides this one that the decoding depends on;
        `variant`: what `decode` makes of the files besides decoding them (a store of its own)."""
        from .. import machinecache

        if not paths or machinecache.root() is None:
            return None
        try:
            name = machinecache.key(kind, [(os.path.basename(p), machinecache.source_key(p)) for p in paths],
                                    machinecache.source_key(__file__, *sources), cv2.__version__, np.__version__,
                                    numerics.level(), *((variant,) if variant else ()))
        except OSError:
            return None
        store = cls._open(machinecache.path(kind, name), paths)
        if store is not None:
            return store
        arrays = [np.ascontiguousarray(decode(p), np.uint8) for p in paths]
        offs, pos = [], 0
        for a in arrays:
            offs.append(pos)
            pos += a.nbytes
        meta = {"paths": [os.path.basename(p) for p in paths], "shapes": [list(a.shape) for a in arrays],
                "offsets": offs, "crcs": [zlib.crc32(a) for a in arrays]}
        if not machinecache.write_raw(kind, name, [machinecache.pack(meta), *(a.data for a in arrays)]):
            return None
        del arrays
        return cls._open(machinecache.path(kind, name), paths)

    @classmethod
    def _open(cls, path, paths: tuple[str, ...]):
        from .. import machinecache

        mm = _map(path)
        if mm is None:
            return None
        n = machinecache.entry_length(mm[: machinecache.HEAD_SIZE])
        hit = None if n is None else machinecache.unpack(mm[: machinecache.HEAD_SIZE + n])
        try:
            meta = hit[0]
            base = machinecache.HEAD_SIZE + n
            names = {os.path.basename(p): p for p in paths}
            index = {names[b]: (base + int(o), tuple(int(v) for v in s), int(c))
                     for b, s, o, c in zip(meta["paths"], meta["shapes"], meta["offsets"], meta["crcs"], strict=True)}
            if len(index) != len(paths) or max(o + math.prod(s) for o, s, _ in index.values()) > len(mm):
                raise ValueError
        except (TypeError, KeyError, ValueError):  # damaged or foreign: decoded and written again
            mm.close()
            return None
        _keep(mm)
        return cls(mm, index, str(path))

    def get(self, path: str, touch: int = USE_BYTES) -> np.ndarray | None:
        """The decoded image of `path` (read-only), or None when it is not in the store or its
        bytes do not check out; `touch`: about how many of its bytes the caller will read
        (`used`)."""
        hit = self.index.get(path)
        if hit is None:
            return None
        off, shape, crc = hit
        # math.prod, not np.prod: on a tuple np.prod builds an array first (~2x this whole call)
        a = np.frombuffer(self.mm, np.uint8, count=math.prod(shape), offset=off).reshape(shape)
        if path not in self.checked:
            if zlib.crc32(a) != crc:
                return None
            self.checked.add(path)
        used(touch)
        return a

    # -- reads that leave the map alone (FileTile) -------------------------------------------
    def shape(self, path: str) -> tuple[int, ...] | None:
        """The decoded image's shape (None: not in the store), without reading it."""
        hit = self.index.get(path)
        return None if hit is None else hit[1]

    def _descriptor(self) -> int:
        """A descriptor on the entry's file, opened once. Reads are positional (pread), so a
        forked worker reads through the one it inherits, and nothing closes it."""
        if self._fd < 0:
            self._fd = os.open(self.file, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        return self._fd

    def file_tile(self, path: str) -> "FileTile | None":
        """`path`'s tile as a FileTile (its regions read from the file), or None where that
        cannot be done here (no os.pread (Windows), no file, a tile whose bytes do not check out): the
        caller then reads `get`'s view of the map. Counts no use (`used`): the map is not read."""
        hit = self.index.get(path)
        if hit is None or self.file is None or not hasattr(os, "pread"):
            return None
        off, shape, crc = hit
        if len(shape) != 3:
            return None
        try:
            fd = self._descriptor()
            if path not in self.checked:  # the tile's CRC once a process, as `get` does (without the map)
                if _file_crc(fd, off, math.prod(shape)) != crc:
                    return None
                self.checked.add(path)
        except OSError:
            return None
        return FileTile(fd, off, shape)


_PREADV = getattr(os, "preadv", None)
_BANDS = threading.local()  # FileTile's read buffer, one a thread (preadv lets go of the GIL)


def _band_buffer(n: int) -> bytearray:
    """This thread's read buffer, at least n bytes (grown, never shrunk)."""
    buf = getattr(_BANDS, "buf", None)
    if buf is None or len(buf) < n:
        buf = _BANDS.buf = bytearray(max(n, 2 * len(buf or b"")))
    return buf


def _file_crc(fd: int, off: int, n: int, chunk: int = 1 << 16) -> int:
    """CRC-32 of n bytes of the file at off, read in chunks into the thread's buffer: a whole
    tile read into fresh memory (786 KB) faulted in ~190 new pages a tile (tests/test_malloc)."""
    crc, pos = 0, 0
    if _PREADV is None:
        return zlib.crc32(os.pread(fd, n, off))
    view = memoryview(_band_buffer(chunk))
    while pos < n:
        k = min(chunk, n - pos)
        if _PREADV(fd, [view[:k]], off + pos) != k:
            return -1
        crc = zlib.crc32(view[:k], crc)
        pos += k
    return crc


class FileTile:
    """A tile of the store read from its file by bands of whole rows (one read of a band, which
    is contiguous in the file, into this thread's reused buffer), leaving the mapped pages alone. A small window of a line's photo
    background read through the map faults its pages into the process and, since the pages are
    dropped now and then (`used`), faults them in again: ~4% of a steady `ocr_line` sample's CPU
    went to that (the kernel's). Only what `window` and the photo-colour walk need: `shape`,
    `tile[r0:r1, c0:c1]` (a new array with the view's values) and `pixel`."""

    __slots__ = ("fd", "off", "shape")

    def __init__(self, fd: int, off: int, shape: tuple[int, ...]) -> None:
        self.fd, self.off, self.shape = fd, off, shape

    def __getitem__(self, key) -> np.ndarray:
        ys, xs = key
        H, W, C = self.shape
        r0, r1, _ = ys.indices(H)
        c0, c1, _ = xs.indices(W)
        h = max(0, r1 - r0)
        n = h * W * C
        if n and _PREADV is not None:  # into this thread's band buffer (a fresh block a read costs more)
            buf = _band_buffer(n)
            got = _PREADV(self.fd, [memoryview(buf)[:n]], self.off + r0 * W * C)
            band = np.frombuffer(buf, np.uint8, count=n)
        else:
            b = os.pread(self.fd, n, self.off + r0 * W * C) if n else b""
            got, band = len(b), np.frombuffer(b, np.uint8)
        if got != n:
            raise OSError(f"short read of a photo tile ({got} of {n} bytes)")
        return band.reshape(h, W, C)[:, c0:c1].copy()  # (a copy: the buffer is read into again)

    def pixel(self, r: int, c: int) -> list[int]:
        """The pixel at row r, column c (one small read: a walk over scattered pixels reads no pages
        into the process)."""
        H, W, C = self.shape
        b = os.pread(self.fd, C, self.off + (r * W + c) * C)
        if len(b) != C:
            raise OSError("short read of a photo tile")
        return list(b)