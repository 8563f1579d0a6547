"""Failure rate per factor region, smoothed, with a confidence figure, and the bias it implies.

Regions come from the factor catalogue (`pipeline.factor_space()`): each option of a choice,
true/false of a bernoulli, equal-width bins of a uniform or integer range. Indexed factors
(`word[3].angle`) count under their generic name; a sample counts once per region it touches.

For region g of factor f, with n_g samples and k_g failures (scores may be fractional):
  p_f   = pooled failure rate of the samples that drew f
  r_g   = (k_g + a * p_f) / (n_g + a)            smoothed rate (a pseudo-samples at p_f)
  lift  = r_g / p_f
  lo    = Wilson 95% lower bound of the raw rate / p_f   (the ranking key: lift we are sure of)
  z     = two-proportion z of region vs the rest of f
Because factors are local (keyed draws), biasing one factor leaves the others' distributions
alone, so a factor that does not matter keeps lift ~1 even in biased rounds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..draws import DERIVED, generic

BIASABLE = ("choice", "uniform", "integer", "bernoulli")
MAX_OPTIONS = 64  # choices with more options (corpus indices) are not mined
MAX_INT_RANGE = 10**6  # integer factors wider than this are seeds, not regions


@dataclass
class Region:
    key: str  # option, "true"/"false", or bin index
    label: str
    n: float = 0.0
    k: float = 0.0


@dataclass
class FactorStats:
    name: str
    kind: str
    biasable: bool
    edges: list[float] | None = None  # continuous: bin edges in value space
    regions: dict[str, Region] = field(default_factory=dict)

    def region_of(self, v: Any) -> str | None:
        if self.edges is not None:
            try:
                x = float(v)
            except (TypeError, ValueError):
                return None
            e = self.edges
            if not e[0] <= x <= e[-1]:
                return None
            k = min(len(e) - 2, max(0, sum(1 for b in e[1:-1] if x >= b)))
            return str(k)
        if self.kind == "bernoulli":
            return "true" if bool(v) else "false"
        return str(v if not isinstance(v, list) else tuple(v))

    def add(self, key: str, score: float) -> None:
        r = self.regions.get(key)
        if r is None:
            if self.edges is None:  # categories seen at run time (assigned factors)
                if len(self.regions) >= MAX_OPTIONS:
                    return
                r = self.regions[key] = Region(key, key)
            else:
                return
        r.n += 1
        r.k += score


def wilson_lower(k: float, n: float, z: float = 1.96) -> float:
    if n <= 0:
        return 0.0
    p = min(1.0, max(0.0, k / n))
    d = 1 + z * z / n
    c = p + z * z / (2 * n)
    m = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (c - m) / d)


def make_stats(space: dict[str, Any], bins: int = 5) -> dict[str, FactorStats]:
    """Empty statistics for every minable factor of the catalogue."""
    out: dict[str, FactorStats] = {}
    for name, spec in space.items():
        kind = spec.kind
        if kind == "derived" or name.startswith(DERIVED):
            continue
        if kind in ("uniform", "integer"):
            if spec.lo is None or spec.hi is None or not spec.hi > spec.lo:
                continue
            lo, hi = float(spec.lo), float(spec.hi)
            if kind == "integer":
                if hi - lo > MAX_INT_RANGE:
                    continue
                hi += 1.0  # integers draw from [lo, hi + 1): bins cover whole values
                nb = int(min(bins, hi - lo))
            else:
                nb = bins
            edges = [lo + (hi - lo) * j / nb for j in range(nb + 1)]
            st = FactorStats(name, kind, True, edges)
            for j in range(nb):
                a, b = edges[j], edges[j + 1]
                st.regions[str(j)] = Region(str(j), f"[{a:.4g}, {b:.4g})")
            out[name] = st
        elif kind in ("choice", "bernoulli"):
            opts = ["false", "true"] if kind == "bernoulli" else [str(o) for o in (spec.options or [])]
            if len(opts) > MAX_OPTIONS or len(opts) < 2:
                continue
            st = FactorStats(name, kind, True)
            st.regions = {o: Region(o, o) for o in opts}
            out[name] = st
        elif kind == "assigned":  # reported (categories seen), never biased: assign() takes no bias
            out[name] = FactorStats(name, kind, False)
    return out


def observe(stats: dict[str, FactorStats], factors: dict[str, Any], score: float) -> None:
    """Count one judged sample: each region it touches once."""
    # dicts, not sets: regions first seen here are created in the sample's factor order, so
    # report.json is the same whatever PYTHONHASHSEED (a set of strings iterates in hash order)
    touched: dict[str, dict[str, None]] = defaultdict(dict)
    for k, v in factors.items():
        g = generic(k)
        st = stats.get(g)
        if st is None:
            continue
        key = st.region_of(v)
        if key is not None:
            touched[g][key] = None
    for g, keys in touched.items():
        for key in keys:
            stats[g].add(key, score)


def analyse(stats: dict[str, FactorStats], prior: float = 10.0, min_n: int = 5) -> list[dict[str, Any]]:
    """Per factor: regions with rate, lift, Wilson lower-bound lift and z; factors ranked by
    their best region's lower-bound lift, then z."""
    rows = []
    for st in stats.values():
        regs = [r for r in st.regions.values() if r.n > 0]
        n, k = sum(r.n for r in regs), sum(r.k for r in regs)
        if len(regs) < 2 or n <= 0:
            continue
        p = k / n
        out = []
        for r in regs:
            rate = (r.k + prior * p) / (r.n + prior)
            rest_n, rest_k = n - r.n, k - r.k
            se = math.sqrt(max(p * (1 - p), 1e-12) * (1 / r.n + 1 / max(rest_n, 1e-9))) if rest_n > 0 else float("inf")
            z = ((r.k / r.n) - (rest_k / rest_n)) / se if rest_n > 0 and se > 0 else 0.0
            lo = wilson_lower(r.k, r.n) / p if p > 0 else 0.0
            out.append({"region": r.key, "label": r.label, "n": int(r.n), "fails": round(r.k, 3),
                        "rate": round(r.k / r.n, 4), "smoothed_rate": round(rate, 4),
                        "lift": round(rate / p, 3) if p > 0 else 0.0, "lift_lower": round(lo, 3), "z": round(z, 2)})
        out.sort(key=lambda d: (-d["lift_lower"], -d["z"]))
        best = next((d for d in out if d["n"] >= min_n), out[0])
        rows.append({"factor": st.name, "kind": st.kind, "biasable": st.biasable, "samples": int(n),
                     "rate": round(p, 4), "score": best["lift_lower"], "lift": best["lift"], "z": best["z"],
                     "worst_region": best["label"], "regions": out})
    rows.sort(key=lambda d: (-d["score"], -d["z"]))
    return rows


def bias_from(stats: dict[str, FactorStats], ranked: list[dict[str, Any]], top: int = 8, z_min: float = 3.0,
              prior: float = 10.0, w_min: float = 0.1, w_max: float = 20.0, sharpen: float = 2.0) -> dict[str, Any]:
    """A `Draws` bias toward failing regions: for the `top` biasable factors whose worst region
    is significant (z >= z_min: ~100 factors x 5-10 regions are tested each round, so z = 2 would
    pass several by chance; 3 is p ~ 0.001 one-sided) and surely above the pooled rate (Wilson
    lower-bound lift > 1), region weights = (smoothed rate / pooled rate) ** sharpen,
    clipped to [w_min, w_max] so no region ever drops out of the distribution."""
    bias: dict[str, Any] = {}
    for row in ranked:
        if len(bias) >= top:
            break
        st = stats[row["factor"]]
        if not st.biasable or row["z"] < z_min or row["score"] <= 1.0:
            continue
        lift = {d["region"]: d["lift"] for d in row["regions"]}
        w = {key: min(w_max, max(w_min, lift.get(key, 1.0) ** sharpen)) for key in st.regions}
        if st.edges is not None:
            bias[st.name] = {"bins": list(st.edges), "weights": [w[str(j)] for j in range(len(st.edges) - 1)]}
        else:
            bias[st.name] = w
    return bias
