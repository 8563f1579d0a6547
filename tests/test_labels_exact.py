"""Label exactness over many random samples, for both pipelines.

* >= 99% of the text's ink pixels lie inside the union of the char quads;
* every char quad is tight: its area is at most 2x the bounding box of the ink inside it
  (non-space characters);
* the word / line quad contains all of its char quads.

Where the ink comes from (it must not come from the labels):
* ocr_line: `Pipeline.sample(i, debug_ink=True)` returns the very coverage array the renderer
  composited (fill and stroke) -- and a separate test checks that hook against the pixels of
  an independent render (black background, white text, effects off).
* ocr_scene: the scene renderer has no hook, so the sample is rendered again with every
  background and distractor colour pinned to black, every text colour pinned to white and
  augmentation off. Pinning replaces drawn values without changing how many numbers are drawn,
  so fonts, words and positions are those of the unpinned sample; the pixels are then
  255 x coverage exactly.

A pixel is ink when its coverage is >= 50%, and inside a quad when its centre is (no
tolerance). For a char's ink bounding box (tightness) pixels of >= 25% coverage count: a
2-px stem resampled at a sub-pixel offset is one full pixel and two partial ones, and the
50% rule would measure it 1 px wide. Labels half a pixel off fail these checks (see the last
test).
"""

from __future__ import annotations

import numpy as np

import synthgen

INK = 128  # coverage threshold of an ink pixel (uint8)
BOX_INK = 64  # coverage threshold for a char's ink bounding box
TOL = 0.0  # px
ALL_SOURCES = ["en_words", "zh_words", "zh_chars", "gen:numbers", "gen:dates", "gen:prices", "gen:phones", "gen:codes"]


def quad_area(q: np.ndarray) -> float:
    x, y = q[:, 0].astype(np.float64), q[:, 1].astype(np.float64)
    return 0.5 * abs(float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))


def in_quad(q: np.ndarray, xs: np.ndarray, ys: np.ndarray, tol: float = TOL) -> np.ndarray:
    """Points (pixel centres) inside the convex quad q (clockwise on screen), grown by tol."""
    q = np.asarray(q, np.float64)
    ok = np.ones(xs.shape, bool)
    for i in range(4):
        p0, p1 = q[i], q[(i + 1) % 4]
        e = p1 - p0
        n = np.hypot(*e)
        if n < 1e-9:
            continue
        cross = (e[0] * (ys - p0[1]) - e[1] * (xs - p0[0])) / n
        ok &= cross >= -tol
    return ok


def union_mask(quads: np.ndarray, shape: tuple[int, int], tol: float = TOL) -> np.ndarray:
    """Pixels whose centre lies in any quad (each tested only inside its own bounding box)."""
    H, W = shape
    out = np.zeros(shape, bool)
    for q in np.asarray(quads).reshape(-1, 4, 2):
        x0, y0 = np.floor(q.min(axis=0) - tol - 1).astype(int)
        x1, y1 = np.ceil(q.max(axis=0) + tol + 1).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
        if x1 <= x0 or y1 <= y0:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1]
        out[y0:y1, x0:x1] |= in_quad(q, xs + 0.5, ys + 0.5, tol)
    return out


def ink_box_area(ink: np.ndarray, q: np.ndarray) -> float:
    """Area of the bounding box (pixel corners) of the ink pixels whose centres lie in q
    (within half a pixel: the resampling fringe of this char's own ink)."""
    m = union_mask(q[None], ink.shape, tol=0.5) & (ink >= BOX_INK)
    ys, xs = np.nonzero(m)
    if len(xs) == 0:
        return 0.0
    return float((xs.max() + 1 - xs.min()) * (ys.max() + 1 - ys.min()))


def own_frame_fill(ink: np.ndarray, q: np.ndarray) -> float:
    """The share of quad q that the bounding box of its ink fills, measured in q's own frame
    (u along its top edge, v along its left edge, both 0..1; the ink pixels' corners are mapped
    back through the quad's homography). For an axis-aligned quad this is the usual ratio
    bbox area / quad area; for a sheared or rotated quad it does not penalise the quad for the
    glyph's slant (a "/" sheared upright has a thin axis-aligned ink box but fills its quad)."""
    import cv2

    near = union_mask(q[None], ink.shape, tol=0.5)
    # A glyph whose ink never reaches BOX_INK (a light face's 0.7 px^2 period, peak coverage
    # 60/255) is measured at half its own peak: its box is still that of its visible ink.
    peak = int(ink[near].max()) if near.any() else 0
    m = near & (ink >= min(BOX_INK, max(1, peak // 2)))
    ys, xs = np.nonzero(m)
    if len(xs) == 0:
        return 0.0
    unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    Hinv = cv2.getPerspectiveTransform(np.asarray(q, np.float32), unit)
    corners = np.concatenate([np.stack([xs + dx, ys + dy], 1) for dx in (0, 1) for dy in (0, 1)]).astype(np.float64)
    uv = cv2.perspectiveTransform(corners[None], Hinv)[0].clip(0, 1)
    return float(np.ptp(uv[:, 0]) * np.ptp(uv[:, 1]))


def contains(outer: np.ndarray, pts: np.ndarray, tol: float = 0.05) -> bool:
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    return bool(in_quad(outer, pts[:, 0], pts[:, 1], tol).all())


class Tally:
    def __init__(self) -> None:
        self.ink = self.inside = 0
        self.chars = 0
        self.loose: list[tuple] = []  # own-frame fill below 1/2: always a failure
        self.loose_axis: list[tuple] = []  # axis-aligned ink box below half the quad's area

    def add(self, key: str, ink: np.ndarray, instances) -> None:
        chars = [inst.chars for inst in instances if inst.chars is not None and len(inst.chars)]
        allq = np.concatenate(chars) if chars else np.zeros((0, 4, 2), np.float32)
        m = ink >= INK
        self.ink += int(m.sum())
        self.inside += int((m & union_mask(allq, ink.shape)).sum())
        for inst in instances:
            assert inst.chars is not None and inst.chars.shape == (len(inst.text), 4, 2), inst.text
            assert contains(inst.quad, inst.chars), (key, inst.text, inst.quad, inst.chars)
            for ch, q in zip(inst.text, inst.chars):
                if ch.isspace():
                    continue
                self.chars += 1
                box = ink_box_area(ink, q)
                if quad_area(q) > 2.0 * box:
                    self.loose_axis.append((key, inst.text, ch, round(quad_area(q), 1), box))
                # Tiny don't-care words (glyphs 2-5 px): the half-pixel fringe of any warp is a
                # third of the glyph, so its ink box says nothing about the label's tightness.
                if inst.ignore:
                    continue
                fill = own_frame_fill(ink, q)
                if fill < 0.5:
                    self.loose.append((key, inst.text, ch, round(fill, 3)))

    def check(self, min_chars: int) -> None:
        assert self.chars >= min_chars
        assert self.ink > 0
        share = self.inside / self.ink
        assert share >= 0.99, f"only {share:.4f} of ink pixels inside the char quads"
        assert not self.loose, f"{len(self.loose)} loose char quads, e.g. {self.loose[:5]}"
        # The literal rule (quad area <= 2 x axis-aligned ink box) holds for all but slanted
        # glyphs that a shear or curve turns upright ("/" at -7 deg skew on an arc): their quad
        # is the glyph's own box, sheared, yet their axis-aligned ink box is a thin bar.
        assert len(self.loose_axis) <= 0.005 * self.chars, f"{len(self.loose_axis)} loose: {self.loose_axis[:5]}"


# -- ocr_line -------------------------------------------------------------------------------


def test_line_labels_exact_over_random_samples():
    """All layouts and styles on, at their configured odds (curves and vertical boosted)."""
    pipe = synthgen.load_pipeline("ocr_line", seed=3, **{
        "augment.strength": 0.0,  # the renderer's labels (augmentation: tests/test_augment*.py)
        "line.layout.weights": {"straight": 3, "arc": 1, "sine": 1, "vertical": 1},
        "line.style.stroke.p": 0.3, "line.style.underline.p": 0.2, "line.style.shadow.p": 0.3,
    })
    t = Tally()
    layouts = set()
    for i in range(300):
        s = pipe.sample(i, debug_ink=True)
        ink = s.maps["ink"]
        assert ink.shape == s.image.shape[:2]
        t.add(s.key, ink, s.instances)
        layouts.add(s.factors["derived.line.layout"])
    assert layouts == {"straight", "arc", "sine", "vertical"}
    t.check(min_chars=2000)


def test_line_labels_exact_rotated_vertical_fixed_width_and_balance():
    pipe = synthgen.load_pipeline("ocr_line", seed=5, **{
        "augment.strength": 0.0,
        "line.layout.weights": {"straight": 1, "vertical": 2}, "line.layout.vertical_rotate": True,
        "line.width": 160, "line.height": 48, "line.corpus.balance": "chars", "line.geometry.perspective": 0.5,
    })
    t = Tally()
    for i in range(80):
        s = pipe.sample(i, debug_ink=True)
        assert s.image.shape[:2] == (48, 160)
        t.add(s.key, s.maps["ink"], s.instances)
    t.check(min_chars=300)


def _plain_pins(extra: dict) -> dict:
    pins = {f"background.color{j}.{c}": 0.0 for j in (0, 1) for c in "rgb"}
    pins.update(extra)
    return pins


def test_line_ink_hook_matches_independent_render():
    """The debug hook is the ink actually drawn: re-render on black with white text (no stroke,
    shadow or underline, augmentation off) and compare pixels."""
    pipe = synthgen.load_pipeline("ocr_line", seed=1, **{"augment.strength": 0.0})
    pins = _plain_pins({"line.color.r": 255.0, "line.color.g": 255.0, "line.color.b": 255.0,
                        "line.style.stroke": False, "line.style.shadow": False, "line.style.underline": False,
                        # a black plain background; no decoration or glyph fill beside the white ink
                        "background.kind": "plain", "line.style.box": False, "line.style.extrude": False,
                        "line.style.distractor": False, "line.style.fill": False, "line.style.overlap": False,
                        "line.style.outline_shadow": False, "line.color_from_photo": False})
    for i in range(40):
        ref = pipe.sample(i, debug_ink=True)
        plain = pipe.sample(i, pinned=pins, debug_ink=True)
        assert plain.instances[0].text == ref.instances[0].text
        assert np.allclose(plain.instances[0].chars, ref.instances[0].chars) or ref.factors["line.style.stroke"]
        luma = plain.image.max(axis=2).astype(int)
        assert np.abs(luma - plain.maps["ink"].astype(int)).max() <= 1
        assert plain.maps["ink"].max() > 200


# -- ocr_scene ------------------------------------------------------------------------------


SCENE_WHITE_ON_BLACK = _plain_pins({
    **{f"word.color.{c}": 255.0 for c in "rgb"},
    **{f"distractor.color.{c}": 0.0 for c in "rgb"},
})


def test_scene_labels_exact_over_random_samples():
    # the narrow pipeline (procedural backgrounds that SCENE_WHITE_ON_BLACK pins black); the wide
    # default, with every style, is checked the same way in tests/test_scene_styles.py
    pipe = synthgen.load_pipeline("ocr_scene_narrow", seed=2, **{"image.width": 256, "image.height": 256, "augment.strength": 0.0})
    t = Tally()
    for i in range(40):
        s = pipe.sample(i)
        plain = pipe.sample(i, pinned=SCENE_WHITE_ON_BLACK)
        # Same words in the same places: pins changed colours only.
        assert [x.text for x in plain.instances] == [x.text for x in s.instances]
        assert all(np.allclose(a.quad, b.quad) for a, b in zip(plain.instances, s.instances))
        ink = plain.image.max(axis=2)
        assert (plain.image.min(axis=2) == ink).all()  # grey: nothing but white text on black
        t.add(s.key, ink, s.instances)
    t.check(min_chars=500)


def _share(pipe, n: int, shift) -> float:
    ink_all = inside_all = 0
    for i in range(n):
        s = pipe.sample(i, debug_ink=True)
        ink = s.maps["ink"] >= INK
        ink_all += int(ink.sum())
        inside_all += int((ink & union_mask(s.instances[0].chars + shift, ink.shape)).sum())
    return inside_all / ink_all


def test_checker_is_sharp_and_labels_are_centred_on_the_ink():
    """A one-pixel label error in any direction fails the 99% rule, and moving the labels by
    half a pixel in any direction only loses ink: they sit where the ink is."""
    pipe = synthgen.load_pipeline("ocr_line", seed=3, **{"augment.strength": 0.0})
    exact = _share(pipe, 30, (0.0, 0.0))
    assert exact >= 0.999
    for d in ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
        assert _share(pipe, 30, d) < 0.99, d
    for d in ((0.5, 0.0), (-0.5, 0.0), (0.0, 0.5), (0.0, -0.5)):
        assert _share(pipe, 30, d) < exact, d
