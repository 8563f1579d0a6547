"""`synthgen export`: ICDAR 2015 text files and clovaai-layout LMDB, read back by independent
parsing (plain string splitting, `lmdb` + `cv2` directly, source labels straight from the tars)."""

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import cv2
import lmdb
import numpy as np
import pytest

import synthgen
from synthgen.cli import main
from synthgen.io.exports import crop_quad, export_icdar2015, export_lmdb

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "scene"
    synthgen.render("ocr_scene", n=6, out=str(out), shard_size=3, workers=1, progress=False,
                    overrides={"image.width": 128, "image.height": 128, "text.size": [8, 24], "text.words": [2, 5]})
    return out


def source(folder: Path) -> dict[str, dict]:
    """{key: {"image": bytes, "ext": str, "label": dict}} read with tarfile, not with synthgen."""
    out: dict[str, dict] = {}
    for shard in sorted(Path(folder).glob("shard-*.tar")):
        with tarfile.open(shard) as tar:
            for m in tar.getmembers():
                key, ext = m.name.split(".", 1)
                data = tar.extractfile(m).read()
                d = out.setdefault(key, {})
                if ext == "json":
                    d["label"] = json.loads(data)
                elif ext in ("jpg", "png"):
                    d["image"], d["ext"] = data, ext
    return out


def parse_gt(path: Path) -> list[tuple[np.ndarray, str]]:
    raw = path.read_bytes()
    assert raw.startswith(BOM), "ICDAR 2015 ground truth is UTF-8 with a BOM"
    rows = []
    for line in raw[len(BOM):].decode("utf-8").split("\n"):
        if not line:
            continue
        parts = line.split(",", 8)
        assert len(parts) == 9, line
        rows.append((np.array([int(p) for p in parts[:8]], float).reshape(4, 2), parts[8]))
    return rows


# -- ICDAR 2015 -------------------------------------------------------------------------------
def test_icdar2015_reads_back(dataset, tmp_path, capsys):
    out = tmp_path / "icdar"
    assert main(["export", str(dataset), "--to", "icdar2015", str(out), "-q"]) == 0
    assert "6 images" in capsys.readouterr().out
    src = source(dataset)
    assert len(src) == 6
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{k}.{v['ext']}" for k, v in src.items()] + [f"gt_{k}.txt" for k in src])
    n_ignored = 0
    for key, s in src.items():
        assert (out / f"{key}.{s['ext']}").read_bytes() == s["image"]
        rows = parse_gt(out / f"gt_{key}.txt")
        insts = s["label"]["instances"]
        assert len(rows) == len(insts)
        for (quad, text), inst in zip(rows, insts):
            assert np.abs(quad - np.asarray(inst["quad"])).max() <= 0.5 + 1e-9
            assert text == ("###" if inst["ignore"] else inst["text"])
            n_ignored += inst["ignore"]
    assert n_ignored >= 1, "the fixture should hold don't-care text so that ### is exercised"


def test_icdar2015_commas_and_kinds(tmp_path):
    img = encode(np.full((40, 100, 3), 255, np.uint8), "png")
    insts = [inst([[10.4, 5.5], [60.6, 5.49], [60.5, 20.5], [10.5, 20.5]], "1,000,000"),
             inst([[1, 1], [9, 1], [9, 9], [1, 9]], "photo", kind="photo"),
             inst([[70, 5], [90, 5], [90, 15], [70, 15]], "tiny", ignore=True)]
    ds = make_dataset(tmp_path / "ds", [("000000000", "png", img, insts)])
    export_icdar2015(str(ds), str(tmp_path / "out"), progress=False)
    rows = parse_gt(tmp_path / "out" / "gt_000000000.txt")
    assert [t for _, t in rows] == ["1,000,000", "###"]  # photo regions are not text
    assert rows[0][0].reshape(-1).tolist() == [10, 6, 61, 5, 61, 21, 11, 21]  # half rounds up
    assert (tmp_path / "out" / "000000000.png").read_bytes() == img



def test_python_api_refuses_what_the_cli_refuses(tmp_path):
    """export_icdar2015 / export_lmdb called directly make the CLI's checks (they were made only on
    the registry path): icdar2015 refuses a dataset of line crops and non-text kinds, lmdb non-text
    kinds; one line each, nothing written."""
    from synthgen.errors import UserError

    img = encode(np.full((32, 90, 3), 200, np.uint8), "png")
    full = [[0, 0], [90, 0], [90, 32], [0, 32]]
    lines = make_dataset(tmp_path / "lines", [("000000000", "png", img, [inst(full, "hello", kind="line")])],
                         kind="line")
    scene = make_dataset(tmp_path / "scene", [("000000000", "png", img, [inst(full, "hello")])])
    out = tmp_path / "out"
    with pytest.raises(UserError, match="icdar2015 is a detection format .* dataset of recognition crops"):
        export_icdar2015(str(lines), str(out), progress=False)
    with pytest.raises(UserError, match="icdar2015 holds text only; 'photo' is not a text kind"):
        export_icdar2015(str(scene), str(out), kinds=["word", "photo"], progress=False)
    with pytest.raises(UserError, match="lmdb holds text only; 'photo' is not a text kind"):
        export_lmdb(str(scene), str(out), kinds=["word", "photo"], progress=False)
    assert not out.exists() and not (tmp_path / "out.partial").exists()


# -- LMDB -------------------------------------------------------------------------------------
def read_lmdb(path: Path) -> tuple[int, dict[bytes, bytes]]:
    env = lmdb.open(str(path), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            items = dict(txn.cursor())
    finally:
        env.close()
    return int(items[b"num-samples"]), items


def test_lmdb_reads_back(dataset, tmp_path):
    out = tmp_path / "lmdb"
    assert main(["export", str(dataset), "--to", "lmdb", str(out), "-q"]) == 0
    n, items = read_lmdb(out)
    expect = [i for k, s in sorted(source(dataset).items()) for i in s["label"]["instances"]
              if not i["ignore"] and i["text"]]
    assert n == len(expect) > 0
    assert set(items) == {b"num-samples"} | {f"{p}-{i:09d}".encode() for p in ("image", "label") for i in range(1, n + 1)}
    for i, e in enumerate(expect, 1):
        label = items[f"label-{i:09d}".encode()].decode("utf-8")
        assert label and label == e["text"]
        img = cv2.imdecode(np.frombuffer(items[f"image-{i:09d}".encode()], np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.shape[0] == 32
        q = np.asarray(e["quad"])
        aspect = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / (
            np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1]))
        assert abs(img.shape[1] - 32 * aspect) <= 1


def test_lmdb_crop_is_upright_and_exact(tmp_path):
    """A rotated quad whose left half is red and right half blue comes out as an upright
    rectangle, red on the left, blue on the right, with nothing of the white background."""
    H, W = 120, 160
    img = np.full((H, W, 3), 255, np.uint8)  # BGR for cv2
    c, a = np.array([80.0, 60.0]), np.deg2rad(25)
    ux, uy = np.array([np.cos(a), -np.sin(a)]), np.array([np.sin(a), np.cos(a)])  # reading dir, down
    corner = lambda s, t: c + s * 50 * ux + t * 12 * uy  # noqa: E731
    quad = np.array([corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)])
    left = np.array([corner(-1, -1), corner(0, -1), corner(0, 1), corner(-1, 1)])
    right = np.array([corner(0, -1), corner(1, -1), corner(1, 1), corner(0, 1)])
    cv2.fillPoly(img, [np.round((left - 0.5) * 16).astype(np.int32)], (0, 0, 255), cv2.LINE_AA, shift=4)
    cv2.fillPoly(img, [np.round((right - 0.5) * 16).astype(np.int32)], (255, 0, 0), cv2.LINE_AA, shift=4)
    ds = make_dataset(tmp_path / "ds", [("000000000", "png", encode(img, "png"), [inst(quad, "redblue")])])
    export_lmdb(str(ds), str(tmp_path / "out"), height=24, progress=False)
    n, items = read_lmdb(tmp_path / "out")
    assert n == 1 and items[b"label-000000001"] == b"redblue"
    crop = cv2.imdecode(np.frombuffer(items[b"image-000000001"], np.uint8), cv2.IMREAD_COLOR).astype(int)
    assert crop.shape == (24, 100, 3)
    inner_l, inner_r = crop[3:-3, 3:45], crop[3:-3, 55:-3]
    assert (inner_l[..., 2] > 200).all() and (inner_l[..., :2] < 60).all()  # red
    assert (inner_r[..., 0] > 200).all() and (inner_r[..., 1:] < 60).all()  # blue
    assert (crop.min(axis=2) < 128).mean() > 0.97  # hardly any white background inside the quad


def test_lmdb_crop_pixel_exact(tmp_path):
    """Quad vertices are pixel-area coordinates: a quad on the pixel grid at the crop height
    gives back exactly those pixels (no half-pixel shift, no blur), in reading order."""
    img = np.random.default_rng(0).integers(0, 256, (80, 80, 3), dtype=np.uint8)
    across = [[10, 20], [50, 20], [50, 28], [10, 28]]   # 40 x 8 px, read left to right
    down = [[68, 20], [68, 60], [60, 60], [60, 20]]     # 8 x 40 px, read top to bottom
    ds = make_dataset(tmp_path / "ds", [("000000000", "png", encode(img, "png"), [inst(across, "a"), inst(down, "b")])])
    export_lmdb(str(ds), str(tmp_path / "out"), height=8, progress=False)
    n, items = read_lmdb(tmp_path / "out")
    crops = [cv2.imdecode(np.frombuffer(items[f"image-{i:09d}".encode()], np.uint8), cv2.IMREAD_COLOR)
             for i in (1, 2)]
    assert n == 2
    np.testing.assert_array_equal(crops[0], img[20:28, 10:50])
    np.testing.assert_array_equal(crops[1], np.rot90(img[20:60, 60:68]))


def test_crop_shrinks_by_area_average():
    """Text much taller than the crop height is area-averaged down, not point-sampled."""
    blocks = np.random.default_rng(1).integers(0, 256, (4, 10, 3), dtype=np.uint8)
    img = np.zeros((60, 60, 3), np.uint8)
    img[20:36, 10:50] = np.repeat(np.repeat(blocks, 4, axis=0), 4, axis=1)  # 4 x 4 px blocks
    crop = crop_quad(img, [[10, 20], [50, 20], [50, 36], [10, 36]], height=4)
    assert crop.shape == (4, 10, 3)
    np.testing.assert_array_equal(crop, blocks)


def test_lmdb_line_crops_stored_as_is(tmp_path):
    a = encode(np.full((32, 90, 3), 200, np.uint8), "jpg")
    b = encode(np.full((32, 50, 3), 90, np.uint8), "png")
    full = lambda w: [[0, 0], [w, 0], [w, 32], [0, 32]]  # noqa: E731
    ds = make_dataset(tmp_path / "lines", [
        ("000000000", "jpg", a, [inst(full(90), "hello world", kind="line")]),
        ("000000001", "png", b, [inst(full(50), "你好", kind="line")]),
        ("000000002", "png", b, [inst(full(50), "skip me", kind="line", ignore=True)]),
    ], kind="line")
    stats = export_lmdb(str(ds), str(tmp_path / "out"), progress=False)
    n, items = read_lmdb(tmp_path / "out")
    assert n == 2 and stats.as_is == 2
    assert items[b"image-000000001"] == a and items[b"label-000000001"] == "hello world".encode()
    assert items[b"image-000000002"] == b and items[b"label-000000002"] == "你好".encode()
    # a scene-kind dataset: a lone line over the whole image is a crop too; a small one is cut out
    big = encode(np.full((64, 64, 3), 255, np.uint8), "png")
    ds2 = make_dataset(tmp_path / "mixed", [
        ("000000000", "png", b, [inst(full(50), "whole", kind="line")]),
        ("000000001", "png", big, [inst([[8, 8], [40, 8], [40, 16], [8, 16]], "small", kind="line")]),
    ], kind="scene")
    export_lmdb(str(ds2), str(tmp_path / "out2"), progress=False)
    n, items = read_lmdb(tmp_path / "out2")
    assert n == 2 and items[b"image-000000001"] == b
    small = cv2.imdecode(np.frombuffer(items[b"image-000000002"], np.uint8), cv2.IMREAD_COLOR)
    assert small.shape[:2] == (32, 128)


def test_lmdb_map_grows(dataset, tmp_path):
    out = tmp_path / "lmdb"
    # 64 px crops: more bytes than the smallest map holds, however few words the scenes place
    stats = export_lmdb(str(dataset), str(out), height=64, map_size=1 << 16, progress=False)
    n, items = read_lmdb(out)
    assert n == stats.records > 0
    assert (out / "data.mdb").stat().st_size > 1 << 16  # did not fit the first map: it grew


# -- bad input: exit 2, one line, nothing half-written ---------------------------------------
@pytest.mark.parametrize("to", ["icdar2015", "lmdb"])
def test_bad_input(dataset, tmp_path, capsys, to):
    def run(src, out, expect):
        capsys.readouterr()
        assert main(["export", str(src), "--to", to, str(out), "-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err and expect in err, err

    out = tmp_path / "out"
    run(tmp_path / "missing", out, "does not exist")
    (tmp_path / "empty").mkdir()
    run(tmp_path / "empty", out, "not a synthgen dataset")

    # a truncated last shard: the first shard was exported already, and is removed again
    cut = tmp_path / "cut"
    shutil.copytree(dataset, cut)
    shard = cut / "shard-000001.tar"
    shard.write_bytes(shard.read_bytes()[:5000])
    run(cut, out, "shard-000001.tar is truncated")
    # the same with no checksum in the manifest: the tar itself is checked
    m = json.loads((cut / "manifest.json").read_text())
    for s in m["shards"]:
        s.pop("sha256")
    (cut / "manifest.json").write_text(json.dumps(m))
    run(cut, out, "shard-000001.tar is truncated")

    unfinished = tmp_path / "unfinished"
    shutil.copytree(dataset, unfinished)
    m = json.loads((unfinished / "manifest.json").read_text())
    (unfinished / "manifest.json").write_text(json.dumps({**m, "state": "running"}))
    run(unfinished, out, "unfinished render")
    assert not out.exists() and not (tmp_path / "out.partial").exists()

    out.mkdir()
    (out / "keep.txt").write_text("mine")
    run(dataset, out, "not empty")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    run(dataset, afile, "is a file")
    assert afile.read_text() == "x"
    foreign = tmp_path / "new.partial"
    foreign.mkdir()
    run(dataset, tmp_path / "new", "not made by synthgen export")
    assert foreign.is_dir() and not (tmp_path / "new").exists()


def test_empty_out_and_stale_partial(dataset, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = tmp_path / "out.partial"
    stale.mkdir()
    (stale / ".synthgen-export").write_bytes(b"")
    (stale / "gt_junk.txt").write_text("left by a killed export")
    assert main(["export", str(dataset), "--to", "icdar2015", str(out), "-q"]) == 0
    assert not stale.exists()
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 12 and "gt_junk.txt" not in names and ".synthgen-export" not in names


# -- hand-made datasets -----------------------------------------------------------------------
def encode(img: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(f".{ext}", img)
    assert ok
    return buf.tobytes()


def inst(quad, text, kind="word", ignore=False) -> dict:
    return {"quad": np.asarray(quad, float).tolist(), "text": text, "kind": kind, "field": None,
            "ignore": ignore, "chars": None}


def make_dataset(folder: Path, samples, kind="scene") -> Path:
    """A dataset folder in the rendered layout: one shard, manifest with its sha256."""
    folder.mkdir(parents=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for key, ext, img, insts in samples:
            shape = cv2.imdecode(np.frombuffer(img, np.uint8), cv2.IMREAD_COLOR).shape
            label = {"key": key, "size": [shape[0], shape[1]], "instances": insts, "factors": {}, "meta": {}}
            for name, data in ((f"{key}.{ext}", img), (f"{key}.json", json.dumps(label).encode())):
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
    data = buf.getvalue()
    (folder / "shard-000000.tar").write_bytes(data)
    manifest = {"state": "complete", "config": {"kind": kind}, "n": len(samples),
                "shards": [{"name": "shard-000000.tar", "count": len(samples),
                            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_line_dataset_to_lmdb_end_to_end(tmp_path):
    synthgen.render("ocr_line", n=6, out=str(tmp_path / "lines"), shard_size=3, workers=1, progress=False)
    assert main(["export", str(tmp_path / "lines"), "--to", "lmdb", str(tmp_path / "db"), "-q"]) == 0
    env = lmdb.open(str(tmp_path / "db"), readonly=True, lock=False)
    with env.begin() as txn:
        assert txn.get(b"num-samples") == b"6"
        for k in range(1, 7):
            img = cv2.imdecode(np.frombuffer(txn.get(b"image-%09d" % k), np.uint8), cv2.IMREAD_COLOR)
            assert img is not None and img.shape[0] == 32
            assert txn.get(b"label-%09d" % k).decode().strip()
    env.close()
