"""The sections of kind: scene (synthgen/renderers/scene.py): image, text, layout."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import Strict, _check_cases, _ordered_pair, _range
from .line import BoxCfg, ElasticCfg, ExtrudeCfg, FillCfg, JitterCfg


class ImageCfg(Strict):
    width: int = Field(512, ge=16, le=8192)
    height: int = Field(512, ge=16, le=8192)


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
