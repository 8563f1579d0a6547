"""Where the shipped data lives: `pipelines/`, `fonts/`, `templates/`.

In the repository these folders sit at the top level (beside `synthgen/`); an installed wheel
carries them inside the package as `synthgen/_shipped/<name>`. Callers ask here and never
build paths relative to a source checkout.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent


@cache
def shipped(name: str) -> Path:
    """The folder of shipped data `name` (pipelines, fonts, templates): the installed copy
    inside the package if there is one, else the checkout's top-level folder."""
    inside = _PKG / "_shipped" / name
    if inside.is_dir():
        return inside
    return _PKG.parent / name
