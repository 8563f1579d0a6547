"""`synthgen augment` with a Ray Dataset as input (issue 24 item 3): `synthgen.augment.augment_ray`
(and `synthgen.augment_dataset(ds, None, ...)`) on the rows of `synthgen.ray.read_synthetic`, on a
local Ray of 2 CPUs, against `synthgen augment` of the same samples rendered to PNG shards (so the
input pixels are the same): every output row's pixels, labels, factors, meta and encoded members
equal the shard's, byte for byte."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import synthgen
from synthgen.errors import UserError
from synthgen.io.shards import read_shard, url_to_fs

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")  # Ray Data: ray[data] (pandas, pyarrow)

SMALL = {"image.width": 96, "image.height": 96, "text.size": [8, 24], "text.words": [2, 4], "output.format": "png"}
N, COPIES, SEED, STRENGTH = 5, 2, 9, 0.8


@pytest.fixture(scope="module")
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def augmented_shards(tmp_path_factory):
    """`synthgen augment` of samples 0..N-1 rendered to PNG shards: {key: {ext: bytes}}."""
    root = tmp_path_factory.mktemp("augray")
    src, out = root / "src", root / "aug"
    synthgen.render("ocr_scene", n=N, out=str(src), seed=2, shard_size=3, workers=1, executor="serial",
                    overrides=SMALL, progress=False)
    m = synthgen.augment_dataset(str(src), str(out), STRENGTH, copies=COPIES, seed=SEED, executor="serial",
                                 workers=1, shard_size=4, progress=False)
    assert m["counts"]["samples"] == N * COPIES
    fs, path = url_to_fs(str(out))
    got = {}
    for s in m["shards"]:
        got.update(read_shard(fs, f"{path}/{s['name']}"))
    return got


def test_augmented_rows_equal_synthgen_augment(local_ray, augmented_shards):
    from synthgen.augment import augment_ray

    ds = synthgen.ray.read_synthetic("ocr_scene", n=N, seed=2, batch_size=2, blocks=2, **SMALL)
    aug = augment_ray(ds, STRENGTH, copies=COPIES, seed=SEED, image_ext="png", score=True, encode=True, batch_size=2)
    assert isinstance(aug, ray.data.Dataset)
    rows = sorted(aug.take_all(), key=lambda r: r["index"])
    assert [r["index"] for r in rows] == list(range(N * COPIES))
    assert sorted(r["key"] for r in rows) == sorted(augmented_shards)
    changed = 0
    for r in rows:
        shard = augmented_shards[r["key"]]
        assert r["png"] == shard["png"] and r["json"] == shard["json"] and r["score.png"] == shard["score.png"]
        label = json.loads(shard["json"])
        img = cv2.cvtColor(cv2.imdecode(np.frombuffer(shard["png"], np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        assert r["image"].dtype == np.uint8 and np.array_equal(r["image"], img)
        assert json.loads(r["instances"]) == label["instances"]
        assert json.loads(r["factors"]) == label["factors"] and json.loads(r["meta"]) == label["meta"]
        meta = json.loads(r["meta"])
        assert (meta["source_index"], meta["copy"]) == divmod(r["index"], COPIES)
        changed += any(v is True for k, v in label["factors"].items() if k.endswith(".apply"))
    assert changed >= N  # the augmentation did something: most rows have ops applied


def test_augment_dataset_takes_a_ray_dataset(local_ray, augmented_shards):
    ds = synthgen.ray.read_synthetic("ocr_scene", n=2, seed=2, **SMALL)
    aug = synthgen.augment_dataset(ds, None, STRENGTH, copies=COPIES, seed=SEED)
    rows = sorted(aug.take_all(), key=lambda r: r["index"])
    assert [r["index"] for r in rows] == [0, 1, 2, 3] and "png" not in rows[0]  # encode=False: decoded rows only
    for r in rows:
        label = json.loads(augmented_shards[r["key"]]["json"])
        assert json.loads(r["factors"]) == label["factors"] and json.loads(r["instances"]) == label["instances"]
    # they feed Ray Train's iter_torch_batches like read_synthetic's rows
    batch = next(iter(aug.iter_torch_batches(batch_size=4, collate_fn=synthgen.ray.collate)))
    assert batch["image"].shape == (4, 3, 96, 96) and len(batch["instances"]) == 4
    with pytest.raises(UserError, match="out=None"):
        synthgen.augment_dataset(ds, "somewhere", STRENGTH)


def test_refusals(local_ray):
    from synthgen.augment import augment_ray

    ds = synthgen.ray.read_synthetic("ocr_line", n=2, seed=0)
    with pytest.raises(UserError, match="strength"):
        augment_ray(ds, 1.5)
    with pytest.raises(UserError, match="copies"):
        augment_ray(ds, 0.5, copies=0)
    with pytest.raises(UserError, match="ops"):
        augment_ray(ds, 0.5, overrides={"ops.nosuch.p": 1})
    with pytest.raises(UserError, match="ray.data.Dataset"):
        augment_ray([1, 2], 0.5)
    with pytest.raises(UserError, match="lack column"):
        augment_ray(ray.data.from_items([{"a": 1}]).materialize(), 0.5)
