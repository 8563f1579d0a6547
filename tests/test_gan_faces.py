"""Procedural faces (no torch) and GeneGAN card photos."""

import subprocess
import sys

import numpy as np
import pytest

from synthgen.draws import Draws
from synthgen.faces.procedural import face_spec, render_face, render_face_pair, render_spec


@pytest.mark.parametrize("size,shape", [(64, (64, 64, 3)), ((380, 300), (380, 300, 3)), ((50, 90), (50, 90, 3))])
def test_face_shape_dtype_and_same_bytes_for_the_same_draws(size, shape):
    a = render_face(Draws(3, 7), size)
    assert a.shape == shape and a.dtype == np.uint8
    assert np.array_equal(a, render_face(Draws(3, 7), size))
    assert not np.array_equal(a, render_face(Draws(3, 8), size))


def test_every_choice_is_recorded_under_the_prefix():
    d = Draws(1, 2)
    render_face(d, 64, prefix="photo.face")
    names = [k for k in d.factors if not k.startswith("derived.")]
    assert len(names) > 40 and all(k.startswith("photo.face.") for k in names)
    for part in ("shape", "skin.tone", "hair.color", "eyes.color", "brows.", "mouth.", "pose.", "lighting.",
                 "background.", "glasses", "smile"):
        assert any(k.startswith("photo.face." + part) for k in names), part


def test_holder_only_colours_are_never_drawn_but_can_be_pinned():
    # white hair and gray eyes exist for a card holder who has them (weight 0 at random), so
    # random faces (the GeneGAN data) are drawn as before they were added
    drawn = {(s["hair_color"].tobytes(), s["eye_color"].tobytes()) for s in (face_spec(Draws(5, i)) for i in range(400))}
    pinned = face_spec(Draws(5, 0, pinned={"face.hair.color": "white", "face.eyes.color": "gray"}))
    assert all(h != pinned["hair_color"].tobytes() and e != pinned["eye_color"].tobytes() for h, e in drawn)
    assert len({h for h, _ in drawn}) == 6 and len({e for _, e in drawn}) == 5


def test_forced_attributes_win_over_the_draw():
    for i in range(6):
        d = Draws(4, i)
        s = face_spec(Draws(4, i))
        on = render_face(d, 64, {"glasses": True})
        off = render_face(Draws(4, i), 64, {"glasses": False})
        plain = render_face(Draws(4, i), 64)
        assert np.array_equal(plain, on if s["glasses"] else off)
        assert not np.array_equal(on, off)


def test_glasses_pair_is_the_same_face_except_around_the_eyes():
    for i in range(10):
        w, wo = render_face_pair(Draws(5, i), (190, 150), "glasses")
        diff = np.abs(w.astype(int) - wo).max(2) > 0
        rows = np.nonzero(diff.any(1))[0]
        # the face spans ~y 40..125 at this size; glasses sit at eye level, nowhere near the chin or the shirt
        assert rows.min() > 40 and rows.max() < 115, (i, rows.min(), rows.max())
        assert diff.sum() > 150  # and they are really there


def test_smile_pair_differs_only_below_the_eyes():
    for i in range(6):
        w, wo = render_face_pair(Draws(6, i), (190, 150), "smile")
        diff = np.abs(w.astype(int) - wo).max(2) > 0
        rows = np.nonzero(diff.any(1))[0]
        assert rows.min() > 80 and diff.sum() > 100, (i, rows.min())


def test_unknown_attribute_and_tiny_size_are_refused():
    with pytest.raises(ValueError, match="unknown face attribute"):
        render_face(Draws(0, 0), 64, {"beard": True})
    with pytest.raises(ValueError, match="unknown face attribute"):
        render_face_pair(Draws(0, 0), 64, "hat")
    with pytest.raises(ValueError, match="too small"):
        render_spec(face_spec(Draws(0, 0)), 4)


def test_faces_never_import_torch():
    code = "import sys, synthgen.faces.procedural, synthgen.gan.evaluate; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- GeneGAN card photos (the shipped checkpoint) ----------------------------------------------
def _child(q):
    import os

    from synthgen.gan.photo import _STATE, genegan_photo

    inherited = _STATE["pid"] != os.getpid()  # the parent's model came along with fork
    img = genegan_photo(Draws(9, 1), (95, 75))
    q.put((inherited and _STATE["pid"] == os.getpid(), img.tobytes()))


def test_genegan_photo_records_choices_and_is_fork_safe():
    pytest.importorskip("torch")
    import multiprocessing as mp

    from synthgen.gan.photo import _STATE, genegan_photo

    d = Draws(9, 1)
    img = genegan_photo(d, (95, 75))
    assert img.shape == (95, 75, 3) and img.dtype == np.uint8
    assert d.factors["photo.genegan.op"] in ("add", "remove")
    assert any(k.startswith("photo.genegan.face.") for k in d.factors)
    assert np.array_equal(img, genegan_photo(Draws(9, 1), (95, 75)))
    parent_model = _STATE["model"]
    # a forked child must not reuse the parent's model: it reloads (keyed by pid) and gets the same bytes
    q = mp.get_context("fork").Queue()
    p = mp.get_context("fork").Process(target=_child, args=(q,))
    p.start()
    reloaded, got = q.get(timeout=120)
    p.join(60)
    assert p.exitcode == 0 and reloaded and got == img.tobytes()
    assert _STATE["model"] is parent_model


def test_genegan_photo_with_a_masked_checkpoint_keeps_the_render_where_the_mask_is_zero(tmp_path):
    """compose mask: the mask and the decoded image are warped up and composed over the sharp
    render; a mask of 0 everywhere gives the render itself, a mask of 1 the decoder's image."""
    torch = pytest.importorskip("torch")
    import os

    from synthgen.gan import photo
    from synthgen.gan.checkpoint import save
    from synthgen.gan.infer import GeneGAN
    from synthgen.gan.model import GeneGANConfig
    from synthgen.gan.trainer import TrainConfig, Trainer

    tr = Trainer(GeneGANConfig(widths=(8, 16, 32), u_channels=8, d_widths=(8, 16, 32), compose="mask"),
                 TrainConfig(ema=0.0))
    saved = dict(photo._STATE)
    try:
        for bias in (-1e4, 1e4):
            with torch.no_grad():
                tr.model.gen.dec.mask_head.conv.weight.zero_()
                tr.model.gen.dec.mask_head.conv.bias.fill_(bias)
            save(tmp_path / str(bias), tr, generator_only=True)
            photo._STATE.update(pid=os.getpid(), model=GeneGAN.load(tmp_path / str(bias), batch=1))
            for i in range(4):
                d = Draws(9, i)
                img = photo.genegan_photo(d, (95, 75))
                s = face_spec(Draws(9, i), "photo.genegan.face")
                hi = render_spec(s, (95, 75), {"glasses": d.factors["photo.genegan.op"] == "remove"})
                if bias < 0:
                    assert np.array_equal(img, hi)
                else:  # the decoder's (untrained, flat) image covers the face
                    assert np.abs(img.astype(int) - hi).mean() > 10
    finally:
        photo._STATE.clear()
        photo._STATE.update(saved)
