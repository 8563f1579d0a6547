"""`synthgen.ray.read_synthetic`: a Ray Data source whose rows are `pipeline.sample(i)`, on a
local Ray of 2 CPUs (2 workers), compared key by key and pixel by pixel with the pipeline;
and a 3-batch `iter_torch_batches` loop."""

import json

import numpy as np
import pytest

import synthgen
from synthgen.errors import UserError

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")  # Ray Data: ray[data] (pandas, pyarrow)

SMALL = {"image.width": 128, "image.height": 128, "text.size": [8, 24], "text.words": [2, 5], "augment.strength": 0.4}


@pytest.fixture(scope="module")
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield
    if started:
        ray.shutdown()


def label_json(s, part: str):
    """What a shard's <key>.json holds of `part`, as parsed JSON."""
    from synthgen.ray import _dumps

    return json.loads(_dumps(s.to_json(arrays=True)[part]))


def test_rows_are_pipeline_samples(local_ray):
    import synthgen.ray as sray

    n, start = 10, 5
    ds = synthgen.ray.read_synthetic("ocr_scene", n=n, seed=3, start=start, batch_size=3, blocks=2, **SMALL)
    assert isinstance(ds, ray.data.Dataset)
    got = sorted(ds.take_all(), key=lambda r: r["index"])
    pipe = synthgen.load_pipeline("ocr_scene", seed=3, **SMALL)
    assert [r["index"] for r in got] == list(range(start, start + n))
    for r in got:
        s = pipe.sample(r["index"])
        assert r["key"] == s.key
        assert r["image"].dtype == np.uint8 and np.array_equal(r["image"], s.image)
        assert json.loads(r["instances"]) == label_json(s, "instances")
        assert json.loads(r["factors"]) == label_json(s, "factors")
        assert json.loads(r["meta"]) == label_json(s, "meta")
        # the decoded instances replay as the pipeline's labelled ones
        for a, b in zip(sray.instances(r), s.instances):
            assert a.text == b.text and np.allclose(a.quad, b.quad, atol=0.005)
    # a built Pipeline gives the same rows; its replay from a row's factors too
    first = got[0]
    again = synthgen.ray.read_synthetic(pipe, n=1, start=start).take_all()[0]
    assert np.array_equal(again["image"], first["image"]) and again["factors"] == first["factors"]
    assert np.array_equal(pipe.replay(start, json.loads(first["factors"])).image, first["image"])


def test_iter_torch_batches_three_batches_of_lines(local_ray):
    import torch

    import synthgen.ray as sray

    ds = sray.read_synthetic("ocr_line", n=9, seed=1, batch_size=3, blocks=2)
    pipe = synthgen.load_pipeline("ocr_line", seed=1)
    seen = []
    for step, batch in enumerate(ds.iter_torch_batches(batch_size=3, collate_fn=sray.collate)):
        assert batch["index"].dtype == torch.int64 and len(batch["key"]) == 3
        imgs = batch["image"] if isinstance(batch["image"], list) else list(batch["image"])
        for i, img, insts in zip(batch["index"].tolist(), imgs, batch["instances"]):
            s = pipe.sample(i)
            assert img.dtype == torch.uint8 and img.shape[0] == 3
            assert torch.equal(img, torch.from_numpy(s.image.transpose(2, 0, 1).copy()))
            assert [x.text for x in insts] == [x.text for x in s.instances]
            seen.append(i)
        loss = torch.stack([im.float().mean() for im in imgs]).mean()  # a stand-in training step
        assert torch.isfinite(loss)
    assert step == 2 and sorted(seen) == list(range(9))


def test_rows_helper_and_refusals(local_ray):
    import synthgen.ray as sray

    batch = next(iter(sray.read_synthetic("ocr_scene", n=2, seed=0, **SMALL).iter_batches(batch_size=2)))
    rows = sray.rows(batch)
    assert sorted(r["index"] for r in rows) == [0, 1] and all(isinstance(r["factors"], dict) for r in rows)
    with pytest.raises(UserError, match="n must be"):
        sray.read_synthetic("ocr_scene", n=-1)
    with pytest.raises(UserError, match="already-built Pipeline"):
        sray.read_synthetic(synthgen.load_pipeline("ocr_scene"), n=1, seed=2)
    with pytest.raises(UserError):
        sray.read_synthetic("no_such_pipeline", n=1)


def test_facade_attribute():
    """`synthgen.ray.read_synthetic` after a plain `import synthgen`, in a fresh interpreter."""
    import subprocess
    import sys

    code = "import synthgen; print(synthgen.ray.read_synthetic.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "synthgen.ray"
