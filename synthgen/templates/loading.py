"""Loading a template: find its file, parse it (no implicit dates), validate it against the
schema, resolve its fonts and assets, and run the checks across fields; cached by file and
modification time."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..config.loading import load_yaml
from ..errors import UserError
from ..renderers.fonts import FontFace
from .assets import template_font
from .schema import TEMPLATES, TemplateCfg
from .validation import check


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
        data = load_yaml(file.read_text(encoding="utf-8"))  # safe, and no implicit dates (2020-13-01 is a string)
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
        msg = err["msg"].removeprefix("Value error, ")  # our own validators' messages, as written
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see templates/passport_td3/template.yaml for the keys)"
        elif err["type"] == "union_tag_invalid":
            msg = ("unknown layer kind; use gradient, guilloche, waves, microprint, emblem, watermark, band "
                   "or image")
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        raise UserError(f"{file}: {_loc(err['loc'])}: {msg}{more}") from None
    folder = file.parent
    faces = {role: template_font(file, folder, role, ref) for role, ref in cfg.fonts.items()}
    t = Template(cfg, folder, file, faces)
    check(t)
    return t
