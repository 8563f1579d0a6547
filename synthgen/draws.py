"""Recorded, pinnable, biasable random draws.

Every random *choice* a generator makes goes through a `Draws` object: it draws from the
sample's own `numpy.random.Generator`, records the value under a factor name, lets a caller
pin the value (SynthTIGER-style `meta` overrides) and lets the miner bias the distribution.

Pinning never changes how many numbers are drawn: the draw happens and is then replaced, so
pinning one factor leaves every other factor of the sample unchanged.

Names may carry indices (``word[3].font``); pins and biases are looked up by the exact name
first, then by the generic name with indices removed (``word.font``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

_INDEX = re.compile(r"\[\d+\]")


def generic(name: str) -> str:
    return _INDEX.sub("", name)


def sample_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """The generator of sample `index` of a job seeded `seed`: keyed, so it depends on nothing
    else (not worker count, shard size or order of execution)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, index, stream])))


class Draws:
    """Record every random choice of one sample under its factor name."""

    def __init__(
        self,
        rng: np.random.Generator,
        pinned: dict[str, Any] | None = None,
        bias: dict[str, Any] | None = None,
    ) -> None:
        self.rng = rng
        self.factors: dict[str, Any] = {}
        self.pinned = dict(pinned or {})
        self.bias = dict(bias or {})

    # -- lookup helpers -------------------------------------------------------------------
    def _lookup(self, table: dict[str, Any], name: str) -> Any:
        if not table:  # the common case: nothing pinned or biased, skip the name parsing
            return None
        if name in table:
            return table[name]
        return table.get(generic(name))

    def _record(self, name: str, value: Any) -> Any:
        if self.pinned:
            pin = self._lookup(self.pinned, name)
            if pin is not None:
                value = pin
        self.factors[name] = value
        return value

    # -- draws ----------------------------------------------------------------------------
    def uniform(self, name: str, lo: float, hi: float) -> float:
        b = self._lookup(self.bias, name)
        if b is not None and hi > lo:
            value = self._binned(b, float(lo), float(hi))
        else:
            # == rng.uniform(lo, hi) bit for bit, at a third of the call overhead
            value = lo + (hi - lo) * self.rng.random() if hi > lo else float(lo)
        return float(self._record(name, value))

    def integers(self, name: str, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi], both ends included."""
        b = self._lookup(self.bias, name)
        if b is not None and hi > lo:
            value = int(min(hi, np.floor(self._binned(b, float(lo), float(hi) + 1.0))))
        else:
            value = int(self.rng.integers(lo, hi + 1))
        return int(self._record(name, value))

    def choice(self, name: str, options: Sequence[Any], weights: Sequence[float] | None = None) -> Any:
        if len(options) == 0:
            raise ValueError(f"no options to draw {name!r} from")
        w = [1.0] * len(options) if weights is None else [float(x) for x in weights]
        b = self._lookup(self.bias, name)
        if isinstance(b, dict):
            w = [wi * float(b.get(str(o), 1.0)) for wi, o in zip(w, options)]
        total = sum(w)
        if not total > 0:
            raise ValueError(f"weights for {name!r} sum to zero")
        # One uniform draw per choice whatever the weights: pinning or biasing keeps the stream aligned.
        u = self.rng.random() * total
        idx, acc = len(options) - 1, 0.0
        for k, wk in enumerate(w):
            acc += wk
            if u < acc:
                idx = k
                break
        return self._record(name, options[idx])

    def bernoulli(self, name: str, p: float) -> bool:
        u = self.rng.random()
        b = self._lookup(self.bias, name)
        if isinstance(b, dict):  # bias {"true": w1, "false": w0}
            wt, wf = p * float(b.get("true", 1.0)), (1 - p) * float(b.get("false", 1.0))
            p = wt / (wt + wf) if wt + wf > 0 else p
        return bool(self._record(name, bool(u < p)))

    def _binned(self, bias: dict[str, Any], lo: float, hi: float) -> float:
        """Biased continuous draw: pick a bin by weight x width, then uniform inside it."""
        edges = np.clip(np.asarray(bias["bins"], dtype=np.float64), lo, hi)
        weights = np.asarray(bias["weights"], dtype=np.float64)
        widths = np.diff(edges)
        p = weights * widths
        u1, u2 = self.rng.random(), self.rng.random()
        if not p.sum() > 0:
            return lo + u1 * (hi - lo)
        k = int(np.searchsorted(np.cumsum(p) / p.sum(), u1, side="right"))
        k = min(k, len(widths) - 1)
        return float(edges[k] + u2 * widths[k])
