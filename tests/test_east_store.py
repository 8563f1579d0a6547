"""`labels.store`: dense EAST maps stored per sample as <key>.east.npz (float16), reproducibly."""

import io
import json

import numpy as np

import synthgen
from synthgen.io.shards import read_shard, url_to_fs
from synthgen.labels import east_targets

from .helpers import shard_hashes

STORE = {"image.width": 128, "image.height": 128, "text.size": [12, 28], "text.words": [2, 4],
         "labels.store": ["score", "geo_rbox", "geo_quad", "mask"]}


def test_store_writes_npz_matching_on_the_fly_targets(tmp_path):
    m = synthgen.render(n=4, out=str(tmp_path / "a"), shard_size=4, workers=1, overrides=STORE, progress=False)
    fs, _ = url_to_fs(str(tmp_path / "a"))
    samples = read_shard(fs, str(tmp_path / "a" / m["shards"][0]["name"]))
    assert len(samples) == 4
    for key, members in samples.items():
        z = np.load(io.BytesIO(members["east.npz"]), allow_pickle=False)
        assert sorted(z.files) == ["geo_quad", "geo_rbox", "mask"]
        assert z["geo_rbox"].dtype == np.float16 and z["geo_rbox"].shape == (32, 32, 5)
        assert z["geo_quad"].shape == (32, 32, 8) and z["mask"].shape == (32, 32)
        meta = json.loads(members["json"])
        # A loader computing the maps from the JSON gets the same maps (up to float16 rounding
        # and the 1/100 px rounding of quads in the JSON).
        t = east_targets(meta["instances"], (128, 128), stride=4, min_text_size=10)
        assert np.array_equal(t["mask"], z["mask"].astype(np.float32))
        # A cell lying on a shrunk quad's edge can fall either side after the 1/100 px rounding:
        # the text cells may differ by a few edge cells; where both have text, geometry agrees.
        stored = np.abs(z["geo_rbox"][..., :4].astype(np.float32)).sum(axis=-1) > 0
        fly = t["score"] > 0
        assert (stored != fly).sum() <= max(2, 0.02 * fly.sum())
        both = stored & fly
        assert np.abs(t["geo_rbox"][both][:, :4] - z["geo_rbox"][both][:, :4].astype(np.float32)).max() < 0.6


def test_store_is_byte_reproducible(tmp_path):
    synthgen.render(n=3, out=str(tmp_path / "a"), shard_size=3, workers=1, overrides=STORE, progress=False)
    synthgen.render(n=3, out=str(tmp_path / "b"), shard_size=3, workers=1, overrides=STORE, progress=False)
    assert shard_hashes(tmp_path / "a") == shard_hashes(tmp_path / "b")
