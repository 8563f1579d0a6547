"""Draws are read-only to renderers (issue 21, item 3): a pin that names no factor, or a derived
one, is refused in every shipped pipeline whatever its config. Portrait steering used to write
its pins into the caller's `Draws` and the check compared counts, so with `photo.bank: 0` the
steering's own pin hits hid a mistyped pin (`identity.sexx=F`, `no.such.factor`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import synthgen
from synthgen.cli import main
from synthgen.config import available, load_config
from synthgen.draws import DERIVED, Draws
from synthgen.errors import UserError

BAD = ("no.such.factor", "identity.sexx", "derived.scale")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for k, col in enumerate([(0, 0, 255), (0, 255, 0)]):
        cv2.imwrite(str(folder / f"p{k}.png"), np.full((300, 240, 3), col, np.uint8))
    return str(folder)


def _variants(photos: str) -> list[tuple[str, dict]]:
    """Every shipped pipeline as shipped and without augmentation; documents also with a
    portrait drawn per card (photo.bank 0), in and out of scenes, and from a photo folder."""
    out = []
    for name in available():
        cfg, _ = load_config(name)
        out += [(name, {}), (name, {"augment.strength": 0})]
        if cfg.kind == "document":
            out += [(name, {"document.photo.bank": 0}),
                    (name, {"document.photo.bank": 0, "document.in_scene": not cfg.document.in_scene}),
                    (name, {"document.photo.source": "folder", "document.photo.folder": photos})]
    return out


def test_every_shipped_pipeline_has_variants(photos):
    v = _variants(photos)
    assert {n for n, _ in v} == set(available()) and len(available()) >= 13
    assert sum(o.get("document.photo.bank") == 0 for _, o in v) >= 16  # every document kind, flat and in scenes


def test_unknown_and_derived_pins_are_refused_in_every_pipeline_and_variant(photos, tmp_path):
    """Against each variant's own declared catalogue (synthgen/factors.py: nothing rendered)."""
    for name, over in _variants(photos):
        pipe = synthgen.load_pipeline(name, **over)
        real = next(k for k in pipe.sample(0).factors if not k.startswith(DERIVED))
        for bad in BAD:
            # alone, and beside a pin that this sample does use
            for pins in ({bad: "F"}, {real: pipe.sample(0).factors[real], bad: "F"}):
                with pytest.raises(UserError, match=bad.replace(".", r"\.")):
                    pipe.sample(0, pinned=pins)
                    pytest.fail(f"{name} {over}: pin {pins} accepted")
        # the CLI: exit 2 before anything is written
        out = tmp_path / f"{name}.{len(over)}"
        sets = [x for k, v in over.items() for x in ("--set", f"{k}={str(v).lower() if isinstance(v, bool) else v}")]
        assert main(["render", name, "--n", "1", "--out", str(out), "--pin", "no.such.factor=1", *sets]) == 2, (name, over)
        assert not out.exists()


def test_steering_leaves_the_callers_draws_as_they_were():
    """The portrait of a card drawn per card (bank 0) is steered to its holder through an
    overlay: the caller's pins are read-only and untouched, and its pin hits name only its own
    pins (the steering's pins are the overlay's)."""
    pipe = synthgen.load_pipeline("passport_td3", **{"document.photo.bank": 0, "augment.strength": 0})
    d = Draws(pipe.seed, 0, pinned={"identity.sex": "F"})
    pipe.render_draws(d, 0, meta={})
    assert dict(d.pinned) == {"identity.sex": "F"} and d.pin_hits == {"identity.sex"}
    assert "photo.hair.style_for_sex" in d.factors  # steering happened (and recorded its draw here)
    with pytest.raises(TypeError):
        d.pinned["photo.hair.style"] = "long"  # type: ignore[index]
    # the overlay: its own pins first, the caller's below; records go to the caller's factors
    o = d.overlay({"x.a": 1.5})
    assert o.uniform("x.a", 0, 1) == 1.5 and o.choice("identity.sex", ["M", "F"]) == "F"
    assert d.factors["x.a"] == 1.5 and "x.a" not in d.pinned and d.pin_hits == {"identity.sex"}
    # the same draw through an overlay without pins of its own is the same value as directly
    assert Draws(1, 2).overlay({}).uniform("q", 0, 1) == Draws(1, 2).uniform("q", 0, 1)
