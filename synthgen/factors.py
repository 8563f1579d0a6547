"""The factor catalogue of a pipeline: every factor its samples draw, by generic name.

Built by tracing: a fixed set of samples is rendered with a tracing `Draws`, which notes for
each generic name (`word.font`, `background.color0.r`) the kind of draw (choice, uniform,
integer, bernoulli, assigned), its options or the union of its ranges, and the config key it
comes from. Ranges that depend on other factors (a word's `x` depends on its size) are the
union over the traced samples; `depends` says so. The miner and the audit build their biases
and reports from this; pins are validated against it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .draws import DERIVED, Draws, generic
from .errors import UserError

# Tracing renders at least TRACE_MIN samples and stops once TRACE_QUIET samples in a row
# brought no new factor name (rare factors: a generator's format-specific draws), or at TRACE_MAX.
TRACE_MIN, TRACE_QUIET, TRACE_MAX = 64, 200, 2000
TRACE_SEED = 0x7ACE


@dataclass
class FactorSpec:
    name: str  # generic name: indices removed (word[3].font -> word.font)
    kind: str  # choice | uniform | integer | bernoulli | assigned | derived
    src: str | None = None  # the config key the range or options come from
    options: list[Any] | None = None
    lo: float | None = None
    hi: float | None = None
    seen: int = 0  # traced samples that drew it
    pinnable: bool = True

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def domain(self) -> str:
        if self.options is not None:
            shown = ", ".join(map(str, self.options[:6]))
            return f"{{{shown}{', ...' if len(self.options) > 6 else ''}}} ({len(self.options)})"
        if self.lo is not None:
            return f"[{self.lo:g}, {self.hi:g}]"
        return "-"


def trace(pipe: Any, n_min: int = TRACE_MIN, quiet: int = TRACE_QUIET, n_max: int = TRACE_MAX) -> dict[str, FactorSpec]:
    """Render samples 0, 1, ... of `pipe` (seed TRACE_SEED) with tracing draws and collect
    their factors (see TRACE_MIN above for when it stops)."""
    specs: dict[str, FactorSpec] = {}
    last_new = 0
    for i in range(n_max):
        if i >= n_min and i - last_new >= quiet:
            break
        known = len(specs)
        d = Draws(TRACE_SEED, i, trace=True)
        pipe.render_draws(d, i)
        for g, t in d.trace.items():
            s = specs.get(g)
            if s is None:
                s = specs[g] = FactorSpec(g, t["kind"], t.get("src"))
            s.seen += 1
            if "options" in t:
                s.options = s.options or []
                for o in t["options"]:
                    if o not in s.options:
                        s.options.append(o)
            if "lo" in t:
                s.lo = t["lo"] if s.lo is None else min(s.lo, t["lo"])
                s.hi = t["hi"] if s.hi is None else max(s.hi, t["hi"])
            if t.get("src") and not s.src:
                s.src = t["src"]
        for k in d.factors:
            if k.startswith(DERIVED):
                g = generic(k)
                s = specs.get(g)
                if s is None:
                    s = specs[g] = FactorSpec(g, "derived", pinnable=False)
                s.seen += 1
        if len(specs) > known:
            last_new = i
    return dict(sorted(specs.items()))


def check_names(names: list[str], catalogue: dict[str, FactorSpec], what: str, pipeline: str) -> None:
    """Every pinned or biased name must be a pinnable factor of the catalogue."""
    for k in names:
        if k.startswith(DERIVED):
            raise UserError(f"{what} {k!r}: derived factors (computed from draws) cannot be {what}ned; "
                            f"pin the factors it comes from (`synthgen factors {pipeline}` lists them)")
        spec = catalogue.get(generic(k))
        if spec is None:
            near = sorted(g for g in catalogue if g.split(".")[-1] == generic(k).split(".")[-1])[:3]
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise UserError(f"{what} {k!r}: no such factor in pipeline {pipeline!r}{hint} "
                            f"(`synthgen factors {pipeline}` lists them)")
        if not spec.pinnable:
            raise UserError(f"{what} {k!r}: derived factor, not a draw; it cannot be {what}ned")


def format_table(catalogue: dict[str, FactorSpec]) -> str:
    rows = [("factor", "kind", "options / range", "config key")]
    for s in catalogue.values():
        rows.append((s.name, s.kind, s.domain(), s.src or ""))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}".rstrip() for r in rows)
