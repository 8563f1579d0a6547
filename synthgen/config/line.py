"""The section of kind: line (recognition crops; synthgen/renderers/line.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import Strict, _check_cases, _ordered_pair, _range


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
