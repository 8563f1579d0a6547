"""Pipeline configs: YAML files in `pipelines/`, validated on load.

Unknown keys and wrong types are errors that name the key path. Overrides use dotted paths
(`augment.strength=0.4`), from the CLI's `--set` or from Python keyword arguments.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator,
                      model_serializer, model_validator)

from .errors import UserError

from .resources import shipped

PIPELINES = shipped("pipelines")
FONTS = shipped("fonts")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _range(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return [v, v]
    return v


def _ordered_pair(v: tuple) -> tuple:
    if v[0] > v[1]:
        raise ValueError(f"range must be [low, high], got {list(v)}")
    return v


def _check_cases(v: dict) -> dict:
    from .renderers.corpus import CASES

    bad = set(v) - set(CASES)
    if bad:
        raise ValueError(f"unknown case {sorted(bad)}; use {', '.join(CASES)}")
    return v


class ImageCfg(Strict):
    width: int = Field(512, ge=16, le=8192)
    height: int = Field(512, ge=16, le=8192)


class FontsCfg(Strict):
    families: list[str] = Field(default_factory=lambda: ["dejavu"])  # folders under fonts/, or `all`
    folders: list[str] = Field(default_factory=list)  # user folders of .ttf/.otf/.ttc files
    on_missing_glyph: Literal["error", "redraw"] = "redraw"
    # share of lines per style (serif sans mono slab condensed display handwriting); styles not
    # listed share the rest by their number of families; {} = every family alike
    styles: dict[str, float] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)  # families (index name or folder) held out

    @field_validator("styles")
    @classmethod
    def _styles(cls, v: dict) -> dict:
        known = ("serif", "sans", "mono", "slab", "condensed", "display", "handwriting")
        bad = sorted(set(v) - set(known))
        if bad:
            raise ValueError(f"unknown font style {bad}; styles are {', '.join(known)}")
        if any(w < 0 for w in v.values()):
            raise ValueError("font style weights must be >= 0")
        return v


class TextCfg(Strict):
    corpus: list[str] = Field(default_factory=lambda: ["en_words"])
    words: tuple[int, int] = (3, 12)
    size: tuple[float, float] = (10.0, 64.0)  # font size in px
    angle: tuple[float, float] = (-30.0, 30.0)  # degrees, counter-clockwise on screen
    min_readable: float = Field(8.0, ge=0)  # text shorter than this (px) is marked ignore
    case: dict[str, float] = Field(default_factory=lambda: {"as_is": 3, "lower": 1, "upper": 1, "title": 1})
    contrast: float = Field(60.0, ge=0, le=255)  # least luma gap between text and background

    _ranges = field_validator("words", "size", "angle", mode="before")(_range)

    _ord = field_validator("words", "size", "angle")(_ordered_pair)

    @field_validator("words")
    @classmethod
    def _positive_words(cls, v: tuple) -> tuple:
        if v[0] < 1:
            raise ValueError("need at least 1 word per image")
        return v

    _case = field_validator("case")(_check_cases)


class SignCfg(Strict):
    """A sign or plate behind a scene item, on the item's own plane (its rotation and tilt), so
    the text follows a background region instead of floating over it (linestyles.draw_sign)."""

    p: float = Field(0.0, ge=0, le=1)  # chance an item sits on a sign
    pad: tuple[float, float] = (0.15, 0.6)  # sign margin around the text, x text height
    texture: float = Field(0.4, ge=0, le=1)  # chance the sign is a photo texture, not a plain colour
    border: float = Field(0.4, ge=0, le=1)  # chance of a border line

    _ranges = field_validator("pad", mode="before")(_range)


class SceneDistractorCfg(Strict):
    """Neighbouring text cut off near a scene word (never labelled)."""

    p: float = Field(0.0, ge=0, le=1)
    gap: tuple[float, float] = (0.15, 0.5)  # clear of the word's ink, x text height
    cut: tuple[float, float] = (0.1, 0.25)  # how much of the neighbour shows, x text height

    _ranges = field_validator("gap", "cut", mode="before")(_range)
    _ord = field_validator("gap", "cut")(_ordered_pair)


class SceneStyleCfg(Strict):
    """Line styles that scene words get too (renderers/scenestyles.py), off unless given a chance."""

    extrude: "ExtrudeCfg" = Field(default_factory=lambda: ExtrudeCfg())
    fill: "FillCfg" = Field(default_factory=lambda: FillCfg())
    jitter: "JitterCfg" = Field(default_factory=lambda: JitterCfg())  # per-char baseline / spacing, single words
    elastic: "ElasticCfg" = Field(default_factory=lambda: ElasticCfg())  # x text height; char quads follow
    box: "BoxCfg" = Field(default_factory=lambda: BoxCfg())  # outline / plate on the word's plane
    distractor: SceneDistractorCfg = Field(default_factory=SceneDistractorCfg)  # cut-off neighbours


class LayoutCfg(Strict):
    """How scene text is arranged: single words, multi-line blocks, perspective planes, tiny text."""

    block: float = Field(0.15, ge=0, le=1)  # chance an item is a multi-line block of words
    block_lines: tuple[int, int] = (2, 4)
    block_words: tuple[int, int] = (1, 3)  # words per block line
    leading: tuple[float, float] = (1.1, 1.5)  # line pitch / font size
    perspective: float = Field(0.3, ge=0, le=1)  # chance an item lies on a tilted plane
    tilt: float = Field(0.15, ge=0, le=0.5)  # most projective foreshortening across an item
    small: float = Field(0.1, ge=0, le=1)  # chance of a tiny, unreadable word (marked ignore)
    small_size: tuple[float, float] = (5.0, 9.0)
    distractors: tuple[int, int] = (0, 4)  # non-text shapes per image (lines, boxes, circles)
    sign: SignCfg = Field(default_factory=lambda: SignCfg())  # text on a sign / plane, not floating
    style: SceneStyleCfg = Field(default_factory=lambda: SceneStyleCfg())  # extrusion, glyph fills

    _ranges = field_validator("block_lines", "block_words", "leading", "small_size", "distractors", mode="before")(_range)

    @field_validator("block_lines", "block_words", "leading", "small_size", "distractors")
    @classmethod
    def _ordered(cls, v: tuple) -> tuple:
        if v[0] > v[1] or v[0] < 0:
            raise ValueError(f"range must be [low, high] with low >= 0, got {list(v)}")
        return v


class BackgroundCfg(Strict):
    weights: dict[str, float] = Field(
        default_factory=lambda: {"plain": 1, "gradient": 1, "texture": 3, "noise": 1}
    )  # also: fractal (Perlin fBm / turbulence / ridged), paper (grain, fibres, folds, stains),
    # photo (shipped real-photo tiles, synthgen/data/textures), image (your folders)
    folders: list[str] = Field(default_factory=list)  # user image folders ("image" kind)

    @field_validator("weights")
    @classmethod
    def _kinds(cls, v: dict) -> dict:
        bad = set(v) - {"plain", "gradient", "texture", "noise", "fractal", "paper", "photo", "image"}
        if bad:
            raise ValueError(f"unknown background kind {sorted(bad)}")
        if not any(w > 0 for w in v.values()):
            raise ValueError("at least one background weight must be > 0")
        return v


class AugOpCfg(Strict):
    """One augmentation op (synthgen/augment): chance and magnitude range at strength 1; unset = the op's default."""

    p: float | None = Field(None, ge=0, le=1)
    range: tuple[float, float] | None = None

    _ranges = field_validator("range", mode="before")(_range)


class AugmentCfg(Strict):
    strength: float = Field(0.3, ge=0.0, le=1.0)  # scales every op's magnitude towards identity
    ops: dict[str, AugOpCfg] = Field(default_factory=dict)  # per-op overrides; p: 0 turns one off
    out_of_frame: Literal["ignore", "drop"] = "ignore"  # instances mostly pushed out of the frame
    min_visible: float = Field(0.5, ge=0, le=1)  # least share of a quad's area left in the frame

    @field_validator("ops")
    @classmethod
    def _known_ops(cls, v: dict) -> dict:
        from .augment.base import op_table

        known = [op.name for op, _, _ in op_table(None)]
        bad = sorted(set(v) - set(known))
        if bad:
            raise ValueError(f"unknown augmentation op {bad}; use {', '.join(known)}")
        return dict(sorted(v.items()))


class FactorsCfg(Strict):
    """Pins and biases for the recorded factors (see synthgen/draws.py): `pin: {name: value}`,
    `bias: {name: {option: weight} | {bins: [...], weights: [...]} | {true: w, false: w}}`.
    Names are factor names (`background.kind`) or generic ones (`word.font` for every word)."""

    pin: dict[str, Any] = Field(default_factory=dict)
    bias: dict[str, Any] = Field(default_factory=dict)


class SplitsCfg(Strict):
    """Identity-segregated splits (synthgen/splits.py): `ratios` of the parts, the hash `key`
    (same key and ratios: same partition in every job), and what is held out (`by`)."""

    ratios: dict[str, float] = Field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    key: str = "synthgen"
    by: list[Literal["strings", "identities", "fonts"]] = Field(default_factory=lambda: ["strings", "identities"])

    @field_validator("ratios")
    @classmethod
    def _positive(cls, v: dict) -> dict:
        if not v or any(not (float(r) > 0) for r in v.values()):
            raise ValueError("split ratios must be positive numbers, e.g. {train: 0.8, val: 0.1, test: 0.1}")
        return v


class LabelsCfg(Strict):
    stride: int = Field(4, ge=1, le=32)
    min_text_size: float = Field(10.0, ge=0)
    store: list[Literal["score", "geo_rbox", "geo_quad", "mask"]] = Field(default_factory=lambda: ["score"])


class OutputCfg(Strict):
    format: Literal["jpg", "png"] = "jpg"
    quality: int = Field(90, ge=1, le=100)
    shard_size: int = Field(1000, ge=1)


# -- kind: line (recognition crops; synthgen/renderers/line.py) -------------------------------


class LineCorpusCfg(Strict):
    # Source -> weight. A source is a shipped corpus (en_words, zh_words, zh_chars), a UTF-8
    # text file or a folder of .txt files (one entry per line), or a generator gen:numbers,
    # gen:dates, gen:prices, gen:phones, gen:codes. Weights are exact shares of the word slots.
    sources: dict[str, float] = Field(default_factory=lambda: {"en_words": 1.0})
    words: tuple[int, int] = (1, 3)  # entries joined per line (space; none between CJK)
    char_run: tuple[int, int] = (2, 10)  # characters per entry of a single-character corpus
    max_chars: int = Field(32, ge=1)
    balance: Literal["none", "length", "chars"] = "none"
    case: dict[str, float] = Field(default_factory=lambda: {"as_is": 6, "lower": 1, "upper": 1, "title": 1})

    _ranges = field_validator("words", "char_run", mode="before")(_range)

    @field_validator("words", "char_run")
    @classmethod
    def _pairs(cls, v: tuple) -> tuple:
        if v[0] < 1:
            raise ValueError("need at least 1")
        return _ordered_pair(v)

    @field_validator("sources")
    @classmethod
    def _sources(cls, v: dict) -> dict:
        if any(w < 0 for w in v.values()) or not any(w > 0 for w in v.values()):
            raise ValueError("give at least one source with weight > 0 (and none below 0)")
        # weights are exact shares walked in order: the order keys were written in must not matter
        return dict(sorted(v.items()))

    _case = field_validator("case")(_check_cases)


class ChanceRange(Strict):
    p: float = Field(0.0, ge=0, le=1)  # chance the style is used
    range: tuple[float, float] = (0.0, 0.0)

    _ranges = field_validator("range", mode="before")(_range)
    _ord = field_validator("range")(_ordered_pair)


class ShadowCfg(Strict):
    p: float = Field(0.15, ge=0, le=1)
    offset: tuple[float, float] = (1.0, 3.0)  # px, each axis, random sign
    blur: tuple[float, float] = (0.0, 1.5)  # Gaussian sigma, px
    opacity: tuple[float, float] = (0.4, 0.9)

    _ranges = field_validator("offset", "blur", "opacity", mode="before")(_range)
    _ord = field_validator("offset", "blur", "opacity")(_ordered_pair)


class UnderlineCfg(Strict):
    p: float = Field(0.05, ge=0, le=1)
    gap: tuple[float, float] = (1.0, 3.0)  # px below the baseline
    thickness: tuple[float, float] = (1.0, 2.0)  # px

    _ranges = field_validator("gap", "thickness", mode="before")(_range)
    _ord = field_validator("gap", "thickness")(_ordered_pair)


class JitterCfg(ChanceRange):  # own defaults: `--set line.style.jitter.p=1` keeps this range
    range: tuple[float, float] = (0.03, 0.1)


class ExtrudeCfg(ChanceRange):
    range: tuple[float, float] = (1.0, 4.0)


class DistractorCfg(ChanceRange):
    range: tuple[float, float] = (0.15, 0.5)


class ElasticCfg(Strict):
    p: float = Field(0.0, ge=0, le=1)
    amplitude: tuple[float, float] = (0.02, 0.05)  # peak displacement, x line height
    wavelength: tuple[float, float] = (2.0, 6.0)  # x line height (shorter bends turn glyphs too much)

    _ranges = field_validator("amplitude", "wavelength", mode="before")(_range)
    _ord = field_validator("amplitude", "wavelength")(_ordered_pair)


class BoxCfg(Strict):
    p: float = Field(0.0, ge=0, le=1)
    plate: float = Field(0.5, ge=0, le=1)  # chance the box is a filled plate, not an outline
    pad: tuple[float, float] = (0.05, 0.3)  # outside the text quad, x line height
    thickness: tuple[float, float] = (1.0, 2.0)  # outline px

    _ranges = field_validator("pad", "thickness", mode="before")(_range)
    _ord = field_validator("pad", "thickness")(_ordered_pair)


class FillCfg(Strict):
    gradient: float = Field(0.0, ge=0, le=1)  # chance of a two-colour gradient inside the glyphs
    texture: float = Field(0.0, ge=0, le=1)  # chance of a texture (contrast kept) inside the glyphs


class CharRotateCfg(Strict):
    p: float = Field(0.0, ge=0, le=1)
    range: tuple[float, float] = (4.0, 18.0)  # most turn of a character, degrees (each draws +-this)
    lift: tuple[float, float] = (0.0, 0.1)  # most shift off the baseline, x font size (each draws +-this)

    _ranges = field_validator("range", "lift", mode="before")(_range)
    _ord = field_validator("range", "lift")(_ordered_pair)


class OverlapCfg(Strict):
    p: float = Field(0.0, ge=0, le=1)
    opacity: tuple[float, float] = (0.25, 0.6)  # the word behind is fainter than the text
    scale: tuple[float, float] = (0.8, 1.6)  # its size, x the text's
    angle: tuple[float, float] = (-20.0, 20.0)  # degrees
    shift: tuple[float, float] = (0.2, 0.6)  # its centre off the text's, x font size (random sign, across)

    _ranges = field_validator("opacity", "scale", "angle", "shift", mode="before")(_range)
    _ord = field_validator("opacity", "scale", "angle", "shift")(_ordered_pair)


class LineStyleCfg(Strict):
    # Extra advance after every character, as a fraction of the font size.
    spacing: ChanceRange = Field(default_factory=lambda: ChanceRange(p=0.3, range=(-0.04, 0.3)))
    # Border around the glyphs, px (integer radius; 0 = none).
    stroke: ChanceRange = Field(default_factory=lambda: ChanceRange(p=0.15, range=(1, 2)))
    shadow: ShadowCfg = Field(default_factory=ShadowCfg)
    underline: UnderlineCfg = Field(default_factory=UnderlineCfg)
    # SynthTIGER-class styles (renderers/linestyles.py), off unless given a chance here:
    # per-char baseline and spacing jitter (straight lines), x font size
    jitter: JitterCfg = Field(default_factory=JitterCfg)
    elastic: ElasticCfg = Field(default_factory=ElasticCfg)  # wave / elastic bend, char quads follow
    extrude: ExtrudeCfg = Field(default_factory=ExtrudeCfg)  # 3-D depth, px
    box: BoxCfg = Field(default_factory=BoxCfg)  # border or plate around the text
    fill: FillCfg = Field(default_factory=FillCfg)
    # lines of other text above and below, cut off by the crop; gap to the text x font size
    distractor: DistractorCfg = Field(default_factory=DistractorCfg)
    # each character turned and lifted on its own (straight, arc and sine lines); char quads follow
    char_rotate: CharRotateCfg = Field(default_factory=CharRotateCfg)
    # another word behind the text, fainter, turned and shifted across it (never labelled)
    overlap: OverlapCfg = Field(default_factory=OverlapCfg)
    # chance of a border AND a drop shadow together (on top of their own chances)
    outline_shadow: float = Field(0.0, ge=0, le=1)


class LineLayoutCfg(Strict):
    # straight | arc | sine | vertical (vertical only for text with CJK; others fall back to straight)
    weights: dict[str, float] = Field(default_factory=lambda: {"straight": 10, "arc": 1, "sine": 1, "vertical": 1})
    arc: tuple[float, float] = (0.15, 0.6)  # sagitta / font size, random sign
    sine_amplitude: tuple[float, float] = (0.05, 0.2)  # x font size
    sine_wavelength: tuple[float, float] = (4.0, 10.0)  # x font size
    vertical_rotate: bool = False  # true: turn vertical lines 90 deg so every crop is `height` px high

    _ranges = field_validator("arc", "sine_amplitude", "sine_wavelength", mode="before")(_range)
    _ord = field_validator("arc", "sine_amplitude", "sine_wavelength")(_ordered_pair)

    @field_validator("weights")
    @classmethod
    def _kinds(cls, v: dict) -> dict:
        bad = set(v) - {"straight", "arc", "sine", "vertical"}
        if bad:
            raise ValueError(f"unknown line layout {sorted(bad)}; use straight, arc, sine, vertical")
        if not any(w > 0 for w in v.values()):
            raise ValueError("at least one layout weight must be > 0")
        return v


class LineGeometryCfg(Strict):
    rotate: tuple[float, float] = (-2.0, 2.0)  # degrees, counter-clockwise
    skew: tuple[float, float] = (-10.0, 10.0)  # degrees of horizontal shear (> 0 leans right)
    perspective: float = Field(0.2, ge=0, le=1)  # chance of a tilted plane
    tilt: float = Field(0.08, ge=0, le=0.4)  # most projective foreshortening across the line
    # glyphs squeezed (< 1) or stretched (> 1) vertically against their width
    squeeze: ChanceRange = Field(default_factory=lambda: ChanceRange(p=0.0, range=(0.65, 1.5)))

    _ranges = field_validator("rotate", "skew", mode="before")(_range)
    _ord = field_validator("rotate", "skew")(_ordered_pair)


class LineCfg(Strict):
    height: int = Field(32, ge=8, le=512)  # crop height (for unrotated vertical lines: its width)
    width: int | None = Field(None, ge=16, le=512)  # null: from the content; a number: fixed width
    max_width: int = Field(512, ge=16, le=512)  # longer lines drop words, then shrink to fit
    width_multiple: int = Field(4, ge=1, le=64)  # content widths rounded up to a multiple of this
    size: tuple[float, float] = (0.55, 0.85)  # font size / height
    padding: tuple[float, float] = (0.0, 0.3)  # left and right margins, x height, drawn separately
    contrast: float = Field(60.0, ge=0, le=255)  # least luma gap between text and background
    # chance the first and/or last glyph's ink touches the crop's edge (no margin; not cut)
    tight: float = Field(0.0, ge=0, le=1)
    # chance a photo background is the busiest (most fine detail) of 4 crops of its tile
    busy_background: float = Field(0.0, ge=0, le=1)
    # chance the text colour is a real photo's pixel (that keeps `contrast`; else drawn as usual)
    photo_colors: float = Field(0.0, ge=0, le=1)
    corpus: LineCorpusCfg = Field(default_factory=LineCorpusCfg)
    style: LineStyleCfg = Field(default_factory=LineStyleCfg)
    layout: LineLayoutCfg = Field(default_factory=LineLayoutCfg)
    geometry: LineGeometryCfg = Field(default_factory=LineGeometryCfg)

    _ranges = field_validator("size", "padding", mode="before")(_range)

    @field_validator("size", "padding")
    @classmethod
    def _fractions(cls, v: tuple) -> tuple:
        if v[0] < 0 or v[1] > 2:
            raise ValueError(f"expected fractions of the height in [0, 2], got {list(v)}")
        return _ordered_pair(v)


# -- the pipeline config: shared sections plus the kind's own -------------------------------
#
# A renderer class declares the top-level sections its kind reads (`sections`, with their
# models: scene image/text/layout, line `line`, document `document`) and its size rules; see
# renderers/registry.py. `config_model(kind)` is PipelineConfig plus those sections, and
# `PipelineConfig.model_validate(data)` (and `validate`) picks it by `data["kind"]`. So a config
# dumps only what its kind reads: a fingerprint or dataset name never depends on sections the
# renderer ignores, and a plug-in kind brings its own section without editing this module.


class PipelineConfig(Strict):
    """The sections every kind shares. A config of kind K is an instance of `config_model(K)`,
    a subclass that adds K's sections (`kind_sections`)."""

    kind_sections: ClassVar[tuple[str, ...]] = ()

    name: str
    kind: str = "scene"
    description: str = ""
    seed: int = 0
    fonts: FontsCfg = Field(default_factory=FontsCfg)
    background: BackgroundCfg = Field(default_factory=BackgroundCfg)
    augment: AugmentCfg = Field(default_factory=AugmentCfg)
    factors: FactorsCfg = Field(default_factory=FactorsCfg)
    split: str | None = None  # render only this part of splits.ratios (train / val / test)
    splits: SplitsCfg = Field(default_factory=SplitsCfg)
    labels: LabelsCfg = Field(default_factory=LabelsCfg)
    output: OutputCfg = Field(default_factory=OutputCfg)

    @classmethod
    def model_validate(cls, obj: Any, **kw: Any) -> "PipelineConfig":
        # PipelineConfig.model_validate(data) validates with the model of data's kind
        if cls is PipelineConfig and isinstance(obj, dict):
            model = config_model(obj.get("kind", "scene"))
            if model is not None:
                return model.model_validate(obj, **kw)
            # an unknown kind: its error (and the shared sections'), not one per kind section
            obj = {k: v for k, v in obj.items() if k in cls.model_fields}
        return super().model_validate(obj, **kw)

    def __reduce__(self):
        # kind models are made at run time: pickle by kind (the unpickling process makes it again)
        return (_restore, (self.kind, self.__getstate__()))

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        from .renderers.registry import known, kinds

        if not known(v):
            raise ValueError(f"unknown kind {v!r}; use one of {', '.join(kinds())}")
        return v

    @model_serializer(mode="wrap")
    def _drop_unsplit(self, handler):
        d = handler(self)
        if isinstance(d, dict) and self.split is None:
            # unsplit jobs keep the fingerprint they had before splits existed
            d.pop("split", None)
            d.pop("splits", None)
        return d

    @model_validator(mode="before")
    @classmethod
    def _sections_of_other_kinds(cls, data: Any) -> Any:
        # A config may not set a section its kind does not read (one given as null or {} is
        # dropped); the kind's own section given as null gets its defaults.
        if cls is PipelineConfig or not isinstance(data, dict):
            return data
        data = dict(data)
        for k in cls.kind_sections:
            if k in data and data[k] is None:
                del data[k]
        extra = sorted(k for k in data if k not in cls.model_fields)
        if not extra:
            return data
        from .renderers.registry import section_owners

        owners = section_owners()
        foreign: dict[str, list[str]] = {}
        for k in extra:
            models = owners.get(k)
            if not models:
                continue  # no kind reads it: refused as an unknown key
            if data[k] is None or data[k] == {}:
                del data[k]  # nothing set
            else:
                foreign[k] = sorted(models)
        if foreign:
            kind = data.get("kind", "scene")
            hint = "; ".join(f"{k}: is for kind: {'/'.join(o)}" for k, o in foreign.items())
            raise ValueError(f"section(s) {sorted(foreign)} are not read by kind: {kind} ({hint}); "
                             f"see pipelines/ for a {kind} example")
        return data

    @model_validator(mode="after")
    def _canonical_order(self) -> "PipelineConfig":
        # Weighted draws walk their options in order, so a weights mapping must not depend on
        # the order keys were written in: the YAML's order and the sorted JSON a worker gets
        # would otherwise give different samples for the same config. (A kind's own weights:
        # its section's validators.)
        self.background.weights = dict(sorted(self.background.weights.items()))
        return self

    @model_validator(mode="after")
    def _known_split(self) -> "PipelineConfig":
        if self.split is not None and self.split not in self.splits.ratios:
            raise ValueError(f"split {self.split!r} is not one of splits.ratios ({', '.join(self.splits.ratios)})")
        return self

    @model_validator(mode="after")
    def _kind_rules(self) -> "PipelineConfig":
        # the kind's size rules (sizes that must be multiples of labels.stride) and own checks
        if type(self) is not PipelineConfig:
            from .renderers.registry import check_config

            check_config(self)
        return self


_MODELS: dict[str, tuple[type, type[PipelineConfig]]] = {}


def config_model(kind: str) -> type[PipelineConfig] | None:
    """PipelineConfig plus the sections `kind`'s renderer declares; None for an unknown kind."""
    from .renderers.registry import kind_info, known

    if not isinstance(kind, str) or not known(kind):
        return None
    info = kind_info(kind)
    hit = _MODELS.get(kind)
    if hit is not None and hit[0] is info.cls:
        return hit[1]
    fields = {s: (m, Field(default_factory=m)) for s, m in info.sections}
    model = create_model(f"{info.cls.__name__}Config", __base__=PipelineConfig, __module__=__name__, **fields)
    model.kind_sections = info.section_names
    _MODELS[kind] = (info.cls, model)
    return model


def _restore(kind: str, state: dict) -> PipelineConfig:
    model = config_model(kind)
    if model is None:
        raise ValueError(f"unknown kind {kind!r}: register its renderer before unpickling its config")
    obj = model.__new__(model)
    obj.__setstate__(state)
    return obj


def available() -> list[str]:
    return sorted(p.stem for p in PIPELINES.glob("*.yaml"))


def resolve_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        if not p.is_file():
            raise UserError(f"pipeline file {str(p)!r} does not exist")
        return p
    cand = PIPELINES / f"{name_or_path}.yaml"
    if not cand.is_file():
        raise UserError(
            f"unknown pipeline {str(name_or_path)!r}; available: {', '.join(available()) or 'none'}"
            " (or give a path to a .yaml file)"
        )
    return cand


class PlainLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: `2020-13-01` or `1985-02-30` stays a string (a date
    field parses it and names it when it is no date) instead of a ValueError from the parser;
    valid dates become the same ISO string every factor records."""


PlainLoader.yaml_implicit_resolvers = {
    c: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:timestamp"]
    for c, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=PlainLoader)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise UserError(f"{path}: malformed YAML at{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read: {e}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a pipeline config must be a YAML mapping, got {type(data).__name__}")
    return data


def parse_set(items: list[str]) -> dict[str, Any]:
    """`["augment.strength=0.4", ...]` -> `{"augment.strength": 0.4}`; values parsed as YAML."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set augment.strength=0.4")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = load_yaml(v) if v.strip() else ""
        except yaml.YAMLError:
            out[k.strip()] = v
    return out


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(data))  # deep copy of plain data
    for key, value in overrides.items():
        parts = key.replace("__", ".").split(".")
        node = data
        for p in parts[:-1]:
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            if not isinstance(nxt, dict):
                raise UserError(f"override {key!r}: {p!r} is not a section")
            node = nxt
        if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = {**node[parts[-1]], **value}
        else:
            node[parts[-1]] = value
    return data


def validate(data: dict[str, Any], source: str) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as e:
        errs = e.errors()
        first = errs[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(top level)"
        msg = first["msg"]
        if first["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see pipelines/ocr_scene.yaml for the keys)"
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        raise UserError(f"{source}: {loc}: {msg}{more}") from None


def load_config(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[PipelineConfig, PipelineConfig]:
    """Return (resolved config, the file's own config before overrides)."""
    path = resolve_path(name_or_path)
    data = read_yaml(path)
    base = validate(data, str(path))
    cfg = validate(apply_overrides(data, overrides or {}), str(path)) if overrides else base
    return cfg, base


def fingerprint(cfg: PipelineConfig) -> str:
    blob = json.dumps(cfg.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "-".join(_fmt(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).replace("/", "-").replace(" ", "")


def dataset_name(cfg: PipelineConfig, base: PipelineConfig, seed: int) -> str:
    """`ocr_scene.strength_0.35.fonts_cjk.seed_7`: what differs from the pipeline's defaults."""
    # the base with the same split part, so default split settings do not enter the name
    a, b = _flat(cfg.model_dump(mode="json")), _flat(base.model_copy(update={"split": cfg.split}).model_dump(mode="json"))
    b.pop("split", None)
    parts = [cfg.name]
    for k in sorted(a):
        if k in ("seed", "name", "description") or a[k] == b.get(k):
            continue
        parts.append(f"{k.split('.')[-1]}_{_fmt(a[k])}")
    if seed != base.seed:
        parts.append(f"seed_{seed}")
    return ".".join(parts)
