"""EAST labels: shrink, score map, RBOX / QUAD geometry, training mask, decoder round trip."""
import json
import math
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthgen.labels import decode, east_targets, score_map, shrink_quad
from synthgen.labels.decode import poly_iou
from synthgen.labels.east import CELL_OFFSET, fold_angle, map_shape

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def rot_rect(cx, cy, w, h, a):
    """Rectangle w x h centred at (cx, cy), text direction a (radians, clockwise on screen)."""
    e = np.array([math.cos(a), math.sin(a)])
    n = np.array([-math.sin(a), math.cos(a)])
    c = np.array([cx, cy])
    return np.array([c - w / 2 * e - h / 2 * n, c + w / 2 * e - h / 2 * n,
                     c + w / 2 * e + h / 2 * n, c - w / 2 * e + h / 2 * n], np.float32)


def cell_points(h, w, stride=4):
    iy, ix = np.mgrid[0:h, 0:w]
    return ix * stride + CELL_OFFSET, iy * stride + CELL_OFFSET


def inside(quad, px, py):
    """+1 inside, -1 outside, 0 on/near the boundary (brute force, cv2.pointPolygonTest)."""
    c = np.asarray(quad, np.float32).reshape(-1, 1, 2)
    d = np.array([cv2.pointPolygonTest(c, (float(x), float(y)), True)
                  for x, y in zip(px.ravel(), py.ravel())]).reshape(px.shape)
    return np.where(d > 1e-3, 1, np.where(d < -1e-3, -1, 0))


# ---------------------------------------------------------------------------------------------
# shrink


def test_shrink_reference_box():
    box = np.array([[0, 0], [100, 0], [100, 20], [0, 20]], np.float32)
    s = shrink_quad(box)
    assert s.dtype == np.float32 and s.shape == (4, 2)
    np.testing.assert_allclose(s, [[6, 6], [94, 6], [94, 14], [6, 14]], atol=1e-5)
    # vertical text: the same numbers transposed
    np.testing.assert_allclose(shrink_quad(box[:, ::-1][[0, 3, 2, 1]]),
                               [[6, 6], [14, 6], [14, 94], [6, 94]], atol=1e-5)


def ref_shrink(p, R=0.3):
    """The definition, one vertex at a time (independent of the vectorised code)."""
    p = [np.array(v, np.float64) for v in p]
    L = lambda a, b: float(np.hypot(*(p[a] - p[b])))  # noqa: E731
    r = [min(L(i, (i + 1) % 4), L(i, (i - 1) % 4)) for i in range(4)]

    def edge(a, b):
        d = p[b] - p[a]
        u = d / np.hypot(*d)
        p[a] = p[a] + R * r[a] * u
        p[b] = p[b] - R * r[b] * u

    pairs = [[(0, 1), (3, 2)], [(0, 3), (1, 2)]]
    if not L(0, 1) + L(2, 3) > L(0, 3) + L(1, 2):
        pairs = pairs[::-1]
    for pair in pairs:
        for a, b in pair:
            edge(a, b)
    return np.array(p)


@SETTINGS
@given(st.lists(st.floats(-12, 12), min_size=8, max_size=8), st.floats(20, 120),
       st.floats(12, 60), st.floats(-math.pi, math.pi))
def test_shrink_matches_definition_on_irregular_quads(jit, w, h, a):
    q = rot_rect(200, 200, w, h, a) + np.array(jit, np.float32).reshape(4, 2)
    np.testing.assert_allclose(shrink_quad(q), ref_shrink(q), atol=1e-3)


@SETTINGS
@given(st.floats(20, 200), st.floats(20, 200), st.floats(-math.pi, math.pi))
def test_shrink_rect_is_inset_rect(w, h, a):
    """A rectangle shrinks by 0.3 * min(w, h) on every side, whatever its rotation."""
    q = rot_rect(300, 300, w, h, a)
    s = shrink_quad(q)
    m = 0.3 * min(w, h)
    np.testing.assert_allclose(s, rot_rect(300, 300, w - 2 * m, h - 2 * m, a), atol=1e-3)


# ---------------------------------------------------------------------------------------------
# score map


def test_score_map_reference_box_cells():
    box = np.array([[0, 0], [100, 0], [100, 20], [0, 20]], np.float32)
    s = score_map([box], [False], (40, 120))
    assert s.dtype == np.uint8 and s.shape == (10, 30)
    # shrunk box (6,6)-(94,14): cell points 4j+0.5 in (6, 94), 4i+0.5 in (6, 14)
    expect = np.zeros((10, 30), np.uint8)
    expect[2:4, 2:24] = 1
    np.testing.assert_array_equal(s, expect)


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_score_map_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    quads = []
    for _ in range(rng.integers(1, 5)):
        c = rng.uniform(0, 160, 2)                 # may hang over the image border
        q = rot_rect(c[0], c[1], rng.uniform(12, 90), rng.uniform(12, 40), rng.uniform(-4, 4))
        quads.append(q + rng.uniform(-3, 3, (4, 2)).astype(np.float32))   # convex-ish quads
    H, W = 150, 170
    s = score_map(quads, [False] * len(quads), (H, W))
    h, w = map_shape((H, W))
    assert s.shape == (h, w) == (38, 43)
    px, py = cell_points(h, w)
    cls = np.stack([inside(shrink_quad(q), px, py) for q in quads])
    sure_in = (cls == 1).any(0)
    sure_out = (cls == -1).all(0)
    assert (s[sure_in] == 1).all()
    assert (s[sure_out] == 0).all()
    np.testing.assert_array_equal(east_targets([{"quad": q} for q in quads], (H, W),
                                               maps=("score",))["score"], s)


def test_score_map_leaves_its_input_alone():
    """score_map shrinks a copy in place: never the caller's quads, whatever their type."""
    rng = np.random.default_rng(3)
    q64 = rng.uniform(0, 150, (5, 4, 2))
    for quads in (q64, q64.astype(np.float32), list(q64.astype(np.float32)), q64[0]):
        before = [np.array(x, copy=True) for x in quads] if isinstance(quads, list) else quads.copy()
        s = score_map(quads, None, (160, 160))
        after = quads
        assert all(np.array_equal(x, y) for x, y in zip(before, after)) if isinstance(quads, list) else \
            np.array_equal(before, after)
        assert s.sum() > 0


def test_ignored_text_is_drawn_in_score_map_and_masked():
    a = rot_rect(50, 50, 60, 20, 0.0)
    b = rot_rect(150, 150, 60, 20, 0.3)
    s_all = score_map([a, b], [False, True], (256, 256))
    s_keep = score_map([a, b], [False, True], (256, 256), include_ignored=False)
    s_a = score_map([a], [False], (256, 256))
    assert s_all.sum() > s_keep.sum() > 0
    np.testing.assert_array_equal(s_keep, s_a)


# ---------------------------------------------------------------------------------------------
# geometry


@SETTINGS
@given(st.floats(24, 220), st.floats(16, 80), st.floats(-2 * math.pi, 2 * math.pi),
       st.floats(100, 160), st.floats(100, 160))
def test_rbox_rotated_rectangles(w, h, a, cx, cy):
    q = rot_rect(cx, cy, w, h, a)
    t = east_targets([{"quad": q, "ignore": False}], (256, 256))
    pos = t["score"] > 0
    assert pos.sum() > 0
    g = t["geo_rbox"][pos]
    top, right, bottom, left, th = g.T
    # angle in (-pi/4, pi/4] and equal to the rotation modulo quarter turns
    assert (th > -math.pi / 4 - 1e-6).all() and (th <= math.pi / 4 + 1e-6).all()
    k = np.round((th - a) / (math.pi / 2))
    assert np.abs(th - a - k * math.pi / 2).max() < 1e-3
    assert np.abs(th - fold_angle(a)).min() < 1e-3 or abs(abs(th[0]) - math.pi / 4) < 1e-3
    # an odd number of quarter turns swaps which side is the rectangle's "height"
    hh = np.where(k % 2 == 0, h, w)
    ww = np.where(k % 2 == 0, w, h)
    assert np.abs(top + bottom - hh).max() <= 1.0
    assert np.abs(left + right - ww).max() <= 1.0
    assert (g[:, :4] >= -1e-3).all()          # positive cells are inside the rectangle
    assert (t["geo_rbox"][~pos] == 0).all()


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_quad_offsets_give_vertices(seed):
    rng = np.random.default_rng(seed)
    quads = []
    for k in range(4):                         # one quad per 128 x 128 quadrant
        c = np.array([64 + 128 * (k % 2), 64 + 128 * (k // 2)]) + rng.uniform(-8, 8, 2)
        q = rot_rect(c[0], c[1], rng.uniform(30, 80), rng.uniform(16, 40), rng.uniform(-4, 4))
        quads.append(q + rng.uniform(-5, 5, (4, 2)).astype(np.float32))
    t = east_targets([{"quad": q} for q in quads], (256, 256))
    h, w = map_shape((256, 256))
    px, py = cell_points(h, w)
    gq = t["geo_quad"]
    pos = t["score"] > 0
    for q in quads:
        cells = pos & (inside(shrink_quad(q), px, py) == 1)
        assert cells.sum() > 0
        v = gq[cells].reshape(-1, 4, 2) + np.stack([px[cells], py[cells]], -1)[:, None, :]
        assert np.abs(v - q).max() <= 0.5
    assert (gq[~pos] == 0).all()


# ---------------------------------------------------------------------------------------------
# training mask


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([4, 2]))
def test_mask_zero_over_ignored_and_small_text(seed, stride):
    rng = np.random.default_rng(seed)
    H, W = 200, 240
    inst = []
    for k in range(6):
        c = np.array([40 + 80 * (k % 3), 50 + 100 * (k // 3)]) + rng.uniform(-5, 5, 2)
        kind = k % 3                            # 0: normal, 1: ignored, 2: too small
        hgt = rng.uniform(3, 9.5) if kind == 2 else rng.uniform(12, 40)
        q = rot_rect(c[0], c[1], rng.uniform(20, 60), hgt, rng.uniform(-1, 1))
        inst.append({"quad": q.tolist(), "ignore": kind == 1, "kind": kind})
    t = east_targets(inst, (H, W), stride=stride, min_text_size=10)
    h, w = map_shape((H, W), stride)
    px, py = cell_points(h, w, stride)
    dropped = [inside(d["quad"], px, py) for d in inst if d["kind"] != 0]
    kept = [inside(d["quad"], px, py) for d in inst if d["kind"] == 0]
    in_dropped = np.any([c == 1 for c in dropped], 0)
    out_dropped = np.all([c == -1 for c in dropped], 0)
    m = t["mask"]
    assert m.dtype == np.float32 and m.shape == (h, w)
    assert in_dropped.sum() > 0 and (m[in_dropped] == 0).all()
    assert (m[out_dropped] == 1).all()
    assert all((m[c == 1] == 1).all() for c in kept)
    # ignored text still has score / geometry (as the reference); small text too
    assert t["score"][in_dropped].sum() > 0


def test_min_text_size_is_configurable():
    q = rot_rect(64, 64, 60, 12, 0.2)
    assert (east_targets([{"quad": q}], (128, 128), min_text_size=10)["mask"] == 1).all()
    assert (east_targets([{"quad": q}], (128, 128), min_text_size=16)["mask"] == 0).any()


# ---------------------------------------------------------------------------------------------
# many quads


def test_more_than_255_quads_all_labelled():
    H, W = 768, 1024
    quads = [rot_rect(32 + 48 * gx, 24 + 48 * gy, 40, 24, 0.1 * ((gx + gy) % 5 - 2))
             for gy in range(16) for gx in range(21)]
    assert len(quads) > 300
    t = east_targets([{"quad": q, "ignore": i % 7 == 0} for i, q in enumerate(quads)], (H, W))
    s = score_map(quads, [i % 7 == 0 for i in range(len(quads))], (H, W))
    np.testing.assert_array_equal(s, t["score"].astype(np.uint8))
    h, w = map_shape((H, W))
    px, py = cell_points(h, w)
    for i in (0, 1, 254, 255, 256, 257, 300, len(quads) - 1):
        q = quads[i]
        cells = inside(shrink_quad(q), px, py) == 1
        assert cells.sum() > 0 and (t["score"][cells] == 1).all(), i
        v = t["geo_quad"][cells].reshape(-1, 4, 2) + \
            np.stack([px[cells], py[cells]], -1)[:, None, :]
        assert np.abs(v - q).max() < 0.5, i
        assert (t["mask"][inside(q, px, py) == 1] == (0 if i % 7 == 0 else 1)).all(), i
    # every quad owns some positive cells
    owners = np.round(t["geo_quad"][t["score"] > 0][:, :2]
                      + np.stack(cell_points(h, w), -1)[t["score"] > 0]).astype(int)
    assert len({tuple(o) for o in owners}) == len(quads)


@pytest.mark.parametrize("maps", [("score", "geo_quad"), ("geo_quad",)])
def test_overlapping_quads_later_one_owns_the_cell(maps):
    a = rot_rect(100, 100, 120, 60, 0.0)
    b = rot_rect(130, 110, 120, 60, 0.5)
    g = east_targets([{"quad": a}, {"quad": b}], (256, 256), maps=maps)["geo_quad"]
    px, py = cell_points(*map_shape((256, 256)))
    in_a = inside(shrink_quad(a), px, py) == 1
    in_b = inside(shrink_quad(b), px, py) == 1
    both, only_a = in_a & in_b, in_a & ~in_b
    assert both.sum() > 5 and only_a.sum() > 5
    pts = np.stack([px, py], -1)[:, :, None, :]
    verts = g.reshape(*g.shape[:2], 4, 2) + pts
    assert np.abs(verts[both] - b).max() < 0.5
    assert np.abs(verts[only_a] - a).max() < 0.5


# ---------------------------------------------------------------------------------------------
# decoder round trip


def random_layout(rng, jitter):
    """Non-overlapping quads, one per 128 x 128 cell of a 512 x 512 image."""
    quads = []
    for k in range(16):
        if rng.random() < 0.25:
            continue
        c = np.array([64 + 128 * (k % 4), 64 + 128 * (k // 4)]) + rng.uniform(-6, 6, 2)
        w, h = rng.uniform(40, 100), rng.uniform(16, 36)
        q = rot_rect(c[0], c[1], w, h, rng.uniform(-math.pi, math.pi))
        quads.append(q + rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32))
    return quads


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from(["rbox", "quad"]))
def test_decode_round_trip(seed, kind):
    rng = np.random.default_rng(seed)
    quads = random_layout(rng, jitter=1.0 if kind == "rbox" else 5.0)
    t = east_targets([{"quad": q} for q in quads], (512, 512))
    boxes = decode(t["score"], t["geo_" + kind], kind=kind)
    assert boxes.dtype == np.float32 and boxes.shape == (len(quads), 4, 2)
    for q in quads:
        assert max(poly_iou(q, b) for b in boxes) >= 0.9
    if kind == "quad":                         # QUAD keeps the vertex order
        for q in quads:
            b = boxes[np.argmax([poly_iou(q, b) for b in boxes])]
            assert np.abs(b - q).max() < 0.5


def test_decode_empty_and_channels_first():
    t = east_targets([], (64, 64))
    assert decode(t["score"], t["geo_rbox"]).shape == (0, 4, 2)
    q = rot_rect(32, 32, 40, 20, 0.4)
    t = east_targets([{"quad": q}], (64, 64))
    b = decode(t["score"][None], np.moveaxis(t["geo_quad"], -1, 0), kind="quad")
    assert b.shape == (1, 4, 2) and poly_iou(b[0], q) > 0.99


# ---------------------------------------------------------------------------------------------
# API from JSON


def test_east_targets_from_sample_json():
    q1 = rot_rect(100, 60, 120, 30, 0.2)
    q2 = rot_rect(60, 180, 50, 8, -0.1)        # too small
    sample = {"key": "000000001", "instances": [
        {"quad": q1.tolist(), "text": "hello", "kind": "word", "ignore": False},
        {"quad": q2.tolist(), "text": "###", "kind": "word", "ignore": True}],
        "factors": {}, "meta": {}}
    js = json.loads(json.dumps(sample))
    a = east_targets(js["instances"], (256, 192))
    b = east_targets(js, (256, 192))
    objs = [SimpleNamespace(quad=q1, ignore=False), SimpleNamespace(quad=q2, ignore=True)]
    c = east_targets(objs, (256, 192))
    assert set(a) == {"score", "geo_rbox", "geo_quad", "mask"}
    shapes = {"score": (64, 48), "geo_rbox": (64, 48, 5), "geo_quad": (64, 48, 8),
              "mask": (64, 48)}
    for k, v in a.items():
        assert v.dtype == np.float32 and v.shape == shapes[k]
        np.testing.assert_array_equal(v, b[k])
        np.testing.assert_array_equal(v, c[k])
    assert a["score"].sum() > 0 and (a["mask"] == 0).any()
    only = east_targets(js["instances"], (256, 192), maps=("mask",))
    assert list(only) == ["mask"]
    with pytest.raises(ValueError):
        east_targets(js["instances"], (256, 192), maps=("nope",))
    # stride and odd sizes: maps are ceil(H / stride) x ceil(W / stride)
    assert east_targets(js["instances"], (250, 190), stride=8)["geo_quad"].shape == (32, 24, 8)
