"""The factor contract: local draws, pins and biases that touch only what they name, the
catalogue, and errors for names that are not factors.

Dependency rule used below (what a pin of factor P may change besides P itself):
* *root* factors never change: their value is a function of (seed, index, own name) and of
  config only (counts, kinds, angles, style switches and magnitudes, corpus positions,
  background colours, augmentation). Exceptions that are real causal links: a word's `size`
  and `block` depend on its own `small`; in the line pipeline the crop size depends on the text
  and geometry, so `background.x/y` may move; `background.texture` indexes the bank of its
  `background.kind`. Inside one background or one distractor, parameters may follow each other
  (a crop offset follows the tile drawn, a polyline's points its extent).
* in a scene, nothing of an item drawn *before* the pinned item's changes (items are drawn in
  order); later items' placement and colour may change (occupancy, pixels under them).
* pins of background, distractor or augmentation factors leave every text factor but the
  text colours unchanged (colours are chosen against the pixels under the text).
Everything else (text from its corpus position and case, font from the text, placement,
colours) may follow the pin.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

import synthgen
from synthgen.draws import DERIVED, Draws, generic, mix64
from synthgen.errors import UserError

SCENE = {"image.width": 192, "image.height": 192, "text.words": [3, 6], "text.size": [10, 36]}

SCENE_ROOTS = re.compile(
    r"^(words|distractors|distractor\.(kind|color\..|thickness|x|y|a|b|angle)|background\.(kind|color[01]\..|texture|flip|gamma|x|y)"
    r"|word\.(small|block|case|source|index|angle|perspective|tilt_x|tilt_y|lines|leading|line\.words|size"
    r"|w\.source|w\.index)|augment\..*|aug\..*)$")
LINE_ROOTS = re.compile(
    r"^(line\.(words|word\.(source|index|run|c\.index)|case|size|layout|layout\..*|style\.(spacing|spacing_amount|stroke|stroke_width|shadow"
    r"|shadow_(dx|dy|right|down|blur|opacity)|underline|underline_gap|underline_thickness)|geometry\..*|pad_left"
    r"|pad_right|offset_cross|offset_along)|background\.(kind|color[01]\..|texture|flip|gamma)|augment\..*|aug\..*)$")
# factors that decide whether others are drawn at all (counts, switches, kinds)
EXISTENCE = {"words", "distractors", "distractor.kind", "word.small", "word.block", "word.lines", "word.line.words",
             "word.perspective", "background.kind", "line.words", "line.layout", "line.style.spacing",
             "line.style.stroke", "line.style.shadow", "line.style.underline", "line.geometry.perspective",
             "line.word.source", "line.word.run", "line.style.outline_shadow", "line.geometry.squeeze", "line.tight",
             "line.style.elastic",  # elastic: no squeeze or tight crop with the bend
             "line.color_from_photo", "background.photo_busy"}
# colours follow the background under the glyphs; so do the photo-palette tries (drawn until one contrasts)
COLOURS = re.compile(r"(^|\.)(color|stroke_color|shadow_color|color_photo)\.")
_ITEM = re.compile(r"^word\[(\d+)\]")


def _item(name: str) -> int | None:
    m = _ITEM.match(name)
    return int(m.group(1)) if m else None


def _may_change(kind: str, pinned: str, other: str) -> bool:
    """May pinning `pinned` change the value of `other` (both present before and after)?"""
    gp, go = generic(pinned), generic(other)
    if other.startswith(DERIVED):
        return True
    roots = SCENE_ROOTS if kind == "scene" else LINE_ROOTS
    comp = pinned.split(".")[0]
    if comp == other.split(".")[0] and comp.startswith(("background", "distractor")):
        return True  # inside one background or distractor, parameters follow each other (kind, tile, extent)
    if gp == "line.style.outline_shadow" and go in ("line.style.stroke", "line.style.shadow"):
        return True  # border + shadow together switch both on
    if roots.match(go):
        # the real links between roots: a word's size and block follow its own `small`; the
        # texture index is an index into the bank of the background kind
        if gp == "background.kind" and go == "background.texture":
            return True
        return kind == "scene" and gp == "word.small" and go in ("word.size", "word.block") \
            and _item(pinned) == _item(other)
    if gp.startswith(("background.", "distractor", "augment.", "aug.")):
        return bool(COLOURS.search(go)) or go in ("background.x", "background.y")
    if kind == "scene":
        ip, io = _item(pinned), _item(other)
        if ip is not None and io is not None and io < ip:
            return False
    return True


def _other_value(pipe, name: str, value, spec, k: int):
    """A valid value for factor `name` different from `value` (deterministic in k)."""
    if spec.kind in ("choice", "bernoulli"):
        opts = [o for o in spec.options if o != value]
        return opts[k % len(opts)] if opts else None
    if spec.kind in ("uniform", "integer"):
        lo, hi = spec.lo, spec.hi
        if hi <= lo:
            return None
        v = lo + (hi - lo) * ((k * 0.618034 + 0.3) % 1.0)
        return int(round(v)) if spec.kind == "integer" else v
    if spec.kind == "assigned" and name.endswith(".text"):
        return "Zebra" if value != "Zebra" else "Quartz"
    if spec.kind == "assigned" and name.endswith(".index"):
        return int(value) // 2 + 1
    return None


@pytest.mark.parametrize("pipeline,kind,extra", [("ocr_scene", "scene", SCENE), ("ocr_line", "line", {}),
                                                 ("ocr_line_narrow", "line", {})])
def test_pinning_one_factor_moves_only_its_dependents(pipeline, kind, extra):
    pipe = synthgen.load_pipeline(pipeline, **extra)
    space = pipe.factor_space()
    changed_image = tried = 0
    for i in range(60):
        s = pipe.sample(i)
        # factors of items that made it into the image (a pin on an unplaced word changes no pixel)
        unplaced = {m.group(1) for k, v in s.factors.items() if v is False
                    and (m := re.fullmatch(r"derived\.(word\[\d+\])\.placed", k))}
        names = sorted(k for k in s.factors if (not k.startswith(DERIVED) and space[generic(k)].kind != "assigned"
                                                or k.endswith(".text")) and k.split(".")[0] not in unplaced)
        name = names[mix64(i) % len(names)]  # a different factor each index, deterministically
        new = _other_value(pipe, name, s.factors[name], space[generic(name)], i)
        if new is None or new == s.factors[name]:
            continue
        try:
            t = pipe.sample(i, pinned={name: new})
        except UserError as e:  # e.g. a font that lacks glyphs of this text: refused by name
            assert name.endswith(".font") and "not one of its options" in str(e)
            continue
        tried += 1
        got = t.factors[name]
        assert got == new or (name.endswith(".text") and str(new).startswith(str(got))), (name, new, got)
        for k in set(s.factors) | set(t.factors):
            if k == name:
                continue
            if k in s.factors and k in t.factors:
                if s.factors[k] != t.factors[k]:
                    assert _may_change(kind, name, k), f"index {i}: pinning {name}={new!r} changed {k}: " \
                                                       f"{s.factors[k]!r} -> {t.factors[k]!r}"
            else:  # appeared or vanished: a dependent, or the pin decides whether it is drawn at all
                assert _may_change(kind, name, k) or generic(name) in EXISTENCE \
                    or re.fullmatch(r"aug\.\w+\.apply", generic(name)), (i, name, k)
        changed_image += not np.array_equal(s.image, t.image)
    assert tried >= 45
    # pins are used: most change pixels. Some cannot: a case pin on "123", a size the fit to the
    # line height overrides, a distractor word the frame cuts off, an augmentation op at a strength
    # that leaves no trace (ocr_line with the issue-20 defaults: 13 of 60, 47 change pixels)
    assert changed_image >= 0.75 * tried


@pytest.mark.parametrize("pipeline,extra", [("ocr_scene", SCENE), ("ocr_line", {})])
def test_replay_from_all_recorded_factors_is_byte_exact(pipeline, extra):
    pipe = synthgen.load_pipeline(pipeline, **extra)
    for i in (0, 5, 17):
        s = pipe.sample(i)
        r = pipe.replay(i, s.factors)
        assert r.image.tobytes() == s.image.tobytes() and r.factors == s.factors


def test_font_pin_by_name_is_used():
    pipe = synthgen.load_pipeline("ocr_scene", **SCENE)
    s = pipe.sample(4, pinned={"word.font": "DejaVu Serif Book"})
    fonts = {v for k, v in s.factors.items() if k.endswith(".font")}
    assert fonts == {"DejaVu Serif Book"}
    from .test_line import only

    line = synthgen.load_pipeline("ocr_line", **{"line.corpus.sources": only(en_words=1)})
    a, b = line.sample(2), line.sample(2, pinned={"line.font": "DejaVu Sans Mono Book"})
    assert b.factors["line.font"] == "DejaVu Sans Mono Book" and a.factors["line.font"] != "DejaVu Sans Mono Book"
    assert a.image.shape != b.image.shape or not np.array_equal(a.image, b.image)


def _chi2(observed: list[int], expected: list[float]) -> float:
    return sum((o - e) ** 2 / e for o, e in zip(observed, expected))


# chi-square critical values at p = 0.001 (df 3 and 9): a correct sampler fails 1 run in 1000
CHI2_3, CHI2_9 = 16.27, 27.88


def test_bias_shifts_its_factor_as_asked_and_nothing_else():
    opts, n = ["a", "b", "c", "d"], 2000
    bias = {"kind": {"b": 5.0, "d": 0.0}, "size": {"bins": [0, 25, 100], "weights": [3.0, 1.0]}}
    kinds, sizes = Counter(), []
    for i in range(n):
        plain, biased = Draws(3, i), Draws(3, i, bias=bias)
        for d in (plain, biased):
            d.uniform("x", 0, 1)
            d.choice("kind", opts)
            d.integers("n", 0, 9)
            d.uniform("size", 0, 100)
            d.bernoulli("flag", 0.3)
        for k in ("x", "n", "flag"):
            assert plain.factors[k] == biased.factors[k]
        kinds[biased.factors["kind"]] += 1
        sizes.append(biased.factors["size"])
    # kind: weights 1, 5, 1, 0 -> probabilities 1/7, 5/7, 1/7, 0
    assert kinds["d"] == 0
    assert _chi2([kinds[o] for o in "abc"], [n / 7, 5 * n / 7, n / 7]) < CHI2_3
    # size: density 3 on [0, 25), 1 on [25, 100): masses 75 and 75 -> half below 25
    hist = np.histogram(sizes, bins=10, range=(0, 100))[0]
    dens = np.array([3, 3, 2, 1, 1, 1, 1, 1, 1, 1], float)  # bin 2 = [20, 30): half at 3, half at 1
    dens = dens / dens.sum() * n
    assert _chi2(list(hist), list(dens)) < CHI2_9


def test_bias_through_a_pipeline_leaves_independent_factors():
    pipe = synthgen.load_pipeline("ocr_line")
    bias = {"background.kind": {"plain": 20.0}}
    plain_count = 0
    for i in range(150):
        s, t = pipe.sample(i), pipe.sample(i, bias=bias)
        plain_count += t.factors["background.kind"] == "plain"
        for k, v in s.factors.items():
            if k.startswith("line.") and not COLOURS.search(k) and k in t.factors:
                assert t.factors[k] == v, k
    # plain's weight 1 -> 20 beside the others' (ocr_line: 3 + 1 + 1 + 3 + 2 + 1): 20/31 = 0.645
    w = dict(pipe.cfg.background.weights)
    expect = 20.0 / (20.0 + sum(v for k, v in w.items() if k != "plain"))
    assert abs(plain_count / 150 - expect) < 0.1, (plain_count, expect)


def test_retry_loops_shift_nothing_outside_themselves():
    # a placement that needs several tries draws word[k].x again, from its own stream only
    d1, d2 = Draws(0, 1), Draws(0, 1)
    d1.uniform("word[0].x", 0, 1)
    for _ in range(5):
        d2.uniform("word[0].x", 0, 1)  # four retries
    assert d1.uniform("word[1].size", 0, 1) == d2.uniform("word[1].size", 0, 1)


@pytest.mark.parametrize("pins,needle", [({"back.kind": "plain"}, "no such factor"),
                                         ({"derived.words_placed": 3}, "derived"),
                                         ({"word.font": "No Such Font"}, "not one of its options")])
def test_bad_pins_are_errors_naming_them(pins, needle):
    pipe = synthgen.load_pipeline("ocr_scene", **SCENE)
    with pytest.raises(UserError, match=needle):
        pipe.sample(0, pinned=pins)


@pytest.mark.parametrize("pin", ["background.kindd=plain", "derived.line.scale=1"])
def test_bad_pin_on_the_cli_is_one_line_exit_2(pin, tmp_path):
    r = subprocess.run([sys.executable, "-m", "synthgen.cli", "preview", "ocr_line", "-n", "1", "--pin", pin,
                        "-o", str(tmp_path / "x.png")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert pin.split("=")[0] in r.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("pipeline,extra", [("ocr_scene", SCENE), ("ocr_line", {})])
def test_catalogue_covers_every_factor_drawn(pipeline, extra):
    pipe = synthgen.load_pipeline(pipeline, seed=99, **extra)
    space = pipe.factor_space()
    for i in range(150):
        for k in pipe.sample(1000 + i).factors:
            g = generic(k)
            assert g in space, g
            assert space[g].pinnable == (not k.startswith(DERIVED))
    kinds = {s.kind for s in space.values()}
    assert {"choice", "uniform", "integer", "bernoulli", "assigned", "derived"} <= kinds


def test_scene_words_walk_the_corpus_without_replacement():
    pipe = synthgen.load_pipeline("ocr_scene", **SCENE)
    seen = [s.factors[k] for s in (pipe.sample(i) for i in range(120)) for k in s.factors
            if re.fullmatch(r"word\[\d+\]\.index", k)]
    assert len(seen) > 300 and len(set(seen)) == len(seen)


def test_scene_debug_ink_lies_under_the_word_quads():
    import cv2

    pipe = synthgen.load_pipeline("ocr_scene", **{**SCENE, "augment.strength": 0.0})
    for i in range(6):
        s = pipe.sample(i, debug_ink=True)
        ink = s.maps["ink"]
        assert ink.shape == s.image.shape[:2] and ink.any() == bool(s.instances)
        cover = np.zeros_like(ink)
        for inst in s.instances:
            cv2.fillPoly(cover, [np.round(inst.quad).astype(np.int32)], 255)
        cover = cv2.dilate(cover, np.ones((5, 5), np.uint8))
        assert not np.any((ink > 64) & (cover == 0))  # no ink outside the (grown) word quads
        for inst in s.instances:
            if not inst.ignore:
                m = np.zeros_like(ink)
                cv2.fillPoly(m, [np.round(inst.quad).astype(np.int32)], 255)
                assert (ink[m > 0] > 64).any()
