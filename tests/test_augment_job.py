"""`synthgen augment`: ICDAR 2015 folders and synthgen shards in, augmented shards out;
deterministic (same bytes across executors and reruns), resumable, labels moved with pixels."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import synthgen
from synthgen.augment.job import augment_dataset
from synthgen.cli import main
from synthgen.io.readers import Dataset
from synthgen.io.shards import read_shard

SMALL = {"image.width": 128, "image.height": 128, "text.words": [2, 4], "text.size": [12, 28]}


def icdar_folder(root: Path, n: int = 5) -> Path:
    """A tiny ICDAR 2015 folder: dark boxes on a gradient, each labelled by its quad."""
    root.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        yy, xx = np.mgrid[0:96, 0:160]
        img = np.stack([xx + 40, yy + 60, (xx + yy) // 2 + 50], -1).astype(np.uint8)
        lines = []
        for b, (x, y) in enumerate([(20 + 3 * k, 20), (70, 50 + k)]):
            q = np.array([[x, y], [x + 60, y], [x + 60, y + 22], [x, y + 22]])
            cv2.fillPoly(img, [q], (10, 10, 10))
            word = "###" if b == 1 and k == 0 else f"w{k},{b}"  # a comma inside a transcription
            lines.append(",".join(str(int(v)) for v in q.reshape(-1)) + "," + word)
        cv2.imwrite(str(root / f"img_{k + 1}.jpg"), img)
        (root / f"gt_img_{k + 1}.txt").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return root


def shard_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("shard-*.tar"))}


@pytest.fixture(scope="module")
def scene_ds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scene") / "ds"
    synthgen.render("ocr_scene", n=5, out=str(out), shard_size=3, executor="serial", overrides=SMALL, progress=False)
    return out


def test_icdar_folder_labels_follow_pixels(tmp_path):
    src = icdar_folder(tmp_path / "icdar")
    out = tmp_path / "aug"
    ops = {"ops": {n: {"p": 0.0} for n in ("crop", "scale", "shear", "perspective", "translate", "elastic")}}
    ops["ops"]["rotate"] = {"p": 1.0, "range": [6.0, 6.0]}
    m = augment_dataset(str(src), str(out), 1.0, copies=2, shard_size=4, overrides=ops, executor="serial", progress=False)
    assert m["counts"] == {"samples": 10, "shards": 3}
    samples = list(Dataset(str(out)))
    assert [s.key for s in samples] == [f"{j:09d}" for j in range(10)]
    R = cv2.getRotationMatrix2D((160 / 2, 96 / 2), 6.0, 1.0)  # the frame's centre, pixel-corner coordinates
    for s in samples:
        img = cv2.cvtColor(cv2.imdecode(np.frombuffer(s.image, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        k = s.meta["source_index"]
        gt = (src / f"gt_img_{k + 1}.txt").read_text(encoding="utf-8-sig").splitlines()
        assert [i["text"] for i in s.instances] == ["" if g.endswith("###") else g.split(",", 8)[8] for g in gt]
        assert s.instances[1]["ignore"] == (k == 0)
        for inst, g in zip(s.instances, gt):
            q0 = np.array([float(v) for v in g.split(",")[:8]]).reshape(4, 2)
            q = np.array(inst["quad"])
            assert np.allclose(q, q0 @ R[:, :2].T + R[:, 2], atol=0.02)  # an independent rotation
            # the box's dark pixels sit inside the moved quad
            mask = np.zeros(img.shape[:2], np.uint8)
            cv2.fillPoly(mask, [np.round(q).astype(np.int32)], 1)
            dark = img.max(-1) < 60
            assert dark[mask == 1].mean() > 0.85


def test_shards_in_process_equals_serial_and_resume(tmp_path, scene_ds):
    a, b = tmp_path / "a", tmp_path / "b"
    augment_dataset(str(scene_ds), str(a), 0.6, copies=2, shard_size=4, executor="serial", progress=False)
    augment_dataset(str(scene_ds), str(b), 0.6, copies=2, shard_size=4, executor="process", workers=2, progress=False)
    assert shard_bytes(a) == shard_bytes(b) and len(shard_bytes(a)) == 3
    # the score map is recomputed from the moved quads; labels carry the augmentation factors
    rec = read_shard(__import__("fsspec").filesystem("file"), str(a / "shard-000000.tar"))
    first = rec["000000001"]
    assert "score.png" in first and any(k.startswith("aug.") for k in json.loads(first["json"])["factors"])
    # resume: a lost shard is remade with the same bytes, finished ones are kept
    before = shard_bytes(a)
    (a / "shard-000001.tar").unlink()
    augment_dataset(str(scene_ds), str(a), 0.6, copies=2, shard_size=4, executor="serial", progress=False)
    assert shard_bytes(a) == before
    # a different job into the same folder is refused, one line, exit 2
    assert main(["augment", str(scene_ds), "--out", str(a), "--strength", "0.7", "--shard-size", "4", "--copies", "2",
                 "-q"]) == 2


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["augment", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--strength", "0.3"]) == 2
    assert "holds no images" in capsys.readouterr().err
    icdar = icdar_folder(tmp_path / "ic", 2)
    (icdar / "gt_img_2.txt").unlink()
    assert main(["augment", str(icdar), "--out", str(tmp_path / "o"), "--strength", "0.3"]) == 2
    assert "gt_img_2.txt" in capsys.readouterr().err
    assert main(["augment", str(icdar), "--out", str(tmp_path / "o"), "--strength", "1.5"]) == 2
    assert not (tmp_path / "o").exists()


def test_ray_gives_the_same_bytes_as_process(tmp_path, scene_ds):
    """Shards and an ICDAR 2015 folder, each augmented by local processes and by Ray tasks (one
    per output shard): byte-identical shards."""
    ray = pytest.importorskip("ray")
    icdar = icdar_folder(tmp_path / "icdar", 5)
    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                 log_to_driver=False, logging_level="ERROR")
    try:
        for name, src, copies in (("shards", scene_ds, 1), ("icdar", icdar, 2)):
            a, b = tmp_path / f"{name}.p", tmp_path / f"{name}.r"
            augment_dataset(str(src), str(a), 0.5, copies=copies, shard_size=2, executor="process", workers=2,
                            progress=False)
            augment_dataset(str(src), str(b), 0.5, copies=copies, shard_size=2, executor="ray", workers=2,
                            progress=False)
            assert shard_bytes(a) == shard_bytes(b) and len(shard_bytes(a)) in (3, 5), name
    finally:
        if started:
            ray.shutdown()
