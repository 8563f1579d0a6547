"""Stream a WebDataset tar shard sample by sample, naming exactly what is wrong with it.

A small USTAR reader instead of `tarfile`: it reads one 512-byte block at a time from any
fsspec URL (memory stays flat in shard size), checks every header checksum, and requires the
end-of-archive blocks, so a shard cut anywhere (even at a member boundary, which `tarfile`
accepts) or overwritten with junk raises `ShardError` naming the shard and the byte offset.
It hashes every byte it reads (`TarReader.h`), so `io/readers.stream_shard` checks a shard's
sha256 against manifest.json in the same pass. This is the only tar reader of the package:
datasets (`io/readers.py`), checks, mining, exports, `augment` inputs and `ShardDataset` all
read through it.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator

from ..errors import UserError
from .shards import group_members  # the one definition of key / extension and of a sample's members

BLOCK = 512
IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")


class ShardError(UserError):
    """A truncated or corrupt shard; the message names the shard and where it broke.

    `shard` is the file name, `problem` what is wrong ("is truncated", "is corrupt", "cannot be
    read"), `detail` the rest (the byte offset, what differs); str() is "<shard> <problem>: <detail>".
    A UserError: a corrupt dataset is bad input (one line, exit 2)."""

    def __init__(self, shard: str, problem: str, detail: str, message: str | None = None) -> None:
        self.shard, self.problem, self.detail = shard, problem, detail
        super().__init__(message or f"{shard} {problem}: {detail}")

    def where(self, folder: str, fix: str) -> ShardError:
        """The same error, its message naming the dataset folder and the fix."""
        if self.problem in ("is truncated", "is corrupt"):
            msg = f"{folder}: {self.shard} is truncated or corrupt ({self.detail}); {fix}"
        else:
            msg = f"{folder}: {self}; {fix}"
        return type(self)(self.shard, self.problem, self.detail, msg)


class ShardMismatch(ShardError):
    """A shard that reads as a tar file but is not what manifest.json recorded (sha256, count).
    Found once the whole shard has been read."""


def _octal(field: bytes) -> int:
    s = field.split(b"\0", 1)[0].strip()
    if s and s[0] & 0x80:  # GNU base-256 for huge sizes
        return int.from_bytes(field[1:], "big")
    return int(s, 8) if s else 0


def _pax_path(data: bytes) -> str | None:
    for rec in data.decode("utf-8", "replace").split("\n"):
        _, _, kv = rec.partition(" ")
        k, _, v = kv.partition("=")
        if k == "path":
            return v
    return None


class TarReader:
    """Iterate (member name, bytes) of one tar file; `sha256` and `bytes` are filled as it reads."""

    def __init__(self, f, name: str) -> None:
        self.f, self.name = f, name
        self.h = hashlib.sha256()
        self.bytes = 0

    def _read(self, n: int, what: str) -> bytes:
        data = self.f.read(n)
        while len(data) < n:  # short reads from remote filesystems
            more = self.f.read(n - len(data))
            if not more:
                raise ShardError(self.name, "is truncated", f"it ends at byte {self.bytes + len(data)} inside {what}")
            data += more
        self.h.update(data)
        self.bytes += n
        return data

    def members(self) -> Iterator[tuple[str, bytes]]:
        long_name: str | None = None
        while True:
            at = self.bytes
            head = self.f.read(BLOCK)
            if not head:
                raise ShardError(self.name, "is truncated", f"no end-of-archive blocks after byte {at}")
            if len(head) < BLOCK:
                head += self.f.read(BLOCK - len(head))
            if len(head) < BLOCK:
                raise ShardError(self.name, "is truncated", f"it ends at byte {at + len(head)} inside a header")
            self.h.update(head)
            self.bytes += BLOCK
            if head == bytes(BLOCK):
                self._read(BLOCK, "the end-of-archive blocks")
                rest = self.f.read()  # padding to the record size: zeros only
                self.h.update(rest)
                self.bytes += len(rest)
                if rest.strip(b"\0"):
                    raise ShardError(self.name, "is corrupt", f"data after the end-of-archive blocks (byte {at})")
                return
            stored = _octal(head[148:156])
            if stored != sum(head[:148]) + 8 * 32 + sum(head[156:]):
                raise ShardError(self.name, "is corrupt", f"bad tar header checksum at byte {at}")
            size, kind = _octal(head[124:136]), head[156:157]
            data = self._read(size, f"member at byte {at}")
            if size % BLOCK:
                self._read(BLOCK - size % BLOCK, f"member at byte {at}")
            if kind == b"L":  # GNU long name for the next member
                long_name = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
                continue
            if kind in (b"x", b"g"):  # pax extended header
                long_name = _pax_path(data) or long_name
                continue
            if kind not in (b"0", b"\0"):
                long_name = None
                continue  # directories, links: not samples
            name = head[:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            prefix = head[345:500].split(b"\0", 1)[0].decode("utf-8", "surrogateescape") if head[257:262] == b"ustar" else ""
            if prefix:
                name = f"{prefix}/{name}"
            yield (long_name or name), data
            long_name = None


def iter_tar_file(f, name: str, reader_out: list | None = None) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) per sample of the tar file open as `f` (called `name` in errors)."""
    r = TarReader(f, name)
    if reader_out is not None:
        reader_out.append(r)
    try:
        yield from group_members(r.members())
    except OSError as e:  # a read failing half way (a remote filesystem, a bad disk)
        raise ShardError(name, "cannot be read", f"{e.strerror or e} at byte {r.bytes}") from None


def iter_tar(url: str, reader_out: list | None = None) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {ext: bytes}) per sample of the shard at `url` (members of a sample are adjacent).
    `reader_out`, if given, receives the TarReader (for its sha256 and byte count)."""
    from .shards import url_to_fs

    fs, path = url_to_fs(url)
    name = posixpath.basename(path)
    try:
        f = fs.open(path, "rb")
    except OSError as e:
        raise ShardError(name, "cannot be read", str(e.strerror or e)) from None
    with f:
        yield from iter_tar_file(f, name, reader_out)
