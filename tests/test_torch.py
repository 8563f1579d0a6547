"""The PyTorch dataset gives sample i of the seed whatever the DataLoader worker."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthgen.torch import SynthDataset, collate  # noqa: E402

SMALL = {"image.width": 64, "image.height": 64, "text.size": [10, 20], "text.words": [1, 3]}


def test_dataloader_workers_match_direct_samples():
    ds = SynthDataset("ocr_scene", n=8, seed=3, maps=("score", "geo_rbox", "mask"), **SMALL)
    dl = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate)
    batches = list(dl)
    assert [b["image"].shape for b in batches] == [(4, 3, 64, 64)] * 2
    assert batches[0]["geo_rbox"].shape == (4, 16, 16, 5) and batches[0]["score"].shape == (4, 16, 16)
    for j in range(8):
        direct = ds.pipeline.sample(j).image
        got = batches[j // 4]["image"][j % 4].numpy().transpose(1, 2, 0)
        assert np.array_equal(direct, got)


def test_epochs_give_fresh_samples():
    ds = SynthDataset("ocr_scene", n=4, **SMALL)
    a = ds[1]["image"]
    ds.set_epoch(1)
    assert not torch.equal(a, ds[1]["image"])
    assert torch.equal(ds[1]["image"], torch.from_numpy(ds.pipeline.sample(5).image.transpose(2, 0, 1).copy()))
    with pytest.raises(IndexError):
        ds[4]


def test_line_pipeline_items():
    ds = SynthDataset("ocr_line", n=3)
    item = ds[0]
    assert item["image"].shape[1] == 32 and "score" not in item
    assert item["instances"][0]["kind"] == "line" and item["instances"][0]["text"]
