"""Declared factors (issue 21, item 4): the catalogue `synthgen factors` lists and pins are
checked against is declared by the renderers, the modules they call and the augmentation ops,
computed from the resolved config without rendering. Tracing real samples is the test that the
declaration is complete and exact:

* every name a traced sample draws matches exactly one declared entry (its pattern, indices
  included), with the same kind (an `assigned` corpus index may also be drawn as an integer,
  on a redraw), its config key among the declared ones, its options and range equal to the
  declared ones, or inside them where the entry is declared `depends` (a bound: the range
  follows other factors), and every recorded value inside the declared domain;
* every declared entry is drawn by some traced sample of its pipeline, except the entries
  listed in RARE (too rare for a few hundred samples, each with the reason), which a second
  traced config turns on (RARE_CONFIGS: pins that make them common).

Every shipped pipeline is traced as shipped, and the VARIANTS turn on what only non-default
configs draw (ocr_line_narrow with every line style it leaves at chance 0, balanced corpora,
fixed-width and turned vertical lines, image-folder backgrounds, generated scene words, two
templates in one pipeline, portraits drawn per card, from a folder or by GeneGAN, cards in
scenes, no augmentation, an albumentations pipeline as an op). A pin of any of these names on
a config that cannot draw it is refused, as before: the catalogue is what the config can draw.
"""

from __future__ import annotations

import json
import re
import time

import cv2
import numpy as np
import pytest

import synthgen
import synthgen.pipeline
from synthgen.cli import main
from synthgen.config import available
from synthgen.draws import DERIVED, Draws, generic
from synthgen.errors import UserError
from synthgen.factors import FactorSpec

N = 240  # traced samples per config
SEED = 0x7ACE


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A folder of background images and one of portraits (two each)."""
    root = tmp_path_factory.mktemp("images")
    bg, ph = root / "bg", root / "photos"
    bg.mkdir()
    ph.mkdir()
    for k, col in enumerate([(0, 0, 255), (0, 255, 0)]):
        cv2.imwrite(str(bg / f"b{k}.png"), np.full((300 + 200 * k, 700, 3), col, np.uint8))
        cv2.imwrite(str(ph / f"p{k}.png"), np.full((300, 240, 3), col, np.uint8))
    return {"bg": str(bg), "photos": str(ph)}


LINE_STYLES = {"line.style.jitter.p": 0.3, "line.style.elastic.p": 0.2, "line.style.extrude.p": 0.2,
               "line.style.box.p": 0.2, "line.style.fill.gradient": 0.2, "line.style.fill.texture": 0.2,
               "line.style.distractor.p": 0.3, "line.style.char_rotate.p": 0.2, "line.style.overlap.p": 0.3,
               "line.style.outline_shadow": 0.2, "line.geometry.squeeze.p": 0.2, "line.tight": 0.3,
               "line.busy_background": 0.5, "line.photo_colors": 0.5}


# Configs that draw what the shipped ones do not (see the module docstring); "{bg}" and "{photos}"
# stand for the folders of the `folders` fixture.
VARIANTS = {
    "line_styles": ("ocr_line_narrow", LINE_STYLES),
    "line_by_length_fixed_width": ("ocr_line", {"line.corpus.balance": "length", "line.width": 160,
                                                "line.layout.vertical_rotate": True}),
    "line_by_chars_no_augment": ("ocr_line", {"line.corpus.balance": "chars", "augment.strength": 0}),
    "scene_images_generators": ("ocr_scene_narrow", {
        "background.weights": {"image": 1, "plain": 1}, "background.folders": ["{bg}"],
        "text.corpus": ["en_words", "gen:numbers", "gen:codes"], "image.width": 256, "image.height": 256,
        "augment.strength": 1.0}),
    "passports_portraits_per_card": ("passport_td3", {"document.templates": {"passport_td3": 1, "passport_td3_cn": 1},
                                                      "document.photo.bank": 0}),
    "licence_scene_portraits_per_card": ("licence_us_scene", {"document.photo.bank": 0}),
    "cn_cards_in_scenes_per_card": ("idcard_cn", {"document.photo.bank": 0, "document.in_scene": True}),
    "td1_photos_from_a_folder": ("id_td1", {"document.photo.source": "folder", "document.photo.folder": "{photos}"}),
    # an albumentations pipeline as one more op: its seed and each transform's recorded parameters
    "scene_albumentations": ("ocr_scene_narrow", {"augment.albumentations": "example", "augment.strength": 1.0,
                                                  "image.width": 256, "image.height": 256}),
}


def variant(key: str, folders: dict) -> tuple[str, dict]:
    name, over = VARIANTS[key]
    return name, {k: (v.format(**folders) if isinstance(v, str) else [x.format(**folders) for x in v]
                      if isinstance(v, list) else v) for k, v in over.items()}


def trace_config(pipe, n: int = N, pins: dict | None = None) -> tuple[dict, dict]:
    """(per generic name: the traced draws' kinds, names, options, range, config keys; per
    generic name: the recorded values) over samples 0..n-1."""
    seen: dict[str, dict] = {}
    values: dict[str, list] = {}
    for i in range(n):
        d = Draws(SEED, i, pinned=pins, trace=True)
        pipe.render_draws(d, i, meta={})
        for g, t in d.trace.items():
            s = seen.setdefault(g, {"kinds": set(), "names": set(), "srcs": set()})
            s["kinds"] |= t["kinds"]
            s["names"] |= t["names"]
            s["srcs"] |= t.get("srcs", set())
            if "options" in t:
                opts = s.setdefault("options", [])
                opts += [o for o in t["options"] if o not in opts]
            if "lo" in t:
                s["lo"] = min(s.get("lo", t["lo"]), t["lo"])
                s["hi"] = max(s.get("hi", t["hi"]), t["hi"])
        for k, v in d.factors.items():
            g = generic(k)
            if k.startswith(DERIVED):
                seen.setdefault(g, {"kinds": {"derived"}, "names": set(), "srcs": set()})["names"].add(k)
            else:
                values.setdefault(g, []).append(v)
    return seen, values


def _in_domain(spec: FactorSpec, v) -> bool:
    if spec.kind == "bernoulli":
        return isinstance(v, bool)
    if spec.kind in ("choice", "assigned") and spec.options is not None:
        return v in spec.options or str(v) in map(str, spec.options)
    if spec.lo is not None and isinstance(v, (int, float)):
        return spec.lo <= v <= spec.hi
    return True


def mismatches(space: dict[str, FactorSpec], seen: dict, values: dict) -> list[str]:
    """What the traced draws show that the declaration does not say (empty: it is exact)."""
    out = []
    for g, t in sorted(seen.items()):
        for name in sorted(t["names"]):
            hits = [s.name for s in space.values() if s.matches(name)]
            if len(hits) != 1:
                out.append(f"{name}: matches {hits or 'no entry'}")
        spec = space.get(g)
        if spec is None:
            continue
        kinds = {spec.kind} | ({"integer"} if spec.kind == "assigned" and spec.lo is not None else set())
        if not t["kinds"] <= kinds:
            out.append(f"{g}: drawn as {sorted(t['kinds'])}, declared {spec.kind}")
        declared_srcs = set(spec.src.split(" | ")) if spec.src else set()
        if not t["srcs"] <= declared_srcs:
            out.append(f"{g}: config key {sorted(t['srcs'])}, declared {spec.src!r}")
        if "options" in t and spec.kind != "assigned":
            got, want = set(map(str, t["options"])), set(map(str, spec.options or []))
            if not (got <= want if spec.depends else got == want):
                diff = sorted(got - want) or sorted(want - got)
                out.append(f"{g}: options {diff[:5]}{' ...' if len(diff) > 5 else ''} "
                           f"{'not among' if got - want else 'never passed of'} the declared {len(want)}")
        if "lo" in t and (spec.kind != "assigned" or spec.lo is not None):
            if spec.lo is None:
                out.append(f"{g}: drawn in [{t['lo']}, {t['hi']}], declared no range")
            elif spec.depends:
                if not (spec.lo <= t["lo"] and t["hi"] <= spec.hi):
                    out.append(f"{g}: drawn in [{t['lo']}, {t['hi']}], outside the declared bound [{spec.lo}, {spec.hi}]")
            elif (t["lo"], t["hi"]) != (spec.lo, spec.hi):
                out.append(f"{g}: drawn in [{t['lo']}, {t['hi']}], declared [{spec.lo}, {spec.hi}]")
        bad = [v for v in values.get(g, []) if not _in_domain(spec, v)]
        if bad:
            out.append(f"{g}: values {bad[:3]} outside the declared {spec.kind} {spec.domain()}")
    return out


def undrawn(space: dict[str, FactorSpec], seen: dict) -> set[str]:
    return {g for g in space if g not in seen}


# Entries too rare for N samples of a shipped config, and why; RARE_CONFIGS draw each of them.
RARE = [
    (r"line\.style\.(distractor\.(above|below)|overlap\.text)\.(numbers\.negative|prices\.code_after)",
     "a signed number (1 format in 11) or a price in USD / EUR (2 currencies in 13) among the few random "
     "words of a cut-off neighbour line or an overlapping word"),
    (r"line\.style\.overlap\.text\.(codes|dates)\..+",
     "an overlapping word (ocr_line: 6% of lines) from a generator (codes, dates: 0.5 of 13.5 source weight)"),
]
# (pipeline, overrides, pins): lines with an overlapping word and cut-off neighbours whose words come
# from the generators and formats above (pinned by exact name: word k of the line)
_STRAIGHT = {"line.layout": "straight", "line.style.overlap": True, "line.style.distractor": True}
RARE_CONFIGS = [
    ("ocr_line", {}, {**_STRAIGHT,
                      "line.style.overlap.text[0].source": "gen:codes", "line.style.overlap.text[1].source": "gen:dates",
                      **{f"line.style.distractor.{side}[0].{k}": v for side in ("above", "below")
                         for k, v in (("source", "gen:numbers"), ("numbers.format", "signed"))},
                      "line.style.distractor.above[1].source": "gen:prices",
                      "line.style.distractor.above[1].prices.currency": "USD",
                      "line.style.distractor.below[1].source": "gen:prices",
                      "line.style.distractor.below[1].prices.currency": "EUR"}),
    ("ocr_line", {}, {**_STRAIGHT,
                      "line.style.overlap.text[0].source": "gen:numbers",
                      "line.style.overlap.text[0].numbers.format": "signed",
                      "line.style.overlap.text[1].source": "gen:prices",
                      "line.style.overlap.text[1].prices.currency": "USD"}),
]


def _rare(g: str) -> bool:
    return any(re.fullmatch(r, g) for r, _ in RARE)


def _check(pipe, n: int = N) -> tuple[list[str], set[str]]:
    space = pipe.factor_space()
    seen, values = trace_config(pipe, n)
    return mismatches(space, seen, values), undrawn(space, seen)


@pytest.mark.parametrize("pipeline", available())
def test_shipped_pipeline_draws_exactly_what_it_declares(pipeline):
    pipe = synthgen.load_pipeline(pipeline)
    bad, missing = _check(pipe)
    assert not bad, "\n".join(bad)
    assert not {g for g in missing if not _rare(g)}, sorted(missing)


@pytest.mark.parametrize("key", list(VARIANTS))
def test_variant_draws_exactly_what_it_declares(key, folders):
    name, over = variant(key, folders)
    pipe = synthgen.load_pipeline(name, **over)
    bad, missing = _check(pipe)
    assert not bad, "\n".join(bad)
    assert not {g for g in missing if not _rare(g)}, sorted(missing)


def test_variants_cover_what_the_shipped_configs_do_not_draw(folders):
    """Every entry some config can declare is declared (and then drawn) by a shipped pipeline or a
    variant: the line and scene styles, balanced corpora, fixed widths, image backgrounds, the
    portrait's face and its steering, photos from a folder."""
    shipped = set().union(*(synthgen.load_pipeline(p).factor_space() for p in available()))
    extra = set().union(*(synthgen.load_pipeline(n, **o).factor_space()
                          for n, o in (variant(k, folders) for k in VARIANTS))) - shipped
    assert {"line.word.length", "line.word.char", "line.offset_along", "background.image", "background.zoom",
            "photo.shape", "photo.hair.style_for_sex", "photo.eyes.width_for_age", "photo.file",
            "word.w.numbers.format", "aug.albu.seed", "derived.aug.albu.Affine"} <= extra, sorted(extra)
    # the line renderer's newer factors are in the shipped ocr_line
    assert {"line.style.char_rotate_amount", "line.style.char_rotate.seed", "line.tight", "line.tight_side",
            "line.geometry.squeeze_amount", "line.style.overlap_scale", "line.style.outline_shadow",
            "line.color_from_photo", "line.color_photo.tile", "background.photo_busy"} <= shipped


def test_rare_entries_are_drawn_by_the_rare_configs():
    """The RARE entries of the shipped line pipelines are declared, accepted as pins, and drawn
    (exactly as declared) by the configs that turn them on."""
    rare = {g for p in ("ocr_line", "ocr_line_narrow") for g in synthgen.load_pipeline(p).factor_space() if _rare(g)}
    assert len(rare) >= 12, sorted(rare)
    drawn: set[str] = set()
    for name, over, pins in RARE_CONFIGS:
        pipe = synthgen.load_pipeline(name, **over)
        pipe.check_factor_names(list(pins))  # every pin names a declared factor
        seen, values = trace_config(pipe, 40, pins)
        assert not mismatches(pipe.factor_space(), seen, values)
        drawn |= set(seen)
    assert rare <= drawn, sorted(rare - drawn)


def test_genegan_portraits_draw_exactly_what_they_declare():
    """Portraits from the shipped GeneGAN checkpoint: the face, the op and the donor face."""
    pytest.importorskip("torch")
    pipe = synthgen.load_pipeline("passport_td3", **{"document.photo.bank": 0, "document.photo.source": "genegan",
                                                     "augment.strength": 0})
    space = pipe.factor_space()
    assert {"photo.genegan.op", "photo.genegan.face.shape", "photo.genegan.donor.glasses",
            "photo.genegan.face.hair.style_for_sex"} <= set(space)
    seen, values = trace_config(pipe, 30)
    assert not mismatches(space, seen, values)
    assert not undrawn(space, seen)


def test_catalogue_is_declared_without_rendering(monkeypatch):
    """load_pipeline with a pin and a bias, and the catalogue, render nothing: instant and the
    same every time."""
    def refuse(*a, **k):
        raise AssertionError("the catalogue rendered a sample")

    monkeypatch.setattr(synthgen.pipeline.Pipeline, "render_draws", refuse)
    for name in available():
        plain = synthgen.load_pipeline(name)
        t = time.perf_counter()
        space = plain.factor_space()
        assert time.perf_counter() - t < 1.0, name
        pin = next(g for g, s in space.items() if s.kind == "choice")
        bias = next(g for g, s in space.items() if s.kind == "bernoulli")
        pipe = synthgen.load_pipeline(name, **{"factors.pin": {pin: space[pin].options[0]},
                                               "factors.bias": {bias: {"true": 2.0}}})
        assert [s.to_json() for s in space.values()] == [s.to_json() for s in pipe.factor_space().values()]
        assert all(s.patterns and s.kind in ("choice", "uniform", "integer", "bernoulli", "assigned", "derived")
                   for s in space.values())


def test_rare_factors_are_known_and_misspelt_ones_refused():
    """A factor drawn once in thousands of samples is a factor (a trace of a few hundred used to
    refuse it); a misspelt or derived one is still refused, naming it."""
    rare = {"line.style.overlap.text.dates.day": 3, "line.style.distractor.above[2].prices.code_after": True}
    pipe = synthgen.load_pipeline("ocr_line", **{"factors.pin": rare})
    assert pipe.cfg.factors.pin == rare
    for bad, needle in (("line.style.overlap.text.dates.dayy", "no such factor"), ("derived.line.scale", "derived")):
        with pytest.raises(UserError, match=needle):
            synthgen.load_pipeline("ocr_line", **{"factors.pin": {bad: 1}})


def test_factors_command_lists_the_declaration(capsys):
    assert main(["factors", "ocr_scene"]) == 0
    out = capsys.readouterr().out
    assert "word[*].font" in out and "background.x" in out and "(bound)" in out and "aug.rotate.angle" in out
    assert main(["factors", "passport_td3", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["field[surname].size"]["patterns"] == ["field[surname].size"]
    assert rows["identity.given"]["patterns"] == ["identity.given[*]"] and rows["identity.given"]["depends"]
    assert rows["identity.sex"]["options"] == ["F", "M"] and rows["photo.bank"]["kind"] == "integer"


@pytest.mark.parametrize("pipeline", ["ocr_line", "ocr_scene", "passport_td3"])
def test_factors_table_says_where_every_factor_comes_from(pipeline, capsys):
    """No blank 'config key' cell: a factor no config key shapes says so (a blank read as a
    missing entry), and one a key shapes still names it."""
    assert main(["factors", pipeline]) == 0
    lines = capsys.readouterr().out.splitlines()
    head, rows = lines[0], lines[1:-1]  # the last line is the count
    col = head.index("config key")
    blank = [r.split()[0] for r in rows if not r[col:].strip()]
    assert not blank, f"factors with no config-key text: {blank[:10]}"
    by_name = {r.split()[0]: r[col:].strip() for r in rows}
    if pipeline == "ocr_line":
        assert by_name["line.layout.arc_up"] == "(fixed odds; no config key)"
        assert by_name["background.color0.r"] == "(fixed range; no config key)"
        assert by_name["derived.line.scale"] == "(computed from other factors)"
        assert by_name["line.size"] == "line.size"
