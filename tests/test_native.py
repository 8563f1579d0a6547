"""The compiled kernels (synthgen/_native.c) against their pure-Python references.

The contract: whether synthgen runs a kernel compiled or in Python changes the speed only.
Each kernel is compared with its reference on drawn inputs (hypothesis, derandomized), and
whole samples of the shipped pipelines rendered here (compiled, when built) are compared byte
for byte with the same samples from a process that runs the references (SYNTHGEN_NATIVE=0)."""

import contextlib
import math
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen import draws, native
from synthgen.renderers import styles
from synthgen.io.encode import encode_sample

from .helpers import KernelSpy

needs_native = pytest.mark.skipif(native.lib is None, reason=f"synthgen._native is {native.state}")


@contextlib.contextmanager
def python_only(module, attr: str = "_native"):
    """`module`'s compiled kernels off (its `attr` None) inside the block: the references run."""
    real = getattr(module, attr)
    setattr(module, attr, None)
    try:
        yield
    finally:
        setattr(module, attr, real)

SAMPLES = {"ocr_line": list(range(0, 80)), "ocr_line_narrow": list(range(0, 20)),
           "ocr_scene": list(range(0, 6)), "idcard_cn": [0, 1, 2], "passport_td3": [0, 1]}

_RENDER = r"""
import hashlib, json, sys
import synthgen
from synthgen import native
from synthgen.io.encode import encode_sample
out = {"native": native.state}
for name, idx in json.loads(sys.argv[1]).items():
    p = synthgen.load_pipeline(name, seed=3)
    out[name] = [hashlib.sha256(b"".join(v for _, v in encode_sample(p.sample(i), p.cfg.output))).hexdigest()
                 for i in idx]
print(json.dumps(out))
"""


@needs_native
@settings(max_examples=3000, derandomize=True, deadline=None)
@given(st.integers(min_value=0, max_value=2**80))
def test_unit_matches_the_python_reference(x):
    assert native.lib.unit(x) == draws.unit(x)
    assert 0.0 <= native.lib.unit(x) < 1.0


@needs_native
@settings(max_examples=2000, derandomize=True, deadline=None)
@given(st.one_of(st.integers(0, 2**32 + 5), st.integers(0, 2**64 - 1)))
def test_seed_words_are_numpys_seed_sequence(seed):
    ref = np.random.SeedSequence(seed).generate_state(4, np.uint64)
    assert np.array_equal(np.frombuffer(native.lib.seed_words(seed), "<u8"), ref)


@needs_native
@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 2**63 - 1))
def test_rng_for_is_default_rng_of_the_recorded_seed(key):
    d = draws.Draws(key % 1000, key // 1000)
    g = d.rng_for("line.style.elastic")
    r = np.random.default_rng(d.factors["line.style.elastic.seed"])
    assert np.array_equal(g.random(9), r.random(9))
    assert np.array_equal(g.integers(0, 2**40, 5), r.integers(0, 2**40, 5))
    assert np.array_equal(g.standard_normal(7, np.float32), r.standard_normal(7, np.float32))


def test_seed_words_refuses_what_numpy_would_not_take_as_one_word_pair():
    if native.lib is None:
        pytest.skip("synthgen._native is not built")
    assert native.lib.seed_words(-1) is NotImplemented
    assert native.lib.seed_words(2**64) is NotImplemented
    # a pinned seed outside the range still gets numpy's generator (the reference path)
    d = draws.Draws(0, 0, pinned={"x.seed": 2**70})
    assert np.array_equal(d.rng_for("x").random(3), np.random.default_rng(2**70).random(3))


def test_unit_reference_is_splitmix64():
    # SplitMix64 (Steele, Lea, Flood 2014) seeded 0: its first output is 0xE220A8397B1DCDAF
    # (the published test vector); `unit` of the state before the increment is that output >> 11
    assert draws.unit(0) == (0xE220A8397B1DCDAF >> 11) / 2**53


def _cv2_blend(img, alpha, color):
    """styles.blend's reference: OpenCV's saturating uint8 arithmetic (blend_parts, blend_with)."""
    inv, fg = styles.blend_parts(alpha, color)
    cv2.add(cv2.multiply(img, inv, scale=1 / 255), fg, dst=img)


def test_div255_is_the_float32_rounding_opencv_does():
    # the integer form _native.c uses for OpenCV's uint8 product * float32(1/255), for every product
    p = np.arange(255 * 255 + 1, dtype=np.int64)
    t = p + 128
    assert np.array_equal((t + (t >> 8)) >> 8, np.rint(p.astype(np.float32) * np.float32(1 / 255)).astype(np.int64))


@needs_native
def test_blend_matches_opencv_for_every_pixel_and_alpha():
    # every (pixel value, alpha) pair, under colours whose channels take every value 0..255
    img0 = np.broadcast_to(np.arange(256, dtype=np.uint8)[None, :, None], (256, 256, 3)).copy()
    alpha = np.broadcast_to(np.arange(256, dtype=np.uint8)[:, None], (256, 256)).copy()
    for c in range(256):
        color = (c, (c * 7 + 3) % 256, (c * 13 + 5) % 256)
        ref, got = img0.copy(), img0.copy()
        _cv2_blend(ref, alpha, color)
        assert native.lib.blend(got, alpha, *map(float, color)) is None
        assert np.array_equal(got, ref), color


@needs_native
def test_blend_on_strided_views_and_refusals():
    rng = np.random.default_rng(5)
    big = rng.integers(0, 256, (40, 90, 3), np.uint8)
    layers = rng.integers(0, 256, (40, 90, 3), np.uint8)
    ref, got = big.copy(), big.copy()
    _cv2_blend(ref[3:31, 5:77], np.ascontiguousarray(layers[3:31, 5:77, 1]), (10, 200, 30))
    assert native.lib.blend(got[3:31, 5:77], layers[3:31, 5:77, 1], 10.0, 200.0, 30.0) is None
    assert np.array_equal(got, ref)  # only the window changed, and as OpenCV changes it
    # not a uint8 RGB image and alpha of one size: NotImplemented, the caller's reference runs
    ro = big.copy()
    ro.flags.writeable = False
    for args in ((ro, layers[..., 0]), (big, layers[:5, :5, 0]), (big.astype(np.float32), layers[..., 0]),
                 (big[..., :2], layers[..., 0]), (big, layers[..., 0].astype(np.float32))):
        assert native.lib.blend(*args, 1.0, 2.0, 3.0) is NotImplemented
    for colour in ((1.5, 2.0, 3.0), (-1.0, 0.0, 0.0), (256.0, 0.0, 0.0)):  # not a uint8 colour
        assert native.lib.blend(big, layers[..., 0], *colour) is NotImplemented
    # the wrapper falls back, so a read-only or float input behaves as before
    with pytest.raises(cv2.error):
        styles.blend(ro, layers[..., 0], (1, 2, 3))


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(1, 40), st.integers(1, 60), st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 12),
                                                                   st.integers(0, 12)), max_size=8))
def test_paste_max_matches_numpy(H, W, items):
    # masks of drawn sizes at drawn places: overlapping, touching the edges, or (some) outside
    canvas0 = np.random.default_rng(H * 100 + W).integers(0, 256, (H, W), np.uint8)
    masks, xs, ys = [], [], []
    for seed, h, w in items:
        r = np.random.default_rng(seed)
        masks.append(r.integers(0, 256, (h, w), np.uint8))
        xs.append(int(r.integers(-2, W + 1)))
        ys.append(int(r.integers(-2, H + 1)))
    inside = all(0 <= x and 0 <= y and x + m.shape[1] <= W and y + m.shape[0] <= H for m, x, y in zip(masks, xs, ys))
    ref = canvas0.copy()
    for m, x, y in zip(masks, xs, ys):
        if inside:
            np.maximum(ref[y : y + m.shape[0], x : x + m.shape[1]], m, out=ref[y : y + m.shape[0], x : x + m.shape[1]])
    got = canvas0.copy()
    r = native.lib.paste_max(got, masks, xs, ys)
    assert r is (None if inside else NotImplemented)
    assert np.array_equal(got, ref)  # refused: nothing pasted


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(1, 30), st.integers(1, 50), st.integers(0, 2**32 - 1), st.integers(1, 255),
       st.sampled_from(["random", "faint", "blank"]))
def test_masked_hist_matches_bincount(h, w, seed, level, kind):
    r = np.random.default_rng(seed)
    y = r.integers(0, 256, (h, w + 3), np.uint8)[:, 1 : w + 1]  # a strided view
    alpha = r.integers(0, 256, (h, w), np.uint8)
    if kind == "faint":  # nothing reaches the level: the any-coverage fallback
        alpha = np.minimum(alpha, level - 1).astype(np.uint8) * r.integers(0, 2, (h, w), np.uint8)
    elif kind == "blank":
        alpha[:] = 0
    out = np.full(256, -1, np.float32)
    assert native.lib.masked_hist(y, alpha, level, out) is None
    # the reference: luma_under's numpy code on the grey image as RGB (OpenCV's grey of (v, v, v)
    # is v: its coefficients sum to 2^15)
    ref = _reference(styles, styles.luma_under, cv2.merge([np.ascontiguousarray(y)] * 3), alpha, level)
    assert np.array_equal(out, ref)


@needs_native
def test_gray_is_opencvs_rgb2gray_for_every_colour():
    v = np.arange(1 << 24, dtype=np.uint32)
    img = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    out = np.empty((4096, 4096), np.uint8)
    assert native.lib.gray(img, out) is None
    assert np.array_equal(out, cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    assert styles._gray_agrees()


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(1, 30), st.integers(1, 50), st.integers(0, 2**32 - 1), st.sampled_from(["random", "faint", "blank"]))
def test_luma_hist_is_luma_under(h, w, seed, kind):
    r = np.random.default_rng(seed)
    img = r.integers(0, 256, (h + 2, w, 3), np.uint8)[1 : h + 1]  # a view with an offset
    alpha = r.integers(0, 256, (h, w), np.uint8)
    if kind == "faint":
        alpha = np.minimum(alpha, 127).astype(np.uint8) * r.integers(0, 2, (h, w), np.uint8)
    elif kind == "blank":
        alpha[:] = 0
    out = np.full(256, -1, np.float32)
    assert native.lib.luma_hist(img, alpha, 128, out) is None
    ref = _reference(styles, styles.luma_under, img, alpha)
    assert np.array_equal(out, ref)
    assert np.array_equal(styles.luma_under(img, alpha), ref)


def _reference(module, fn, *args, **kw):
    """fn(*args, **kw) with `module`'s compiled kernels switched off: its Python reference."""
    try:
        module._native = None
        return fn(*args, **kw)
    finally:
        module._native = native.lib


def _smooth_field(r, H, W, amp):
    """A smooth random displacement (dx, dy), float32 H x W, as elastic_field makes."""
    return tuple(cv2.resize(r.normal(0, amp, (3, 5)).astype(np.float32), (W, H), interpolation=cv2.INTER_CUBIC)
                 for _ in range(2))


@needs_native
@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 80), st.integers(4, 300), st.integers(1, 60),
       st.floats(0.0, 12.0))
def test_forward_exact_steps_match_numpy(seed, H, W, n, amp):
    # a smooth random field (as elastic_field makes) and points inside and beyond the frame
    from synthgen.renderers import linestyles as LS
    r = np.random.default_rng(seed)
    dx, dy = _smooth_field(r, H, W, amp)
    pts = np.stack([r.uniform(-5, W + 5, n), r.uniform(-5, H + 5, n)], 1)
    got = LS.forward(pts, dx, dy)
    ref = _reference(LS, LS.forward, pts, dx, dy)
    assert got.dtype == ref.dtype and np.array_equal(got, ref)


@needs_native
def test_blend_field_matches_numpy_for_every_triple():
    # every (pixel, alpha, field) value: 256 alphas x 256 pixels per row, the field varying per channel
    from synthgen.renderers import linestyles as LS
    alpha = np.broadcast_to(np.arange(256, dtype=np.uint8)[:, None], (256, 256)).copy()
    img0 = np.broadcast_to(np.arange(256, dtype=np.uint8)[None, :, None], (256, 256, 3)).copy()
    for f in range(0, 256, 3):
        field = np.empty((256, 256, 3), np.uint8)
        field[..., 0], field[..., 1], field[..., 2] = f, (f + 1) % 256, (f + 2) % 256
        got, ref = img0.copy(), img0.copy()
        assert native.lib.blend_field(got, alpha, field) is None
        _reference(LS, LS.blend_field, ref, alpha, field)
        assert np.array_equal(got, ref), f
    # a strided window and refusals
    big = np.random.default_rng(3).integers(0, 256, (30, 40, 3), np.uint8)
    fld = np.random.default_rng(4).integers(0, 256, (20, 25, 3), np.uint8)
    al = np.random.default_rng(5).integers(0, 256, (20, 25), np.uint8)
    got, ref = big.copy(), big.copy()
    assert native.lib.blend_field(got[5:25, 10:35], al, fld) is None
    _reference(LS, LS.blend_field, ref[5:25, 10:35], al, fld)
    assert np.array_equal(got, ref)
    assert native.lib.blend_field(big[..., 0], al, fld) is NotImplemented
    assert native.lib.blend_field(big[:20, :25], al, fld[..., :2]) is NotImplemented


@needs_native
def test_samples_are_the_same_bytes_with_the_python_references(tmp_path):
    env = {**os.environ, native.SWITCH: "0"}
    r = subprocess.run([sys.executable, "-c", _RENDER, json.dumps(SAMPLES)], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    ref = json.loads(r.stdout)
    assert ref.pop("native") == "off"
    for name, idx in SAMPLES.items():
        p = __import__("synthgen").load_pipeline(name, seed=3)
        here = [hashlib.sha256(b"".join(v for _, v in encode_sample(p.sample(i), p.cfg.output))).hexdigest()
                for i in idx]
        diff = [i for i, a, b in zip(idx, here, ref[name]) if a != b]
        assert not diff, f"{name}: samples {diff} differ between the compiled kernels and the Python references"


def test_a_module_built_from_other_source_is_not_used(tmp_path, capsys):
    if native.lib is None and native.state == "not built":
        pytest.skip("synthgen._native is not built")
    src = tmp_path / "_native.c"
    src.write_text("/* another version */\n")
    lib, state = native._load(src)
    assert (lib, state) == (None, "stale")
    assert "changed since its compiled module was built" in capsys.readouterr().err
    # the same _native.c with one of the kernel files it includes edited: stale too
    import shutil

    real = Path(native.__file__).with_name("_native.c")
    shutil.copy2(real, src)
    shutil.copytree(real.with_name("csrc"), tmp_path / "csrc")
    assert native._load(src)[1] == "on"
    part = sorted((tmp_path / "csrc").glob("*.c"))[0]
    part.write_text(part.read_text() + "\n/* an edit */\n")
    assert native._load(src) == (None, "stale")


def test_switch_turns_the_compiled_kernels_off():
    r = subprocess.run([sys.executable, "-c", "from synthgen import native; print(native.state, native.lib)"],
                       env={**os.environ, native.SWITCH: "0"}, capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["off", "None"]


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1e6), st.sampled_from([0.0, 1e-300, 0.1, 1 / 3])), min_size=16, max_size=300),
       st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=20))
def test_weighted_choice_bisects_what_the_scan_finds(weights, keys):
    weights = tuple(weights)
    if not sum(weights) > 0:
        weights = weights[:-1] + (1.0,)
    options = list(range(len(weights)))
    for k in keys:  # two draws of one sample key: weights as a tuple (bisected) and as a list (scanned)
        d, ref = draws.Draws(0, 0), draws.Draws(0, 0)
        d.key = ref.key = k
        got = d.choice("x.font", options, weights)
        assert got == ref.choice("x.font", options, list(weights))


@needs_native
@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.lists(st.floats(0, 255), min_size=6, max_size=6), st.floats(0.3, 3.0))
def test_colour_map_matches_numpy(c, gamma):
    from synthgen.renderers import backgrounds as B
    c0, c1 = c[:3], c[3:]
    got = B._colour_map(c0, c1, gamma)
    ref = _reference(B, B._colour_map, c0, c1, gamma)
    assert got.shape == ref.shape == (256, 1, 3) and got.dtype == ref.dtype and np.array_equal(got, ref)


@needs_native
@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 10), st.booleans(), st.floats(0.0, 8.0))
def test_follow_quads_matches_numpy(seed, n, per_edge, with_holds, amp):
    from synthgen.renderers import linestyles as LS
    r = np.random.default_rng(seed)
    H, W = int(r.integers(8, 60)), int(r.integers(20, 300))
    dx, dy = _smooth_field(r, H, W, amp)
    x0, y0 = r.uniform(-3, W, n), r.uniform(-3, H, n)
    w, h, sk = r.uniform(0, 30, n), r.uniform(0, 20, n), r.uniform(-5, 5, n)  # some degenerate (w or h ~ 0)
    quads = np.stack([np.stack([x0, y0], 1), np.stack([x0 + w, y0], 1), np.stack([x0 + w + sk, y0 + h], 1),
                      np.stack([x0 + sk, y0 + h], 1)], 1).astype(np.float32)
    holds = r.uniform(0, [W, H], (int(r.integers(1, 40)), 2)).astype(np.float32) if with_holds else None
    got = LS.follow_quads(quads, dx, dy, per_edge=per_edge, holds=holds)
    ref = _reference(LS, LS.follow_quads, quads, dx, dy, per_edge=per_edge, holds=holds)
    assert got.dtype == ref.dtype == np.float32 and np.array_equal(got, ref, equal_nan=True)


def _glyph(seed: int, w: int, h: int, x0: int, y0: int, advance: float, strided: bool):
    from synthgen.renderers.glyphs import Glyph

    r = np.random.default_rng(seed)
    if w == 0:
        return Glyph(np.zeros((0, 0), np.uint8), 0, 0, advance)
    m = r.integers(0, 256, (h, 2 * w if strided else w), np.uint8)
    return Glyph(m[:, ::2] if strided else m, x0, y0, advance)


def _compose_both(glyphs, spacing, pad):
    from synthgen.renderers import glyphs as G

    table = dict(zip("abcdefghijklmnopqrstuvwxyz0123456789", glyphs))
    text = "".join(table)
    real = G.glyph_table
    G.glyph_table = lambda path, index, size: table
    try:
        def run():
            try:
                return G.compose_line("x.ttf", 0, 10, text, spacing, pad)
            except ValueError as e:
                return str(e)
        return _reference(G, run), run()
    finally:
        G.glyph_table = real


def _same_composition(ref, got):
    if isinstance(ref, str) or isinstance(got, str):
        return ref == got
    (rc, rb, ro), (gc, gb, go) = ref, got
    return (rc.dtype == gc.dtype and rc.shape == gc.shape and np.array_equal(rc, gc) and ro == go
            and type(ro) is type(go) and rb == gb
            and [[type(v) for v in b] for b in rb] == [[type(v) for v in b] for b in gb])


@needs_native
@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 9), st.integers(1, 12), st.integers(-4, 6),
                          st.integers(-6, 8), st.floats(0.0, 14.0, allow_nan=False), st.booleans()),
                min_size=1, max_size=12),
       st.sampled_from([0.0, 0.5, 1.25, -2.5, -7.0, 3.0]), st.integers(0, 3))
def test_compose_is_compose_line(items, spacing, pad):
    """The C compose against compose_line's Python: blank glyphs (w 0), overlapping and strided
    masks, pens that round half to even, negative spacing, a text with no ink (both raise)."""
    glyphs = [_glyph(seed, w, h, x0, y0, adv, strided) for seed, w, h, x0, y0, adv, strided in items]
    ref, got = _compose_both(glyphs, spacing, pad)
    assert _same_composition(ref, got)
    # the kernel takes every text with ink whose masks have unit column strides (cached glyph
    # masks do); others it refuses, and the reference runs
    took = native.lib.compose(glyphs, float(spacing), pad) is not NotImplemented
    assert took == (not isinstance(ref, str) and not any(s and w > 1 for _, w, _, _, _, _, s in items))


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 9), st.integers(1, 12), st.integers(-4, 6),
                          st.integers(-6, 8), st.floats(0.0, 14.0, allow_nan=False)),
                min_size=1, max_size=12),
       st.sampled_from([0.0, 0.5, 1.25, -2.5, 3.0, 0.1]), st.integers(0, 3))
def test_compose_into_an_array_is_numpys_array_of_the_boxes(items, spacing, pad):
    """compose with `out` (glyphs.compose_boxes) against the reference's list of boxes put
    through np.array(boxes, np.float32): the same float32 bits (one double -> float rounding,
    as numpy's cast), the same canvas and oy; `boxes` is `out` itself."""
    from synthgen.renderers import glyphs as G

    glyphs = [_glyph(seed, w, h, x0, y0, adv, False) for seed, w, h, x0, y0, adv in items]
    ref, got = _compose_both(glyphs, spacing, pad)
    if isinstance(ref, str):  # no ink: the C refuses, compose_boxes raises as the reference does
        assert native.lib.compose(glyphs, float(spacing), pad, np.empty((len(glyphs), 4), np.float32)) is NotImplemented
        return
    out = np.empty((len(glyphs), 4), np.float32)
    canvas, boxes, oy = native.lib.compose(glyphs, float(spacing), pad, out)
    want = np.array(ref[1], np.float32)
    assert boxes is out and np.array_equal(out.view(np.uint32), want.view(np.uint32))
    assert np.array_equal(canvas, ref[0]) and oy == ref[2]
    table = dict(zip("abcdefghijklmnopqrstuvwxyz0123456789", glyphs))
    real = G.glyph_table
    G.glyph_table = lambda path, index, size: table
    try:
        text = "".join(table)
        for c, b, o in (G.compose_boxes("x.ttf", 0, 10, text, spacing, pad),
                        _reference(G, G.compose_boxes, "x.ttf", 0, 10, text, spacing, pad)):
            assert np.array_equal(c, ref[0]) and o == ref[2] and b.dtype == np.float32
            assert np.array_equal(b.view(np.uint32), want.view(np.uint32))
    finally:
        G.glyph_table = real
    # a buffer of the wrong size or type: refused, nothing written
    for bad in (np.empty((len(glyphs) + 1, 4), np.float32), np.empty((len(glyphs), 4)), out[:, :2]):
        assert native.lib.compose(glyphs, float(spacing), pad, bad) is NotImplemented


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 9), st.integers(1, 12), st.integers(-4, 6),
                          st.integers(-6, 8), st.floats(0.0, 14.0, allow_nan=False),
                          st.floats(-6.0, 6.0, allow_nan=False) | st.sampled_from([0.5, -0.25, 1.0]),
                          st.integers(-5, 5)),
                min_size=1, max_size=12),
       st.sampled_from([0.0, 0.5, -2.5, 3.0]), st.integers(0, 3))
def test_compose_with_jitter_is_the_reference(items, spacing, pad):
    """compose_boxes with jitter (the C compose given dxs / dys) against compose_line's Python
    with the same jitter, through np.array(boxes, np.float32): the same canvas, float32 boxes and
    oy; pens held back by max(1.0, ...) (dx pulling an advance under one pixel) and whole-pixel
    dys as jitter_offsets makes them (float64, int64)."""
    from synthgen.renderers import glyphs as G

    glyphs = [_glyph(seed, w, h, x0, y0, adv, False) for seed, w, h, x0, y0, adv, _, _ in items]
    jitter = (np.array([dx for *_, dx, _ in items], np.float64), np.array([dy for *_, dy in items]).astype(int))
    table = dict(zip("abcdefghijklmnopqrstuvwxyz0123456789", glyphs))
    text = "".join(table)
    real = G.glyph_table
    G.glyph_table = lambda path, index, size: table
    try:
        try:
            ref = _reference(G, G.compose_line, "x.ttf", 0, 10, text, spacing, pad, jitter=jitter)
        except ValueError:  # no ink: the C refuses and the reference raises
            assert native.lib.compose(glyphs, float(spacing), pad, None, *jitter) is NotImplemented
            return
        canvas, b, oy = G.compose_boxes("x.ttf", 0, 10, text, spacing, pad, jitter)
        assert native.lib.compose(glyphs, float(spacing), pad, None, *jitter) is not NotImplemented
    finally:
        G.glyph_table = real
    want = np.array(ref[1], np.float32)
    assert np.array_equal(canvas, ref[0]) and oy == ref[2]
    assert b.dtype == np.float32 and np.array_equal(b.view(np.uint32), want.view(np.uint32))
    # jitter of other types or lengths: refused (the reference runs)
    for dxs, dys in ((jitter[0].astype(np.float32), jitter[1]), (jitter[0], jitter[1].astype(np.int32)),
                     (jitter[0][:-1], jitter[1][:-1]), (list(jitter[0]), jitter[1])):
        assert native.lib.compose(glyphs, float(spacing), pad, None, dxs, dys) is NotImplemented


_f32 = st.floats(-3e4, 3e4, allow_nan=False, width=32) | st.sampled_from([0.0, -0.0, 1e-40, -1e-40, 0.0, -0.0])


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.tuples(_f32, _f32, _f32, _f32), min_size=1, max_size=20))
def test_box_quads_is_numpys_corners_and_extremes(rows):
    """box_quads in C: the corners numpy's fancy indexing copies (bits, so -0.0 stays -0.0), and
    the least x0 and greatest x1 as numpy's min / max find them; layout.box_quads and straight's
    extremes give the same either way."""
    from synthgen.renderers import layout

    b = np.array(rows, np.float32)
    q = np.empty((len(b), 4, 2), np.float32)
    span = native.lib.box_quads(b, q)
    want = b[:, layout._CORNERS]
    assert np.array_equal(q.view(np.uint32), want.view(np.uint32))
    want_span = (float(b[:, 0].min()), float(b[:, 2].max()))
    if span is NotImplemented:  # a zero extreme: its sign is numpy's to pick
        assert 0.0 in want_span
    else:
        assert _bits(list(span)) == _bits(list(want_span))
    chars, lo, hi = layout.corners_and_span(b)
    assert np.array_equal(chars.view(np.uint32), want.view(np.uint32)) and _bits([lo, hi]) == _bits(list(want_span))
    got = layout.box_quads(b)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    with python_only(layout):
        assert np.array_equal(layout.box_quads(b).view(np.uint32), want.view(np.uint32))
    for args in ((b, np.empty((len(b), 4, 2))), (b.astype(np.float64), q), (b[:, :2], q), (b[::2], q[: len(b[::2])]),
                 (b[:0], q[:0])):
        if args[0].flags.c_contiguous and args[0].dtype == np.float32 and args[0].shape[-1:] == (4,) and len(args[0]) \
                and args[1].dtype == np.float32 and args[1].size == 2 * args[0].size:
            continue
        assert native.lib.box_quads(*args) is NotImplemented


@needs_native
@settings(max_examples=800, derandomize=True, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, -0.0, 1.0, 1e-300, 3.0e15]),
                min_size=9, max_size=9))
def test_mat3_array_is_numpys_array_and_division(v):
    """A tuple matrix of floats as np.array(H, np.float64) makes it, and np.array(H[:2]) / H[2][2]
    (what layout.warp gives warpAffine), bit for bit; a zero corner divides as numpy does."""
    from synthgen.renderers import layout

    H = tuple(tuple(v[3 * r : 3 * r + 3]) for r in range(3))
    full, aff = np.empty((3, 3)), np.empty((2, 3))
    assert native.lib.mat3_array(H, full, False) is None and native.lib.mat3_array(H, aff, True) is None
    assert np.array_equal(full.view(np.uint64), np.array(H, np.float64).view(np.uint64))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        want = np.array(H[:2], np.float64) / H[2][2]
    assert np.array_equal(aff.view(np.uint64), want.view(np.uint64))
    assert np.array_equal(layout.as_array(H).view(np.uint64), full.view(np.uint64))
    ints = ((1, 0, 5), (0, 1, 7), (0, 0, 1))
    for args in ((ints, full, False), (H, aff, False), (H, full, True), (H, full.astype(np.float32), False), (H[:2], aff, True)):
        assert native.lib.mat3_array(*args) is NotImplemented
    assert layout.as_array(ints).dtype == np.float64 and layout.as_array(ints)[0, 2] == 5.0


@needs_native
@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**32 - 1), st.floats(-7.0, 7.0) | st.sampled_from([0.0, -0.0, math.pi / 2, math.pi]),
       st.booleans())
def test_oriented_quad_in_c_is_the_numpy_one(n, seed, angle, f32):
    """layout.oriented_quad with its extremes and corners in C against its numpy, bit for bit
    (the projections stay numpy's); a NaN point goes to numpy, which propagates it."""
    from synthgen.renderers import layout

    r = np.random.default_rng(seed)
    pts = r.standard_normal((n, 2)) * r.choice([1.0, 50.0, 3000.0])
    if f32:
        pts = pts.astype(np.float32)
    got = layout.oriented_quad(pts, angle)
    with python_only(layout):
        want = layout.oriented_quad(pts, angle)
    assert got.dtype == want.dtype == np.float32 and np.array_equal(got.view(np.uint32), want.view(np.uint32))
    # points on the axes: projections (and extremes) of 0.0 and -0.0, whose sign numpy's min / max pick
    for pts0 in ([[0.0, 0.0], [3.0, 2.0]], [[-0.0, 1.0], [0.0, -2.0], [2.5, -0.0]], [[0.0, 5.0], [-0.0, 4.0]]):
        for a in (0.0, -0.0, math.pi / 2):
            p0 = np.array(pts0, np.float32 if f32 else np.float64)
            got = layout.oriented_quad(p0, a)
            with python_only(layout):
                want = layout.oriented_quad(p0, a)
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), (pts0, a)
    u = np.array([1.0, float("nan")])
    assert native.lib.oriented_box(u, u, 1.0, 0.0, np.empty((4, 2), np.float32)) is NotImplemented
    assert native.lib.oriented_box(np.array([0.0, 1.0]), np.array([1.0, 2.0]), 1.0, 0.0,
                                   np.empty((4, 2), np.float32)) is NotImplemented
    assert native.lib.oriented_box(u[:1], u, 1.0, 0.0, np.empty((4, 2), np.float32)) is NotImplemented
    assert native.lib.oriented_box(u[:1], u[:1], 1, 0.0, np.empty((4, 2), np.float32)) is NotImplemented


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.lists(st.tuples(_f32, _f32), min_size=4, max_size=4), min_size=1, max_size=14), st.data())
def test_word_boxes_in_c_are_numpys(chars, data):
    """scenestyles.word_boxes with the boxes from C against its numpy, bit for bit: words of
    consecutive or scattered chars, zeros of either sign (numpy picks those), bad indices refused."""
    from synthgen.renderers import scenestyles as SS

    cq = np.array(chars, np.float32)
    n = len(cq)
    words = data.draw(st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=n), min_size=1, max_size=5))
    got = SS.word_boxes(cq, words)
    with python_only(SS):
        want = SS.word_boxes(cq, words)
    assert got.dtype == want.dtype == np.float32 and np.array_equal(got.view(np.uint32), want.view(np.uint32))
    out = np.empty((len(words), 4), np.float32)
    for bad in ([[n]], [[-1]], [[]], [(0,)], [[0.0]]):
        assert native.lib.word_boxes(cq, bad, out[:1]) is NotImplemented


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_stack_points_is_numpys_concatenation(n, seed):
    """stack_points: the char quads then the quad, widened to float64 and shaped for
    cv2.perspectiveTransform, the same values as numpy's concatenate + astype; other dtypes or
    layouts go to numpy."""
    from synthgen.renderers import layout

    r = np.random.default_rng(seed)
    chars = (r.standard_normal((n, 4, 2)) * 300).astype(np.float32)
    quad = (r.standard_normal((4, 2)) * 300).astype(np.float32)
    want = np.concatenate([chars.reshape(-1, 2), quad]).astype(np.float64).reshape(-1, 1, 2)
    got = layout.stack_points(chars, quad)
    assert got.shape == want.shape and np.array_equal(got.view(np.uint64), want.view(np.uint64))
    with python_only(layout):
        assert np.array_equal(layout.stack_points(chars, quad), want)
    for c in (chars.astype(np.float64), chars[:, ::-1]):
        assert native.lib.stack_points(c, quad, np.empty(want.shape)) is NotImplemented
        assert np.array_equal(layout.stack_points(c, quad), np.concatenate([c.reshape(-1, 2), quad]).reshape(-1, 1, 2))
    assert native.lib.stack_points(chars, quad, np.empty((len(want) + 1, 1, 2))) is NotImplemented


@needs_native
def test_compose_rounds_pens_half_to_even():
    # pens at 0, 0.5, 1.5, 2.5, 3.5: Python's round gives 0, 0, 2, 2, 4 (C's round would give 1, 2, 3, 4)
    from synthgen.renderers.glyphs import Glyph

    glyphs = [Glyph(np.full((3, 2), 255, np.uint8), 0, 0, 0.5 if k == 0 else 1.0) for k in range(5)]  # no insets
    ref, got = _compose_both(glyphs, 0.0, 0)
    assert _same_composition(ref, got)
    assert [b[0] for b in got[1]] == [0.0, 0.0, 2.0, 2.0, 4.0]


@needs_native
def test_compose_real_glyphs_and_refusals():
    from synthgen.renderers import glyphs as G
    from synthgen.renderers.fonts import resolve_faces

    faces = resolve_faces(["dejavu", "noto-cjk"], [])
    for f in faces[:6]:
        for text in ("Quartz, jinx 0-9!", " a  b ", "汉字 Ab", "W"):
            if not f.covers(text):
                continue
            for size, spacing, pad in ((12, 0.0, 1), (23, 1.75, 3), (30, -3.0, 0)):
                glyphs = [G.glyph_table(f.path, f.index, size)[c] for c in text]
                ref = _reference(G, G.compose_line, f.path, f.index, size, text, spacing, pad)
                got = native.lib.compose(glyphs, spacing, pad)
                assert got is not NotImplemented and _same_composition(ref, got), (f.name, text, size)
    g = G.glyph_table(faces[0].path, faces[0].index, 12)["A"]
    assert native.lib.compose([g, "A"], 0.0, 1) is NotImplemented  # not a glyph
    wide = G.Glyph(np.zeros((3, 4), np.float32).astype(np.uint16), 0, 0, 4.0)  # not uint8
    assert native.lib.compose([g, wide], 0.0, 1) is NotImplemented
    assert native.arrays and native.lib.array_ready(True)


def test_array_kernels_stay_off_when_numpy_reads_differently(monkeypatch):
    """native._arrays_agree compares what the kernel reads of numpy's array fields with numpy's
    answers; a numpy that disagrees leaves compose refusing everything (the reference runs)."""
    if native.lib is None:
        pytest.skip(f"synthgen._native is {native.state}")
    real = native.lib

    class Liar:
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def array_probe(a):
            data, nd, shape, strides, u8 = real.array_probe(a)
            return data + 1, nd, shape, strides, u8

    try:
        assert native._arrays_agree(Liar()) is False
        g = _glyph(1, 3, 4, 0, 0, 5.0, False)
        assert real.compose([g], 0.0, 1) is NotImplemented
    finally:
        assert native._arrays_agree(real) is True


# -- the draws (draws.Draws with its compiled fast path against the methods alone) -------------

_NUMS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**64, 2**64), st.booleans(),
                  st.sampled_from([0, 1, 255, 2**52, 2**53, 2**53 + 1, -2**53, 2**63 - 1, 0.5, -0.0]))
_CALL = st.one_of(
    st.tuples(st.just("uniform"), st.integers(0, 6), _NUMS, _NUMS),
    st.tuples(st.just("integers"), st.integers(0, 6), st.integers(-2**64, 2**64) | st.sampled_from([0, 1, -7, 2**62]),
              st.integers(-2**64, 2**64) | st.sampled_from([0, 9, 2**63 - 1, 2**53 + 1, 2**62 + 3])),
    st.tuples(st.just("bernoulli"), st.integers(0, 6), _NUMS, st.none()),
    st.tuples(st.just("choice"), st.integers(0, 6),
              st.sampled_from([("a", "b", "c"), ["x"], list(range(17)), (), "abc"]), st.none()),
    st.tuples(st.just("u"), st.integers(0, 6), st.none(), st.none()),
)


def _replay(d, calls):
    out = []
    for kind, k, a, b in calls:
        name = f"f[{k}].x"
        try:
            if kind == "uniform":
                v = d.uniform(name, a, b)
            elif kind == "integers":
                v = d.integers(name, a, b)
            elif kind == "bernoulli":
                v = d.bernoulli(name, a)
            elif kind == "choice":
                v = d.choice(name, a)
            else:
                v = d.u(name)
        except (ValueError, TypeError, OverflowError) as e:
            v = type(e)
        out.append((type(v), repr(v)))
    return out, [(k, type(v), repr(v)) for k, v in d.factors.items()], dict(d._repeats)


@needs_native
@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 10**6), st.lists(_CALL, max_size=40))
def test_compiled_draws_give_what_the_methods_give(seed, index, calls):
    """Values, their types, the records (in order) and the repeat counts; the compiled path
    takes the plain numbers and sequences and hands everything else back to the methods."""
    fast, ref = draws.Draws(seed, index), draws.Draws(seed, index)
    assert fast._fast is not None
    ref._ctx = ref._fast = None  # the methods alone
    for k in range(7):  # some names with a cached key, some not yet (the first draw caches it)
        if k % 2:
            draws._name_key(f"f[{k}].x")
    assert _replay(fast, calls) == _replay(ref, calls)


@needs_native
def test_compiled_draws_stay_out_of_traced_biased_and_pinned_draws():
    assert draws.Draws(1, 2)._fast is not None
    for d in (draws.Draws(1, 2, trace=True), draws.Draws(1, 2, bias={"x": {"true": 2}}),
              draws.Draws(1, 2, pinned={"x": 0.5}), draws.Draws(1, 2).overlay({"x": 0.5})):
        assert d._fast is None and d._ctx is not None  # Draws.u still runs compiled
    d = draws.Draws(1, 2, pinned={"x": 0.25})
    assert d.uniform("x", 0.0, 1.0) == 0.25 and d.pin_hits == {"x"}


@needs_native
@settings(max_examples=3000, derandomize=True, deadline=None)
@given(st.integers(1, 2**62 + 5), st.integers(0, 2**64 + 5), st.integers(-3, 2**63))
def test_permute_is_the_python_walk(n, key, i):
    from synthgen.renderers import corpus

    i = i % n if i >= 0 else i  # mostly in range; the negative ones must raise as before
    got = native.lib.permute(i, n, key)
    with python_only(corpus):
        try:
            want = corpus.permute(i, n, key)
        except ValueError:
            want = ValueError
    if got is NotImplemented:  # outside what the C takes: the Python decides
        assert not (0 <= i < n < 2**62 and 0 <= key < 2**64)
        return
    assert got == want and type(got) is int


@needs_native
@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.sampled_from([1.0, 100.0, 9000.0, 20000.0, 1e-3])), min_size=1, max_size=6),
       st.integers(0, 2**32), st.booleans())
def test_label_round_writes_what_the_numpy_rounding_gives(shapes, seed, odd):
    """_instances_json's compiled rounding against label_round + the float32 test: the same
    values, dtype and JSON bytes (halves, -0.0, NaN, values around F32_EXACT, empty char arrays)."""
    import orjson

    from synthgen import core

    rng = np.random.default_rng(seed)
    insts = []
    for n, scale in shapes:
        q = (rng.normal(0, scale, (4, 2)) if not odd else rng.integers(-300, 300, (4, 2)) / 8.0).astype(np.float32)
        c = (rng.normal(0, scale, (n, 4, 2)) if not odd else rng.integers(-300, 300, (n, 4, 2)) / 200.0 + rng.integers(0, 2, (n, 4, 2)) / 8.0).astype(np.float32)
        if seed % 7 == 0 and n:
            c[0, 0, 0] = np.nan
        insts.append(core.Instance.trusted(q, "t", c if n or seed % 2 else None, "word", None))
    got = core._instances_json(insts)
    with python_only(native, "lib"):
        want = core._instances_json(insts)
    opt = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY
    assert orjson.dumps(got, option=opt) == orjson.dumps(want, option=opt)
    for g, w in zip(got, want):
        assert g["quad"].dtype == w["quad"].dtype and (g["chars"] is None) == (w["chars"] is None)


_GLYPH = st.one_of(
    st.just(None),  # blank
    st.tuples(st.integers(1, 60), st.integers(1, 60),
              st.tuples(*[st.sampled_from([0.0, 0.0, 0.25, 0.5, 1 / 3, 0.004, 0.9999]) for _ in range(4)])))


@needs_native
@settings(max_examples=600, derandomize=True, deadline=None)
@given(st.lists(_GLYPH, min_size=1, max_size=20), st.integers(0, 2**32), st.booleans())
def test_inset_quads_is_the_numpy_reference(spec, seed, f64):
    from synthgen.renderers import glyphs as G

    gl = []
    for s in spec:
        if s is None:
            gl.append(G.Glyph(G._BLANK, 0, 0, 3.0))
        else:
            w, h, ins = s
            gl.append(G.Glyph(np.zeros((h, w), np.uint8), 1, 2, 5.0, ins))
    rng = np.random.default_rng(seed)
    q = rng.normal(0, 50, (len(gl), 4, 2)).astype(np.float64 if f64 else np.float32)
    out = np.empty((len(gl), 4, 2), np.float32)
    done = native.lib.inset_quads(q, gl, out)
    want = G._inset_quads(q, gl)
    if done:
        assert want.dtype == np.float32 and np.array_equal(out.view(np.uint32), want.view(np.uint32))
    else:  # no insets: the quads as they were
        assert done is False and want is q


@needs_native
@settings(max_examples=600, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from([(4, 2), (1, 4, 2), (7, 4, 2), (0, 4, 2), (2, 3, 4, 2)]),
       st.sampled_from([1, 2, 3, 0.5, -1.0, 2.75]), st.booleans(), st.booleans())
def test_expand_quads_is_the_numpy_reference(seed, shape, r, f64, odd):
    from synthgen.renderers import layout

    rng = np.random.default_rng(seed)
    q = rng.normal(0, rng.choice([0.0, 1e-12, 3.0, 400.0]), shape)
    if odd and q.size:
        q.reshape(-1)[rng.integers(0, q.size)] = rng.choice([np.nan, np.inf, 0.0])
    q = q.astype(np.float64 if f64 else np.float32)
    got = layout.expand_quads(q, r)
    with python_only(layout):
        want = layout.expand_quads(q, r)
    assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
    # bit for bit, but a NaN's sign (which NaN an operation passes on): labels write any NaN as null
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan) and np.array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32))


@needs_native
@settings(max_examples=2000, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from([0.1, 0.9, 0.05, 0.95, 0.5, 0.0, 1.0, 0.3333333333333333, 1e-9]),
       st.sampled_from(["counts", "fractions", "sparse", "zero"]))
def test_hist_quantile_is_numpys_cumsum_and_searchsorted(seed, f, kind):
    """The compiled quantile against numpy's own cumsum, product and searchsorted on the same
    float32 histogram (what the numpy installed here promotes `f * c[-1]` to included)."""
    from synthgen.renderers import styles

    rng = np.random.default_rng(seed)
    h = {"counts": rng.integers(0, 400, 256), "fractions": rng.random(256) * 3.7, "zero": np.zeros(256),
         "sparse": np.where(rng.random(256) < 0.03, rng.integers(1, 9, 256), 0)}[kind].astype(np.float32)
    c = h.cumsum()
    want = float(c.searchsorted(f * c[-1])) if c[-1] > 0 else 128.0
    got = native.lib.hist_quantile(h, f)
    if styles._QUANTILE_C:
        assert got == want and type(got) is float
    assert styles.hist_quantile(h.copy(), f) == want


@needs_native
@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 9), st.sampled_from([(512, 512), (64, 200), (17, 5), (1, 1)]),
       st.sampled_from([1, 4]), st.sampled_from(["any", "axis", "tiny", "far", "flat"]), st.sampled_from([0.3, 0.0, 0.5]))
def test_compiled_score_map_is_the_numpy_one(seed, n, size, stride, kind, r):
    """score_map through _native.score_quads (shrink, map coordinates, scan) against score_map
    through east._shrink and east._raster: the same map for quads rotated, axis-aligned (edges
    on cell points), tiny, far out of frame and flat."""
    from synthgen.labels import east

    rng = np.random.default_rng(seed)
    H, W = size
    c = rng.uniform(-0.2, 1.2, (n, 1, 2)) * (W, H)
    if kind == "axis":
        hs = rng.integers(1, 40, (n, 1, 2)).astype(np.float64)
        q = np.round(c) + np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * hs
    elif kind == "far":
        q = c * 50 + rng.normal(0, 30, (n, 4, 2))
    elif kind == "flat":
        q = c + np.array([[-20, 0], [20, 0], [20, 0], [-20, 0]]) * rng.uniform(0.1, 3, (n, 1, 1))
    else:
        a = rng.uniform(0, 2 * np.pi, (n, 1))
        half = rng.uniform(0.1, 2 if kind == "tiny" else 80, (n, 2))
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64)
        lx, ly = corners[None, :, 0] * half[:, :1], corners[None, :, 1] * half[:, 1:]
        q = c + np.stack([lx * np.cos(a) - ly * np.sin(a), lx * np.sin(a) + ly * np.cos(a)], -1)
    got = east.score_map(q, image_size=size, stride=stride, r=r)
    with python_only(east):
        want = east.score_map(q, image_size=size, stride=stride, r=r)
    assert got.dtype == want.dtype and np.array_equal(got, want)


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 300), st.booleans(), st.booleans())
def test_atlas_index_is_the_numpy_load(seed, n, dups, wide):
    """_Atlas._load through _native.atlas_index against the numpy sort and copies: the same
    sorted code points, int32 rows (CRC and edge bytes as their int32 view) and advances, ties
    in entry order; an offset past int32 goes the numpy way (int64 rows)."""
    from synthgen.renderers import glyphs as G

    rng = np.random.default_rng(seed)
    cps = rng.choice(np.arange(0x20, 0x20 + 4 * n + 8), n, replace=dups).astype(np.uint32)
    arrays = {"cps": cps, "off": rng.integers(0, 2**31 - 5000 if not wide else 2**33, n).astype(np.int64),
              "geom": rng.integers(0, 60, (n, 4)).astype(np.int32), "crc": rng.integers(0, 2**32, n, dtype=np.uint32),
              "edges": rng.integers(0, 256, (n, 4)).astype(np.uint8), "adv": rng.normal(10, 3, n)}
    meta = {"metrics": [12, 3]}

    def load(compiled):
        at = object.__new__(G._Atlas)
        at.metrics = None
        with contextlib.nullcontext() if compiled else python_only(G):
            at._load(meta, arrays, 77)
        return at

    a, b = load(True), load(False)
    assert a.recs.dtype == b.recs.dtype and a.base == b.base == 77 and a.metrics == b.metrics == (12, 3)
    for f in ("cps", "recs", "advs"):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x.view(np.uint8), y.view(np.uint8))
    assert [bytes(v) for v in a._views] == [bytes(v) for v in b._views]


@needs_native
@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.integers(1, 30), st.integers(1, 50), st.integers(0, 2**32), st.booleans())
def test_dilate3_is_opencvs_dilate(h, w, seed, binary):
    rng = np.random.default_rng(seed)
    a = (rng.random((h, w)) < 0.2).astype(np.uint8) if binary else rng.integers(0, 256, (h, w), dtype=np.uint8)
    out = np.empty_like(a)
    assert native.lib.dilate3(a, out) is None
    assert np.array_equal(out, cv2.dilate(a, np.ones((3, 3), np.uint8)))
    view = np.zeros((h, 2 * w), np.uint8)[:, ::2]  # a strided source
    view[:] = a
    assert native.lib.dilate3(view, out) is None and np.array_equal(out, cv2.dilate(a, np.ones((3, 3), np.uint8)))
    assert native.lib.dilate3(a, a) is NotImplemented  # in place would read its own output


@needs_native
@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 12), st.integers(1, 20))
def test_grid_place_is_the_opencv_test_and_mark(seed, fh, fw):
    """_place's try: occupied under the grown footprint (cv2.norm NORM_INF with a mask), else the
    footprint ORed into the grid; spots off the grid refused."""
    rng = np.random.default_rng(seed)
    grid = (rng.random((30, 40)) < rng.choice([0.0, 0.02, 0.3])).astype(np.uint8)
    foot = (rng.random((fh, fw)) < 0.6).astype(np.uint8)
    grown = cv2.dilate(foot, np.ones((3, 3), np.uint8))
    for _ in range(5):
        kx, ky = int(rng.integers(-2, 42)), int(rng.integers(-2, 32))
        ref = grid.copy()
        got = native.lib.grid_place(grid, grown, foot, kx, ky)
        if kx < 0 or ky < 0 or kx + fw > 40 or ky + fh > 30:
            assert got is NotImplemented and np.array_equal(grid, ref)
            continue
        region = ref[ky : ky + fh, kx : kx + fw]
        free = not cv2.norm(region, cv2.NORM_INF, grown)
        if free:
            np.bitwise_or(region, foot, out=region)
        assert got is free and np.array_equal(grid, ref)


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 400), st.integers(1, 120), st.floats(0.0, 20.0), st.floats(0.5, 50.0))
def test_elastic_field_sums_are_numpys(seed, W, H, amp, wavelength):
    """elastic_field with its wave-plus-bend sums in C against the numpy broadcast sums (dx in
    float64 then float32, as numpy promotes the float64 column; dy in float32): the same bits."""
    from synthgen.renderers import linestyles as LS

    def field(compiled):
        with contextlib.nullcontext() if compiled else python_only(LS):
            return LS.elastic_field(np.random.default_rng(seed), W, H, amp, wavelength)

    (gx, gy), (wx, wy) = field(True), field(False)
    for g, w in ((gx, wx), (gy, wy)):
        assert g.dtype == w.dtype == np.float32 and g.shape == w.shape == (H, W)
        assert np.array_equal(g.view(np.uint32), w.view(np.uint32))


@needs_native
@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 300), st.integers(1, 80), st.floats(0.0, 12.0))
def test_displaced_warps_match_the_numpy_grids(seed, W, H, amp):
    """remap and warp_displaced with their grids built in C against the numpy meshgrid sums:
    the same pixels."""
    from synthgen.renderers import linestyles as LS

    rng = np.random.default_rng(seed)
    dx = (rng.normal(0, 1, (H, W)) * amp).astype(np.float32)
    dy = (rng.normal(0, 1, (H, W)) * amp).astype(np.float32)
    layer = rng.integers(0, 256, (max(1, H // 2 + 3), max(1, W // 2 + 5)), dtype=np.uint8)
    a = rng.uniform(-0.4, 0.4)
    Hm = np.array([[np.cos(a) * 1.3, -np.sin(a), rng.uniform(-5, 5)], [np.sin(a), np.cos(a) * 1.1, rng.uniform(-5, 5)],
                   [rng.uniform(-1e-3, 1e-3), 0.0, 1.0]])

    def run(compiled):
        with contextlib.nullcontext() if compiled else python_only(LS):
            return LS.remap(layer, dx, dy), LS.warp_displaced(layer, Hm, (W, H), dx, dy)

    for g, w in zip(run(True), run(False)):
        assert g.shape == w.shape and np.array_equal(g, w)


@needs_native
@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(2, 60), st.integers(2, 60), st.integers(0, 40))
def test_bilinear_is_the_numpy_reference(seed, H, W, n):
    """geometric._bilinear through _native.bilinear against its numpy lines: points inside,
    on integer coordinates, on the edges and outside (extended linearly from the edge cells)."""
    from synthgen.augment import geometric as G

    rng = np.random.default_rng(seed)
    f = rng.normal(0, 50, (H, W)).astype(np.float32)
    p = np.concatenate([rng.uniform(-5, W + 5, (n, 1)), rng.uniform(-5, H + 5, (n, 1))], 1)
    p[: n // 3] = np.round(p[: n // 3])
    got = G._bilinear(f, p)
    with python_only(G):
        want = G._bilinear(f, p)
    assert got.dtype == want.dtype == np.float64 and np.array_equal(got.view(np.uint64), want.view(np.uint64))


@needs_native
@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 40), st.integers(0, 6), st.sampled_from([1.0, 30.0, 400.0]),
       st.booleans())
def test_curved_frame_is_the_numpy_reference(seed, n, pad, scale, odd):
    """layout.curved's geometry in C (quads, warp matrices, boxes, canvas) bit for bit against
    _curved_frame; a value that is not finite is left to the reference."""
    from synthgen.renderers import layout

    rng = np.random.default_rng(seed)
    rel = np.ascontiguousarray(np.sort(rng.normal(0, scale, (n, 4)), axis=1)[:, [0, 2, 1, 3]])  # x0 <= x1, y0 <= y1
    th = rng.uniform(-np.pi, np.pi, n)
    cx, px, py = (rel[:, 0] + rel[:, 2]) / 2.0, rng.normal(0, scale * 3, n), rng.normal(0, scale, n)
    cos, sin = np.cos(th), np.sin(th)
    if odd:
        rng.choice([rel[:, 0], px, py, cos])[rng.integers(0, n)] = rng.choice([np.nan, np.inf, -0.0])
    q_c, a_c = np.empty((n, 4, 2)), np.empty((n, 2, 3))
    got = native.lib.curved_frame(rel, cx, px, py, cos, sin, pad, q_c, a_c)
    finite = all(np.isfinite(v).all() for v in (rel, cx, px, py, cos, sin))
    if not finite:
        assert got is NotImplemented
        return
    q_p, a_p = np.empty((n, 4, 2)), np.empty((n, 2, 3))
    want = layout._curved_frame(rel, cx, px, py, cos, sin, pad, q_p, a_p)
    assert got == want and all(type(v) is int for b in got[4] for v in b)
    assert np.array_equal(q_c.view(np.uint64), q_p.view(np.uint64)) and np.array_equal(a_c.view(np.uint64), a_p.view(np.uint64))


@needs_native
def test_curved_is_the_reference_on_real_lines():
    """`curved` as ocr_line calls it (arcs, sines, turned characters), compiled frame against the
    reference: the same canvas, char quads, line quad and baseline."""
    from synthgen.pipeline import load_pipeline
    from synthgen.renderers import layout

    calls, real, compiled = [], layout.curved, []

    def spy(*a, **k):
        calls.append((a, k))
        return real(*a, **k)

    # the module, its curved_frame counted: the compiled path must have run
    layout.curved, layout._native = spy, KernelSpy(native.lib, "curved_frame", compiled)
    try:
        p = load_pipeline("ocr_line", seed=11)
        for i in range(300):
            p.sample(i)
    finally:
        layout.curved, layout._native = real, native.lib
    assert len(calls) > 40 and len(compiled) == len(calls) and all(r is not NotImplemented for r in compiled)
    for a, k in calls:
        got = real(*a, **k)
        with python_only(layout):
            want = real(*a, **k)
        assert np.array_equal(got.mask, want.mask) and np.array_equal(got.chars, want.chars)
        assert np.array_equal(got.quad, want.quad) and np.array_equal(got.baseline, want.baseline)


@needs_native
@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(1, 90), st.integers(1, 90), st.floats(0.0, np.pi), st.floats(0.2, 0.8), st.floats(0.04, 0.16),
       st.integers(0, 2**32 - 1))
def test_paper_fold_is_the_numpy_reference(h, w, fa, fo, fs, seed):
    """backgrounds._fold (the arithmetic around numpy's tanh and exp in C) against
    _fold_reference (numpy throughout), byte for byte, with the compiled path counted."""
    from synthgen.renderers import backgrounds as B

    img = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    done = []
    B._native = KernelSpy(native.lib, "fold_shade", done)  # the compiled path must have run
    try:
        got = B._fold(img.copy(), fa, fo, fs)
    finally:
        B._native = native.lib
    assert done == [None]
    assert np.array_equal(got, B._fold_reference(img, fa, fo, fs))


@needs_native
def test_paper_fold_at_scene_size_and_refusals():
    """A 512 x 512 fold is the reference's (the size ocr_scene folds); arrays the kernels do not
    take (not uint8 RGB, not contiguous) go to the reference."""
    from synthgen.renderers import backgrounds as B

    rng = np.random.default_rng(4)
    for fa, fo, fs in ((0.0, 0.5, 0.16), (np.pi / 2, 0.2, 0.04), (1.234, 0.77, 0.1)):
        img = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
        assert np.array_equal(B._fold(img.copy(), fa, fo, fs), B._fold_reference(img, fa, fo, fs))
    t, e = np.zeros((4, 5)), np.zeros((4, 5))
    assert native.lib.fold_shade(np.zeros((4, 5, 4), np.uint8), t, e, 0.1) is NotImplemented
    assert native.lib.fold_shade(np.zeros((4, 5, 3), np.uint8), t[:, :4], e, 0.1) is NotImplemented
    assert native.lib.fold_args(np.zeros(5), np.zeros(4), 0.0, 2.0, 12.0, t, np.zeros((4, 4))) is NotImplemented
    strided = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)[:, ::2]
    assert np.array_equal(B._fold(strided.copy(order="K"), 0.3, 0.4, 0.1), B._fold_reference(strided, 0.3, 0.4, 0.1))


@needs_native
@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(1, 70), st.integers(1, 70), st.integers(0, 2**32 - 1), st.sampled_from(["whole", "window", "rows"]))
def test_colour_lut_is_opencvs_apply_color_map(h, w, seed, view):
    """backgrounds._apply_map (one C pass) against cv2.applyColorMap with the same user table,
    on whole arrays and on windows of a larger bank (what backgrounds pass), every grey value
    met; the compiled path counted."""
    from synthgen.renderers import backgrounds as B

    rng = np.random.default_rng(seed)
    bank = rng.integers(0, 256, (h + 9, w + 11), dtype=np.uint8)
    bank.flat[: min(256, bank.size)] = np.arange(min(256, bank.size))  # every value, where there is room
    grey = {"whole": bank[:h, :w].copy(), "window": bank[5 : 5 + h, 3 : 3 + w], "rows": bank[::-1][:h, :w]}[view]
    cmap = rng.integers(0, 256, (256, 1, 3), dtype=np.uint8)
    done = []
    B._native = KernelSpy(native.lib, "colour_lut", done)
    try:
        got = B._apply_map(grey, cmap)
    finally:
        B._native = native.lib
    assert done == [None]
    assert np.array_equal(got, cv2.applyColorMap(np.ascontiguousarray(grey), cmap))
    out = np.empty((h, w, 3), np.uint8)
    assert native.lib.colour_lut(grey, cmap[:128], out) is NotImplemented  # not a 256-entry table
    assert native.lib.colour_lut(grey, cmap, np.empty((h, w + 1, 3), np.uint8)) is NotImplemented


_FRESH = iter(range(10**9))  # names never drawn before in this process (no cached key)


@needs_native
@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 10**6),
       st.lists(st.tuples(st.integers(0, 9), st.floats(-0.5, 1.5) | st.sampled_from([0, 1])), max_size=30),
       st.floats(0.0, 2.0), st.integers(0, 12), st.lists(st.integers(0, 9), max_size=4))
def test_batched_bernoullis_are_the_draws_one_by_one(seed, index, ops, scale, uncached, before):
    """Draws.bernoullis (the augment plan's chances in one compiled call) against bernoulli one
    by one with the methods alone: the same values, records and repeat counts, names repeated,
    drawn before (a retry's stream), or without a cached key (the call stops there: `taken`)."""
    names = [f"b[{k}].apply" for k, _ in ops]
    for nm in names:
        draws._name_key(nm)  # cached: the compiled draw takes it
    if uncached < len(names):  # one name with no cached key yet
        names[uncached] = f"b.fresh[{next(_FRESH)}].apply"
    names = tuple(names)
    ps = tuple(float(p) for _, p in ops)
    fast, ref = draws.Draws(seed, index), draws.Draws(seed, index)
    ref._ctx = ref._fast = None
    for k in before:
        fast.bernoulli(f"b[{k}].apply", 0.5), ref.bernoulli(f"b[{k}].apply", 0.5)
    taken, fired = fast.bernoullis(names, ps, scale)
    assert taken == min(uncached, len(names))
    got = [i in fired for i in range(taken)] + [fast.bernoulli(n, p * scale) for n, p in zip(names[taken:], ps[taken:])]
    want = [ref.bernoulli(n, p * scale) for n, p in zip(names, ps)]
    assert got == want
    assert fast.factors == ref.factors and fast._repeats == ref._repeats
    assert fast.bernoullis(list(names), ps, scale) == (0, [])  # not a tuple: nothing drawn, nothing recorded
    assert fast.factors == ref.factors


_finite = st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, -0.0, 1.0, 1e-300, 3.0e15])


def _bits(x):
    """A nested tuple/list of floats as the bit patterns of its doubles (so -0.0 differs from 0.0)."""
    if isinstance(x, (tuple, list)):
        return [_bits(v) for v in x]
    assert type(x) is float
    return np.float64(x).view(np.uint64).item()


@needs_native
@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.lists(_finite, min_size=18, max_size=18))
def test_mm3_is_the_python_product(v):
    """layout.mm3 in C against the reference: the same doubles, bit for bit, as tuples of float."""
    from synthgen.renderers import layout

    A = tuple(tuple(v[3 * r : 3 * r + 3]) for r in range(3))
    B = tuple(tuple(v[9 + 3 * r : 12 + 3 * r]) for r in range(3))
    got, want = native.lib.mm3(A, B), layout._mm3(A, B)
    assert type(got) is tuple and all(type(r) is tuple for r in got)
    assert _bits(got) == _bits(want)
    assert layout.mm3(A, B) == got


@needs_native
@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.lists(_finite, min_size=9, max_size=9),
       st.lists(st.tuples(_finite | st.integers(-2**53, 2**53), _finite | st.integers(-2**53, 2**53)), max_size=6),
       st.booleans())
def test_apply_t_is_the_python_projection(v, pts, as_lists):
    """layout.apply_t in C against the reference: points as tuples or lists, of floats or ints
    (an int meets a float as its exact double), the same doubles bit for bit; a point at w == 0
    is left to the reference, which raises."""
    from synthgen.renderers import layout

    Hm = tuple(tuple(v[3 * r : 3 * r + 3]) for r in range(3))
    P = [list(p) for p in pts] if as_lists else pts
    got = native.lib.apply_t(Hm, P)
    try:
        want = layout._apply_t(Hm, P)
    except ZeroDivisionError:
        assert got is NotImplemented
        with pytest.raises(ZeroDivisionError):
            layout.apply_t(Hm, P)
        return
    assert type(got) is list and all(type(p) is tuple for p in got)
    assert _bits(got) == _bits(want)


@needs_native
def test_matrix_kernels_leave_other_input_to_python():
    """Ints, numpy scalars, wrong shapes and big ints: NotImplemented, and the wrappers give the
    reference's result (an int matrix stays Python's exact int arithmetic)."""
    from synthgen.renderers import layout

    I = layout.t3(0.0, 0.0)
    ints = ((1, 0, 5), (0, 1, 7), (0, 0, 1))
    np64 = ((np.float64(2.0), 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    for A, B in ((ints, ints), (I, ints), (np64, I), (I[:2], I), (list(I), I), (I, ((1.0, 2.0), I[1], I[2]))):
        assert native.lib.mm3(A, B) is NotImplemented
    assert layout.mm3(ints, ints) == ((1, 0, 10), (0, 1, 14), (0, 0, 1))
    assert all(type(x) is int for r in layout.mm3(ints, ints) for x in r)
    for pts in ([(2**60, 1.0)], [(1.0, 2.0, 3.0)], [np.array([1.0, 2.0])], ((1.0, "2"),), [(np.float32(1.0), 2.0)]):
        assert native.lib.apply_t(I, pts) is NotImplemented
    assert native.lib.apply_t(ints, [(1.0, 2.0)]) is NotImplemented
    assert layout.apply_t(I, [(2**60, 1.0)]) == [(float(2**60), 1.0)]
    assert native.lib.apply_t(I, []) == [] and native.lib.apply_t(I, ()) == []
    # the constructors give floats for int or numpy offsets and scales, so their products take the C path
    for M in (layout.t3(-3, np.int64(4)), layout.s3(2), layout.s3(np.float64(0.5))):
        assert all(type(x) is float for r in M for x in r)
        assert native.lib.mm3(M, I) is not NotImplemented


@needs_native
@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=3000), st.integers(0, 40))
def test_crc32_is_zlibs(data, cut):
    import zlib

    assert native.lib.crc32(data) == zlib.crc32(data)
    assert native.lib.crc32(memoryview(data)[cut:]) == zlib.crc32(data[cut:])


@needs_native
def test_atlas_glyph_is_the_python_read(tmp_path, monkeypatch):
    """Every glyph of small atlas entries read by atlas_glyph (one C call) and by _Atlas.get's
    Python: the same fields, the same types, the inset tuple sharing the same float objects, the
    mask a read-only view of the entry's bytes; a code point the entry lacks is None; a mask whose
    bytes do not check out marks the entry damaged and gives None, as the Python does."""
    import synthgen.renderers.glyphs as G
    from synthgen import machinecache
    from synthgen.renderers import fonts as F

    from .test_machinecache import forget_caches

    monkeypatch.setenv(machinecache.ENV, str(tmp_path / "cache"))
    forget_caches()
    try:
        face = F.resolve_faces(["dejavu"], [])[0]
        text = "Il|!.,:;ij1'`-_ Quartz jinx 0-9 VEX 12.5% (a/b) fiord ÅÉ"
        sizes = (4, 5, 8, 14, 30)  # small sizes: masks one pixel wide ("|" at 4 and 8) or high (the _HALF insets)
        for size in sizes:
            for ch in text:
                G.glyph(face.path, face.index, size, ch)
        G.flush_atlas()
        seen_w1 = seen_h1 = 0
        for size in sizes:
            at = G._atlas(face.path, face.index, size)
            assert at is not None and at.blob is not None
            for cp in at.cps.tolist():
                ch = chr(cp)
                with python_only(G):
                    ref = at.get(ch)
                got = at.get(ch)
                if ref.blank:
                    assert native.lib.atlas_glyph(*at._views, at.blob, cp, G.Glyph, G._EDGE, G._HALF) is NotImplemented
                    continue
                assert type(got) is G.Glyph and got is not ref
                assert np.array_equal(got.mask, ref.mask) and got.mask.dtype == np.uint8 and got.mask.shape == (ref.h, ref.w)
                assert got.mask.base is at.blob and not got.mask.flags.writeable
                for f in ("x0", "y0", "w", "h", "advance", "blank"):
                    assert getattr(got, f) == getattr(ref, f) and type(getattr(got, f)) is type(getattr(ref, f)), f
                assert all(a is b for a, b in zip(got.inset, ref.inset)) and len(got.inset) == 4
                seen_w1 += ref.w == 1
                seen_h1 += ref.h == 1
            assert native.lib.atlas_glyph(*at._views, at.blob, 0x10FFFF, G.Glyph, G._EDGE, G._HALF) is None
        assert seen_w1 and seen_h1  # both one-pixel branches ran
        # a damaged mask: False from C, the entry marked damaged and None from get, as in Python
        at = G._atlas(face.path, face.index, 14)
        good = at.blob
        at.blob = bytes(b ^ 0xFF for b in good)  # every mask's bytes changed
        c0 = next(c for c, (w, h) in zip(at.cps.tolist(), at.recs[:, 3:5].tolist()) if w * h)
        assert native.lib.atlas_glyph(*at._views, at.blob, c0, G.Glyph, G._EDGE, G._HALF) is False
        at.damaged = False
        assert at.get(chr(c0)) is None and at.damaged
        at.damaged = False
        with python_only(G):
            assert at.get(chr(c0)) is None and at.damaged
        at.blob = good
    finally:
        forget_caches()
