"""The direct USTAR writer in io/shards.py gives byte for byte what tarfile writes."""

from __future__ import annotations

import io
import random
import tarfile

import fsspec

from synthgen.io.shards import _member, read_shard, tar_end, tar_member, write_shard


def _with_tarfile(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            tar.addfile(_member(name, len(data)), io.BytesIO(data))
    return buf.getvalue()


def _direct(members: list[tuple[str, bytes]]) -> bytes:
    out = b"".join(tar_member(name, data) for name, data in members)
    return out + tar_end(len(out))


def _name(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789._-/" + "éü中文"
    n = rng.choice([1, 5, 9, 20, 60, 98, 99, 100, 101, 120, 150])
    s = "".join(rng.choice(alphabet) for _ in range(n)).strip("/") or "x"
    return s.replace("//", "/a/")


def test_direct_writer_matches_tarfile() -> None:
    rng = random.Random(1234)
    for trial in range(200):
        members = []
        for _ in range(rng.randint(0, 6)):
            size = rng.choice([0, 1, 511, 512, 513, 1023, 1024, 4097, rng.randint(0, 40000)])
            members.append((_name(rng), rng.randbytes(size)))
        try:
            ref = _with_tarfile(members)
        except ValueError:  # a name tarfile cannot store as USTAR: the direct writer must refuse too
            try:
                _direct(members)
            except ValueError:
                continue
            raise AssertionError(f"tarfile refused {members!r} but the direct writer did not")
        assert _direct(members) == ref, trial


def test_shard_keys_and_names() -> None:
    fs = fsspec.filesystem("memory")
    samples = [(f"{i:09d}", [("jpg", bytes([i]) * (i * 97)), ("json", b'{"a": %d}' % i)]) for i in range(30)]
    info = write_shard(fs, "/fast-shards", 0, samples)
    data = fs.cat_file("/fast-shards/shard-000000.tar")
    assert data == _with_tarfile([(f"{k}.{e}", b) for k, ms in samples for e, b in ms])
    assert info.count == 30 and info.bytes == len(data)
    back = read_shard(fs, "/fast-shards/shard-000000.tar")
    assert back == {k: dict(ms) for k, ms in samples}
