"""Backgrounds: every kind at awkward sizes, keyed determinism, the shipped photo tiles and their
licences, paper folds and stains, fractal banks, config validation."""

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from synthgen.config import BackgroundCfg
from synthgen.draws import Draws
from synthgen.renderers import backgrounds as B

TEX = Path(B.__file__).resolve().parent.parent / "data" / "textures"
KINDS = ["plain", "gradient", "texture", "noise", "fractal", "paper", "photo"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_any_size_deterministic(kind):
    for i, (w, h) in enumerate([(512, 512), (600, 24), (24, 600), (1, 1), (700, 1100)]):
        a = B.render_background(Draws(5, i), {kind: 1}, [], w, h)
        b = B.render_background(Draws(5, i), {kind: 1}, [], w, h)
        assert a.shape == (h, w, 3) and a.dtype == np.uint8 and a.flags.c_contiguous
        assert np.array_equal(a, b)
    if kind != "plain":  # different samples differ
        imgs = [B.render_background(Draws(5, i), {kind: 1}, [], 96, 64) for i in range(6)]
        assert len({x.tobytes() for x in imgs}) == 6


def test_shipped_tiles_and_licences():
    tiles = sorted(TEX.glob("*.jpg"))
    assert len(tiles) >= 100
    total = sum(p.stat().st_size for p in TEX.iterdir())
    assert total < 12_000_000
    lic = (TEX / "LICENSE.md").read_text(encoding="utf-8")
    sources = {p.name.split("__")[1] for p in tiles}
    for src in sources:  # every source image is listed with its licence
        row = next((l for l in lic.splitlines() if l.startswith("|") and re.search(rf"/{src}\.\w+ \|", l.replace("_", "-").lower())), None)
        assert row is not None, src
        assert any(k in row for k in ("CC0", "public domain", "GPL-2+")), row
    assert "GNU GENERAL PUBLIC LICENSE" in lic  # GPL photos travel with the licence text
    cats = B.photo_categories()
    assert {"wood", "stone", "brick", "foliage", "sky"} <= set(cats)
    for p in tiles[::10]:
        im = cv2.imread(str(p))
        assert im.shape == (512, 512, 3) and im.std() > 5


def test_photo_category_pin_and_record():
    d = Draws(1, 3, pinned={"background.photo_category": "brick"})
    img = B.render_background(d, {"photo": 1}, [], 200, 120)
    assert d.factors["background.photo_category"] == "brick"
    # the brick source is greyscale: a brick crop is grey unless toned (gain/bias keep grey grey)
    assert np.abs(img[..., 0].astype(int) - img[..., 2]).max() <= 2
    other = B.render_background(Draws(1, 3, pinned={"background.photo_category": "foliage"}), {"photo": 1}, [], 200, 120)
    g = other.astype(int)
    assert (g[..., 1] - g[..., 2]).mean() > 5 or (g[..., 1] - g[..., 0]).mean() > 5  # foliage is green-ish


def test_paper_is_light_and_fold_and_stain_are_local():
    base = {"background.paper.fold": False, "background.paper.stain": False, "background.paper.depth": 0.85,
            "background.paper.tone": 1}
    for i in range(5):
        plain = B.render_background(Draws(2, i, pinned=base), {"paper": 1}, [], 300, 200)
        assert plain.mean() > 170  # light paper tone, dark end at >= 0.85 of it
        fold = B.render_background(Draws(2, i, pinned={**base, "background.paper.fold": True}), {"paper": 1}, [], 300, 200)
        diff = np.abs(fold.astype(int) - plain).max(axis=2)
        assert diff.max() > 2 and diff.mean() < 20  # a crease, not a new picture
        stain = B.render_background(Draws(2, i, pinned={**base, "background.paper.stain": True,
                                                        "background.paper.stains": 1}), {"paper": 1}, [], 300, 200)
        sd = np.abs(stain.astype(int) - plain).max(axis=2)
        # a stain darkens, and only part of the page
        assert (stain.astype(int) <= plain.astype(int) + 1).all()
        assert (sd > 0).mean() < 0.95


def test_fractal_bank_is_varied_and_built_once():
    bank = B.fractal_bank(B.NOISE_SIZE)
    assert bank is B.fractal_bank(B.NOISE_SIZE)
    assert all(b.shape == (B.NOISE_SIZE, B.NOISE_SIZE) and b.min() == 0 and b.max() == 255 for b in bank)
    # the variants differ in texture: high-frequency energy spans a range
    hf = [float(np.abs(np.diff(b.astype(np.float32), axis=1)).mean()) for b in bank]
    assert max(hf) > 2 * min(hf)


def test_config_kinds():
    BackgroundCfg(weights={"photo": 2, "paper": 1, "fractal": 1})
    with pytest.raises(ValueError, match="unknown background kind"):
        BackgroundCfg(weights={"photos": 1})
