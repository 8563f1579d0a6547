"""One shard reader (issue 21 item 7): `synthgen.io.readers` over `io/tarstream.py` is what
`ShardDataset`, `check`, exports, `augment` inputs and mining read with.

A corrupt shard (a byte flipped in a tar header, a byte flipped where only the sha256 can see
it, a truncated file) raises naming the shard through every path; a running manifest is
refused unless partial data is asked for; and a good dataset gives the same samples as the
reader it replaces (Python's tarfile grouped by key, as `io/readers.Dataset` read before)."""

import hashlib
import io
import json
import shutil
import tarfile

import pytest

torch = pytest.importorskip("torch")

from synthgen.check.run import check  # noqa: E402
from synthgen.cli import main  # noqa: E402
from synthgen.errors import UserError  # noqa: E402
from synthgen.io.readers import Dataset, ShardError, ShardMismatch, ShardRef, stream_shard  # noqa: E402
from synthgen.io.shards import iter_groups  # noqa: E402
from synthgen.torch import ShardDataset, decode_members  # noqa: E402

SMALL = {"image.width": 96, "image.height": 96, "text.size": [10, 20], "text.words": [1, 3],
         "labels.store": ["score", "geo_rbox"]}
BAD = "shard-000001.tar"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    from synthgen.run.job import render

    out = tmp_path_factory.mktemp("reader") / "scene"
    render("ocr_scene", n=10, out=str(out), seed=5, shard_size=4, workers=1, executor="serial", progress=False,
           overrides=SMALL)
    return out


def _old_reader(folder):
    """What io/readers.Dataset did before: the manifest's shards in order, each read whole with
    tarfile and grouped by key."""
    m = json.loads((folder / "manifest.json").read_text())
    for s in m["shards"]:
        data = (folder / s["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == s["sha256"]
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            yield from iter_groups(tar)


def _item_digest(it) -> str:
    h = hashlib.sha256()
    h.update(it["key"].encode())
    for k in sorted(it):
        v = it[k]
        if isinstance(v, torch.Tensor):
            h.update(k.encode() + repr(tuple(v.shape)).encode() + v.contiguous().numpy().tobytes())
        elif k == "instances":
            h.update(json.dumps([i.to_json() for i in v], sort_keys=True, default=str).encode())
        else:
            h.update(json.dumps(v, sort_keys=True, default=str).encode())
    return h.hexdigest()


def test_good_dataset_gives_the_same_samples_as_the_old_reader(good):
    old = list(_old_reader(good))
    assert len(old) == 10
    # the dataset reader: same keys, same member bytes, in the same order
    stored = list(Dataset(str(good)))
    assert [(s.key, s.members) for s in stored] == old
    assert all(s.shard.startswith("shard-") and s.image == s.members[s.image_ext] for s in stored)
    # ShardDataset: items decoded from the same bytes hash the same
    kw = dict(maps=("score", "geo_rbox"), factors=True)
    ref = [_item_digest(decode_members(k, m, **kw)) for k, m in old]
    got = [_item_digest(it) for it in ShardDataset(str(good), **kw)]
    assert got == ref
    # ...also over two DataLoader workers (every sample once) and given as a list of tar URLs
    items = list(torch.utils.data.DataLoader(ShardDataset(str(good), **kw), batch_size=None, num_workers=2))
    assert sorted(_item_digest(it) for it in items) == sorted(ref)
    urls = [str(p) for p in sorted(good.glob("shard-*.tar"))]
    assert [_item_digest(it) for it in ShardDataset(urls, **kw)] == ref
    # and the checker reads every sample with no shard finding
    r = check(str(good))
    assert r.counts[str(good)] == 10 and not [f for f in r.findings if f.check == "shard"]


def _member_offsets(data: bytes) -> list[tuple[int, int, int]]:
    """(header offset, data offset, size) of each member."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return [(m.offset, m.offset_data, m.size) for m in tar]


def _break(folder, how: str) -> str:
    """Damage BAD in `folder`; returns what the message must say besides the shard name."""
    p = folder / BAD
    data = bytearray(p.read_bytes())
    members = _member_offsets(bytes(data))
    if how == "header_byte":  # the third member's header: its checksum no longer adds up
        at = members[2][0]
        data[at + 3] ^= 0x01
        p.write_bytes(bytes(data))
        return f"bad tar header checksum at byte {at}"
    if how == "padding_byte":  # zero padding after a member's data: only the sha256 sees it
        off, start, size = next(m for m in members if m[2] % 512)
        data[start + size] ^= 0x01
        p.write_bytes(bytes(data))
        return "sha256"
    if how == "truncated":
        p.write_bytes(bytes(data[: members[3][1] + 100]))
        return "truncated"
    if how == "manifest_sha":  # the file is intact; manifest.json recorded another sha256
        m = json.loads((folder / "manifest.json").read_text())
        for s in m["shards"]:
            if s["name"] == BAD:
                s["sha256"] = hashlib.sha256(b"another shard").hexdigest()
        (folder / "manifest.json").write_text(json.dumps(m))
        return "sha256"
    raise AssertionError(how)


BREAKS = ["header_byte", "padding_byte", "truncated", "manifest_sha"]


@pytest.mark.parametrize("how", BREAKS)
def test_broken_shard_is_named_by_shard_dataset(good, tmp_path, how):
    d = tmp_path / "d"
    shutil.copytree(good, d)
    what = _break(d, how)
    ds = ShardDataset(str(d))
    seen = []
    with pytest.raises(UserError) as e:
        for it in ds:
            seen.append(it["key"])
    msg = str(e.value)
    assert BAD in msg and what in msg and str(d) in msg and "\n" not in msg, msg
    assert isinstance(e.value, ShardError)
    assert len(seen) < 10  # the shards after the broken one were never read
    assert all(k < "000000004" for k in seen[:4])  # shard 0 came out whole
    # given as a tar URL, the shard is checked against the manifest beside it
    with pytest.raises(UserError, match=BAD):
        list(ShardDataset([str(d / BAD)]))


@pytest.mark.parametrize("how", BREAKS)
def test_broken_shard_is_named_by_check_and_export(good, tmp_path, capsys, how):
    d = tmp_path / "d"
    shutil.copytree(good, d)
    what = _break(d, how)
    r = check(str(d))
    msgs = [f.message for f in r.findings if f.check == "shard"]
    assert not r.ok and len(msgs) == 1 and BAD in msgs[0] and what in msgs[0], msgs
    assert [f.samples[0]["shard"] for f in r.findings if f.check == "shard"] == [BAD]
    for to in ("icdar2015", "lmdb"):
        capsys.readouterr()
        out = tmp_path / f"out_{to}"
        assert main(["export", str(d), "--to", to, str(out), "-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err and BAD in err and what in err, err
        assert not out.exists() and not (tmp_path / f"out_{to}.partial").exists()
    # the dataset reader itself, and stream_shard (what mining reads with)
    with pytest.raises(ShardError, match=BAD):
        list(Dataset(str(d)))
    rec = next(s for s in json.loads((d / "manifest.json").read_text())["shards"] if s["name"] == BAD)
    with pytest.raises(ShardMismatch if how in ("padding_byte", "manifest_sha") else ShardError, match=BAD):
        list(stream_shard(ShardRef(str(d / BAD), BAD, rec["sha256"], rec["count"])))


def test_count_other_than_the_manifest_is_named(good, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(good, d)
    m = json.loads((d / "manifest.json").read_text())
    m["shards"][1]["count"] += 1
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(UserError, match=f"{BAD} holds 4 samples, manifest.json says 5"):
        list(ShardDataset(str(d)))


def test_running_manifest_is_refused_unless_partial(good, tmp_path):
    d = tmp_path / "running"
    shutil.copytree(good, d)
    m = json.loads((d / "manifest.json").read_text())
    m["state"] = "running"
    m["shards"] = m["shards"][:2]  # the last shard finished after the last manifest update
    (d / "manifest.json").write_text(json.dumps(m))
    for make in (lambda: ShardDataset(str(d)), lambda: ShardDataset([str(d / BAD)]), lambda: Dataset(str(d))):
        with pytest.raises(UserError) as e:
            make()
        msg = str(e.value)
        assert str(d) in msg and "'running'" in msg and "partial=True" in msg and "\n" not in msg, msg
    keys = [it["key"] for it in ShardDataset(str(d), partial=True)]
    assert keys == [f"{i:09d}" for i in range(8)]  # the shards its manifest lists
    assert [s.key for s in Dataset(str(d), partial=True)] == keys
    # the checker reports it (it refuses nothing: it says what is wrong)
    assert any("unfinished" in f.message for f in check(str(d)).findings)


def test_shards_without_a_manifest_need_partial(good, tmp_path):
    d = tmp_path / "bare"
    d.mkdir()
    for p in good.glob("shard-*.tar"):
        shutil.copy(p, d / p.name)
    with pytest.raises(UserError, match="no manifest.json"):
        ShardDataset(str(d))
    with pytest.raises(UserError, match="no manifest.json"):
        ShardDataset([str(d / BAD)])
    assert len(list(ShardDataset(str(d), partial=True))) == 10
    (d / BAD).write_bytes((d / BAD).read_bytes()[:3000])  # unchecked still means the tar structure is checked
    with pytest.raises(UserError, match=f"{BAD} is truncated"):
        list(ShardDataset(str(d), partial=True))


def test_mining_resume_reads_its_rounds_through_the_reader(tmp_path, capsys):
    """A finished round whose shard is damaged is not replayed into the miner's statistics: it
    is named and mined again, to the same bytes (the rounds before it are the same)."""
    from .test_mine import _toy_yaml

    cfg = _toy_yaml(tmp_path)
    out = tmp_path / "mined"
    args = ["mine", str(cfg), "--model", "tests.test_mine:toy_fails", "--per-round", "12", "--rounds", "2",
            "--sheet", "0", "--out", str(out), "-q"]
    assert main(args) == 0
    first = {p.name: p.read_bytes() for p in out.glob("shard-*.tar")}
    report = (out / "report.json").read_bytes()
    shard = out / "shard-000000.tar"
    data = bytearray(shard.read_bytes())
    off, start, size = next(m for m in _member_offsets(bytes(data)) if m[2] % 512)
    data[start + size] ^= 0x01  # only the sha256 sees it
    shard.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "shard-000000.tar is corrupt" in err and "sha256" in err and "mining round 0 again" in err, err
    assert {p.name: p.read_bytes() for p in out.glob("shard-*.tar")} == first
    assert (out / "report.json").read_bytes() == report
