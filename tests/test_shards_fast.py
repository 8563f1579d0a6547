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


def test_split_key_matches_webdataset() -> None:
    """Our one definition of key/extension agrees with the reader every user trains with."""
    from webdataset.tariterators import base_plus_ext

    from synthgen.io.shards import split_key

    for name in ("000000012.jpg", "000000012.score.png", "a/b/000001.east.npz", "x.y/000.json", "k.tar.gz"):
        assert split_key(name) == base_plus_ext(name), name


def test_tar_end_ok_and_groups() -> None:
    """A file tarfile itself would accept when cut at a member boundary is not complete; the
    complete one groups into samples in order."""
    from synthgen.io.shards import iter_groups, tar_end_ok

    members = [(f"{k:09d}.{e}", bytes([k]) * (100 + k)) for k in range(5) for e in ("jpg", "json")]
    data = _with_tarfile(members)
    assert tar_end_ok(len(data), data[-1024:])
    cut = _direct(members[:4])[:-1024]  # members 0..3, end blocks missing
    assert not tar_end_ok(len(cut), cut[-1024:])
    assert not tar_end_ok(len(data) - 512, data[:-512][-1024:])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        groups = list(iter_groups(tar))
    assert [k for k, _ in groups] == [f"{k:09d}" for k in range(5)]
    assert groups[3][1] == {"jpg": bytes([3]) * 103, "json": bytes([3]) * 103}
