"""The data model every stage shares: `Sample` and `Instance` (see docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import native

# Instance kinds (not to be confused with renderer kinds, `config.kind`). The text kinds are the
# ones with a transcription: only these enter EAST maps, recognition exports and reader checks
# (photo and document quads are labels of their own). Defined here once; import, never restate.
TEXT_KINDS = ("word", "line", "field")
KINDS = (*TEXT_KINDS, "photo", "document")


def label_round(a: np.ndarray) -> np.ndarray:
    """Coordinates as the label files hold them: float64 rounded to 1/100 px (enough for labels,
    and keeps the JSON small and stable)."""
    return np.round(np.asarray(a).astype(np.float64), 2)


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

    @classmethod
    def trusted(cls, quad: np.ndarray, text: str, chars: np.ndarray | None, kind: str, field: str | None,
                ignore: bool = False) -> "Instance":
        """An Instance from arrays that already are what __post_init__ makes (float32, (4, 2) and
        (n, 4, 2), owned by the new instance) and a kind in KINDS, skipping its conversions and
        checks: for renderers that make dozens a sample (a card). Same fields as the constructor."""
        inst = object.__new__(cls)
        inst.__dict__.update(quad=quad, text=text, chars=chars, kind=kind, field=field, ignore=ignore)
        return inst

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "quad": label_round(self.quad).tolist(),
            "text": self.text,
            "kind": self.kind,
            "field": self.field,
            "ignore": bool(self.ignore),
        }
        d["chars"] = label_round(self.chars).tolist() if self.chars is not None else None
        return d

    def as_labelled(self) -> "Instance":
        """A copy with its quads as the label files hold them (label_round), in float32: what
        reading this instance back from a shard gives."""
        return Instance(quad=label_round(self.quad), text=self.text, kind=self.kind, field=self.field,
                        ignore=bool(self.ignore), chars=None if self.chars is None else label_round(self.chars))

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

    def to_json(self, arrays: bool = False) -> dict[str, Any]:
        """The sample's JSON record. Factors keep full precision (JSON floats round-trip), so
        pinning a shard's recorded factors replays the sample exactly. `arrays=True` is for
        the shard writer (`orjson.OPT_SERIALIZE_NUMPY`): quads stay rounded float64 numpy
        arrays and the factor dict goes out as it is -- the same bytes, several times faster."""
        return {
            "key": self.key,
            "size": [int(self.image.shape[0]), int(self.image.shape[1])],
            "instances": _instances_json(self.instances) if arrays else [inst.to_json() for inst in self.instances],
            "factors": self.factors if arrays else _jsonable(self.factors),
            "meta": self.meta if arrays else _jsonable(self.meta),
        }


# |x| below which every 2-decimal value prints identically from float32 and float64 (checked
# exhaustively to 20000 in tests/test_core_json.py)
F32_EXACT = 16384.0


def _instances_json(instances: list[Instance]) -> list[dict[str, Any]]:
    """Instance records with every quad rounded in one numpy pass, as contiguous row views."""
    if not instances:
        return []
    parts = [inst.quad for inst in instances] + [inst.chars for inst in instances if inst.chars is not None]
    flat = None
    if native.lib is not None:  # the rounding and the test below in one pass (synthgen/_native.c)
        n = sum(p.size for p in parts) // 2
        f64, f32 = np.empty((n, 2)), np.empty((n, 2), np.float32)
        small = native.lib.label_round(parts, f64, f32)
        if small is not NotImplemented:
            flat = f32 if small else f64
    if flat is None:
        flat = label_round(np.concatenate([p.reshape(-1, 2) for p in parts]))
        if len(flat) and float(np.abs(flat).max()) < F32_EXACT:
            # orjson writes float32 ~1.4x faster, and below F32_EXACT a value with two decimals
            # prints the same from float32 (shortest round trip) as from float64: same bytes
            flat = flat.astype(np.float32)
    out, k = [], 4 * len(instances)
    for j, inst in enumerate(instances):
        chars = None
        if inst.chars is not None:
            n = 4 * len(inst.chars)
            chars = flat[k : k + n].reshape(-1, 4, 2)
            k += n
        out.append({"quad": flat[4 * j : 4 * j + 4], "text": inst.text, "kind": inst.kind, "field": inst.field,
                    "ignore": bool(inst.ignore), "chars": chars})
    return out


def key_for(index: int, width: int = 9) -> str:
    """Zero-padded global index: sorts in index order inside and across shards."""
    return f"{index:0{width}d}"


def _jsonable(x: Any) -> Any:
    """Plain JSON types (what orjson writes for numpy values with OPT_SERIALIZE_NUMPY)."""
    t = type(x)
    if t in (float, int, str, bool) or x is None:
        return x
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x
