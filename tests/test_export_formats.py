"""`synthgen export --to paddleocr-det|paddleocr-rec|mmocr-det|mmocr-rec|doctr-det|doctr-rec|coco-text`
on a 200-sample scene dataset and a 200-sample line dataset, read back against the source labels
(read straight from the tars with tarfile, not with synthgen).

Readers: every format is read by an independent reader written here from the format's published
description (PaddleOCR's SimpleDataSet label lines, MMOCR 1.x's metainfo/data_list, docTR's
labels.json as its DetectionDataset / RecognitionDataset parse it, COCO + COCO-Text fields);
coco-text is also read by pycocotools (test extra), mmocr by mmengine's BaseDataset (what
MMOCR's OCRDataset is) where mmengine is installed. docTR's own classes are not used: python-doctr
needs a torchvision build matching torch, and PyPI's torchvision wheel is a CUDA build that does
not load with the CPU torch here.
"""

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import synthgen
from synthgen.cli import main
from synthgen.core import TEXT_KINDS
from synthgen.errors import UserError
from synthgen.io import export_formats
from synthgen.io.exports import crop_quad

from .test_exports import encode, inst, make_dataset, source

N = 200


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    out = tmp_path_factory.mktemp("fmt") / "scene"
    synthgen.render("ocr_scene", n=N, out=str(out), shard_size=100, workers=1, progress=False,
                    overrides={"image.width": 256, "image.height": 256})
    return out


@pytest.fixture(scope="module")
def lines(tmp_path_factory):
    out = tmp_path_factory.mktemp("fmt") / "lines"
    synthgen.render("ocr_line", n=N, out=str(out), shard_size=100, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def src_scene(scene):
    s = source(scene)
    assert len(s) == N
    return s


@pytest.fixture(scope="module")
def src_lines(lines):
    s = source(lines)
    assert len(s) == N
    return s


def export(src: Path, fmt: str, out: Path, *extra: str) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["export", str(src), "--to", fmt, str(out), "-q", *extra]) == 0
    return buf.getvalue()


def text_regions(label: dict) -> list[dict]:
    return [i for i in label["instances"] if i.get("kind", "word") in TEXT_KINDS]


def expected_crops(src: dict) -> list[tuple[str, str]]:
    """(crop file stem, text) of a scene dataset's recognition crops, in export order."""
    return [(f"{k}_{j}", i["text"]) for k, s in sorted(src.items()) for j, i in enumerate(s["label"]["instances"])
            if i.get("kind", "word") in TEXT_KINDS and not i["ignore"] and i["text"]]


def same_quad(got, inst_quad, tol: float) -> None:
    got = np.asarray(got, np.float64).reshape(4, 2)
    assert np.abs(got - np.asarray(inst_quad, np.float64)).max() <= tol + 1e-9, (got, inst_quad)


def check_images(out: Path, src: dict, keys=None) -> None:
    keys = sorted(src) if keys is None else keys
    files = sorted(p.name for p in (out / "images").iterdir())
    assert files == sorted(f"{k}.{src[k]['ext']}" for k in keys)
    for k in keys:
        assert (out / "images" / f"{k}.{src[k]['ext']}").read_bytes() == src[k]["image"]


def check_scene_crops(out: Path, src: dict, got: list[tuple[str, str]]) -> None:
    """`got`: (image path relative to OUT, text) in file order, against the source crops."""
    want = expected_crops(src)
    assert len(got) == len(want) > N  # about 3 words a scene
    assert [t for _, t in got] == [t for _, t in want]
    assert [p for p, _ in got] == [f"images/{stem}.png" for stem, _ in want]
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(p.split("/")[1] for p, _ in got)
    # the first crop is exactly crop_quad of its word (the LMDB export's crop)
    stem, _ = want[0]
    key, j = stem.rsplit("_", 1)
    img = cv2.imdecode(np.frombuffer(src[key]["image"], np.uint8), cv2.IMREAD_COLOR)
    ref = crop_quad(img, src[key]["label"]["instances"][int(j)]["quad"], 32)
    crop = cv2.imread(str(out / got[0][0]), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(crop, ref)
    for p, _ in got[:20]:
        assert cv2.imread(str(out / p), cv2.IMREAD_COLOR).shape[0] == 32


def check_line_crops(out: Path, src: dict, got: list[tuple[str, str]]) -> None:
    """Line samples are crops already: their bytes are stored unchanged, with their text."""
    want = [(k, s) for k, s in sorted(src.items()) if not s["label"]["instances"][0]["ignore"]]
    assert len(got) == len(want) > 0.9 * N  # a few lines are don't-care (left out, as the LMDB export does)
    for (p, text), (k, s) in zip(got, want):
        assert p == f"images/{k}.{s['ext']}"
        assert text == s["label"]["instances"][0]["text"]
        assert (out / p).read_bytes() == s["image"]


# -- PaddleOCR ---------------------------------------------------------------------------------
def read_paddle(path: Path) -> list[tuple[str, str]]:
    """PaddleOCR's SimpleDataSet: each line `path<TAB>label`, split on the first tab."""
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line:
            name, label = line.split("\t", 1)
            assert "\t" not in label
            rows.append((name, label))
    return rows


def test_paddleocr_det(scene, src_scene, tmp_path):
    out = tmp_path / "p"
    summary = export(scene, "paddleocr-det", out)
    assert f"{N} images" in summary
    rows = read_paddle(out / "det_gt.txt")
    assert [r[0] for r in rows] == [f"images/{k}.{src_scene[k]['ext']}" for k in sorted(src_scene)]
    check_images(out, src_scene)
    n_ignored = 0
    for (_, label), k in zip(rows, sorted(src_scene)):
        items = json.loads(label)
        want = text_regions(src_scene[k]["label"])
        assert len(items) == len(want)
        for it, w in zip(items, want):
            assert set(it) == {"transcription", "points"}
            assert all(isinstance(v, int) for p in it["points"] for v in p)
            same_quad(it["points"], w["quad"], 0.5)
            assert it["transcription"] == ("###" if w["ignore"] else w["text"])
            n_ignored += w["ignore"]
    assert n_ignored > 0


def test_paddleocr_rec(scene, src_scene, lines, src_lines, tmp_path):
    out = tmp_path / "p"
    summary = export(scene, "paddleocr-rec", out)
    rows = read_paddle(out / "rec_gt.txt")
    check_scene_crops(out, src_scene, rows)
    dict_chars = (out / "dict.txt").read_text(encoding="utf-8").split("\n")
    assert dict_chars[-1] == "" and all(len(c) == 1 for c in dict_chars[:-1])
    used = {c for _, t in rows for c in t}
    assert dict_chars[:-1] == sorted(used - {" "})  # one per line, code-point order, no space
    assert "character_dict_path" in summary

    out2 = tmp_path / "l"
    summary = export(lines, "paddleocr-rec", out2)
    rows = read_paddle(out2 / "rec_gt.txt")
    check_line_crops(out2, src_lines, rows)
    assert (out2 / "dict.txt").read_text(encoding="utf-8").split("\n")[:-1] == sorted({c for _, t in rows for c in t} - {" "})
    assert any(" " in t for _, t in rows) and "use_space_char" in summary


# -- MMOCR 1.x --------------------------------------------------------------------------------
def test_mmocr_det(scene, src_scene, tmp_path):
    out = tmp_path / "m"
    export(scene, "mmocr-det", out, "--split", "test")
    doc = json.loads((out / "textdet_test.json").read_text(encoding="utf-8"))
    assert doc["metainfo"] == {"dataset_type": "TextDetDataset", "task_name": "textdet",
                               "category": [{"id": 0, "name": "text"}]}
    check_images(out, src_scene)
    assert len(doc["data_list"]) == N
    for d, k in zip(doc["data_list"], sorted(src_scene)):
        lab = src_scene[k]["label"]
        assert d["img_path"] == f"images/{k}.{src_scene[k]['ext']}" and (out / d["img_path"]).is_file()
        assert [d["height"], d["width"]] == lab["size"]
        want = text_regions(lab)
        assert len(d["instances"]) == len(want)
        for it, w in zip(d["instances"], want):
            assert len(it["polygon"]) == 8 and it["bbox_label"] == 0
            same_quad(it["polygon"], w["quad"], 0.005)
            q = np.asarray(w["quad"])
            np.testing.assert_allclose(it["bbox"], [*q.min(0), *q.max(0)], atol=0.005 + 1e-9)
            assert it["ignore"] is w["ignore"] and it["text"] == w["text"]


def test_mmocr_rec(scene, src_scene, lines, src_lines, tmp_path):
    for src, ref, check in ((scene, src_scene, check_scene_crops), (lines, src_lines, check_line_crops)):
        out = tmp_path / src.name
        export(src, "mmocr-rec", out)
        doc = json.loads((out / "textrecog_train.json").read_text(encoding="utf-8"))
        assert doc["metainfo"] == {"dataset_type": "TextRecogDataset", "task_name": "textrecog"}
        got = []
        for d in doc["data_list"]:
            assert len(d["instances"]) == 1
            got.append((d["img_path"], d["instances"][0]["text"]))
        check(out, ref, got)
        # MMOCR's Dictionary: one character per line (the space too)
        chars = (out / "dict.txt").read_text(encoding="utf-8").split("\n")[:-1]
        assert chars == sorted({c for _, t in got for c in t})


def test_mmocr_read_by_mmengine(scene, src_scene, lines, src_lines, tmp_path):
    """mmengine's BaseDataset (MMOCR's OCRDataset adds only its registry) reads both files."""
    dataset = pytest.importorskip("mmengine.dataset")
    out = tmp_path / "det"
    export(scene, "mmocr-det", out)
    ds = dataset.BaseDataset(ann_file="textdet_train.json", data_root=str(out), pipeline=[], serialize_data=False)
    assert len(ds) == N and ds.metainfo["task_name"] == "textdet"
    for i, k in enumerate(sorted(src_scene)):
        info = ds.get_data_info(i)
        assert Path(info["img_path"]).read_bytes() == src_scene[k]["image"]
        want = text_regions(src_scene[k]["label"])
        assert [it["text"] for it in info["instances"]] == [w["text"] for w in want]
        for it, w in zip(info["instances"], want):
            same_quad(it["polygon"], w["quad"], 0.005)
    out = tmp_path / "rec"
    export(lines, "mmocr-rec", out)
    ds = dataset.BaseDataset(ann_file="textrecog_train.json", data_root=str(out), pipeline=[], serialize_data=False)
    want = [s for _, s in sorted(src_lines.items()) if not s["label"]["instances"][0]["ignore"]]
    assert len(ds) == len(want)
    for i, s in enumerate(want):
        info = ds.get_data_info(i)
        assert Path(info["img_path"]).read_bytes() == s["image"]
        assert info["instances"] == [{"text": s["label"]["instances"][0]["text"]}]


# -- docTR ------------------------------------------------------------------------------------
def read_doctr_det(out: Path) -> dict[str, tuple[np.ndarray, dict]]:
    """As docTR's DetectionDataset parses labels.json: every image must exist under the image
    folder; polygons -> an (N, 4, 2) float32 array (a list form; it takes the min and max over
    axis 1 for straight boxes, so a polygon list may not be empty)."""
    labels = json.loads((out / "labels.json").read_bytes())
    got = {}
    for name, label in labels.items():
        assert (out / "images" / name).is_file()
        polys = np.asarray(label["polygons"], dtype=np.float32)
        assert polys.ndim == 3 and polys.shape[1:] == (4, 2)
        np.concatenate((polys.min(axis=1), polys.max(axis=1)), axis=1)  # what use_polygons=False does
        got[name] = (polys, label)
    return got


def test_doctr_det(scene, src_scene, tmp_path):
    out = tmp_path / "d"
    export(scene, "doctr-det", out)
    got = read_doctr_det(out)
    with_text = [k for k in sorted(src_scene) if text_regions(src_scene[k]["label"])]
    assert list(got) == [f"{k}.{src_scene[k]['ext']}" for k in with_text]
    check_images(out, src_scene, with_text)
    for k in with_text:
        name = f"{k}.{src_scene[k]['ext']}"
        polys, label = got[name]
        assert label["img_dimensions"] == src_scene[k]["label"]["size"]  # (height, width)
        assert label["img_hash"] == hashlib.sha256((out / "images" / name).read_bytes()).hexdigest()
        want = text_regions(src_scene[k]["label"])  # docTR has no don't-care flag: all text regions
        assert len(polys) == len(want)
        for p, w in zip(polys, want):
            same_quad(p, w["quad"], 0.005 + 1e-4)  # float32


def test_doctr_det_leaves_out_images_without_text(tmp_path):
    img = encode(np.full((40, 60, 3), 255, np.uint8), "png")
    ds = make_dataset(tmp_path / "ds", [("000000000", "png", img, []),
                                        ("000000001", "png", img, [inst([[5, 5], [30, 5], [30, 15], [5, 15]], "hi")])])
    summary = export(ds, "doctr-det", tmp_path / "out")
    assert "1 images without text left out" in summary
    assert list(read_doctr_det(tmp_path / "out")) == ["000000001.png"]
    assert [p.name for p in (tmp_path / "out" / "images").iterdir()] == ["000000001.png"]


def test_doctr_rec(scene, src_scene, lines, src_lines, tmp_path):
    for src, ref, check in ((scene, src_scene, check_scene_crops), (lines, src_lines, check_line_crops)):
        out = tmp_path / src.name
        export(src, "doctr-rec", out)
        labels = json.loads((out / "labels.json").read_text(encoding="utf-8"))  # RecognitionDataset: {name: text}
        assert all(isinstance(v, str) for v in labels.values())
        check(out, ref, [(f"images/{n}", t) for n, t in labels.items()])


# -- COCO-Text --------------------------------------------------------------------------------
def test_coco_text(scene, src_scene, tmp_path):
    out = tmp_path / "c"
    export(scene, "coco-text", out)
    doc = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
    assert doc["categories"] == [{"id": 1, "name": "text", "supercategory": "text"}]
    check_images(out, src_scene)
    keys = sorted(src_scene)
    assert [im["file_name"] for im in doc["images"]] == [f"{k}.{src_scene[k]['ext']}" for k in keys]
    assert [im["id"] for im in doc["images"]] == list(range(1, N + 1))
    by_image: dict[int, list] = {}
    for a in doc["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    assert [a["id"] for a in doc["annotations"]] == list(range(1, len(doc["annotations"]) + 1))
    for im, k in zip(doc["images"], keys):
        lab = src_scene[k]["label"]
        assert [im["height"], im["width"]] == lab["size"]
        want = text_regions(lab)
        anns = by_image.get(im["id"], [])
        assert len(anns) == len(want)
        for a, w in zip(anns, want):
            assert len(a["segmentation"]) == 1
            same_quad(a["segmentation"][0], w["quad"], 0.005)
            q = np.asarray(w["quad"])
            np.testing.assert_allclose(a["bbox"], [*q.min(0), *(q.max(0) - q.min(0))], atol=0.011)
            assert a["utf8_string"] == w["text"] and a["category_id"] == 1
            assert (a["iscrowd"], a["legibility"]) == ((1, "illegible") if w["ignore"] else (0, "legible"))
            x, y = q[:, 0], q[:, 1]
            assert a["area"] == pytest.approx(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2, abs=0.01)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools on numpy 2
def test_coco_text_read_by_pycocotools(scene, src_scene, tmp_path):
    import pycocotools.coco as coco_mod  # declared in the test extra: missing, this fails, not skips
    out = tmp_path / "c"
    export(scene, "coco-text", out)
    coco = coco_mod.COCO(str(out / "annotations.json"))
    assert sorted(coco.getImgIds()) == list(range(1, N + 1)) and coco.getCatIds() == [1]
    n = 0
    for img_id, k in zip(sorted(coco.getImgIds()), sorted(src_scene)):
        img = coco.loadImgs(img_id)[0]
        assert (out / "images" / img["file_name"]).read_bytes() == src_scene[k]["image"]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        assert [a["utf8_string"] for a in anns] == [w["text"] for w in text_regions(src_scene[k]["label"])]
        for a in anns:
            m = coco.annToMask(a)
            assert m.shape == (img["height"], img["width"])
            if not a["iscrowd"] and a["area"] > 50:  # rasterised polygon covers about its area
                assert abs(int(m.sum()) - a["area"]) < 0.35 * a["area"] + 30
                n += 1
    assert n > N


def test_coco_text_photo_and_document_regions(tmp_path):
    img = encode(np.full((60, 80, 3), 255, np.uint8), "png")
    insts = [inst([[1, 1], [70, 1], [70, 50], [1, 50]], "", kind="document"),
             inst([[5, 5], [20, 5], [20, 25], [5, 25]], "", kind="photo"),
             inst([[30, 10], [60, 10], [60, 20], [30, 20]], "NAME", kind="field")]
    ds = make_dataset(tmp_path / "ds", [("000000000", "png", img, insts)], kind="document")
    export(ds, "coco-text", tmp_path / "out", "--kinds", "word,line,field,photo,document")
    doc = json.loads((tmp_path / "out" / "annotations.json").read_text())
    assert [c["name"] for c in doc["categories"]] == ["text", "photo", "document"]
    assert [(a["kind"], a["category_id"], a["utf8_string"]) for a in doc["annotations"]] == [
        ("document", 3, ""), ("photo", 2, ""), ("field", 1, "NAME")]
    assert doc["annotations"][2]["bbox"] == [30, 10, 30, 10] and doc["annotations"][2]["area"] == 300


# -- refusals, registry -----------------------------------------------------------------------
def one_line_error(capsys, args, expect):
    capsys.readouterr()
    assert main(["export", *map(str, args), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and expect in err, err


@pytest.mark.parametrize("fmt", ["icdar2015", "paddleocr-det", "mmocr-det", "doctr-det", "coco-text"])
def test_detection_formats_refuse_line_datasets(lines, tmp_path, capsys, fmt):
    one_line_error(capsys, [lines, "--to", fmt, tmp_path / "out"], "dataset of recognition crops")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


def test_refusals(scene, tmp_path, capsys):
    out = tmp_path / "out"
    one_line_error(capsys, [scene, "--to", "kraken", out], "unknown export format 'kraken'")
    one_line_error(capsys, [scene, "--to", "mmocr-det", out, "--kinds", "word,photo"], "holds text only")
    one_line_error(capsys, [scene, "--to", "icdar2015", out, "--kinds", "word,photo"], "holds text only")
    one_line_error(capsys, [scene, "--to", "lmdb", out, "--kinds", "word,photo"], "holds text only")
    one_line_error(capsys, [scene, "--to", "mmocr-rec", out, "--split", "../x"], "--split must be a plain name")
    one_line_error(capsys, [scene, "--to", "doctr-rec", out, "--height", "0"], "--height must be")
    one_line_error(capsys, [tmp_path / "missing", "--to", "paddleocr-det", out], "does not exist")
    assert not out.exists() and not (tmp_path / "out.partial").exists()
    # the Python API: the same registry, options checked by name
    from synthgen.io.exports import export as api_export

    for fmt in ("icdar2015", "lmdb", "paddleocr-rec", "coco-text"):
        with pytest.raises(UserError, match="unknown option"):
            api_export(str(scene), fmt, str(out), heigth=40)
    stats = api_export(str(scene), "doctr-rec", str(out), height=20, progress=False)
    assert stats.records > 0 and cv2.imread(str(next((out / "images").iterdir()))).shape[0] == 20
    assert api_export(str(scene), "icdar2015", str(tmp_path / "ic"), height=20, progress=False).samples == N


def test_truncated_shard_leaves_nothing(scene, tmp_path, capsys):
    import shutil

    cut = tmp_path / "cut"
    shutil.copytree(scene, cut)
    shard = cut / "shard-000001.tar"
    shard.write_bytes(shard.read_bytes()[:5000])
    for fmt in ("coco-text", "paddleocr-rec"):
        one_line_error(capsys, [cut, "--to", fmt, tmp_path / fmt], "shard-000001.tar is truncated")
        assert not (tmp_path / fmt).exists() and not (tmp_path / f"{fmt}.partial").exists()


def test_a_plugged_in_format(tmp_path, capsys):
    """A format from outside the package: a DetFormat subclass registered under a new name
    is exported by the CLI like the shipped ones (staging, kinds, errors come with the base)."""
    from synthgen.io.export_formats.base import DetFormat

    class Csv(DetFormat):
        title = "detection: one CSV line per region"

        def __init__(self, root, options):
            super().__init__(root, options)
            self.f = self.text_file("regions.csv")

        def add_image(self, img):
            for r in img.regions:
                self.f.write(f"{img.file},{r.bbox()},{r.text}\n")

    export_formats.register("toy-csv", Csv)
    try:
        img = encode(np.full((40, 60, 3), 255, np.uint8), "png")
        ds = make_dataset(tmp_path / "ds", [("000000000", "png", img, [inst([[5, 5], [30, 5], [30, 15], [5, 15]], "hi")])])
        assert "1 images, 1 text regions" in export(ds, "toy-csv", tmp_path / "out")
        assert (tmp_path / "out" / "regions.csv").read_text() == "images/000000000.png,[5.0, 5.0, 30.0, 15.0],hi\n"
        assert "toy-csv" in export_formats.names()
        with pytest.raises(ValueError, match="shipped"):
            export_formats.register("coco-text", Csv)
    finally:
        export_formats.FORMATS.pop("toy-csv", None)
