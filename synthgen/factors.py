"""The factor catalogue of a pipeline: every factor its samples can draw, by generic name.

**Declared, not discovered.** Each renderer kind (`Renderer.factors(cat)`), the modules it
calls (backgrounds, corpus and generators, styles, identities, faces, card scenes) and each
augmentation op (`Op.factors`) declare the factors they draw, computed from the resolved
config without rendering: a name pattern (`word[*].font`: `[*]` stands for an index; the
catalogue's key is the generic name `word.font`), the kind of draw (choice, uniform, integer,
bernoulli, assigned; derived for values computed from draws), its options or range and the
config key it comes from. `Pipeline.factor_space()`, `synthgen factors` and pin / bias
validation read this declaration: instant and deterministic, and a rare factor is known however
seldom it is drawn.

Ranges and options that follow other factors (a word's `x` follows its size, a crop offset the
tile drawn, a font the text's coverage) are declared as the bound they can reach and marked
`depends`; the draws of one sample pass a range or option list inside it. Names drawn with
several ranges (a background crop offset over texture banks, photo tiles and paper) are the
union of their declarations. An `assigned` factor with a range (a corpus index from the
dataset-wide walk) is drawn uniformly in that range when its string is redrawn.

Tracing (`trace`) renders samples with tracing draws and collects what they drew: it is the
test that the declaration is complete and exact (tests/test_factor_declarations.py), and the
catalogue of a plug-in renderer kind that declares nothing (no `factors` method).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from .draws import DERIVED, Draws, generic
from .errors import UserError

# Tracing renders at least TRACE_MIN samples and stops once TRACE_QUIET samples in a row
# brought no new factor name (rare factors: a generator's format-specific draws), or at TRACE_MAX.
TRACE_MIN, TRACE_QUIET, TRACE_MAX = 64, 200, 2000
TRACE_SEED = 0x7ACE
SEED_MAX = 2**63 - 1  # Draws.seed_for: a bulk-noise seed is an integer in [0, SEED_MAX]
KINDS = ("choice", "uniform", "integer", "bernoulli", "assigned", "derived")


def _option(o: Any) -> Any:
    """An option as the catalogue (and tracing) shows it: plain values as they are, others as str."""
    return o if isinstance(o, (str, int, float, bool)) else str(o)


@dataclass
class FactorSpec:
    name: str  # generic name: indices removed (word[3].font -> word.font)
    kind: str  # choice | uniform | integer | bernoulli | assigned | derived
    src: str | None = None  # the config key the range or options come from
    options: list[Any] | None = None
    lo: float | None = None
    hi: float | None = None
    seen: int | None = None  # traced samples that drew it (traced catalogues only)
    pinnable: bool = True
    patterns: list[str] | None = None  # the drawn names, `[*]` for an index (declared catalogues)
    depends: bool | None = None  # range / options follow other factors: declared as their bound

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def domain(self) -> str:
        if self.options is not None:
            shown = ", ".join(map(str, self.options[:6]))
            return f"{{{shown}{', ...' if len(self.options) > 6 else ''}}} ({len(self.options)})"
        if self.lo is not None:
            return f"[{self.lo:g}, {self.hi:g}]"
        return "-"

    def matches(self, name: str) -> bool:
        """Whether the drawn name `name` (with its indices) is one of this entry's patterns."""
        return any(pattern_regex(p).fullmatch(name) for p in (self.patterns or [self.name]))


_REGEX: dict[str, re.Pattern] = {}


def pattern_regex(pattern: str) -> re.Pattern:
    """`word[*].style.box_color.r` -> a regex of the drawn names (`word[3].style.box_color.r`)."""
    r = _REGEX.get(pattern)
    if r is None:
        r = _REGEX[pattern] = re.compile(re.escape(pattern).replace(re.escape("[*]"), r"\[\d+\]"))
    return r


def generic_of(pattern: str) -> str:
    return generic(pattern.replace("[*]", "[0]"))


class Catalogue:
    """A factor declaration being built: renderers, styles and ops call `choice`, `uniform`,
    `integers`, `bernoulli`, `assigned`, `derived` with the pattern of the names they draw and
    the options / range those draws pass. Declaring one generic name again merges: options and
    ranges are united (and the entry marked `depends` when they differ); the kind must agree.
    `prefixed(p)` declares under a name prefix (a scene sign's background: `word[*].sign`)."""

    def __init__(self, prefix: str = "", specs: dict[str, FactorSpec] | None = None,
                 default_src: str | None = None) -> None:
        self.prefix = prefix
        self.specs: dict[str, FactorSpec] = {} if specs is None else specs
        self.default_src = default_src  # the config key of declarations that name none (with_src)
        # the most labelled instances a sample can have (set by the renderer's declaration; it
        # bounds the augmentation's aug.crop.keep); None: not known
        self.instances: int | None = None

    def prefixed(self, prefix: str) -> "Catalogue":
        return Catalogue(f"{self.prefix}{prefix}.", self.specs, self.default_src)

    def with_src(self, src: str) -> "Catalogue":
        """The same catalogue, declaring `src` as the config key of every factor declared without
        one (an identity profile's draws: the template's `identity` section)."""
        c = Catalogue(self.prefix, self.specs, src)
        c.instances = self.instances
        return c

    def add(self, pattern: str, kind: str, src: str | None = None, options: list[Any] | None = None,
            lo: float | None = None, hi: float | None = None, depends: bool = False) -> FactorSpec:
        if kind not in KINDS:
            raise ValueError(f"factor kind {kind!r}: use one of {', '.join(KINDS)}")
        pattern = self.prefix + pattern
        name = generic_of(pattern)
        src = src or (self.default_src if kind != "derived" else None)
        s = self.specs.get(name)
        if s is None:
            s = self.specs[name] = FactorSpec(name, kind, src, pinnable=kind != "derived", patterns=[pattern],
                                              depends=bool(depends) or None)
            if options is not None:
                s.options = []
        else:
            if s.kind != kind:
                raise ValueError(f"factor {name!r} declared as {s.kind} and as {kind}")
            if pattern not in s.patterns:
                s.patterns.append(pattern)
            if src and not s.src:
                s.src = src
            elif src and src not in s.src.split(" | "):  # one name drawn from either of two keys
                s.src += " | " + src
            if depends:
                s.depends = True
            if options is not None and s.options is None:
                s.options = []
        if options is not None:
            opts = [_option(o) for o in options]
            if s.options and any(o not in s.options for o in opts):
                s.depends = True
            for o in opts:
                if o not in s.options:
                    s.options.append(o)
        if lo is not None:
            if s.lo is not None and (lo, hi) != (s.lo, s.hi):
                s.depends = True
            s.lo = lo if s.lo is None else min(s.lo, lo)
            s.hi = hi if s.hi is None else max(s.hi, hi)
        return s

    # -- one method per kind of draw (the Draws method of the same name) --------------------
    def choice(self, pattern: str, options, src: str | None = None, depends: bool = False) -> FactorSpec:
        return self.add(pattern, "choice", src, options=list(options), depends=depends)

    def uniform(self, pattern: str, lo: float, hi: float, src: str | None = None, depends: bool = False) -> FactorSpec:
        return self.add(pattern, "uniform", src, lo=float(lo), hi=float(hi), depends=depends)

    def integers(self, pattern: str, lo: int, hi: int, src: str | None = None, depends: bool = False) -> FactorSpec:
        return self.add(pattern, "integer", src, lo=int(lo), hi=int(hi), depends=depends)

    def bernoulli(self, pattern: str, src: str | None = None) -> FactorSpec:
        return self.add(pattern, "bernoulli", src, options=[False, True])

    def assigned(self, pattern: str, src: str | None = None, lo: int | None = None, hi: int | None = None,
                 depends: bool = False, options=None) -> FactorSpec:
        return self.add(pattern, "assigned", src, options=None if options is None else list(options), lo=lo, hi=hi,
                        depends=depends)

    def derived(self, pattern: str) -> FactorSpec:
        return self.add(DERIVED + pattern, "derived")

    def seed(self, pattern: str) -> FactorSpec:
        """`Draws.seed_for(pattern)` / `rng_for`: the recorded seed `<pattern>.seed`."""
        return self.integers(f"{pattern}.seed", 0, SEED_MAX)

    def rgb(self, pattern: str, lo: float = 0, hi: float = 255) -> None:
        """`<pattern>.r`, `.g`, `.b`, each uniform in [lo, hi]."""
        for c in "rgb":
            self.uniform(f"{pattern}.{c}", lo, hi)

    def sorted(self) -> dict[str, FactorSpec]:
        return dict(sorted(self.specs.items()))


def declared(pipe: Any) -> dict[str, FactorSpec] | None:
    """The declared catalogue of a pipeline (its renderer's and the augmentation's declarations),
    or None when its renderer declares nothing (a plug-in kind without a `factors` method)."""
    declare = getattr(pipe.renderer, "factors", None)
    if declare is None:
        return None
    from .augment.stage import declare as declare_augment

    cat = Catalogue()
    declare(cat)
    declare_augment(cat, pipe.cfg.augment)
    return cat.sorted()


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
                s = specs[g] = FactorSpec(g, t["kind"], t.get("src"), seen=0)
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
                    s = specs[g] = FactorSpec(g, "derived", pinnable=False, seen=0)
                s.seen += 1
        if len(specs) > known:
            last_new = i
    return dict(sorted(specs.items()))


def catalogue(pipe: Any) -> dict[str, FactorSpec]:
    """What `Pipeline.factor_space()` returns: the declaration, or a trace for a renderer kind
    that declares nothing."""
    space = declared(pipe)
    return trace(pipe) if space is None else space


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
            inner = sorted(g for g in catalogue if g.startswith(generic(k) + "."))[:3]
            if inner:  # `--set factors.pin.identity.sex=F` nests the dotted name: {identity: {sex: F}}
                flag = f"--pin {inner[0]}=VALUE or " if what == "pin" else ""
                hint = (f"; factor names hold dots ({', '.join(inner)}): name them whole, as in {flag}"
                        f"--set 'factors.{what}={{{inner[0]}: VALUE}}'")
            raise UserError(f"{what} {k!r}: no such factor in pipeline {pipeline!r}{hint} "
                            f"(`synthgen factors {pipeline}` lists them)")
        if not spec.pinnable:
            raise UserError(f"{what} {k!r}: derived factor, not a draw; it cannot be {what}ned")


def check_pin_values(pins: dict[str, Any], catalogue: dict[str, FactorSpec], pipeline: str) -> None:
    """A pinned value must have its factor's type (a bernoulli's true/false, a number), and an
    integer draw (an index into a bank, a tile, a corpus; a count; an offset) must lie in its
    declared range (or its bound where the range follows other factors): outside it the renderer
    clamps or wraps, and the record would not say what the image shows. A uniform draw may be
    pinned outside its configured range on purpose (opacity 0 hides a decoration): the value is
    used as given, so the record stays true."""
    for k, v in pins.items():
        spec = catalogue.get(generic(k))
        if spec is None or not spec.pinnable:
            continue
        if spec.kind == "bernoulli" and not isinstance(v, bool):
            raise UserError(f"pin {k}={v!r}: must be true or false")
        if spec.kind in ("uniform", "integer") and spec.lo is not None and spec.hi is not None:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise UserError(f"pin {k}={v!r}: must be a number in {spec.domain()}")
            if spec.kind == "integer" and float(v) != int(v):
                raise UserError(f"pin {k}={v!r}: must be a whole number in {spec.domain()}")
            if spec.kind == "integer" and not spec.lo <= v <= spec.hi:
                bound = " (the bound over every sample)" if spec.depends else ""
                raise UserError(f"pin {k}={v!r}: outside {spec.domain()}{bound}, what pipeline {pipeline!r} "
                                f"draws it from ({spec.src or 'its renderer'}); pin a value inside, or widen the range")


# What the "config key" column says of a factor no config key shapes: a blank read as a
# missing entry. Such a factor is still pinned and biased like any other.
_NO_KEY = {"uniform": "(fixed range; no config key)", "integer": "(fixed range; no config key)",
           "choice": "(fixed options; no config key)", "bernoulli": "(fixed odds; no config key)",
           "assigned": "(assigned by the renderer)", "derived": "(computed from other factors)"}


def format_table(catalogue: dict[str, FactorSpec]) -> str:
    rows = [("factor", "kind", "options / range", "config key")]
    for s in catalogue.values():
        name = s.patterns[0] if s.patterns and len(s.patterns) == 1 else s.name
        dom = s.domain() + (" (bound)" if s.depends else "")
        rows.append((name, s.kind, dom, s.src or _NO_KEY.get(s.kind, "")))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}".rstrip() for r in rows)
