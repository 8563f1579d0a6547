"""A per-machine cache of things every process would otherwise rebuild at start-up: the font
faces' character maps (fontTools, ~0.6 s for the 283 shipped faces), the rasterised glyph atlas
(FreeType, ~0.1 ms a glyph, ~20,000 glyphs in a line process's first 4,000 samples) and the
procedural background banks (~0.4 s). A cache only ever saves time: what it returns is
byte-for-byte what the process would have computed, because every entry is keyed by all it
depends on -- the source file of the code that makes it (any edit starts a fresh entry), the
input files' contents (fonts by a hash of their bytes), and the library versions (numpy,
OpenCV, Pillow, FreeType, fontTools); banks and tiles also the CPU kernels numpy and OpenCV
run (`numerics.level`: an AVX-512 kernel rounds some results differently).

Where: `$SYNTHGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/synthgen`, else `~/.cache/synthgen`.
`SYNTHGEN_CACHE_DIR=off` (or `0`, `none`, empty) turns it off. A folder that cannot be made
or written turns it off for the process, silently: everything is then computed as before.

Safe for concurrent writers (several workers, several jobs): a writer writes a temporary file
in the entry's folder and renames it over the entry (atomic on POSIX and Windows), so a
reader sees a whole old entry or a whole new one, never a torn one. Every entry carries a
CRC-32 of its payload; one that does not check out (a disk fault, a foreign file) is treated
as absent and rewritten. Two processes that update one entry at the same moment may drop one
another's additions: the cache is then merely colder, never wrong.

Size (`synthgen cache info`, `synthgen cache clear`): entries orphaned by a code edit or a
library upgrade are never read again, so the folder is capped at `$SYNTHGEN_CACHE_MAX_MB`
(MiB, default 2048). A process checks the folder's size after its first write (unless a
process on the machine checked in the last ten minutes: the mtime of `v1/.last-prune`) and
again after each further 10% of the cap it writes (a cold process writes the 106 MB tile entry
after its first, small, entries); over the cap, it deletes the least recently used entries
(by the hour of last use, the largest first within an hour: `prune`) until the folder is under
90% of the cap, keeping the entry it just wrote. A check stats every
file (~12 us a file here: 0.21 s for this machine's 18,099 entries): one per process start and
per 205 MB written at the default cap. `off` (or `0`, `none`, empty) means no cap; a value that
is not a positive number is ignored and the default applies, silently, as an unusable
`SYNTHGEN_CACHE_DIR` is: a cache setting never makes a process fail, and pruning swallows
every error.

"Used" is max(atime, mtime). Linux's default `relatime` refreshes atime on the first read of a
day only (read, pread and mmap alike: measured), so the readers also set atime when it is over
TOUCH_EVERY_S (an hour) old (`refresh`; free where the file is open and stat'ed anyway: `read`,
the glyph atlas opening an entry, a store or bank being mapped; mtime is kept, as the glyph
atlas identifies its file by it). Without it, a machine that reaches the cap within a day (a few
code versions benchmarked side by side) pruned by write time, not use: on session 19's
development machine the atlas lost 1,518 of its 4,331 entries in a day of use while other
versions' 106 MB stores stayed. It also keeps the order on `noatime` mounts.

Deleting is safe while other processes run: one that has an entry open or mapped keeps
reading it (POSIX unlink), a writer's temporary file is left alone for TEMP_GRACE_S after its
last write, and only files this module writes are deleted: regular files named by `key()` (32
hex digits) or its temporary names, one level below a kind folder; symbolic links and anything
else are left where they are, never followed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat as _stat
import struct
import tempfile
import time
import zlib
from dataclasses import dataclass
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

# What each kind of entry holds (`synthgen cache info`); a kind is a folder under v<FORMAT>/.
KINDS = {
    "faces": "font faces' character maps (fontTools), one entry per font file",
    "glyphs": "the glyph atlas: rasterised glyphs, one entry per font face and raster size",
    "banks": "procedural background banks (paper, fractal, stains), one entry per bank",
    "tiles": "the shipped photo texture tiles, decoded (mapped by every worker), and again transposed",
}
MAX_ENV = "SYNTHGEN_CACHE_MAX_MB"
# One version of the code with every shipped pipeline warm takes ~510 MB on the build machine
# (glyph atlas ~140 MB after long scene runs, banks ~125, tiles 2 x 106 (as decoded and
# transposed), faces 1): 2048 MB keeps
# several versions warm (switching branches, upgrading a library and back) and bounds a folder
# that otherwise only grows (933 MB after one day of development here).
DEFAULT_MAX_MB = 2048
MB = 2**20  # the cap's and the CLI's unit, as `du -m` counts
PRUNE_TO = 0.9  # a pruning process stops under this share of the cap
PRUNE_EVERY_S = 600  # machine-wide: a process skips the size check if another did one this recently
# (the check stats every file: ~12 us a file here, 0.21 s for 18,099 files)
TEMP_GRACE_S = 60  # a temporary file written to this recently belongs to a live writer
TOUCH_EVERY_S = 3600  # a reader refreshes an entry's atime when it is older than this
_STAMP = ".last-prune"
_ENTRY = re.compile(r"[0-9a-f]{32}")
_TEMP = re.compile(r"\.[0-9a-f]{32}\.[A-Za-z0-9_]+\.tmp")
RECHECK_SHARE = 0.1  # a process that has written this share of the cap since its check checks again
_checked_pid = 0  # the process that has done its first size check
_written = 0  # bytes this process has written since its last size check


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
    """Forget the folder, a disabled state and the size check done (tests change the environment)."""
    global _disabled, _checked_pid, _written
    _disabled = False
    _checked_pid = _written = 0
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
            st = os.fstat(f.fileno())
            size = st.st_size
            buf = bytearray(size)
            if f.readinto(buf) != size:
                return None
            refresh(f.fileno(), st)
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


def refresh(fd: int, st: os.stat_result) -> None:
    """Set the atime of the open entry `fd` (`st`: its fstat) to now if its last use is over
    TOUCH_EVERY_S old (mtime kept); works on `noatime` mounts; errors (another user's file) are
    ignored."""
    if time.time() - max(st.st_atime, st.st_mtime) <= TOUCH_EVERY_S:
        return
    if os.utime not in os.supports_fd:  # Windows: atime as the system keeps it
        return
    try:
        os.utime(fd, ns=(time.time_ns(), st.st_mtime_ns))
    except OSError:
        pass


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
    except OSError:
        _disabled = True  # read-only home, full disk, ...: compute, do not retry every call
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False
    try:
        n = sum(memoryview(part).nbytes for part in data) if isinstance(data, list) else len(data)
    except TypeError:
        n = 0
    _check_size(p, n)
    return True


# -- size: what the folder holds, clearing it, the cap ------------------------------------------


def where() -> dict[str, Any]:
    """Where the cache is and whether it is on: {"dir": the v<FORMAT> folder or None, "base":
    the configured folder, "source": which setting chose it, "off": why it is off or None}."""
    env = os.environ.get(ENV)
    if env is not None:
        source = f"${ENV}"
        if env.strip().lower() in _OFF:
            return {"dir": None, "base": None, "source": source, "off": f"{ENV}={env!r} turns it off"}
    elif os.environ.get("XDG_CACHE_HOME"):
        source = "$XDG_CACHE_HOME/synthgen"
    else:
        source = "~/.cache/synthgen (default)"
    r = _root()
    out = {"dir": str(r), "base": str(r.parent), "source": source, "off": None}
    # what a process would find: the folder, or the nearest existing one above it, writable
    probe = r
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        out["off"] = f"{probe} is a file, not a folder: every process finds the cache unusable (off)"
    elif not os.access(probe, os.W_OK | os.X_OK):
        out["off"] = f"{probe} cannot be written: every process finds the cache unusable (off)"
    return out


def max_bytes() -> tuple[int | None, str]:
    """The size cap in bytes (None: no cap) and where it comes from. `$SYNTHGEN_CACHE_MAX_MB`:
    a positive number of MB (MiB, 2**20 bytes, as `du -m` counts); off / 0 / none / empty: no
    cap; anything else is ignored and the default applies (silently: a cache setting never
    makes a process fail; `synthgen cache info` says it was ignored)."""
    env = os.environ.get(MAX_ENV)
    default = DEFAULT_MAX_MB * MB, f"default {DEFAULT_MAX_MB} MB"
    if env is None:
        return default
    if env.strip().lower() in _OFF:
        return None, f"{MAX_ENV}={env!r}: no cap"
    try:
        mb = float(env)
    except ValueError:
        mb = float("nan")
    if not (0 < mb < float("inf")):
        return default[0], f"{MAX_ENV}={env!r} is not a positive number of MB: ignored, {default[1]}"
    return int(mb * MB), f"{MAX_ENV}={env.strip()}"


@dataclass(frozen=True)
class Item:
    """A file the cache wrote: an entry, or a temporary file of a write (`temp`)."""

    kind: str
    name: str
    size: int
    used: float  # max(atime, mtime), seconds since the epoch
    mtime: float
    temp: bool

    def writing(self, now: float) -> bool:
        """A temporary file written to in the last TEMP_GRACE_S: a live writer's, never deleted."""
        return self.temp and now - self.mtime < TEMP_GRACE_S


def scan(folder: Path, kinds: set[str] | None = None) -> tuple[list[Item], list[str]]:
    """(the files the cache wrote, the other names found) under `folder` (a v<FORMAT> folder),
    in the kinds `kinds` (all when None). Symbolic links are never followed: a link, in place of
    a kind folder or of an entry, is one of the other names."""
    items: list[Item] = []
    other: list[str] = []
    with os.scandir(folder) as top:
        kind_dirs = sorted((d.name, d.is_dir(follow_symlinks=False)) for d in top)
    for kind, is_dir in kind_dirs:
        if not is_dir:
            if kind != _STAMP:
                other.append(kind)
            continue
        if kinds is not None and kind not in kinds:
            continue
        try:
            with os.scandir(folder / kind) as files:
                for f in files:
                    temp = _TEMP.fullmatch(f.name) is not None
                    if not temp and _ENTRY.fullmatch(f.name) is None:
                        other.append(f"{kind}/{f.name}")
                        continue
                    try:
                        st = f.stat(follow_symlinks=False)
                    except OSError:  # deleted meanwhile
                        continue
                    if not _stat.S_ISREG(st.st_mode):
                        other.append(f"{kind}/{f.name}")
                        continue
                    items.append(Item(kind, f.name, st.st_size, max(st.st_atime, st.st_mtime), st.st_mtime, temp))
        except OSError:  # the kind folder went away or cannot be listed
            continue
    return items, other


def kinds_in(folder: Path) -> list[str]:
    """The kind folders under `folder` (real folders, not links)."""
    try:
        with os.scandir(folder) as it:
            return sorted(d.name for d in it if d.is_dir(follow_symlinks=False))
    except OSError:
        return []


def remove(folder: Path, items: list[Item]) -> tuple[int, int]:
    """Delete `items` (from `scan(folder)`); (files deleted, bytes freed). A file already gone or
    that cannot be deleted is skipped. Each kind folder is opened without following a link and
    its files deleted relative to it, so a folder swapped for a link meanwhile is not followed."""
    n = freed = 0
    by_kind: dict[str, list[Item]] = {}
    for it in items:
        by_kind.setdefault(it.kind, []).append(it)
    at = os.unlink in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")
    for kind, its in by_kind.items():
        fd = None
        try:
            if at:
                fd = os.open(folder / kind, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            elif (folder / kind).is_symlink():
                continue
        except OSError:
            continue
        try:
            for it in its:
                try:
                    if fd is not None:
                        os.unlink(it.name, dir_fd=fd)
                    else:
                        os.unlink(folder / kind / it.name)
                except OSError:
                    continue
                n += 1
                freed += it.size
        finally:
            if fd is not None:
                os.close(fd)
    return n, freed


def prune(folder: Path, cap: int, keep: Path | None = None, now: float | None = None) -> tuple[int, int]:
    """If the files under `folder` take more than `cap` bytes, delete the least recently used
    until they take at most PRUNE_TO x `cap`: temporary files left by dead writers (no write for
    TEMP_GRACE_S) first, then entries by max(atime, mtime), oldest first, except that among
    those last used in the same hour the largest go first; never `keep` (the entry just
    written) nor a live writer's temporary file. (files deleted, bytes freed).

    Why by hour and size: readers refresh last use hourly (TOUCH_EVERY_S), so within an hour the
    stamps order entries by when they were written or first read, not by use. There the largest
    go first: a photo tile store (106 MB) is rebuilt in a second from files on disk, while the
    same bytes of glyph atlas are ~3,500 entries and ~30-60 CPU-s of rasterising, and the fewer
    entries deleted, the fewer processes find one missing."""
    now = time.time() if now is None else now
    items, _ = scan(folder)
    total = sum(it.size for it in items)
    if total <= cap:
        return 0, 0
    target = PRUNE_TO * cap
    keep_key = (keep.parent.name, keep.name) if keep is not None else None
    order = sorted((it for it in items if (it.kind, it.name) != keep_key
                    and not it.writing(now)),
                   key=lambda it: (not it.temp, -((now - it.used) // TOUCH_EVERY_S), -it.size, it.used))
    chosen = []
    for it in order:
        if total <= target:
            break
        chosen.append(it)
        total -= it.size
    return remove(folder, chosen)


def _check_size(written: Path, nbytes: int) -> None:
    """The size check after a write (see the module docstring): on a process's first write (if
    no process on the machine checked in the last PRUNE_EVERY_S), and again whenever the process
    has written RECHECK_SHARE of the cap since its last check. Never raises."""
    global _checked_pid, _written
    try:
        first = _checked_pid != os.getpid()
        if first:
            _checked_pid, _written = os.getpid(), 0
        _written += nbytes
        cap, _ = max_bytes()
        if cap is None or not (first or _written > RECHECK_SHARE * cap):
            return
        _written = 0
        folder = written.parent.parent
        stamp = folder / _STAMP
        now = time.time()
        if first:
            try:
                if now - stamp.stat().st_mtime < PRUNE_EVERY_S:
                    return
            except FileNotFoundError:
                pass
        fd = os.open(stamp, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            os.utime(fd if os.utime in os.supports_fd else stamp, (now, now))
        finally:
            os.close(fd)
        prune(folder, cap, keep=written, now=now)
    except Exception:  # the cache only ever saves time: a failed prune leaves the folder as it was
        pass
