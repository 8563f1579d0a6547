"""A per-machine cache of things every process would otherwise rebuild at start-up: the font
faces' character maps (fontTools, ~0.6 s for the 283 shipped faces), the rasterised glyph atlas
(FreeType, ~0.1 ms a glyph, ~20,000 glyphs in a line process's first 4,000 samples) and the
procedural background banks (~0.4 s). A cache only ever saves time: what it returns is
byte-for-byte what the process would have computed, because every entry is keyed by all it
depends on -- the source file of the code that makes it (any edit starts a fresh entry), the
input files' contents (fonts by a hash of their bytes), and the library versions (numpy,
OpenCV, Pillow, FreeType, fontTools).

Where: `$SYNTHGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/synthgen`, else `~/.cache/synthgen`.
`SYNTHGEN_CACHE_DIR=off` (or `0`, `none`, empty) turns it off. A folder that cannot be made
or written turns it off for the process, silently: everything is then computed as before.

Safe for concurrent writers (several workers, several jobs): a writer writes a temporary file
in the entry's folder and renames it over the entry (atomic on POSIX and Windows), so a
reader sees a whole old entry or a whole new one, never a torn one. Every entry carries a
CRC-32 of its payload; one that does not check out (a disk fault, a foreign file) is treated
as absent and rewritten. Two processes that update one entry at the same moment may drop one
another's additions: the cache is then merely colder, never wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ENV = "SYNTHGEN_CACHE_DIR"
FORMAT = 1  # bump to orphan every entry (the folder name carries it)
_MAGIC = b"SGCACHE1"
_HEAD = struct.Struct("<8sIQI")  # magic, crc32 of the rest, payload length, header length
_OFF = {"", "0", "off", "none", "false", "no"}
_disabled = False  # set when the folder turned out unusable in this process


@lru_cache(maxsize=1)
def _root() -> Path | None:
    env = os.environ.get(ENV)
    if env is not None:
        if env.strip().lower() in _OFF:
            return None
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() / "synthgen" if xdg else Path.home() / ".cache" / "synthgen"
    return base / f"v{FORMAT}"


def root() -> Path | None:
    """The cache folder, or None when the cache is off (by the environment, or unusable)."""
    return None if _disabled else _root()


def reset() -> None:
    """Forget the folder and a disabled state (tests change the environment)."""
    global _disabled
    _disabled = False
    _root.cache_clear()
    _file_digest.cache_clear()


@lru_cache(maxsize=64)
def _file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.blake2b(f.read(), digest_size=12).hexdigest()


def source_key(*files: str) -> str:
    """A short digest of source files' bytes (the code that makes an entry)."""
    h = hashlib.blake2b(digest_size=12)
    for f in files:
        h.update(_file_digest(f).encode())
    return h.hexdigest()


def key(*parts: Any) -> str:
    """A file-name-safe digest of `parts` (their repr)."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def pack(meta: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """`meta` (JSON) and named arrays as one entry payload."""
    specs, blobs, off = [], [], 0
    for name, a in (arrays or {}).items():
        a = np.ascontiguousarray(a)
        b = a.tobytes()
        specs.append([name, a.dtype.str, list(a.shape), off, len(b)])
        pad = -len(b) % 16
        blobs.append(b + b"\0" * pad)
        off += len(b) + pad
    head = json.dumps({"meta": meta, "arrays": specs}, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 16)
    body = head + b"".join(blobs)
    return _HEAD.pack(_MAGIC, zlib.crc32(body), len(body), len(head)) + body


HEAD_SIZE = _HEAD.size


def entry_length(head: bytes) -> int | None:
    """The length of the packed entry after its first HEAD_SIZE bytes (None: not an entry).
    A file may carry more after the entry (the glyph atlas keeps its masks there)."""
    if len(head) < _HEAD.size:
        return None
    magic, _, n, _ = _HEAD.unpack_from(head, 0)
    return n if magic == _MAGIC else None


def unpack(data: bytes | bytearray | memoryview) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """(meta, arrays) of a packed entry at the start of `data`, or None if it is not a whole,
    intact entry. The arrays are views of `data` (writeable when `data` is a bytearray)."""
    mv = memoryview(data)
    if len(mv) < _HEAD.size:
        return None
    magic, crc, n, nh = _HEAD.unpack_from(mv, 0)
    body = mv[_HEAD.size : _HEAD.size + n]
    if magic != _MAGIC or len(body) != n or nh > n or zlib.crc32(body) != crc:
        return None
    try:
        head = json.loads(bytes(body[:nh]).decode("utf-8"))
        arrays = {}
        for name, dt, shape, off, nb in head["arrays"]:
            arrays[name] = np.frombuffer(body, np.dtype(dt), count=nb // max(np.dtype(dt).itemsize, 1),
                                         offset=nh + off).reshape(shape)
        return head["meta"], arrays
    except (ValueError, KeyError, TypeError):
        return None


def _path(kind: str, name: str) -> Path | None:
    r = root()
    return None if r is None else r / kind / name


def read(kind: str, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The entry `kind/name` as (meta, writeable arrays), or None (absent, off, or damaged)."""
    p = _path(kind, name)
    if p is None:
        return None
    try:
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            buf = bytearray(size)
            if f.readinto(buf) != size:
                return None
    except OSError:
        return None
    out = unpack(buf)
    if out is None:
        try:  # damaged: drop it so that the next writer starts afresh
            p.unlink()
        except OSError:
            pass
    return out


def path(kind: str, name: str) -> Path | None:
    """The file of entry `kind/name` (None when the cache is off)."""
    return _path(kind, name)


def write(kind: str, name: str, meta: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> bool:
    """Store an entry atomically (write a temporary file beside it, then rename it over the
    entry). False, and the cache off for this process, when the folder cannot be written."""
    return write_raw(kind, name, pack(meta, arrays))


def write_raw(kind: str, name: str, data: bytes | list) -> bool:
    """`write` for bytes already packed (an entry and what follows it); a list of bytes-like
    parts is written one after another (no joined copy of a large entry)."""
    global _disabled
    p = _path(kind, name)
    if p is None:
        return False
    tmp = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, list):
                f.writelines(data)
            else:
                f.write(data)
        os.replace(tmp, p)
        return True
    except OSError:
        _disabled = True  # read-only home, full disk, ...: compute, do not retry every call
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False
