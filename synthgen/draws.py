"""Recorded, pinnable, biasable random draws: the factor contract.

Every random *choice* a renderer or augmentation op makes goes through a `Draws` object: it
takes a uniform from the sample's keyed stream, maps it to the distribution, records the value
under a factor name, lets a caller pin the value (SynthTIGER-style `meta` overrides) and lets
the miner bias the distribution.

**Factors are local.** The uniform behind factor `name` is a hash of (seed, index, name, k),
where k counts earlier draws of the *same* name in this sample (retry loops: placement tries,
text redraws). So a factor's value depends only on its own key and on the factors it causally
depends on (the ranges or options it is drawn from), never on how many draws came before it:
pinning or biasing one factor leaves every independent factor unchanged, and retry loops
shift nothing outside themselves. Biasing maps the same one uniform through a reweighted
distribution (no extra draws).

Names may carry indices (``word[3].font``); pins and biases are looked up by the exact name
first, then by the generic name with indices removed (``word.font``). Values computed from
draws are recorded under ``derived.<name>`` and cannot be pinned.

Cost (2-core EPYC VM): ~0.19 us a draw with the compiled draws (`_C`: uniform, integers,
bernoulli and equal-odds choice with no trace, bias or pins), ~0.44 us with the methods alone;
a scene sample makes ~330 draws, a text line ~80.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
from array import array
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from . import native
from .errors import UserError

_INDEX = re.compile(r"\[\d+\]")
_M64 = (1 << 64) - 1
_TO_UNIT = 1.0 / 9007199254740992.0  # 2 ** -53
DERIVED = "derived."


def generic(name: str) -> str:
    """`word[3].font` -> `word.font`."""
    return _INDEX.sub("", name) if "[" in name else name


def mix64(x: int) -> int:
    """SplitMix64 finaliser: a bijection on 64-bit integers with full avalanche."""
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def unit(x: int) -> float:
    """The uniform in [0, 1) of 64-bit key `x` (the low 64 bits of any int): mix64's top 53
    bits (the reference of `_native.unit`)."""
    return (mix64(x) >> 11) * _TO_UNIT


_unit = native.lib.unit if native.lib is not None else unit  # the compiled one: the same double
# Draws.u and the draws with no trace, bias or pins, in C (synthgen/_native.c: draw_*): each
# gives the value, the record and the repeat count the methods below give, or NotImplemented
# for input it does not take (then the method runs). None: the methods alone.
_C = native.lib
# little-endian words: PCG64 reads them as the machine's uint64
_seed_words = native.lib.seed_words if native.lib is not None and sys.byteorder == "little" else None


class _SeedWords(ISeedSequence):
    """`SeedSequence(seed)` for a PCG64, its 4-word state computed by `_native.seed_words`
    (~0.1 us against ~7 us): `PCG64(_SeedWords(s, w))` starts where `default_rng(s)` does."""

    __slots__ = ("seed", "words")

    def __init__(self, seed: int, words: bytes) -> None:
        self.seed, self.words = seed, words

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words == 4 and np.dtype(dtype) == np.uint64:
            return np.frombuffer(self.words, np.uint64)
        return np.random.SeedSequence(self.seed).generate_state(n_words, dtype)


_CUM_MIN = 16  # weighted choices among this many options or more bisect cached running sums
# id(weights) -> (weights, running sums, total), holding `weights` alive. A scene meets thousands
# of face sets (one a coverage mask): the sums are packed doubles (2.3 KB for 283 faces, not
# ~9 KB of float objects), and at most _CUM_CAP are kept (the cache as Python floats added
# ~21 MB to a scene worker's peak at n = 20,000).
_CUM_CAP = 1024
_CUMS: dict[int, tuple] = {}


def _cumulative(weights: tuple) -> tuple[array, float] | None:
    """(running sums, total) of a tuple of weights, as `Draws.choice`'s scan adds them (the
    same float additions in the same order, and `sum` for the total), cached by the tuple (a
    font choice weighs ~280 faces: ~34 us a draw scanned, ~1 us bisected); None where the scan
    must run (a negative weight: the sums would not be sorted)."""
    hit = _CUMS.get(id(weights))
    if hit is None or hit[0] is not weights:
        w = [float(x) for x in weights]
        total = sum(w)
        if not total > 0 or min(w) < 0:
            return None
        cum, acc = array("d", w), 0.0
        for k, wk in enumerate(w):
            acc += wk
            cum[k] = acc
        if len(_CUMS) >= _CUM_CAP:
            _CUMS.clear()
        hit = _CUMS[id(weights)] = (weights, cum, total)
    return hit[1], hit[2]


def _h64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


_NAME_KEYS: dict[str, int] = {}  # factor name -> 64-bit BLAKE2b key (names recur across samples)


def _name_key(name: str) -> int:
    k = _NAME_KEYS.get(name)
    if k is None:
        if len(_NAME_KEYS) > 200_000:
            _NAME_KEYS.clear()
        k = _NAME_KEYS[name] = _h64(b"factor/" + name.encode())
    return k


def sample_key(seed: int, index: int) -> int:
    """The 64-bit key of sample `index` of a job seeded `seed`."""
    return _h64(f"synthgen/{int(seed)}/{int(index)}".encode())


class KeyedSeed(ISeedSequence):
    """Seed material for one (seed, index, stream) key: BLAKE2b of the key, stretched in
    counter mode (for bulk numpy generators; scalar factors use `Draws`)."""

    __slots__ = ("key",)

    def __init__(self, seed: int, index: int, stream: int = 0) -> None:
        self.key = f"synthgen/{int(seed)}/{int(index)}/{int(stream)}".encode()

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        dt = np.dtype(dtype)
        need = n_words * dt.itemsize
        out = b""
        block = 0
        while len(out) < need:
            out += hashlib.blake2b(self.key, digest_size=64, salt=block.to_bytes(16, "little")).digest()
            block += 1
        return np.frombuffer(out[:need], dt).copy()


def sample_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """A numpy generator keyed by (seed, index, stream) only."""
    return np.random.Generator(np.random.PCG64(KeyedSeed(seed, index, stream)))


class Draws:
    """Record every random choice of one sample under its factor name.

    `pinned`: {name or generic name: value}; `bias`: {name or generic name: spec} with spec
    `{option: weight, ...}` for choices, `{"true": w, "false": w}` for bernoulli, and
    `{"bins": [edges], "weights": [w per bin]}` for uniform / integers draws.
    `trace=True` also records, per generic name, the kind of draw, its options or range and
    the config key it comes from (`factor_space` builds the catalogue from this).

    The caller's pins and biases are read-only (`pinned`, `bias` are mapping proxies): a
    renderer that fixes some factors for a part of the sample (a portrait that follows the
    card's holder) draws that part from `overlay(pins)`, never by editing the caller's pins;
    so `pin_hits` holds exactly the caller's pins that some draw used, and the rest name no
    factor of this sample (`Pipeline.sample` checks them against the catalogue)."""

    __slots__ = ("key", "factors", "pinned", "bias", "trace", "pin_hits", "bias_hits", "_repeats", "_ctx", "_fast")

    def __init__(self, seed: int, index: int, pinned: Mapping[str, Any] | None = None,
                 bias: Mapping[str, Any] | None = None, trace: bool = False) -> None:
        self.key = sample_key(seed, index)
        self.factors: dict[str, Any] = {}
        self.pinned: Mapping[str, Any] = MappingProxyType(dict(pinned or {}))
        self.bias: Mapping[str, Any] = MappingProxyType(dict(bias or {}))
        self.trace: dict[str, dict[str, Any]] | None = {} if trace else None
        self.pin_hits: set[str] = set()  # pin keys some draw used (the rest name no factor of this sample)
        self.bias_hits: set[str] = set()
        self._repeats: dict[str, int] = {}
        # what the compiled draws read and update (see _C); `_fast` only when a draw is the
        # uniform alone (no trace to note, no bias to map it, no pin to override it)
        self._ctx = (self.key, self.factors, self._repeats, _NAME_KEYS) if _C is not None else None
        self._fast = self._ctx if self.trace is None and not self.bias and not self.pinned else None
        for k in self.pinned:
            if k.startswith(DERIVED):
                raise UserError(f"factor {k!r} is derived (computed from other factors), not a draw: it cannot "
                                "be pinned; pin the factors it comes from (see `synthgen factors PIPELINE`)")

    def overlay(self, pins: Mapping[str, Any]) -> "Draws":
        """These draws with `pins` laid over the caller's, for one part of the sample (steering):
        the same keyed stream, the same recorded `factors`, biases and trace; a name in `pins`
        takes its value from there (exact name, then generic), any other from the caller's
        pins as usual. Only the caller's pins count in `pin_hits`; this object is unchanged."""
        return _Overlay(self, pins)

    # -- the keyed stream -------------------------------------------------------------------
    def u(self, name: str) -> float:
        """The uniform in [0, 1) behind the next draw of factor `name` (53 bits)."""
        if self._ctx is not None:
            v = _C.draw_u(self._ctx, name)
            if v is not NotImplemented:
                return v
        k = _NAME_KEYS.get(name)
        x = self.key ^ (_name_key(name) if k is None else k)
        if name in self.factors:  # a repeated draw of one name (a retry): the k-th of its own stream
            r = self._repeats[name] = self._repeats.get(name, 0) + 1
            x = mix64(x) + r
        return _unit(x)

    # -- lookup helpers -------------------------------------------------------------------
    def pin_of(self, name: str) -> Any:
        """The value pinned for `name` (exact or generic), or None."""
        if not self.pinned:
            return None
        if name in self.pinned:
            self.pin_hits.add(name)
            return self.pinned[name]
        g = generic(name)
        if g in self.pinned:
            self.pin_hits.add(g)
            return self.pinned[g]
        return None

    def bias_of(self, name: str) -> Any:
        if name in self.bias:
            self.bias_hits.add(name)
            return self.bias[name]
        g = generic(name)
        if g in self.bias:
            self.bias_hits.add(g)
            return self.bias[g]
        return None

    def _note(self, name: str, kind: str, src: str | None, **spec: Any) -> None:
        g = generic(name)
        t = self.trace.get(g)
        if t is None:
            t = self.trace[g] = {"kind": kind, "src": src, "kinds": set(), "names": set()}
            if "options" in spec:
                t["options"] = []
        t["kinds"].add(kind)  # every kind of draw of the name (a corpus index: assigned, or drawn on a redraw)
        t["names"].add(name)
        if src and not t.get("src"):
            t["src"] = src
        if src:
            t.setdefault("srcs", set()).add(src)
        if "options" in spec:
            t.setdefault("options", [])
            for o in spec["options"]:
                if o not in t["options"]:
                    t["options"].append(o)
        if "lo" in spec:
            t["lo"] = min(t.get("lo", spec["lo"]), spec["lo"])
            t["hi"] = max(t.get("hi", spec["hi"]), spec["hi"])

    # -- draws ----------------------------------------------------------------------------
    def uniform(self, name: str, lo: float, hi: float, src: str | None = None) -> float:
        if self._fast is not None:
            v = _C.draw_uniform(self._fast, name, lo, hi)
            if v is not NotImplemented:
                return v
        if self.trace is not None:
            self._note(name, "uniform", src, lo=float(lo), hi=float(hi))
        u = self.u(name)
        if self.bias and hi > lo:
            b = self.bias_of(name)
            if b is not None:
                u = _binned(b, u, float(lo), float(hi), name)
        value = float(lo + (hi - lo) * u) if hi > lo else float(lo)
        if self.pinned:
            pin = self.pin_of(name)
            if pin is not None:
                value = _number(pin, name)
        self.factors[name] = value
        return value

    def integers(self, name: str, lo: int, hi: int, src: str | None = None) -> int:
        """Uniform integer in [lo, hi], both ends included."""
        if self._fast is not None:
            v = _C.draw_integers(self._fast, name, lo, hi)
            if v is not NotImplemented:
                return v
        if self.trace is not None:
            self._note(name, "integer", src, lo=int(lo), hi=int(hi))
        u = self.u(name)
        if self.bias and hi > lo:
            b = self.bias_of(name)
            if b is not None:
                u = _binned(b, u, float(lo), float(hi) + 1.0, name)
        value = min(hi, lo + int(u * (hi - lo + 1)))
        if self.pinned:
            pin = self.pin_of(name)
            if pin is not None:
                value = int(_number(pin, name))
        self.factors[name] = value
        return value

    def choice(self, name: str, options: Sequence[Any], weights: Sequence[float] | None = None,
               src: str | None = None) -> Any:
        if weights is None and self._fast is not None:
            v = _C.draw_choice(self._fast, name, options)
            if v is not NotImplemented:
                return v
        if len(options) == 0:
            raise ValueError(f"no options to draw {name!r} from")
        if self.trace is not None:
            self._note(name, "choice", src, options=[o if isinstance(o, (str, int, float, bool)) else str(o)
                                                      for o in options])
        pin = self.pin_of(name) if self.pinned else None
        if pin is not None:
            for o in options:
                if o == pin or str(o) == str(pin):
                    self.factors[name] = o
                    return o
            raise UserError(f"pinned factor {name}={pin!r} is not one of its options here: "
                            f"{', '.join(map(str, options[:12]))}{' ...' if len(options) > 12 else ''}")
        if weights is None and not self.bias:  # equal odds: the bucket floor(u * n) (what the scan below gives)
            value = options[min(int(self.u(name) * len(options)), len(options) - 1)]
            self.factors[name] = value
            return value
        if not self.bias and type(weights) is tuple and len(weights) >= _CUM_MIN:
            cum = _cumulative(weights)
            if cum is not None:  # the scan below, as a bisection of its running sums
                u = self.u(name) * cum[1]
                value = options[min(bisect_right(cum[0], u), len(options) - 1)]
                self.factors[name] = value
                return value
        w = [1.0] * len(options) if weights is None else [float(x) for x in weights]
        if self.bias:
            b = self.bias_of(name)
            if isinstance(b, dict):
                w = [wi * float(b.get(str(o), 1.0)) for wi, o in zip(w, options)]
        total = sum(w)
        if not total > 0:
            raise ValueError(f"weights for {name!r} sum to zero")
        u = self.u(name) * total
        idx, acc = len(options) - 1, 0.0
        for k, wk in enumerate(w):
            acc += wk
            if u < acc:
                idx = k
                break
        value = options[idx]
        self.factors[name] = value
        return value

    def bernoulli(self, name: str, p: float, src: str | None = None) -> bool:
        if self._fast is not None:
            v = _C.draw_bernoulli(self._fast, name, p)
            if v is not NotImplemented:
                return v
        if self.trace is not None:
            self._note(name, "bernoulli", src, options=[False, True])
        u = self.u(name)
        if self.bias:
            b = self.bias_of(name)
            if isinstance(b, dict):  # bias {"true": w1, "false": w0}
                wt, wf = p * float(b.get("true", 1.0)), (1 - p) * float(b.get("false", 1.0))
                p = wt / (wt + wf) if wt + wf > 0 else p
        value = u < p
        if self.pinned:
            pin = self.pin_of(name)
            if pin is not None:
                value = _boolean(pin, name)
        self.factors[name] = value
        return value

    def bernoullis(self, names: tuple[str, ...], ps: tuple[float, ...], scale: float = 1.0) -> tuple[int, list[int]]:
        """`bernoulli(names[i], ps[i] * scale)` for every i, in order, in one compiled call where
        it can: (taken, fired), the first `taken` drawn and recorded (the rest not: draw them one
        by one), `fired` the indices among them that came out True. The same values and records
        as the calls one by one (a draw's value depends on its name alone)."""
        if self._fast is not None:
            r = _C.draw_bernoullis(self._fast, names, ps, scale)
            if r is not NotImplemented:
                return r
        return 0, []

    def assign(self, name: str, value: Any, src: str | None = None) -> Any:
        """Record a value chosen by a deterministic rule rather than a uniform (a corpus entry
        from the dataset-wide permutation walk); pinnable like a draw."""
        if self.trace is not None:
            self._note(name, "assigned", src)
        if self.pinned:
            pin = self.pin_of(name)
            if pin is not None:
                value = type(value)(pin) if isinstance(value, (int, float, str)) else pin
        self.factors[name] = value
        return value

    def derive(self, name: str, value: Any) -> Any:
        """Record a value computed from draws (a count, a scale): `derived.<name>`, not pinnable."""
        self.factors[DERIVED + name] = value
        return value

    def seed_for(self, name: str) -> int:
        """The seed of bulk random values (pixel noise, displacement waves) for `name`, recorded
        as factor `<name>.seed` (pinnable like any integer draw)."""
        return self.integers(f"{name}.seed", 0, 2**63 - 1)

    def rng_for(self, name: str) -> np.random.Generator:
        """A numpy generator for bulk pixel noise, keyed by this sample and `name` only."""
        seed = self.seed_for(name)
        if _seed_words is not None:  # np.random.default_rng(seed)'s generator, seeded in C
            w = _seed_words(seed)
            if w is not NotImplemented:
                return np.random.Generator(np.random.PCG64(_SeedWords(seed, w)))
        return np.random.default_rng(seed)


class _Overlay(Draws):
    """`Draws.overlay`: a view sharing every record of its base (key, factors, repeat counts,
    bias and its hits, trace, the caller's pin hits) with pins of its own on top."""

    __slots__ = ("own", "base")

    def __init__(self, base: Draws, pins: Mapping[str, Any]) -> None:  # noqa: super().__init__ would re-key
        self.base = base
        self.own: Mapping[str, Any] = MappingProxyType(dict(pins))
        for k in self.own:
            if k.startswith(DERIVED):
                raise ValueError(f"overlay pin {k!r} is a derived name, not a draw")
        self.key, self.factors, self._repeats = base.key, base.factors, base._repeats
        self.bias, self.bias_hits, self.trace = base.bias, base.bias_hits, base.trace
        self.pin_hits = base.pin_hits
        self._ctx, self._fast = base._ctx, None  # the base's keyed stream; pins: the methods decide
        # truthiness gates the draws' pin lookups; lookups go through pin_of (own, then the base's)
        self.pinned = MappingProxyType({**base.pinned, **self.own}) if self.own else base.pinned

    def pin_of(self, name: str) -> Any:
        own = self.own
        if own:
            if name in own:
                return own[name]
            g = generic(name)
            if g in own:
                return own[g]
        return self.base.pin_of(name)


def _number(pin: Any, name: str) -> float:
    if isinstance(pin, bool) or not isinstance(pin, (int, float)):
        try:
            return float(pin)
        except (TypeError, ValueError):
            raise UserError(f"pinned factor {name}={pin!r} must be a number") from None
    return pin


def _boolean(pin: Any, name: str) -> bool:
    if isinstance(pin, bool):
        return pin
    if str(pin).lower() in ("true", "1", "yes"):
        return True
    if str(pin).lower() in ("false", "0", "no"):
        return False
    raise UserError(f"pinned factor {name}={pin!r} must be true or false")


def _binned(bias: Any, u: float, lo: float, hi: float, name: str) -> float:
    """Map one uniform through a binned density over [lo, hi): bin k has mass weight_k x its
    width (inside [lo, hi]); returns the uniform the plain draw would need to land there."""
    try:
        edges = [min(hi, max(lo, float(e))) for e in bias["bins"]]
        weights = [float(w) for w in bias["weights"]]
    except (TypeError, KeyError, ValueError):
        raise UserError(f"bias for {name!r} must be {{bins: [edges], weights: [one per bin]}}") from None
    if len(weights) != len(edges) - 1:
        raise UserError(f"bias for {name!r}: {len(edges)} bin edges need {len(edges) - 1} weights, got {len(weights)}")
    mass = [max(0.0, w) * (b - a) for w, a, b in zip(weights, edges, edges[1:])]
    total = sum(mass)
    if not total > 0:
        return u
    t, acc = u * total, 0.0
    for k, m in enumerate(mass):
        if m > 0 and t < acc + m:
            x = edges[k] + (t - acc) / m * (edges[k + 1] - edges[k])
            return min(max((x - lo) / (hi - lo), 0.0), math.nextafter(1.0, 0.0))
        acc += m
    k = max(i for i, m in enumerate(mass) if m > 0)
    return min(max((edges[k + 1] - lo) / (hi - lo), 0.0), math.nextafter(1.0, 0.0))
