"""Renderer kinds, one registry: kind -> "module:Class", imported on first use.

Every renderer has one contract:

    r = Renderer(cfg, seed)                      # once per process; caches are its own
    image, instances, ink = r.render(d, index, want_ink=False, meta=None)

`image` is H x W x 3 uint8 RGB; `instances` are `core.Instance`s; `ink` (only with
`want_ink`) is the text's coverage as composited (uint8), before augmentation. `meta`, when
given, is the sample's meta dict: a kind adds its own record there (document: template,
identity, portrait, card homography), so nothing of one sample stays on the renderer. All random
choices go through `d` (a `draws.Draws`). Class attribute `score_always` (default False):
the pipeline always stores the EAST score map for this kind, not only when `labels.store`
asks for it. Config sections a kind reads are declared in `config.KIND_SECTIONS`.
"""

from __future__ import annotations

import importlib
from typing import Any

RENDERERS: dict[str, str] = {
    "scene": "synthgen.renderers.scene:SceneRenderer",
    "line": "synthgen.renderers.line:LineRenderer",
    "document": "synthgen.renderers.document:DocumentRenderer",
}


def register(kind: str, target: str) -> None:
    """Plug in a renderer kind ("module:Class"); also add its sections to config.KIND_SECTIONS."""
    RENDERERS[kind] = target


def renderer_class(kind: str) -> type:
    try:
        target = RENDERERS[kind]
    except KeyError:
        raise ValueError(f"no renderer for kind {kind!r}; known: {', '.join(sorted(RENDERERS))}") from None
    mod, _, cls = target.partition(":")
    return getattr(importlib.import_module(mod), cls)


def make_renderer(cfg: Any, seed: int) -> Any:
    return renderer_class(cfg.kind)(cfg, seed)
