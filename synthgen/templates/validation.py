"""The checks across a template's fields that the schema cannot express: every character a
field can print is in its font, boxes lie on the card, assets exist, MRZ zones hold their lines."""

from __future__ import annotations

import string
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..renderers.fonts import FontFace
from .assets import asset_path
from .identity import _ISSUE, DATE, attributes
from .schema import Box, ImageLayer, MicroprintLayer, WatermarkLayer

if TYPE_CHECKING:
    from .loading import Template


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


def check(t: Template) -> None:
    """The semantic checks pydantic cannot do: geometry, attributes, glyphs, assets."""
    c = t.cfg
    attrs = attributes(c.identity.profile, c.identity.options())
    if c.mrz is not None and c.identity.profile != "icao":  # first: every field would name the wrong profile
        raise UserError(f"{t.file}: mrz: an MRZ needs identity profile 'icao', not {c.identity.profile!r}; "
                        "remove the mrz: section or change identity.profile")
    age, youngest = c.identity.age, _ISSUE.get(c.identity.profile, (0,))[0]
    if age is not None and age[1] < youngest:  # (the schema checked the order and 0..MAX_AGE)
        raise UserError(f"{t.file}: identity.age: {list(age)}: profile {c.identity.profile!r} issues documents to "
                        f"holders aged {youngest} or more; raise the oldest age to at least {youngest}")
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
