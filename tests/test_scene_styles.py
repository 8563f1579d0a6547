"""Scene word styles (renderers/scenestyles.py) and the wide default ocr_scene.

For every style pinned on, the checks of tests/test_labels_exact.py over the default (wide)
scene pipeline: the sample is rendered again white on black (background plain black, text
white, every decoration -- extrusion, box, cut-off neighbours, signs -- black, glyph fills
white), so the pixels are the text's coverage, independent of the labels and of the ink hook.
Tiny don't-care words: their ink must lie in their quads like any other, but their 2-5 px
glyphs in light faces (Thin, Hairline weights) have strokes whose coverage stays under the
checker's 25% box threshold after the warp, so tightness is checked on readable words (as
Tally already does for its own-frame rule).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthgen
from synthgen.config import load_config
from tests.test_labels_exact import BOX_INK, Tally, _plain_pins, union_mask

STYLES = ("jitter", "elastic", "extrude", "box", "fill", "distractor")
SMALL = {"image.width": 256, "image.height": 256, "augment.strength": 0.0}
# white text on a black, plain background; every decoration black; fills white
WOB = _plain_pins({
    "background.kind": "plain",
    **{f"word.color.{c}": 255.0 for c in "rgb"},
    **{f"distractor.color.{c}": 0.0 for c in "rgb"},
    **{f"word.sign.color.{c}": 0.0 for c in "rgb"}, "word.sign.texture": False, "word.sign.border": False,
    **{f"word.style.{k}.{c}": 0.0 for k in ("extrude_color", "box_color") for c in "rgb"},
    # neighbours' colour keeps its contrast with what lies under it (like text): hidden by opacity
    "word.style.distractor_opacity": 0.0,
    **{f"word.style.fill_color2.{c}": 255.0 for c in "rgb"},
})


@pytest.fixture(scope="module")
def pipe():
    return synthgen.load_pipeline("ocr_scene", seed=12, **SMALL)


def check_readable(t: Tally, instances_by_key: dict, min_chars: int) -> None:
    """Tally.check, with the axis-aligned tightness rule on readable words only (see the module
    docstring); the ink rule and the own-frame rule as they are."""
    assert t.chars >= min_chars and t.ink > 0
    share = t.inside / t.ink
    assert share >= 0.99, f"only {share:.4f} of ink pixels inside the char quads"
    assert not t.loose, f"{len(t.loose)} loose char quads, e.g. {t.loose[:5]}"
    readable = [x for x in t.loose_axis if not instances_by_key[(x[0], x[1])]]
    assert len(readable) <= 0.005 * t.chars, f"{len(readable)} loose: {readable[:5]}"


@pytest.mark.parametrize("style", STYLES)
def test_labels_exact_with_each_style_on(pipe, style):
    pins = {f"word.style.{style}": True}
    t = Tally()
    ignored = {}
    for i in range(10):
        s = pipe.sample(i, pinned=pins)
        plain = pipe.sample(i, pinned={**WOB, **pins})
        assert [x.text for x in plain.instances] == [x.text for x in s.instances]
        assert all(np.allclose(a.quad, b.quad) and np.allclose(a.chars, b.chars) for a, b in zip(plain.instances, s.instances))
        on = [k for k, v in s.factors.items() if k.endswith(f".style.{style}")]
        assert on and all(s.factors[k] is True for k in on)
        ink = plain.image.max(axis=2)
        assert (plain.image.min(axis=2) == ink).all()  # grey: white text, black everything else
        t.add(s.key, ink, s.instances)
        ignored.update({(s.key, x.text): x.ignore for x in s.instances})
    check_readable(t, ignored, min_chars=150)


def test_default_scene_labels_exact_all_styles_at_their_odds(pipe):
    """The default pipeline as configured (fonts, backgrounds, signs, styles at their odds)."""
    t = Tally()
    ignored = {}
    seen = set()
    for i in range(40, 70):
        s = pipe.sample(i)
        plain = pipe.sample(i, pinned=WOB)
        assert [x.text for x in plain.instances] == [x.text for x in s.instances]
        ink = plain.image.max(axis=2)
        assert (plain.image.min(axis=2) == ink).all()
        t.add(s.key, ink, s.instances)
        ignored.update({(s.key, x.text): x.ignore for x in s.instances})
        seen |= {k.rsplit(".", 1)[1] for k, v in s.factors.items() if ".style." in k and v is True}
    assert seen >= set(STYLES) - {"jitter"} or seen >= set(STYLES) - {"distractor"}
    check_readable(t, ignored, min_chars=400)


def test_ink_hook_is_the_glyphs_only(pipe):
    """The renderer's ink (debug_ink) is the glyphs' coverage: in a white-on-black render with
    every decoration on and black it equals the pixels, so no box, extrusion or neighbour
    line is counted as a word's ink."""
    pins = {**WOB, **{f"word.style.{k}": True for k in STYLES}}
    for i in range(6):
        s = pipe.sample(i, pinned=pins, debug_ink=True)
        assert np.abs(s.image.max(axis=2).astype(int) - s.maps["ink"].astype(int)).max() <= 1
        assert s.maps["ink"].max() >= 128  # text drawn


@pytest.mark.parametrize("style", ["box", "distractor", "extrude"])
def test_decorations_are_drawn_and_never_labelled(pipe, style):
    """With the decoration grey instead of black (a colour pin: same words, same places),
    pixels light up outside every word's quads, and the labels stay the same."""
    pins = {**WOB, f"word.style.{style}": True}
    # grey, not white: an extrusion keeps a contrast with the (white) text
    white = {**pins, **{f"word.style.{style}_color.{c}": 160.0 for c in "rgb"}, "word.style.distractor_opacity": 1.0}
    lit = []
    for i in range(10):
        a, b = pipe.sample(i, pinned=pins), pipe.sample(i, pinned=white)
        assert [x.text for x in a.instances] == [x.text for x in b.instances]
        assert all(np.allclose(p.quad, q.quad) and np.allclose(p.chars, q.chars) for p, q in zip(a.instances, b.instances))
        if not a.instances:
            continue
        inside = union_mask(np.stack([x.quad for x in a.instances]), a.image.shape[:2], tol=1.0)
        # black decorations: nothing outside the words but the faint fringe of resampled glyphs
        assert (a.image.max(axis=2)[~inside] < BOX_INK).all()
        lit.append(int((b.image.max(axis=2)[~inside] > 100).sum()))
    # extrusions are 1-4 px deep and tiny words' neighbours a row or two: some samples show little
    assert sum(x > 0 for x in lit) >= 6 and sum(lit) > 200, lit


def test_neighbour_text_is_cut_off(pipe):
    """Cut-off neighbours show at most their configured share of a text height: in the
    word's own frame no lit run of rows outside the word is taller than cut x height (+2 px of
    resampling), so a neighbour is never a whole readable line."""
    from synthgen.renderers import scenestyles as SS
    from synthgen.renderers.fonts import resolve_faces
    from synthgen.renderers.glyphs import layout_line
    from synthgen.draws import Draws

    cfg = pipe.cfg.layout.style.distractor
    face = next(f for f in resolve_faces(["dejavu"], [], []) if f.name == "DejaVu Sans Book")
    lay = layout_line(face.path, face.index, 34, "Word")
    for i in range(8):
        d = Draws(5, i, pinned={"w.style.distractor_cut": cfg.cut[1]})
        out = SS.neighbours(d, "w", pipe.renderer.block_sampler, i, face, 34, lay.mask.shape, lay.ink, 0.3, cfg.cut[1])
        assert out is not None
        m, top = out
        h = lay.ink[3] - lay.ink[1]
        rows = np.nonzero(m.max(axis=1))[0] - top  # layout rows with neighbour ink
        above, below = rows[rows < lay.ink[1]], rows[rows >= lay.ink[3]]
        assert len(above) or len(below)
        for r in (above, below):
            if len(r):
                assert r.max() - r.min() + 1 <= cfg.cut[1] * h + 2
        assert not len(rows[(rows >= lay.ink[1]) & (rows < lay.ink[3])])  # clear of the word


def test_styles_catalogued_and_pinnable(pipe):
    names = set(pipe.factor_space())
    for s in STYLES:
        assert f"word.style.{s}" in names, s
    for k in ("jitter_amount", "elastic_amplitude", "elastic_wavelength", "box_pad", "distractor_cut", "extrude_depth",
              "fill_kind"):
        assert f"word.style.{k}" in names, k
    off = pipe.sample(3, pinned={f"word.style.{s}": False for s in STYLES})
    assert not any(v is True for k, v in off.factors.items() if ".style." in k)


def test_wide_alias_and_narrow_variant():
    """ocr_scene_wide is ocr_scene under another name; ocr_scene_narrow keeps the old defaults."""
    a, _ = load_config("ocr_scene")
    b, _ = load_config("ocr_scene_wide")
    n, _ = load_config("ocr_scene_narrow")
    da, db = a.model_dump(), b.model_dump()
    for k in ("name", "description"):
        da.pop(k), db.pop(k)
    assert da == db
    assert a.fonts.families == ["all"] and n.fonts.families == ["dejavu"]
    assert a.background.weights["photo"] > 0 and "photo" not in n.background.weights
    assert a.layout.sign.p > 0 and n.layout.sign.p == 0
    assert all(getattr(a.layout.style, s).p > 0 for s in ("jitter", "elastic", "extrude", "box", "distractor"))
    assert n.layout.style.model_dump() == type(n.layout.style)().model_dump()  # all off


def test_gradient_fill_stays_on_the_text_side_of_the_background():
    """A gradient's second colour drawn on the other side of the background's luma (pinned light
    on a mid-grey background, text dark) is moved to the text's side: no glyph pixel's colour
    comes within the contrast of the background, where a plain two-colour ramp would cross it."""
    from synthgen.draws import Draws
    from synthgen.renderers import scenestyles as SS

    sc = load_config("ocr_scene")[0].layout.style
    pins = {"w.style.extrude": False, "w.style.fill": True, "w.style.fill_kind": "gradient",
            **{f"w.style.fill_color2.{c}": 250.0 for c in "rgb"}}
    style, grow = SS.paint(Draws(0, 0, pinned=pins), "w", sc, 60.0)
    assert style is not None and grow == 0
    roi = np.full((20, 60, 3), 128, np.uint8)
    a = np.zeros((20, 60), np.uint8)
    a[5:15, 5:55] = 255
    field = style(roi, a, (20, 30, 10))
    y = field[..., 0] * 0.299 + field[..., 1] * 0.587 + field[..., 2] * 0.114
    assert y[a > 0].max() <= 128 - 60


def test_styled_samples_replay_byte_for_byte(pipe):
    """Every style on: the recorded factors (through JSON, as a shard stores them) replay the pixels."""
    import json

    pins = {f"word.style.{k}": True for k in STYLES}
    for i in range(3):
        s = pipe.sample(i, pinned=pins)
        r = pipe.replay(i, json.loads(json.dumps(s.factors)))
        assert np.array_equal(s.image, r.image)
        assert all(np.array_equal(a.chars, b.chars) for a, b in zip(s.instances, r.instances))


def test_no_factor_drawn_twice_but_placement_tries(pipe, monkeypatch):
    """A name drawn again is a keyed redraw and only the last value is recorded, so replay
    would pin the wrong value into the earlier draws: in scene samples (every style on and at
    the default odds, every background kind) only the placement tries redraw."""
    from synthgen import draws as D

    seen = set()
    orig = D.Draws.u

    def u(self, name):
        if name in self.factors:
            seen.add(D.generic(name))
        return orig(self, name)

    monkeypatch.setattr(D.Draws, "u", u)
    kinds = set()
    for i in range(24):
        for pins in ({}, {f"word.style.{k}": True for k in STYLES}):
            s = pipe.sample(i, pinned=pins)
            kinds.add(s.factors["background.kind"])
    assert kinds >= {"photo", "paper", "fractal"}
    assert seen <= {"word.x", "word.y"}, seen


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.sampled_from([0, 1, 3, 4]), st.integers(0, 2**32 - 1),
       st.sampled_from(["random", "255", "0", "view"]))
def test_mean_u8_is_numpys_mean_bit_for_bit(h, w, ch, seed, kind):
    """styles.mean_u8 (OpenCV's per-channel sums, one division) against float(np.mean(a)): the
    same double for uint8 images of 1, 3 or 4 channels, all-255 ones (the largest sums) and
    strided views (an ROI)."""
    from synthgen.renderers.styles import mean_u8

    shape = (h, w) if ch == 0 else (h, w, ch)
    r = np.random.default_rng(seed)
    a = {"255": np.full(shape, 255, np.uint8), "0": np.zeros(shape, np.uint8)}.get(
        kind, r.integers(0, 256, shape, np.uint8))
    if kind == "view":
        big = r.integers(0, 256, (h + 7, w + 5) + shape[2:], np.uint8)
        a = big[3 : 3 + h, 2 : 2 + w]
    got, want = mean_u8(a), float(np.mean(a))
    assert type(got) is float and np.float64(got).view(np.uint64) == np.float64(want).view(np.uint64)
