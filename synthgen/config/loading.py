"""Reading pipeline configs: YAML files (no implicit dates), dotted overrides (`--set`),
validation with errors that name the key path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import UserError
from .base import PIPELINES
from .pipeline import PipelineConfig


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
        for depth, p in enumerate(parts[:-1]):
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            if not isinstance(nxt, dict):
                sec = ".".join(parts[:depth + 1])
                raise UserError(f"--set {key}: {sec} is a value ({json.dumps(nxt)}), not a section with keys;"
                                f" set it as --set {sec}=VALUE")
            node = nxt
        if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = {**node[parts[-1]], **value}
        else:
            node[parts[-1]] = value
    return data


def _override_path(key: str) -> tuple[str, ...]:
    return tuple(key.replace("__", ".").split("."))


def _blame(loc: tuple[str, ...], overrides: dict[str, Any]) -> str | None:
    """The `--set` key an error at `loc` comes from: the override at, below or above `loc`
    (the longest match), None when the error is in the file itself."""
    best = None
    for key in overrides:
        p = _override_path(key)
        n = min(len(p), len(loc))
        if n and p[:n] == loc[:n] and (best is None or n > best[0]):
            best = (n, key)
    return best[1] if best else None


def validate(data: dict[str, Any], source: str, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    """`overrides`: the `--set` values applied to the file's data; an error they cause names the
    `--set` key, not the file (which validated on its own)."""
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as e:
        errs = e.errors()
        first = errs[0]
        locs = tuple(str(x) for x in first["loc"])
        loc = ".".join(locs) or "(top level)"
        msg = first["msg"]
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        key = _blame(locs, overrides or {})
        if key is None and overrides:  # the file validated on its own: the overrides together did this
            key = ", --set ".join(overrides)
        if key is not None:
            if first["type"] == "extra_forbidden":
                msg = f"unknown key (check the spelling; {source} shows the keys)"
            where = "" if loc == key.replace("__", ".") else f"{loc}: "
            raise UserError(f"--set {key}: {where}{msg}{more}") from None
        if first["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see pipelines/ocr_scene.yaml for the keys)"
        raise UserError(f"{source}: {loc}: {msg}{more}") from None


def load_config(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[PipelineConfig, PipelineConfig]:
    """Return (resolved config, the file's own config before overrides)."""
    path = resolve_path(name_or_path)
    data = read_yaml(path)
    base = validate(data, str(path))
    cfg = validate(apply_overrides(data, overrides or {}), str(path), overrides) if overrides else base
    return cfg, base
