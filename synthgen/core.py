"""The data model every stage shares: `Sample` and `Instance` (see DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("word", "line", "field", "photo", "document")


@dataclass
class Instance:
    """One labelled object: a quad (4 x 2, clockwise from the text's top-left), its text,
    per-character quads (n x 4 x 2), a kind, an optional template field, and a don't-care flag."""

    quad: np.ndarray
    text: str = ""
    chars: np.ndarray | None = None
    kind: str = "word"
    field: str | None = None
    ignore: bool = False

    def __post_init__(self) -> None:
        self.quad = np.asarray(self.quad, dtype=np.float32).reshape(4, 2)
        if self.chars is not None:
            self.chars = np.asarray(self.chars, dtype=np.float32).reshape(-1, 4, 2)
        if self.kind not in KINDS:
            raise ValueError(f"instance kind {self.kind!r} is not one of {KINDS}")

    def to_json(self) -> dict[str, Any]:
        # Rounded to 1/100 px: enough for labels, and keeps the JSON small and stable.
        d: dict[str, Any] = {
            "quad": np.round(self.quad.astype(np.float64), 2).tolist(),
            "text": self.text,
            "kind": self.kind,
            "field": self.field,
            "ignore": bool(self.ignore),
        }
        d["chars"] = (
            np.round(self.chars.astype(np.float64), 2).tolist() if self.chars is not None else None
        )
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Instance":
        chars = d.get("chars")
        return cls(
            quad=np.asarray(d["quad"], dtype=np.float32),
            text=d.get("text", ""),
            chars=None if chars is None else np.asarray(chars, dtype=np.float32).reshape(-1, 4, 2),
            kind=d.get("kind", "word"),
            field=d.get("field"),
            ignore=bool(d.get("ignore", False)),
        )


@dataclass
class Sample:
    """What `pipeline.sample(i)` returns. `image` is H x W x 3 uint8 RGB."""

    key: str
    image: np.ndarray
    instances: list[Instance] = field(default_factory=list)
    factors: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # dense labels, e.g. "score"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "size": [int(self.image.shape[0]), int(self.image.shape[1])],
            "instances": [inst.to_json() for inst in self.instances],
            "factors": _jsonable(self.factors),
            "meta": _jsonable(self.meta),
        }


def key_for(index: int, width: int = 9) -> str:
    """Zero-padded global index: sorts in index order inside and across shards."""
    return f"{index:0{width}d}"


def _jsonable(x: Any) -> Any:
    t = type(x)
    if t is float:  # the common case first: most factors are plain floats
        return round(x, 4)
    if t in (int, str, bool) or x is None:
        return x
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.floating):
        return round(float(x), 4)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x
