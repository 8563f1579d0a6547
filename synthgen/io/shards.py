"""WebDataset shards: byte-reproducible tar files, written under a temporary name and renamed.

Members carry fixed metadata (mtime 0, uid/gid 0, mode 0644, no user names) and appear in
sample order, so the same samples always give the same bytes and the same sha256. Storage is
any fsspec URL (local paths, file://, memory://, s3://, ...).

The dataset folder's layout is defined here once: `MANIFEST`, shard names (`shard_name`,
`shard_index`), the `PARTIAL_SUFFIX` of files being written, how a member name splits into
sample key and extension (`split_key`), how members group into samples (`group_members`) and
what a complete tar file ends with (`tar_end_ok`). Reading is `io/tarstream.py` (one tar
reader) and `io/readers.py` (datasets: manifest state, sha256, counts).
"""

from __future__ import annotations

import errno
import hashlib
import io
import posixpath
import re
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import fsspec

from ..errors import UserError

MANIFEST = "manifest.json"
PARTIAL_SUFFIX = ".partial"  # a file (or export folder) being written; renamed when complete
SHARD_PATTERN = "shard-{:06d}.tar"  # six digits at least, more past shard 999,999
_SHARD_RE = re.compile(r"shard-(\d{6,})\.tar")
READ_CHUNK = 1 << 20  # streaming reads (verification): 1 MiB at a time


def shard_name(index: int) -> str:
    return SHARD_PATTERN.format(index)


def shard_index(name: str) -> int:
    """`shard-000012.tar` -> 12, for any number of digits (`shard-1234567.tar`); ValueError
    for anything that is not a shard name."""
    m = _SHARD_RE.fullmatch(posixpath.basename(name))
    if m is None:
        raise ValueError(f"not a shard name: {name!r}")
    return int(m.group(1))


def url_to_fs(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """fsspec filesystem and path of a folder or URL; an unknown protocol, or one whose
    package is missing (s3:// without s3fs), is a one-line UserError naming the fix."""
    proto = url.split("://", 1)[0] if "://" in url else "file"
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as e:
        hint = str(e).strip().splitlines()[0] if str(e).strip() else f"no package for {proto}://"
        raise UserError(f"{url!r}: storage {proto}:// needs a package that is not installed ({hint}); install it "
                        f"(s3://: pip install s3fs; gs://: pip install gcsfs) here and on every worker") from None
    except ValueError as e:
        if "protocol" not in str(e).lower():
            raise
        raise UserError(f"{url!r}: unknown storage protocol {proto!r}; give a local folder or an fsspec URL "
                        "(file://, s3://, gs://, memory://, ...)") from None
    return fs, path


def out_of_space(e: BaseException) -> bool:
    """An OSError that more free space (or quota) would cure."""
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)


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


def tar_end_ok(size: int, tail: bytes) -> bool:
    """Does a tar file of `size` bytes ending in `tail` end as `tar_end` writes it? (tarfile
    itself accepts a file cut at a member boundary, so readers check this too.)"""
    return size > 0 and size % tarfile.RECORDSIZE == 0 and tail[-2 * _BLOCK :] == bytes(2 * _BLOCK)


def split_key(name: str) -> tuple[str, str]:
    """Member name -> (sample key, extension), as webdataset splits it: the extension starts at
    the first dot of the file name (`000000012.score.png` -> `000000012`, `score.png`)."""
    folder, _, base = name.rpartition("/")
    key, _, ext = base.partition(".")
    return (f"{folder}/{key}" if folder else key), ext


def group_members(members: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) per sample from (member name, bytes) in tar order: consecutive members
    with the same key form one sample (as webdataset groups them)."""
    key, group = None, {}
    for name, data in members:
        k, ext = split_key(name)
        if k != key and group:
            yield key, group
            group = {}
        key = k
        group[ext] = data
    if group:
        yield key, group


def iter_groups(tar: tarfile.TarFile) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) per sample of an open `tarfile` (regular-file members only). For
    callers that hold a TarFile; the package itself reads shards with `io/tarstream.py`."""
    return group_members((m.name, tar.extractfile(m).read()) for m in tar if m.isfile())


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


def hash_file(fs: fsspec.AbstractFileSystem, path: str, progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """(sha256 hex, size) of a file, read in READ_CHUNK pieces (memory stays flat);
    `progress(k)` is told of each k bytes read."""
    h, n = hashlib.sha256(), 0
    with fs.open(path, "rb") as f:
        while chunk := f.read(READ_CHUNK):
            h.update(chunk)
            n += len(chunk)
            if progress is not None:
                progress(len(chunk))
    return h.hexdigest(), n


def read_shard(fs: fsspec.AbstractFileSystem, path: str) -> dict[str, dict[str, bytes]]:
    """All samples of one shard: {key: {ext: bytes}}, read by the streaming reader
    (`io/tarstream.py`): a truncated or corrupt file raises `ShardError` naming it. For tests and
    tools; datasets are read with `io/readers.py`, which also checks manifest.json's sha256."""
    from .tarstream import iter_tar_file

    with fs.open(path, "rb") as f:
        return dict(iter_tar_file(f, posixpath.basename(path)))
