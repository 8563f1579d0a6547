"""Renderer kinds, one registry: kind -> renderer class (or "module:Class", imported on first use).

A renderer class owns its kind: everything the rest of synthgen needs to know about a kind is
declared on the class, and config, pipeline, audit and the CLI ask this module (`kind_info(kind)`,
`is_crop(kind)`) instead of branching on kind names. Class attributes (all optional):

    sections = {"line": LineCfg}     # top-level config sections this kind reads -> their pydantic
                                     # model (or "module:Model"); a kind's config is the shared
                                     # sections (fonts, background, augment, labels, output, ...)
                                     # plus these, each filled with its defaults when not given
    crop = False                     # a sample is a recognition crop: its one `line` instance is
                                     # the whole image (exports store it as is, readers read it whole)
    score_always = False             # the EAST score map is always stored, not only when
                                     # `labels.store` asks for it (detection data)
    stride_multiples = ()            # dotted config keys that must be multiples of labels.stride
                                     # whenever EAST maps are stored (score_always or labels.store)
    @classmethod
    def check_config(cls, cfg): ...  # further checks of a validated config; raise ValueError
    def factors(self, cat): ...      # declare every factor render() can draw under this config
                                     # (synthgen/factors.py: cat.choice(pattern, options, src=...),
                                     # cat.uniform(...), ...); the catalogue, `synthgen factors` and
                                     # pin checks read it. Without it they trace rendered samples.

and one rendering contract:

    r = Renderer(cfg, seed)                      # once per process; caches are its own
    image, instances, ink = r.render(d, index, want_ink=False, meta=None)

`image` is H x W x 3 uint8 RGB; `instances` are `core.Instance`s; `ink` (only with
`want_ink`) is the text's coverage as composited (uint8), before augmentation. `meta`, when
given, is the sample's meta dict: a kind adds its own record there (document: template,
identity, portrait, card homography), so nothing of one sample stays on the renderer. All random
choices go through `d` (a `draws.Draws`).

Plug-ins: `register("toy", ToyRenderer)` (or "package.module:ToyRenderer") in the process that
loads the config; forked workers inherit it. A package can instead declare an entry point in
the group `synthgen.renderers` (`toy = "package.module:ToyRenderer"`), found in every process
(the CLI, Ray workers) the first time the kind is asked for.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

# The shipped kinds. `RENDERERS` is the live registry (shipped kinds plus plug-ins).
SHIPPED: dict[str, str] = {
    "scene": "synthgen.renderers.scene:SceneRenderer",
    "line": "synthgen.renderers.line:LineRenderer",
    "document": "synthgen.renderers.document:DocumentRenderer",
}
RENDERERS: dict[str, str | type] = dict(SHIPPED)
ENTRY_POINTS = "synthgen.renderers"  # entry-point group of plug-in kinds
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class KindInfo:
    """What a renderer class declares about its kind (see the module docstring)."""

    name: str
    cls: type
    sections: tuple[tuple[str, type], ...]  # (section, pydantic model), in declaration order
    crop: bool
    score_always: bool
    stride_multiples: tuple[str, ...]

    @property
    def section_names(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.sections)


_INFO: dict[str, KindInfo] = {}  # kind -> its declarations (config.config_model caches per class)


def _load(target: str | type, what: str) -> Any:
    if not isinstance(target, str):
        return target
    mod, _, name = target.partition(":")
    if not mod or not name:
        raise ValueError(f"{what}: expected 'module:Name', got {target!r}")
    obj = importlib.import_module(mod)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def register(kind: str, target: str | type, *, replace: bool = False) -> None:
    """Plug in a renderer kind: a class (or "module:Class") declaring its kind as above. Its
    config sections, crop and score-map rules come with it; nothing else needs editing.
    Registering a kind again replaces it; a shipped kind only with `replace=True`."""
    if not isinstance(kind, str) or not _NAME.match(kind):
        raise ValueError(f"renderer kind {kind!r}: use a lower-case name (letters, digits, _)")
    if kind in SHIPPED and not replace and RENDERERS.get(kind) != target:
        raise ValueError(f"renderer kind {kind!r} is shipped with synthgen; pass replace=True to replace it")
    if not isinstance(target, str) and not callable(getattr(target, "render", None)):
        raise ValueError(f"renderer kind {kind!r}: {target!r} has no render(d, index, want_ink, meta) method")
    RENDERERS[kind] = target
    _INFO.pop(kind, None)


def _entry_points() -> dict[str, str]:
    try:
        from importlib.metadata import entry_points

        return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINTS)}
    except Exception:  # pragma: no cover - broken metadata of some other package
        return {}


def kinds() -> list[str]:
    """Every kind this process can render: shipped, registered and entry-point plug-ins."""
    return sorted(set(RENDERERS) | set(_entry_points()))


def known(kind: str) -> bool:
    if kind in RENDERERS:
        return True
    target = _entry_points().get(kind)
    if target is not None:
        register(kind, target)
        return True
    return False


def renderer_class(kind: str) -> type:
    if not known(kind):
        raise ValueError(f"no renderer for kind {kind!r}; known: {', '.join(kinds())}")
    return _load(RENDERERS[kind], f"renderer kind {kind!r}")


def kind_info(kind: str) -> KindInfo:
    """The declarations of `kind`'s renderer class (ValueError for an unknown kind)."""
    info = _INFO.get(kind)
    if info is not None:
        return info
    cls = renderer_class(kind)
    raw = getattr(cls, "sections", None) or {}
    sections = tuple((str(s), _load(m, f"kind {kind!r} section {s!r}")) for s, m in dict(raw).items())
    from ..config import PipelineConfig  # the shared sections a kind may not redeclare

    for s, m in sections:
        if s in PipelineConfig.model_fields:
            raise ValueError(f"renderer kind {kind!r}: section {s!r} is shared by every kind; name it otherwise")
        if not (isinstance(m, type) and hasattr(m, "model_validate")):
            raise ValueError(f"renderer kind {kind!r}: section {s!r} needs a pydantic model, got {m!r}")
    info = KindInfo(kind, cls, sections, bool(getattr(cls, "crop", False)),
                    bool(getattr(cls, "score_always", False)), tuple(getattr(cls, "stride_multiples", ()) or ()))
    _INFO[kind] = info
    return info


def section_owners() -> dict[str, dict[str, type]]:
    """{section: {kind: model}} over every kind (imports each renderer class)."""
    out: dict[str, dict[str, type]] = {}
    for k in kinds():
        try:
            info = kind_info(k)
        except Exception:  # a broken plug-in must not hide the config error being reported
            continue
        for s, m in info.sections:
            out.setdefault(s, {})[k] = m
    return out


def is_crop(kind: str | None) -> bool | None:
    """Whether samples of `kind` are recognition crops; None when the kind is unknown here
    (a dataset of a plug-in kind read without the plug-in: callers fall back to the labels)."""
    if kind is None:
        return None
    try:
        return kind_info(str(kind)).crop
    except (ValueError, ImportError, AttributeError):
        return None


def _get(cfg: Any, path: str) -> Any:
    v = cfg
    for p in path.split("."):
        v = getattr(v, p)
    return v


def check_config(cfg: Any) -> None:
    """The kind's size rules and own checks on a validated config (ValueError names the key)."""
    info = kind_info(cfg.kind)
    s = cfg.labels.stride
    if info.stride_multiples and (info.score_always or cfg.labels.store):
        bad = [p for p in info.stride_multiples if _get(cfg, p) % s]
        if bad:
            when = "" if info.score_always else " when labels.store asks for EAST maps"
            raise ValueError(f"{' and '.join(bad)} must be a multiple of labels.stride={s}{when} "
                             f"(got {', '.join(f'{p}={_get(cfg, p)}' for p in bad)})")
    check = getattr(info.cls, "check_config", None)
    if check is not None:
        check(cfg)


def make_renderer(cfg: Any, seed: int) -> Any:
    return renderer_class(cfg.kind)(cfg, seed)
