"""WebDataset shards: byte-reproducible tar files, written under a temporary name and renamed.

Members carry fixed metadata (mtime 0, uid/gid 0, mode 0644, no user names) and appear in
sample order, so the same samples always give the same bytes and the same sha256. Storage is
any fsspec URL (local paths, file://, memory://, s3://, ...).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass

import fsspec

SHARD_PATTERN = "shard-{:06d}.tar"
PARTIAL_SUFFIX = ".partial"


def shard_name(index: int) -> str:
    return SHARD_PATTERN.format(index)


def url_to_fs(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


class _HashingWriter(io.RawIOBase):
    """Pass-through writer that hashes and counts what goes by."""

    def __init__(self, f) -> None:
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.n

    def write(self, b) -> int:
        self.h.update(b)
        self.n += len(b)
        self.f.write(b)
        return len(b)


@dataclass
class ShardInfo:
    name: str
    count: int
    sha256: str
    bytes: int

    def to_json(self) -> dict:
        return {"name": self.name, "count": self.count, "sha256": self.sha256, "bytes": self.bytes}


def _member(name: str, size: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mtime = 0
    ti.mode = 0o644
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


# USTAR headers written directly (tarfile.TarInfo per member costs ~25 us in Python): a header
# made by tarfile once, with the name, size and checksum fields filled in per member. Byte for
# byte what tarfile writes (tests/test_shards_fast.py); names over 100 bytes and sizes over
# 8 GiB go through tarfile itself.
_ENC, _ERR = tarfile.ENCODING, "surrogateescape"
_BLOCK = tarfile.BLOCKSIZE
_T = _member("", 0).tobuf(tarfile.USTAR_FORMAT, _ENC, _ERR)
_MID, _TAIL = _T[124 - 24 : 124], _T[136:148]  # mode, uid, gid | mtime
_REST = _T[148 + 8 :]  # type, linkname, magic, uname, gname, devices, prefix, padding
_BASE = sum(_MID) + sum(_TAIL) + 8 * 32 + sum(_REST)  # checksum of the fixed fields (chksum field as spaces)
_PAD = [bytes(k) for k in range(_BLOCK)]


def tar_member(name: str, data: bytes) -> bytes:
    """Header, data and zero padding of one regular-file member, as tarfile's addfile writes
    them (USTAR, mtime 0, uid/gid 0, mode 0644, no user names)."""
    size = len(data)
    nb = name.encode(_ENC, _ERR)
    if len(nb) > 100 or size >= 8**11:
        head = _member(name, size).tobuf(tarfile.USTAR_FORMAT, _ENC, _ERR)
    else:
        sb = b"%011o\0" % size
        head = b"".join((nb, _PAD[100 - len(nb)], _MID, sb, _TAIL, b"%06o\0 " % (_BASE + sum(nb) + sum(sb)), _REST))
    return b"".join((head, data, _PAD[-size % _BLOCK]))


def tar_end(offset: int) -> bytes:
    """What tarfile's close writes after `offset` bytes of members: two zero blocks, then zeros
    up to a whole record."""
    n = offset + 2 * _BLOCK
    return bytes(2 * _BLOCK + (-n % tarfile.RECORDSIZE))


def write_shard(fs: fsspec.AbstractFileSystem, directory: str, index: int, samples: Iterable[tuple[str, list[tuple[str, bytes]]]]) -> ShardInfo:
    """Write (key, [(ext, bytes), ...]) samples to `shard-XXXXXX.tar` atomically: the shard is
    only visible under its final name once complete. Rewriting a shard is idempotent."""
    final = posixpath.join(directory, shard_name(index))
    tmp = final + PARTIAL_SUFFIX
    count = 0
    try:
        with fs.open(tmp, "wb") as f:
            w = _HashingWriter(f)
            for key, members in samples:
                w.write(b"".join([tar_member(f"{key}.{ext}", data) for ext, data in members]))
                count += 1
            w.write(tar_end(w.n))
        fs.mv(tmp, final)
    except BaseException:
        try:
            if fs.exists(tmp):
                fs.rm(tmp)
        except Exception:
            pass
        raise
    return ShardInfo(shard_name(index), count, w.h.hexdigest(), w.n)


def inspect_shard(fs: fsspec.AbstractFileSystem, path: str) -> ShardInfo | None:
    """sha256, size and sample count of a finished shard; None if it is truncated or corrupt."""
    h = hashlib.sha256()
    keys: set[str] = set()
    try:
        with fs.open(path, "rb") as f:
            data = f.read()
        h.update(data)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for m in tar:
                if not m.isfile():
                    return None
                keys.add(m.name.split(".", 1)[0])
            # tarfile accepts a file cut at a member boundary: check the end-of-archive blocks too
        if len(data) % tarfile.RECORDSIZE or data[-1024:] != b"\0" * 1024:
            return None
    except (tarfile.TarError, OSError, EOFError):
        return None
    return ShardInfo(posixpath.basename(path), len(keys), h.hexdigest(), len(data))


def read_shard(fs: fsspec.AbstractFileSystem, path: str) -> dict[str, dict[str, bytes]]:
    """All samples of one shard: {key: {ext: bytes}} (for tests and tools; training uses webdataset)."""
    out: dict[str, dict[str, bytes]] = {}
    with fs.open(path, "rb") as f:
        with tarfile.open(fileobj=io.BytesIO(f.read()), mode="r:") as tar:
            for m in tar:
                key, ext = m.name.split(".", 1)
                out.setdefault(key, {})[ext] = tar.extractfile(m).read()
    return out
