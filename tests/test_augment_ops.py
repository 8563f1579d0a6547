"""One contract over every registered augmentation op (like torchvision's transform checks):
same draws -> same output; picklable; strength 0 is the identity; labels follow the pixels
(a quad's mask pushed through the op matches the mask of the moved quad, IoU >= 0.97)."""

from __future__ import annotations

import pickle
import re

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgen.augment import REGISTRY, augment, op_table
from synthgen.augment.base import Ctx
from synthgen.config import AugmentCfg
from synthgen.core import Instance
from synthgen.draws import Draws

from .helpers import quad_coverage

op_table(None)  # registration
OPS = sorted(REGISTRY)
H, W = 120, 200


def only(name: str, strength: float = 1.0) -> AugmentCfg:
    return AugmentCfg(strength=strength, ops={n: {"p": 1.0 if n == name else 0.0} for n in OPS})


def scene() -> tuple[np.ndarray, list[Instance]]:
    """A textured frame with two quads well inside it (an upright box and a rotated one)."""
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([(xx * 1.2) % 256, (yy * 2.1) % 256, ((xx + yy) * 0.7) % 256], -1).astype(np.uint8)
    boxes = [np.array([[40.3, 30.4], [110.3, 30.4], [110.3, 62.4], [40.3, 62.4]], np.float32)]  # off-grid: unbiased masks
    c, a = np.array([140.2, 75.3]), np.radians(20)
    R = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    boxes.append((np.array([[-28, -12], [28, -12], [28, 12], [-28, 12]]) @ R.T + c).astype(np.float32))
    inst = []
    for q in boxes:
        cv2.fillPoly(img, [np.round(q).astype(np.int32)], (20, 20, 20))
        # two char quads: the left and right halves
        mid_t, mid_b = (q[0] + q[1]) / 2, (q[3] + q[2]) / 2
        chars = np.stack([[q[0], mid_t, mid_b, q[3]], [mid_t, q[1], q[2], mid_b]])
        inst.append(Instance(quad=q, text="ab", chars=chars, kind="word"))
    return img, inst


def mask_of(quad: np.ndarray, ss: int = 4) -> np.ndarray:
    """Area coverage of each pixel by the convex quad (uint8, 255 = covered): helpers.quad_coverage."""
    return quad_coverage(quad, H, W, ss)


def iou(a: np.ndarray, b: np.ndarray, up: int = 4) -> float:
    """IoU of the shapes two coverage masks describe: both upsampled (bilinear, where the half
    level of interpolated coverage sits within ~0.1 px of the true edge) and cut at one half.
    Thresholding at pixel resolution would flip a whole row of an axis-aligned edge on a tie."""
    a = cv2.resize(a, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR) > 127
    b = cv2.resize(b, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR) > 127
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_iou_check_can_fail():
    q = scene()[1][0].quad
    assert iou(mask_of(q), mask_of(q)) == 1.0
    assert iou(mask_of(q), mask_of(q + 1.5)) < 0.97  # labels 1.5 px off fail the contract


@pytest.mark.parametrize("name", OPS)
def test_same_draws_same_output_and_picklable(name):
    img, inst = scene()
    cfg = only(name, 0.8)
    a = augment(img, inst, Draws(3, 11), cfg)
    b = augment(img, inst, Draws(3, 11), pickle.loads(pickle.dumps(cfg)))
    assert np.array_equal(a[0], b[0])
    assert all(np.array_equal(x.quad, y.quad) and np.array_equal(x.chars, y.chars) for x, y in zip(a[1], b[1]))
    op = pickle.loads(pickle.dumps(REGISTRY[name]))
    assert type(op) is type(REGISTRY[name])
    # the op changes something at full strength on some sample (it is not a no-op)
    changed = False
    for i in range(12):
        out, moved, _ = augment(img, inst, Draws(5, i), only(name, 1.0))
        changed |= not np.array_equal(out, img) or any(not np.array_equal(m.quad, o.quad) for m, o in zip(moved, inst))
    assert changed, f"{name} never changed anything at strength 1"


@pytest.mark.parametrize("name", OPS)
def test_strength_zero_is_identity(name):
    img, inst = scene()
    op = REGISTRY[name]
    rng = next(r for o, _, r in op_table(None) if o is op)
    for i in range(5):
        assert not op.useful(op.draw(Draws(1, i), rng, 0.0, Ctx(W, H, [x.quad for x in inst])))
    # and through the stage, with the op certain to fire at any strength above 0
    out, moved, _ = augment(img, inst, Draws(1, 0), only(name, 0.0))
    assert out is img and moved is inst


@pytest.mark.parametrize("name", OPS)
@settings(max_examples=10, derandomize=True, deadline=None)
@given(index=st.integers(0, 10**6), strength=st.sampled_from([0.5, 1.0]))
def test_labels_follow_pixels(name, index, strength):
    img, inst = scene()
    masks = np.stack([mask_of(x.quad) for x in inst], -1)
    cfg = only(name, strength)
    out, moved, warped = augment(img, inst, Draws(7, index), cfg, ink=masks)
    assert len(moved) == len(inst)
    for k, m in enumerate(moved):
        if REGISTRY[name].kind == "photometric":
            assert np.array_equal(m.quad, inst[k].quad) and np.array_equal(m.chars, inst[k].chars)
            continue
        if m.ignore:
            continue
        side = min(np.linalg.norm(m.quad[1] - m.quad[0]), np.linalg.norm(m.quad[2] - m.quad[1]))
        if side <= 20 or not np.all((m.quad >= 2) & (m.quad <= (W - 3, H - 3))):
            continue  # the contract is for quads over 20 px that stay in the frame
        assert iou(warped[:, :, k], mask_of(m.quad)) >= 0.97, (name, index, k)
        # char quads tile the word quad as before: their union matches the word's mask too
        cm = np.maximum(mask_of(m.chars[0]), mask_of(m.chars[1]))
        assert iou(cm, mask_of(m.quad)) >= 0.97


def test_factor_names_are_aug_op_param():
    img, inst = scene()
    d = Draws(2, 4)
    augment(img, inst, d, AugmentCfg(strength=1.0, ops={n: {"p": 1.0} for n in OPS}))
    pat = re.compile(r"^aug\.([a-z_]+)\.[a-z_0-9]+$")
    assert d.factors and all(pat.match(k) and pat.match(k).group(1) in REGISTRY for k in d.factors), d.factors


def test_out_of_frame_ignore_or_drop():
    img, inst = scene()
    # translate by 60% of the frame: both boxes leave it
    ops = {n: {"p": 0.0} for n in OPS}
    ops["translate"] = {"p": 1.0, "range": [0.6, 0.6]}
    _, moved, _ = augment(img, inst, Draws(0, 0), AugmentCfg(strength=1.0, ops=ops))
    assert [m.ignore for m in moved] == [True, True]
    assert np.allclose(moved[0].quad, inst[0].quad + (0.6 * W, 0.6 * H), atol=1e-3)
    _, kept, _ = augment(img, inst, Draws(0, 0), AugmentCfg(strength=1.0, ops=ops, out_of_frame="drop"))
    assert kept == []


def test_rotate_moves_points_like_an_independent_rotation():
    # an independent reference: cv2.getRotationMatrix2D about the frame centre (counter-clockwise)
    img, inst = scene()
    ops = {n: {"p": 0.0} for n in OPS}
    ops["rotate"] = {"p": 1.0, "range": [10.0, 10.0]}
    _, moved, _ = augment(img, inst, Draws(0, 0), AugmentCfg(strength=1.0, ops=ops))
    # about the frame's centre: (W/2, H/2) in pixel-corner coordinates
    R = cv2.getRotationMatrix2D((W / 2, H / 2), 10.0, 1.0)
    ref = inst[0].quad @ R[:, :2].T + R[:, 2]
    assert np.allclose(moved[0].quad, ref, atol=1e-3)


def test_albumentations_lookup_gives_the_same_bytes_as_opencv(monkeypatch):
    """The adapter's fast path (albucore's lookup) and the fallback (cv2.LUT) agree exactly,
    so whether albumentations is installed never changes a sample."""
    from synthgen.augment import albu

    img, inst = scene()
    cfg = AugmentCfg(strength=1.0, ops={n: {"p": 1.0 if n in ("brightness", "gamma", "noise", "contrast") else 0.0}
                                        for n in OPS})
    fast = augment(img, inst, Draws(4, 2), cfg)[0]
    monkeypatch.setattr(albu, "_sz_lut", None)
    slow = augment(img, inst, Draws(4, 2), cfg)[0]
    assert np.array_equal(fast, slow) and not np.array_equal(fast, img)


def test_text_with_a_character_cut_by_the_frame_becomes_dont_care():
    """A word whose last character is pushed mostly out of the frame no longer reads as its
    transcription: it is marked ignore (the rest of the word is visible, so the word quad alone
    would keep it)."""
    from synthgen.augment.stage import move_instances
    from synthgen.config import AugmentCfg
    from synthgen.core import Instance

    chars = np.array([[[10 + 20 * k, 10], [30 + 20 * k, 10], [30 + 20 * k, 40], [10 + 20 * k, 40]] for k in range(5)],
                     np.float32)
    word = Instance(quad=np.array([[10, 10], [110, 10], [110, 40], [10, 40]], np.float32), text="abcde", chars=chars)

    class Shift:  # moves everything right by dx in a 100 px wide frame
        W, H = 100, 60

        def __init__(self, dx):
            self.dx = dx

        def points(self, p):
            return p + np.array([self.dx, 0], np.float32)

    cfg = AugmentCfg()
    assert not move_instances([word], Shift(-10), cfg)[0].ignore  # last char just inside: 100 px
    assert move_instances([word], Shift(5), cfg)[0].ignore  # 'e' 75% outside
    assert not move_instances([word], Shift(-6), cfg)[0].ignore  # 'e' 20% outside: still readable
    assert move_instances([word], Shift(0), cfg)[0].ignore  # 'e' half outside


@settings(max_examples=60)
@given(st.integers(1, 9), st.integers(1, 9), st.data())
def test_wrap_crop_is_a_crop_of_the_tiled_bank(n_y, n_x, data):
    # reference: np.tile of the bank, cropped plainly
    from synthgen.augment.photometric import wrap_crop
    a = np.arange(n_y * n_x * 2).reshape(n_y, n_x, 2)
    y, x = data.draw(st.integers(0, n_y - 1)), data.draw(st.integers(0, n_x - 1))
    h, w = data.draw(st.integers(1, 3 * n_y)), data.draw(st.integers(1, 3 * n_x))
    got = wrap_crop(a, y, x, h, w)
    assert got.flags.c_contiguous and np.array_equal(got, np.tile(a, (4, 4, 1))[y : y + h, x : x + w])


def test_noise_on_frames_larger_than_the_bank_has_the_asked_sigma():
    from synthgen.augment.photometric import Noise
    img = np.full((1300, 2100, 3), 128, np.uint8)
    out = Noise().apply(img, {"sigma": 10.0, "seed": 7}).astype(np.float64) - 128
    assert out.shape == img.shape and abs(out.std() - 10.0) < 0.3 and abs(out.mean()) < 0.1


def test_a_plain_mapping_is_what_the_identity_check_finds():
    # Mapping.is_identity's shortcut for "no geometric op fired" against its own corner check
    from synthgen.augment.geometric import Ctx, Mapping
    for W, H in ((1, 1), (200, 32), (857, 541), (4096, 3)):
        ctx = Ctx(W, H, [])
        assert Mapping(np.eye(3), [], ctx, plain=True).is_identity()
        assert Mapping(np.eye(3), [], ctx).is_identity()  # the check itself agrees
        shifted = np.eye(3)
        shifted[0, 2] = 0.02
        assert not Mapping(shifted, [], ctx).is_identity()


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 30), st.sampled_from([(32, 200), (512, 512), (8, 8)]))
def test_cut_char_check_measures_only_quads_that_leave_the_frame(seed, n, size):
    """place_instances' "a character cut by the frame" test, which skips quads with every corner
    inside, gives what measuring every char quad gives (quads inside, straddling, outside,
    degenerate and self-crossing)."""
    from synthgen.augment.geometric import visible_fraction
    from synthgen.augment.stage import CHAR_VISIBLE, _a_char_is_cut

    H, W = size
    rng = np.random.default_rng(seed)
    c = rng.uniform(-0.3, 1.3, (n, 1, 2)) * (W, H) + rng.normal(0, rng.choice([0.01, 3.0, 40.0]), (n, 4, 2))
    if seed % 5 == 0:
        c[0] = c[0, :1]  # a point
    c = c.astype(np.float32)
    assert _a_char_is_cut(c, W, H) == any(visible_fraction(q, W, H) < CHAR_VISIBLE for q in c)


_coord = st.floats(-5.0, 70.0, width=32) | st.sampled_from([0.0, -0.0, 64.0, 48.0, float("nan"), float("inf"),
                                                             float(np.nextafter(np.float32(64), np.float32(65))),
                                                             float(np.nextafter(np.float32(0), np.float32(-1)))])


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.lists(_coord, min_size=8, max_size=8), st.sampled_from([np.float32, np.float64]))
def test_inside_is_numpys_all_corners_in_the_frame(v, dtype):
    """place_instances' frame test in plain Python against the numpy expression it replaced:
    edges, -0.0, a float32 step past the edge, NaN and inf."""
    from synthgen.augment.stage import _inside

    q = np.array(v, dtype).reshape(4, 2)
    W, H = 64, 48
    want = bool(np.all((q[:, 0] >= 0) & (q[:, 0] <= W) & (q[:, 1] >= 0) & (q[:, 1] <= H)))
    assert _inside(q, W, H) is want
