"""Keyed seeding and the scene renderer's geometry, as properties (the factor contract: test_factors.py)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import synthgen
from synthgen.draws import sample_rng
from synthgen.renderers.layout import r3, t3
from synthgen.renderers.scene import apply_h, blend, box_corners


def signed_area(q):
    x, y = q[:, 0], q[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def test_sample_rng_is_keyed_not_sequential():
    a = sample_rng(5, 10).random(4)
    assert np.array_equal(a, sample_rng(5, 10).random(4))
    assert not np.array_equal(a, sample_rng(5, 11).random(4))
    assert not np.array_equal(a, sample_rng(6, 10).random(4))


@settings(max_examples=60, deadline=None)
@given(angle=st.floats(-180, 180), tx=st.floats(-0.15, 0.15), ty=st.floats(-0.15, 0.15),
       w=st.integers(20, 80), h=st.integers(8, 30))
def test_warped_ink_stays_in_its_transformed_quad(angle, tx, ty, w, h):
    """What blend() draws lies inside the quad that apply_h() reports (within 1 px), and quads
    stay clockwise on screen from the reading-direction top-left."""
    mask = np.zeros((h + 2, w + 2), np.uint8)
    mask[1:-1, 1:-1] = 255
    R = np.array(r3(angle))
    P = np.eye(3)
    P[2, 0], P[2, 1] = tx / (w / 2 + 1), ty / (h / 2 + 1)
    Hm = np.array(t3(100, 100)) @ R @ P @ np.array(t3(-(w + 2) / 2, -(h + 2) / 2))
    img = np.zeros((200, 200, 3), np.uint8)
    blend(img, mask, Hm, np.array([255, 255, 255], np.uint8))
    quad = apply_h(Hm, box_corners(np.array([1, 1, w + 1, h + 1], np.float32)))
    assert signed_area(quad) > 0  # y points down: positive area is clockwise on screen
    ys, xs = np.nonzero(img[..., 0] > 127)
    import cv2

    c = quad.reshape(-1, 1, 2)
    dist = [cv2.pointPolygonTest(c, (float(x) + 0.5, float(y) + 0.5), True) for x, y in zip(xs[::7], ys[::7])]
    assert min(dist) >= -1.0
    # and the quad is covered: its centre pixel is inked
    cx, cy = quad.mean(axis=0)
    assert img[int(cy), int(cx), 0] > 127


def test_scene_quads_in_bounds_and_chars_in_words():
    from .helpers import inside

    pipe = synthgen.load_pipeline("ocr_scene", **{"image.width": 256, "image.height": 256})
    n_inst = n_ign = 0
    for i in range(40):
        s = pipe.sample(i)
        for inst in s.instances:
            n_inst += 1
            n_ign += inst.ignore
            assert signed_area(inst.quad) > 0
            assert inst.chars.shape == (len(inst.text), 4, 2)
            assert (inst.quad >= -0.01).all() and (inst.quad <= 256.01).all()
            assert inside(inst.quad, inst.chars, tol=1.0)
    assert n_inst > 100 and 0 < n_ign < n_inst  # some tiny text is marked don't-care, not all


def test_sample_replays_exactly_from_its_shard_json():
    """Factors are written at full precision, so the JSON a shard holds is a complete recipe:
    pinning its factors renders the same pixels and labels, for both pipelines."""
    import json

    from synthgen.io.encode import encode_sample

    for name, extra in (("ocr_scene", {"image.width": 160, "image.height": 160}), ("ocr_line", {})):
        pipe = synthgen.load_pipeline(name, **extra)
        for i in (3, 11):
            s = pipe.sample(i)
            members = dict(encode_sample(s, pipe.cfg.output))
            rec = json.loads(members["json"])
            again = pipe.replay(i, rec["factors"])
            assert again.image.tobytes() == s.image.tobytes()
            assert dict(encode_sample(again, pipe.cfg.output))["json"] == members["json"]


def test_scene_items_never_overlap():
    """Items are placed apart: no pixel lies inside two word quads. Blocks are off here (a
    block's lines may touch each other: they are one placed item); placement is the same code."""
    import cv2

    pipe = synthgen.load_pipeline("ocr_scene", seed=4, **{"image.width": 256, "image.height": 256,
                                                        "text.words": [8, 12], "layout.block": 0.0})
    n_items = 0
    for i in range(60):  # signs, boxes and cut-off neighbours take room: fewer items an image than bare words
        s = pipe.sample(i)
        cover = np.zeros((256, 256), np.uint8)
        for inst in s.instances:
            m = np.zeros_like(cover)
            cv2.fillConvexPoly(m, np.round(inst.quad).astype(np.int32), 1)
            cover += m
            n_items += 1
        assert cover.max() <= 1, f"sample {i}: items overlap"
    assert n_items > 200
