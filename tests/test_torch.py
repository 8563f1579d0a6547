"""The PyTorch datasets give sample i of the seed whatever the worker, rank or storage."""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthgen.errors import UserError  # noqa: E402
from synthgen.torch import ShardDataset, SynthDataset, SynthIterable, collate  # noqa: E402

SMALL = {"image.width": 64, "image.height": 64, "text.size": [10, 20], "text.words": [1, 3]}
DL = torch.utils.data.DataLoader
# 3 workers on a 2-core machine is deliberate (worker-count independence); torch warns about it
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")


def _direct(pipe, i):
    return torch.from_numpy(pipe.sample(i).image.transpose(2, 0, 1).copy())


def test_dataloader_workers_match_direct_samples():
    ds = SynthDataset("ocr_scene", n=8, seed=3, maps=("score", "geo_rbox", "mask"), **SMALL)
    dl = DL(ds, batch_size=4, num_workers=2, collate_fn=collate)
    batches = list(dl)
    assert [b["image"].shape for b in batches] == [(4, 3, 64, 64)] * 2
    assert batches[0]["geo_rbox"].shape == (4, 16, 16, 5) and batches[0]["score"].shape == (4, 16, 16)
    for j in range(8):
        direct = ds.pipeline.sample(j)
        assert np.array_equal(direct.image, batches[j // 4]["image"][j % 4].numpy().transpose(1, 2, 0))
        # the score map is the sample's own (reused), not recomputed differently
        assert np.array_equal(direct.maps["score"], batches[j // 4]["score"][j % 4].numpy())


def test_epochs_give_fresh_samples():
    ds = SynthDataset("ocr_scene", n=4, **SMALL)
    a = ds[1]["image"]
    ds.set_epoch(1)
    assert not torch.equal(a, ds[1]["image"])
    assert torch.equal(ds[1]["image"], _direct(ds.pipeline, 5))
    with pytest.raises(IndexError):
        ds[4]


def test_line_pipeline_items_and_float_images():
    ds = SynthDataset("ocr_line", n=3, image="float")
    item = ds[0]
    assert item["image"].shape[1] == 32 and "score" not in item
    assert item["image"].dtype == torch.float32 and 0 <= float(item["image"].min()) <= float(item["image"].max()) <= 1
    assert torch.allclose(item["image"] * 255, _direct(ds.pipeline, 0).float(), atol=1e-3)
    inst = item["instances"][0]
    assert inst.kind == "line" and inst.text and inst.chars.shape == (len(inst.text), 4, 2)
    # the label files' 1/100 px, as float32 arrays
    ref = ds.pipeline.sample(0).instances[0].to_json()
    assert inst.to_json() == ref and inst.quad.dtype == np.float32


def _seq(ds, workers, batch_size=None, take=24):
    """Keys and images in the order a DataLoader hands them out."""
    if ds.batched:
        dl = DL(ds, batch_size=None, num_workers=workers)
    else:
        dl = DL(ds, batch_size=ds.block, num_workers=workers, collate_fn=collate)
    out = []
    for b in itertools.islice(dl, take // ds.block):
        out += list(zip(b["key"], b["image"]))
    return out


@pytest.mark.parametrize("batched", [False, True])
def test_iterable_same_sequence_for_0_1_3_workers(batched):
    kw = {"batch_size": 4} if batched else {"block": 4}
    ref = None
    for workers in (0, 1, 3):
        ds = SynthIterable("ocr_line", seed=5, start=10, **kw)
        got = _seq(ds, workers)
        keys = [k for k, _ in got]
        assert keys == [f"{i:09d}" for i in range(10, 34)]
        if ref is None:
            ref = got
            for k, img in got[:6]:  # and they are the pipeline's own samples
                ref_img = _direct(ds.pipeline, int(k))
                assert torch.equal(img[:, : ref_img.shape[1], : ref_img.shape[2]], ref_img)
        else:
            assert all(torch.equal(a[1], b[1]) for a, b in zip(ref, got))


def test_two_ranks_split_the_stream_once_whatever_the_workers():
    seqs = {}
    for rank in (0, 1):
        for workers in (0, 3):
            ds = SynthIterable("ocr_line", seed=1, block=2, rank=rank, world_size=2)
            seqs[rank, workers] = [k for k, _ in _seq(ds, workers, take=12)]
    assert seqs[0, 0] == seqs[0, 3] and seqs[1, 0] == seqs[1, 3]
    a, b = set(seqs[0, 0]), set(seqs[1, 0])
    assert not a & b and a | b == {f"{i:09d}" for i in range(24)}
    assert seqs[0, 0][:4] == ["000000000", "000000001", "000000004", "000000005"]


def test_bounded_epochs_and_bias_reach_persistent_workers():
    ds = SynthIterable("ocr_line", seed=2, n=6, block=3, factors=True)
    dl = DL(ds, batch_size=3, num_workers=2, persistent_workers=True, collate_fn=collate)
    e0 = [k for b in dl for k in b["key"]]
    assert e0 == [f"{i:09d}" for i in range(6)]
    ds.set_epoch(1)
    kinds = ds.pipeline.factor_space()["background.kind"].options  # whatever kinds the pipeline has
    ds.set_bias({"background.kind": {k: float(k == "plain") for k in kinds}})
    e1 = list(dl)
    assert [k for b in e1 for k in b["key"]] == [f"{i:09d}" for i in range(6, 12)]
    kinds = [f["background.kind"] for b in e1 for f in b["factors"]]
    assert kinds == ["plain"] * 6
    # the biased sample is exactly what the pipeline gives for that index and bias
    s = ds.pipeline.sample(7, bias=ds.bias)
    h, w = s.image.shape[:2]
    assert torch.equal(e1[0]["image"][1][:, :h, :w], torch.from_numpy(s.image.transpose(2, 0, 1).copy()))


def test_bad_arguments_are_user_errors():
    with pytest.raises(UserError):
        SynthIterable("ocr_line", batch_size=2, block=2)
    with pytest.raises(UserError):
        SynthIterable("ocr_line", rank=2, world_size=2)
    with pytest.raises(UserError):
        SynthDataset("ocr_line", n=2, image="half")


def test_collate_pads_variable_widths():
    a = {"key": "a", "image": torch.ones(3, 32, 10, dtype=torch.uint8), "instances": [1]}
    b = {"key": "b", "image": torch.ones(3, 32, 6, dtype=torch.uint8), "instances": []}
    out = collate([a, b])
    assert out["image"].shape == (2, 3, 32, 10) and out["sizes"].tolist() == [[32, 10], [32, 6]]
    assert int(out["image"][1, :, :, 6:].sum()) == 0 and int(out["image"][1, :, :, :6].sum()) == 3 * 32 * 6
    assert out["instances"] == [[1], []]


def test_batches_carry_labels_as_few_objects():
    """What the main process unpickles per batch: the labels of 16 scene samples come as
    Instance objects with array quads (not thousands of nested lists), and only image, score
    and one small index/size tensor travel as shared memory."""
    import gc
    import pickle

    from multiprocessing.reduction import ForkingPickler

    import torch.multiprocessing  # noqa: F401 (registers the tensor reductions)

    ds = SynthIterable("ocr_line", seed=0, batch_size=4, maps=("score",))
    batch = next(iter(DL(ds, batch_size=None, num_workers=1)))
    n_inst = sum(len(x) for x in batch["instances"])
    assert n_inst >= 4
    inst = batch["instances"][0][0]
    assert isinstance(inst.quad, np.ndarray) and inst.quad.shape == (4, 2) and inst.chars.ndim == 3
    assert batch["index"].tolist() == [0, 1, 2, 3]
    assert batch["sizes"].tolist() == [list(ds.pipeline.sample(i).image.shape[:2]) for i in range(4)]
    objs = pickle.loads(ForkingPickler.dumps(batch["instances"]))
    tracked = sum(1 for _ in _walk(objs) if gc.is_tracked(_))
    assert tracked <= 2 * n_inst + len(objs) + 1  # a list per sample, an Instance and its __dict__ each
    tensors = [k for k, v in batch.items() if isinstance(v, torch.Tensor)]
    storages = {v.untyped_storage().data_ptr() for k, v in batch.items() if isinstance(v, torch.Tensor)}
    assert sorted(tensors) == ["image", "index", "score", "sizes"] and len(storages) == 3


def _walk(o):
    yield o
    if isinstance(o, list):
        for x in o:
            yield from _walk(x)
    elif hasattr(o, "__dict__"):
        yield o.__dict__
        for x in vars(o).values():
            yield from _walk(x)


@pytest.fixture(scope="module")
def scene_shards(tmp_path_factory):
    from synthgen.run.job import render

    out = tmp_path_factory.mktemp("shards") / "scene"
    over = {**SMALL, "output.format": "png", "labels.store": ["score", "geo_rbox"]}
    render("ocr_scene", n=10, out=str(out), seed=4, shard_size=4, workers=1, executor="serial", progress=False,
           overrides=over)
    return out, SynthDataset("ocr_scene", n=10, seed=4, maps=("score", "geo_rbox"), **over)


def test_shards_hold_the_same_samples(scene_shards):
    out, ds = scene_shards
    items = list(DL(ShardDataset(str(out), maps=("score", "geo_rbox")), batch_size=None, num_workers=2))
    assert sorted(it["index"] for it in items) == list(range(10))  # each sample once over 2 workers
    for it in items:
        ref = ds[it["index"]]
        assert it["key"] == ref["key"]
        assert torch.equal(it["image"], ref["image"])  # png shards: lossless
        assert [i.to_json() for i in it["instances"]] == [i.to_json() for i in ref["instances"]]
        assert all(np.array_equal(a.chars, b.chars) for a, b in zip(it["instances"], ref["instances"]))
        assert torch.equal(it["score"], ref["score"])
        assert torch.allclose(it["geo_rbox"], ref["geo_rbox"], atol=0.1, rtol=1e-3)  # stored as float16


def test_shard_ranks_and_truncated_shard_named(scene_shards, tmp_path):
    out, _ = scene_shards
    r0 = {it["key"] for it in ShardDataset(str(out), rank=0, world_size=2)}
    r1 = {it["key"] for it in ShardDataset(str(out), rank=1, world_size=2)}
    assert not r0 & r1 and len(r0 | r1) == 10
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in out.iterdir():
        data = p.read_bytes()
        (bad / p.name).write_bytes(data[: len(data) // 2] if p.name == "shard-000001.tar" else data)
    with pytest.raises(UserError, match="shard-000001.tar is truncated"):
        list(ShardDataset(str(bad)))


def test_floor_share_of_a_biased_stream_keeps_the_base_distribution():
    ds = SynthIterable("ocr_line", seed=3, block=5, n=10, floor=0.2, factors=True)
    kinds = ds.pipeline.factor_space()["background.kind"].options
    ds.set_bias({"background.kind": {k: float(k == "plain") for k in kinds}})
    items = list(ds)
    base = [it["index"] for it in items if ds.is_base(it["index"])]
    assert base == [4, 9]  # an even 0.2 share, as the miner's rounds
    for it in items:
        ref = ds.pipeline.sample(it["index"], bias=None if it["index"] in base else ds.bias)
        assert torch.equal(it["image"], torch.from_numpy(ref.image.transpose(2, 0, 1).copy()))
    assert all(it["factors"]["background.kind"] == "plain" for it in items if it["index"] not in base)
    with pytest.raises(UserError):
        SynthIterable("ocr_line", floor=1.5)
