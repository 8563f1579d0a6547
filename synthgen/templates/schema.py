"""The template schema: what `templates/<name>/template.yaml` may say (pydantic models).

Loading is in loading.py, asset paths in assets.py, the checks across fields in
validation.py; `load_template(name_or_path)` (loading.py) reads, validates and resolves a template. Every problem is a
`UserError` of one line naming the file, the place in it and the problem: unknown keys,
boxes outside the card, unknown identity attributes, fonts lacking glyphs the field can
print, asset paths that leave the template folder or do not exist, MRZ zones that cannot
hold their lines, and so on (see tests/test_templates.py for each kind).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..resources import shipped
from .identity import PROFILES

TEMPLATES = shipped("templates")

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]  # x, y, width, height in mm from the card's top-left


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _rgb(v: Any) -> Any:
    if isinstance(v, str) and re.fullmatch(r"#?[0-9a-fA-F]{6}", v):
        h = v.lstrip("#")
        return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))
    return v


def _colour_ok(v: tuple) -> tuple:
    if any(not 0 <= c <= 255 for c in v):
        raise ValueError(f"colour components must be 0-255, got {list(v)}")
    return v


def _positive_box(v: tuple) -> tuple:
    if v[2] <= 0 or v[3] <= 0:
        raise ValueError(f"box [x, y, width, height] needs width and height > 0, got {list(v)}")
    return v


def _ordered(v: tuple) -> tuple:
    if isinstance(v, tuple) and len(v) == 2 and v[0] > v[1]:
        raise ValueError(f"range must be [low, high], got {list(v)}")
    return v


def _pair(v: Any) -> Any:
    return [v, v] if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class FontRef(Strict):
    family: str | None = None  # a shipped family (fonts/<family>/)
    file: str | None = None  # a file of that family; default: its first file
    path: str | None = None  # or a font file inside the template folder

    @model_validator(mode="after")
    def _one(self) -> "FontRef":
        if (self.family is None) == (self.path is None):
            raise ValueError("give either family (a shipped font family) or path (a font file in the template folder)")
        return self


# -- background layers (procedural card art; see renderers/cardart.py) ---------------------------


class _Layer(Strict):
    opacity: float = Field(1.0, ge=0, le=1)
    color: RGB = (120, 140, 170)
    _c = field_validator("color", mode="before")(_rgb)
    _cc = field_validator("color")(_colour_ok)


class GradientLayer(_Layer):
    kind: Literal["gradient"]
    colors: tuple[RGB, RGB]
    angle: float = 0.0  # degrees; 0: left to right
    box_mm: Box | None = None

    @field_validator("colors", mode="before")
    @classmethod
    def _cs(cls, v: Any) -> Any:
        return [_rgb(c) for c in v] if isinstance(v, (list, tuple)) else v


class GuillocheLayer(_Layer):
    kind: Literal["guilloche"]
    center_mm: tuple[float, float]
    radius_mm: tuple[float, float]  # inner and outer radius of the rosette
    lobes: int = Field(12, ge=2, le=96)
    curves: int = Field(24, ge=1, le=200)
    line_px: float = Field(1.0, gt=0, le=6)
    _o = field_validator("radius_mm")(_ordered)


class WaveLayer(_Layer):
    kind: Literal["waves"]
    box_mm: Box | None = None
    lines: int = Field(30, ge=1, le=400)
    amplitude_mm: float = Field(1.5, ge=0)
    period_mm: float = Field(12.0, gt=0)
    line_px: float = Field(1.0, gt=0, le=6)


class MicroprintLayer(_Layer):
    kind: Literal["microprint"]
    text: str
    box_mm: Box
    size_mm: float = Field(0.8, gt=0)
    font: str = "sans"


class EmblemLayer(_Layer):
    kind: Literal["emblem"]
    shape: Literal["star", "seal", "globe", "shield", "wreath"]
    center_mm: tuple[float, float]
    size_mm: float = Field(gt=0)


class WatermarkLayer(_Layer):
    kind: Literal["watermark"]
    text: str
    center_mm: tuple[float, float]
    size_mm: float = Field(gt=0)
    angle: float = 0.0
    font: str = "sans"


class BandLayer(_Layer):
    kind: Literal["band"]
    box_mm: Box
    _b = field_validator("box_mm")(_positive_box)


class ImageLayer(_Layer):
    kind: Literal["image"]
    path: str  # an image file inside the template folder
    box_mm: Box


Layer = Annotated[Union[GradientLayer, GuillocheLayer, WaveLayer, MicroprintLayer, EmblemLayer, WatermarkLayer,
                        BandLayer, ImageLayer], Field(discriminator="kind")]


# -- text ------------------------------------------------------------------------------------


class Caption(Strict):
    text: str
    at_mm: tuple[float, float]  # top-left of the caption's line box
    size_mm: float = Field(gt=0)  # font size (em), mm
    font: str = "sans"
    color: RGB = (40, 60, 90)
    _c = field_validator("color", mode="before")(_rgb)
    _cc = field_validator("color")(_colour_ok)


class FieldCfg(Strict):
    box_mm: Box
    text: str  # Python format string over the identity record: "{surname}", "{birth_date:%d.%m.%Y}"
    font: str = "sans"
    size_mm: tuple[float, float] = (2.6, 3.0)  # font size (em) range, mm; shrunk further to fit
    color: RGB = (20, 20, 20)
    align: Literal["left", "center", "right"] = "left"
    fit: Literal["shrink", "wrap"] = "shrink"
    max_lines: int = Field(1, ge=1, le=8)
    case: Literal["as_is", "upper"] = "as_is"
    spacing_em: float = Field(0.0, ge=-0.1, le=1.0)  # extra advance after each character

    _c = field_validator("color", mode="before")(_rgb)
    _cc = field_validator("color")(_colour_ok)
    _b = field_validator("box_mm")(_positive_box)
    _p = field_validator("size_mm", mode="before")(_pair)
    _o = field_validator("size_mm")(_ordered)

    @field_validator("size_mm")
    @classmethod
    def _pos(cls, v: tuple) -> tuple:
        if v[0] <= 0:
            raise ValueError("font sizes must be > 0 mm")
        return v


class LookCfg(Strict):
    """The people a document's portraits show (procedural and GeneGAN faces): hair and eye
    colours with weights, skin tone range (0 lightest .. 7 darkest). Unset: any."""

    hair_color: dict[str, float] | None = None
    eye_color: dict[str, float] | None = None
    skin_tone: tuple[float, float] | None = None

    @field_validator("hair_color", "eye_color")
    @classmethod
    def _palette(cls, v: dict[str, float] | None, info) -> dict[str, float] | None:
        from ..faces.procedural import EYE_COLORS, HAIR_COLORS

        known = HAIR_COLORS if info.field_name == "hair_color" else EYE_COLORS
        for name, w in (v or {}).items():
            if name not in known:
                raise ValueError(f"unknown colour {name!r}; known: {', '.join(known)}")
            if not w > 0:
                raise ValueError(f"weight of {name!r} must be > 0, got {w}")
        if v is not None and not v:
            raise ValueError("give at least one colour, or leave the key out")
        return v

    @field_validator("skin_tone")
    @classmethod
    def _tones(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        from ..faces.procedural import SKIN_TONES

        if v is not None and not 0 <= v[0] <= v[1] <= SKIN_TONES - 1:
            raise ValueError(f"skin_tone must be [low, high] within 0-{SKIN_TONES - 1}, got {list(v)}")
        return v

    def look(self):
        from ..renderers.photos import Look

        return Look(tuple((self.hair_color or {}).items()), tuple((self.eye_color or {}).items()),
                    None if self.skin_tone is None else tuple(self.skin_tone))


class PhotoCfg(Strict):
    box_mm: Box
    source: Literal["procedural", "genegan", "folder"] = "procedural"
    folder: str | None = None  # for source: folder (a user folder of photos)
    look: LookCfg | None = None  # whom the portraits show (see LookCfg); sex and age follow each card's identity
    background: RGB = (235, 238, 242)
    grayscale: bool = False
    _b = field_validator("box_mm")(_positive_box)
    _c = field_validator("background", mode="before")(_rgb)

    @field_validator("source")
    @classmethod
    def _torch(cls, v):
        from ..gan import genegan_source

        return genegan_source(v)


class MrzCfg(Strict):
    format: Literal["TD3", "TD1"]
    box_mm: Box
    font: str = "ocrb"
    color: RGB = (15, 15, 15)
    _b = field_validator("box_mm")(_positive_box)
    _c = field_validator("color", mode="before")(_rgb)


class SpecimenCfg(Strict):
    enabled: bool = True
    text: str = "SPECIMEN"
    center_mm: tuple[float, float] | None = None  # default: the card's centre
    size_mm: float = Field(9.0, gt=0)
    angle: float = 18.0
    color: RGB = (200, 30, 30)
    opacity: float = Field(0.35, ge=0, le=1)
    font: str = "sans"
    _c = field_validator("color", mode="before")(_rgb)


MAX_AGE = 120  # years: the oldest holder an identity may have


class IdentityCfg(Strict):
    profile: str
    age: tuple[int, int] | None = None  # [youngest, oldest] holder, years on identity.REF; 0 .. MAX_AGE
    issuing_state: str | None = None
    nationalities: list[str] | None = None
    validity_years: int | None = Field(None, ge=1, le=50)
    authority: str | None = None
    document_code: str | None = None
    state: str | None = None
    personal_digits: int | None = Field(None, ge=0, le=14)
    names: Literal["latin", "cn"] | None = None  # icao: Chinese names (native + pinyin) instead of Latin ones

    @field_validator("age")
    @classmethod
    def _ages(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None:
            if v[0] > v[1]:
                raise ValueError(f"age range must be [youngest, oldest], got {list(v)}; swap the two")
            if v[0] < 0 or v[1] > MAX_AGE:
                raise ValueError(f"ages must lie in 0..{MAX_AGE} years, got {list(v)}")
        return v

    @field_validator("profile")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in PROFILES:
            raise ValueError(f"unknown identity profile {v!r}; use one of {', '.join(sorted(PROFILES))}")
        return v

    def options(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if k != "profile" and v is not None}


class TemplateCfg(Strict):
    name: str
    description: str = ""
    size_mm: tuple[float, float]
    px_per_mm: float = Field(10.0, gt=1, le=40)
    corner_radius_mm: float = Field(3.0, ge=0)
    variants: int = Field(4, ge=1, le=32)  # colour/phase variants of the art, cached each
    base_color: RGB = (240, 240, 236)
    fonts: dict[str, FontRef] = Field(default_factory=dict)
    identity: IdentityCfg
    background: list[Layer] = Field(default_factory=list)
    captions: list[Caption] = Field(default_factory=list)
    fields: dict[str, FieldCfg] = Field(default_factory=dict)
    photo: PhotoCfg | None = None
    mrz: MrzCfg | None = None
    specimen: SpecimenCfg = Field(default_factory=SpecimenCfg)

    _c = field_validator("base_color", mode="before")(_rgb)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        # it names files and pipelines (template-NAME.png, template_NAME): a plain token, never a path
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}", v):
            raise ValueError(f"{v!r} is not a plain name; use letters, digits, '_', '-' and '.' (not first), "
                             "at most 100 characters")
        return v

    @field_validator("size_mm")
    @classmethod
    def _size(cls, v: tuple) -> tuple:
        if v[0] < 10 or v[1] < 10 or v[0] > 400 or v[1] > 400:
            raise ValueError(f"card size must be 10-400 mm each way, got {list(v)}")
        return v
