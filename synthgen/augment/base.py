"""The op registry: every augmentation op, its default chance and magnitude range at strength 1.

An op draws its parameters once from the sample's `Draws` (factor names `aug.<op>.<param>`,
so they are recorded, pinnable and replayable) and then applies them. The pipeline's one
`strength` s in [0, 1] scales every op's chance (p x s) and every magnitude towards the op's
identity value (effective range = identity + s * (range - identity)), so s = 0 is exactly no
change and s = 1 is the configured chance and range.

Kinds:
- `geometric`: contributes a 3x3 matrix (src -> dst); all of them compose into one matrix.
- `field`: contributes a displacement field (elastic); composed with the matrix, one resample.
- `photometric`: changes pixels only, labels stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..draws import Draws


@dataclass
class Ctx:
    """What an op may look at when drawing: the frame size and the labelled quads."""

    W: int
    H: int
    quads: list[np.ndarray] = field(default_factory=list)  # non-ignored text quads (4 x 2)


class Op:
    name: ClassVar[str]
    kind: ClassVar[str]  # geometric | field | photometric
    p: ClassVar[float]  # default chance at strength 1
    range: ClassVar[tuple[float, float]]  # default magnitude range at strength 1
    identity: ClassVar[float] = 0.0
    # the magnitude's factor name is aug.<name>.<param>
    param: ClassVar[str] = "m"

    def scaled(self, rng: tuple[float, float], strength: float) -> tuple[float, float]:
        a, b = (self.identity + strength * (v - self.identity) for v in rng)
        return (a, b) if a <= b else (b, a)

    def magnitude(self, d: Draws, rng: tuple[float, float], strength: float) -> float:
        lo, hi = self.scaled(rng, strength)
        return d.uniform(f"aug.{self.name}.{self.param}", lo, hi)

    # below this distance from identity the magnitude changes nothing visible (skip the op)
    floor: ClassVar[float] = 1e-9

    def draw(self, d: Draws, rng: tuple[float, float], strength: float, ctx: Ctx) -> dict[str, Any]:
        """Every parameter for one sample (drawn only when the op fires; keyed draws make that
        safe: no other factor moves)."""
        return {self.param: self.magnitude(d, rng, strength)}

    def factors(self, cat, rng: tuple[float, float], strength: float, instances: int | None = None) -> None:
        """Declare what `draw` draws (synthgen/factors.py); `instances`: the most labelled
        instances a frame can have (None: not known). Ops that draw more extend this."""
        cat.uniform(f"aug.{self.name}.{self.param}", *self.scaled(rng, strength))

    def useful(self, params: dict[str, Any]) -> bool:
        """False when the parameters change nothing (the op is skipped)."""
        return abs(params[self.param] - self.identity) >= self.floor

    # geometric ops
    def matrix(self, params: dict[str, Any], ctx: Ctx) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    # photometric ops
    def apply(self, img: np.ndarray, params: dict[str, Any]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<op {self.name}>"


# name -> op instance, in application order (geometric first, then the field, then pixels)
REGISTRY: dict[str, Op] = {}


def register(cls: type[Op]) -> type[Op]:
    if cls.name in REGISTRY:
        raise ValueError(f"augmentation op {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def op_table(overrides: dict[str, Any] | None) -> list[tuple[Op, float, tuple[float, float]]]:
    """(op, p, range) for every registered op, with the config's overrides applied."""
    from . import geometric, photometric  # noqa: F401  (registration)

    out = []
    for name, op in REGISTRY.items():
        o = (overrides or {}).get(name)
        p = op.p if o is None or o.get("p") is None else float(o["p"])
        rng = op.range if o is None or o.get("range") is None else tuple(float(v) for v in o["range"])
        out.append((op, p, rng))
    return out
