"""Template files: `templates/<name>/template.yaml` plus assets in that folder.

`load_template(name_or_path)` reads, validates and resolves a template. Every problem is a
`UserError` of one line naming the file, the place in it and the problem: unknown keys,
boxes outside the card, unknown identity attributes, fonts lacking glyphs the field can
print, asset paths that leave the template folder or do not exist, MRZ zones that cannot
hold their lines, and so on (see tests/test_templates.py for each kind).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import UserError
from ..renderers.fonts import FONTS, FontFace, font_files, load_faces
from ..resources import shipped
from .identity import DATE, PROFILES, attributes

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


class IdentityCfg(Strict):
    profile: str
    age: tuple[int, int] | None = None
    issuing_state: str | None = None
    nationalities: list[str] | None = None
    validity_years: int | None = Field(None, ge=1, le=50)
    authority: str | None = None
    document_code: str | None = None
    state: str | None = None
    personal_digits: int | None = Field(None, ge=0, le=14)
    names: Literal["latin", "cn"] | None = None  # icao: Chinese names (native + pinyin) instead of Latin ones

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

    @field_validator("size_mm")
    @classmethod
    def _size(cls, v: tuple) -> tuple:
        if v[0] < 10 or v[1] < 10 or v[0] > 400 or v[1] > 400:
            raise ValueError(f"card size must be 10-400 mm each way, got {list(v)}")
        return v


# -- loading ----------------------------------------------------------------------------------


@dataclass
class Template:
    """A validated template: its config, folder, and resolved font faces by role."""

    cfg: TemplateCfg
    folder: Path
    file: Path
    faces: dict[str, FontFace]
    assets: dict[str, Path] = field(default_factory=dict)  # layer path -> resolved file

    @property
    def name(self) -> str:
        return self.cfg.name

    @property
    def px(self) -> float:
        return self.cfg.px_per_mm

    @property
    def size_px(self) -> tuple[int, int]:
        w, h = self.cfg.size_mm
        return int(round(w * self.px)), int(round(h * self.px))


def available() -> list[str]:
    if not TEMPLATES.is_dir():
        return []
    return sorted(p.name for p in TEMPLATES.iterdir() if (p / "template.yaml").is_file())


def template_file(name_or_path: str | Path) -> Path:
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        p = p / "template.yaml"
        if not p.is_file():
            raise UserError(f"{p.parent}: no template.yaml in this folder")
        return p
    if p.suffix in (".yaml", ".yml"):
        if not p.is_file():
            raise UserError(f"template file {str(p)!r} does not exist")
        return p
    cand = TEMPLATES / str(name_or_path) / "template.yaml"
    if not cand.is_file():
        raise UserError(f"unknown template {str(name_or_path)!r}; shipped: {', '.join(available()) or 'none'} "
                        "(or give a template folder or its template.yaml)")
    return cand


def _loc(loc: tuple) -> str:
    out = []
    for x in loc:
        if isinstance(x, int):
            out.append(f"[{x}]")
        elif x in ("gradient", "guilloche", "waves", "microprint", "emblem", "watermark", "band", "image") \
                and out and out[-1].startswith("["):
            continue  # the union member's tag: the layer index already says which
        else:
            out.append(("." if out else "") + str(x))
    return "".join(out) or "(top level)"


@lru_cache(maxsize=64)
def _load_cached(file: str, mtime: float) -> Template:
    return _load(Path(file))


def load_template(name_or_path: str | Path) -> Template:
    f = template_file(name_or_path).resolve()
    return _load_cached(str(f), f.stat().st_mtime)


def _load(file: Path) -> Template:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{file}: malformed YAML{where}: {getattr(e, 'problem', None) or e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{file}: cannot read: {e}") from None
    if not isinstance(data, dict):
        raise UserError(f"{file}: a template must be a YAML mapping, got {type(data).__name__}")
    try:
        cfg = TemplateCfg.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see templates/passport_td3/template.yaml for the keys)"
        elif err["type"] == "union_tag_invalid":
            msg = ("unknown layer kind; use gradient, guilloche, waves, microprint, emblem, watermark, band "
                   "or image")
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        raise UserError(f"{file}: {_loc(err['loc'])}: {msg}{more}") from None
    folder = file.parent
    faces = {role: _font(file, folder, role, ref) for role, ref in cfg.fonts.items()}
    t = Template(cfg, folder, file, faces)
    _check(t)
    return t


def asset_path(file: Path, folder: Path, where: str, rel: str) -> Path:
    """A path named in a template, confined to the template's folder."""
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        raise UserError(f"{file}: {where}: asset path {rel!r} leaves the template folder; "
                        "put the file inside the folder and give a relative path")
    full = (folder / p).resolve()
    if not full.is_relative_to(folder.resolve()):  # a symlink pointing out
        raise UserError(f"{file}: {where}: asset path {rel!r} leaves the template folder (through a link)")
    if not full.is_file():
        raise UserError(f"{file}: {where}: asset {rel!r} does not exist in {folder}")
    return full


def _font(file: Path, folder: Path, role: str, ref: FontRef) -> FontFace:
    where = f"fonts.{role}"
    if ref.path is not None:
        return load_faces(str(asset_path(file, folder, where, ref.path)))[0]
    fam = FONTS / str(ref.family)
    files = font_files(fam) if fam.is_dir() else []
    if not files:
        shipped_fams = sorted(p.name for p in FONTS.iterdir() if p.is_dir()) if FONTS.is_dir() else []
        raise UserError(f"{file}: {where}: unknown font family {ref.family!r}; shipped: {', '.join(shipped_fams)}")
    if ref.file is None:
        return load_faces(str(files[0]))[0]
    match = [f for f in files if f.name == ref.file]
    if not match:
        raise UserError(f"{file}: {where}: family {ref.family!r} has no file {ref.file!r}; "
                        f"it has {', '.join(f.name for f in files)}")
    return load_faces(str(match[0]))[0]


# Date directives a field may use: digits only, except month and weekday names (English).
_DATE_DIRECTIVES = {"d": "", "m": "", "Y": "", "y": "", "-d": "", "-m": "", "j": "",
                    "b": string.ascii_letters, "B": string.ascii_letters}
_DATE_ATTRS = {"year", "month", "day"}


def text_alphabet(text: str, attrs: dict[str, str], where: str, file: Path) -> str:
    """Every character a field's format string can print, or a UserError naming what is wrong."""
    chars: set[str] = set()
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as e:
        raise UserError(f"{file}: {where}.text: bad format string {text!r}: {e}") from None
    for literal, name, spec, conv in parts:
        chars |= set(literal)
        if name is None:
            continue
        if conv:
            raise UserError(f"{file}: {where}.text: conversions like !{conv} are not allowed in {text!r}")
        base, _, sub = name.partition(".")
        if base not in attrs:
            raise UserError(f"{file}: {where}.text: unknown identity attribute {base!r} in {text!r}; "
                            f"this profile has {', '.join(sorted(attrs))}")
        kind = attrs[base]
        if sub:
            if kind != DATE or sub not in _DATE_ATTRS:
                raise UserError(f"{file}: {where}.text: {name!r}: only dates have parts (.year, .month, .day)")
            chars |= set(string.digits)
            if spec:
                raise UserError(f"{file}: {where}.text: {name!r} takes no format spec")
            continue
        if kind == DATE:
            if not spec:
                raise UserError(f"{file}: {where}.text: date {base!r} needs a format, e.g. {{{base}:%d.%m.%Y}}")
            pos = 0
            while pos < len(spec):
                if spec[pos] == "%":
                    d2 = spec[pos + 1 : pos + 3]
                    key = d2 if d2 in _DATE_DIRECTIVES else spec[pos + 1 : pos + 2]
                    if key not in _DATE_DIRECTIVES:
                        raise UserError(f"{file}: {where}.text: date directive %{key} in {text!r} is not allowed; "
                                        f"use {', '.join('%' + k for k in _DATE_DIRECTIVES)}")
                    chars |= set(string.digits) | set(_DATE_DIRECTIVES[key])
                    pos += 1 + len(key)
                else:
                    chars.add(spec[pos])
                    pos += 1
        else:
            if spec:
                raise UserError(f"{file}: {where}.text: {{{name}:{spec}}}: only dates take a format spec")
            chars |= set(kind)
    return "".join(sorted(chars))


def _face(t: Template, where: str, role: str) -> FontFace:
    face = t.faces.get(role)
    if face is None:
        raise UserError(f"{t.file}: {where}.font: unknown font role {role!r}; the template's fonts: section "
                        f"defines {', '.join(sorted(t.faces)) or 'none'}")
    return face


def _glyphs(t: Template, where: str, face: FontFace, chars: str) -> None:
    missing = face.missing(chars)
    if missing:
        shown = "".join(missing[:12]) + ("..." if len(missing) > 12 else "")
        raise UserError(f"{t.file}: {where}: font {face.name!r} lacks glyphs for {len(missing)} character(s) the "
                        f"field can print ({shown!r}); pick a font that covers them")


def _inside(t: Template, where: str, box: Box) -> None:
    W, H = t.cfg.size_mm
    x, y, w, h = box
    if x < 0 or y < 0 or x + w > W + 1e-6 or y + h > H + 1e-6:
        raise UserError(f"{t.file}: {where}.box_mm: {list(box)} reaches outside the card ({W:g} x {H:g} mm); "
                        "move or shrink it")


def _check(t: Template) -> None:
    """The semantic checks pydantic cannot do: geometry, attributes, glyphs, assets."""
    c = t.cfg
    attrs = attributes(c.identity.profile, c.identity.options())
    if c.mrz is not None and c.identity.profile != "icao":  # first: every field would name the wrong profile
        raise UserError(f"{t.file}: mrz: an MRZ needs identity profile 'icao', not {c.identity.profile!r}; "
                        "remove the mrz: section or change identity.profile")
    for k, layer in enumerate(c.background):
        where = f"background[{k}]"
        box = getattr(layer, "box_mm", None)
        if box is not None:
            _inside(t, where, box)
        if isinstance(layer, (MicroprintLayer, WatermarkLayer)):
            _glyphs(t, f"{where}.text", _face(t, where, layer.font), layer.text)
        if isinstance(layer, ImageLayer):
            t.assets[layer.path] = asset_path(t.file, t.folder, f"{where}.path", layer.path)
    for k, cap in enumerate(c.captions):
        where = f"captions[{k}]"
        _glyphs(t, f"{where}.text", _face(t, where, cap.font), cap.text)
        x, y = cap.at_mm
        if not (0 <= x < c.size_mm[0] and 0 <= y < c.size_mm[1]):
            raise UserError(f"{t.file}: {where}.at_mm: {list(cap.at_mm)} is outside the card")
    for name, f in c.fields.items():
        where = f"fields.{name}"
        _inside(t, where, f.box_mm)
        face = _face(t, where, f.font)
        chars = text_alphabet(f.text, attrs, where, t.file)
        if f.case == "upper":
            chars = chars.upper()
        _glyphs(t, where, face, chars)
        lines = f.max_lines if f.fit == "wrap" else 1
        if f.size_mm[0] * lines > f.box_mm[3] + 1e-6:
            raise UserError(f"{t.file}: {where}.size_mm: the smallest size {f.size_mm[0]:g} mm x {lines} line(s) "
                            f"does not fit the box's height {f.box_mm[3]:g} mm; lower size_mm or enlarge box_mm")
    if c.photo is not None:
        _inside(t, "photo", c.photo.box_mm)
        if c.photo.source == "folder" and not c.photo.folder:
            raise UserError(f"{t.file}: photo.folder: source: folder needs a folder of photos")
    if c.mrz is not None:
        where = "mrz"
        _inside(t, where, c.mrz.box_mm)
        _glyphs(t, where, _face(t, where, c.mrz.font), string.ascii_uppercase + string.digits + "<")
        n_lines, n_chars = (2, 44) if c.mrz.format == "TD3" else (3, 30)
        pitch_mm = c.mrz.box_mm[2] / n_chars
        if pitch_mm < 1.0 or c.mrz.box_mm[3] / n_lines < 1.5:
            raise UserError(f"{t.file}: mrz.box_mm: {list(c.mrz.box_mm)} is too small for {n_lines} lines of "
                            f"{n_chars} characters (need >= 1.0 mm per character, >= 1.5 mm per line)")
    if c.specimen.enabled:
        _glyphs(t, "specimen.text", _face(t, "specimen", c.specimen.font), c.specimen.text)
    for name in c.fields:
        if name.startswith("mrz") or name in ("photo", "document", "caption"):
            raise UserError(f"{t.file}: fields.{name}: the name {name!r} is reserved for labels; rename the field")
