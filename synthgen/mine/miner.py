"""The corner-case miner: render, judge, find the failing factor regions, bias toward them.

    miner = Miner(load_pipeline("ocr_line"), judge, per_round=500)
    for r in range(3):
        miner.round()            # renders fresh indices, judges them, updates the statistics
    miner.ranked()               # factors by failure-rate lift (and confidence)
    miner.bias()                 # the `Draws` bias toward failing regions

Round r renders indices start + r * per_round ... (never reused), a `floor` share of them from
the base distribution (unbiased) and the rest with the bias the statistics so far imply. The
first round has no statistics, so it is a plain random sample: the baseline. `judge(samples)`
returns one failure flag (bool) or loss (float) per `Sample`; a sample fails when its score
is >= `fail_at` (0.5: True for flags).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import Sample
from ..errors import UserError
from .stats import analyse, bias_from, make_stats, observe

Judge = Callable[[list[Sample]], Sequence[Any]]
MAX_BINS = 1000


def load_judge(spec: str) -> Judge:
    """`module:function` -> the function (imported now, so a typo fails before any work). The
    working directory is searched too (after the installed packages), so `--model mymod:fn`
    finds ./mymod.py as `python -m` would."""
    import os
    import sys

    mod, _, fn = spec.partition(":")
    if not mod or not fn:
        raise UserError(f"--model {spec!r}: give module:function, e.g. synthgen.crnn.judge:fails")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)
        importlib.invalidate_caches()
    try:
        m = importlib.import_module(mod)
    except ImportError as e:
        raise UserError(f"--model {spec!r}: cannot import module {mod!r} ({e}); it must be installed, on "
                        "PYTHONPATH or a .py file in the working directory") from None
    except Exception as e:  # the user's module fails while it loads: their code, one line
        raise UserError(f"--model {spec!r}: importing {mod!r} failed: {type(e).__name__}: {e}") from None
    f = getattr(m, fn, None)
    if not callable(f):
        raise UserError(f"--model {spec!r}: module {mod!r} has no function {fn!r}")
    return f


def _score(v: Any, k: int) -> float:
    """One judged value -> a finite float; anything else names the value and what is expected."""
    what = "; the model must return one failure flag (bool) or finite loss (float) per sample"
    if isinstance(v, (str, bytes)) or v is None:
        raise UserError(f"the model's value for sample {k} is {v!r} ({type(v).__name__}){what}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise UserError(f"the model's value for sample {k} is {str(v)[:40]!r} ({type(v).__name__}){what}") from None
    if not math.isfinite(x):
        raise UserError(f"the model's value for sample {k} is {x}{what}")
    return x


def is_base(j: int, floor: float) -> bool:
    """Sample j of a round comes from the base distribution: an even spread of `floor`."""
    return math.floor((j + 1) * floor) > math.floor(j * floor)


def judge_scores(judge: Judge, samples: list[Sample], batch: int = 256) -> list[float]:
    """The judge's scores, checked: a judge that raises, returns None, strings, NaN or the wrong
    count is one line (UserError) naming what it returned, never a NaN statistic."""
    out: list[float] = []
    name = getattr(judge, "__qualname__", None) or repr(judge)
    for k in range(0, len(samples), batch):
        part = samples[k : k + batch]
        try:
            got = judge(part)
        except (UserError, KeyboardInterrupt):
            raise
        except Exception as e:
            raise UserError(f"the model {name} raised {type(e).__name__}: {str(e)[:200]} (judging samples "
                            f"{part[0].key}..{part[-1].key}); fix the model and rerun") from None
        if got is None or isinstance(got, (str, bytes, dict)) or not hasattr(got, "__iter__"):
            raise UserError(f"the model {name} returned {type(got).__name__}; it must return one failure flag "
                            "(bool) or loss (float) per sample, e.g. a list")
        got = list(got)
        if len(got) != len(part):
            raise UserError(f"the model returned {len(got)} values for {len(part)} samples; it must return one "
                            "failure flag or loss per sample")
        out += [_score(v, k + j) for j, v in enumerate(got)]
    return out


def render_round(pipe: Any, start: int, count: int, bias: dict[str, Any], floor: float,
                 progress: Callable[[int], None] | None = None,
                 before: Callable[[int], None] | None = None) -> tuple[list[Sample], list[bool]]:
    """Samples start .. start + count - 1, each biased unless it is one of the round's `floor`
    share from the base distribution (all unbiased when `bias` is empty); `before(i)` is called
    before sample i (the job's fault seam)."""
    samples, biased = [], []
    for j in range(count):
        i = start + j
        if before is not None:
            before(i)
        use = bool(bias) and not is_base(j, floor)
        samples.append(pipe.sample(i, bias=bias if use else None))
        biased.append(use)
        if progress:
            progress(1)
    return samples, biased


@dataclass
class RoundResult:
    round: int
    indices: list[int]
    biased: list[bool]
    scores: list[float]
    bias: dict[str, Any]
    samples: list[Sample] = field(default_factory=list, repr=False)

    def rate(self, which: str = "all", fail_at: float = 0.5) -> float:
        sel = [s for s, b in zip(self.scores, self.biased) if which == "all" or (which == "biased") == b]
        return sum(s >= fail_at for s in sel) / len(sel) if sel else float("nan")

    def summary(self, fail_at: float = 0.5) -> dict[str, Any]:
        return {"round": self.round, "n": len(self.scores), "biased": sum(self.biased),
                "fail_rate": round(self.rate("all", fail_at), 4),
                "fail_rate_base": round(self.rate("base", fail_at), 4) if not all(self.biased) else None,
                "fail_rate_biased": round(self.rate("biased", fail_at), 4) if any(self.biased) else None,
                "bias": self.bias}


class Miner:
    def __init__(self, pipeline: Any, judge: Judge, per_round: int = 500, start: int = 0, floor: float = 0.2,
                 bins: int = 5, prior: float = 10.0, top: int = 8, z_min: float = 3.0, sharpen: float = 2.0,
                 fail_at: float = 0.5, batch: int = 256, keep_samples: bool = True) -> None:
        if per_round < 1:
            raise UserError(f"--per-round must be >= 1, got {per_round}")
        if not 0.0 <= floor <= 1.0:
            raise UserError(f"--floor must be a share in [0, 1], got {floor}")
        if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= MAX_BINS:
            raise UserError(f"--bins must be a whole number from 2 to {MAX_BINS}, got {bins!r}")
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise UserError(f"--start must be a sample index >= 0, got {start!r}")
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise UserError(f"--top must be a whole number >= 0 (0: never bias), got {top!r}")
        if not math.isfinite(float(fail_at)):
            raise UserError(f"--fail-at must be a finite number, got {fail_at!r}")
        self.pipe, self.judge = pipeline, judge
        self.per_round, self.start, self.floor = int(per_round), int(start), float(floor)
        self.prior, self.top, self.z_min, self.sharpen = prior, top, z_min, sharpen
        self.fail_at, self.batch, self.keep_samples = fail_at, batch, keep_samples
        self.stats = make_stats(pipeline.factor_space(), bins)
        self.rounds: list[RoundResult] = []

    # -- statistics -----------------------------------------------------------------------
    def ranked(self) -> list[dict[str, Any]]:
        return analyse(self.stats, self.prior)

    def bias(self) -> dict[str, Any]:
        """The bias the statistics so far imply (empty before any failure is significant)."""
        return bias_from(self.stats, self.ranked(), top=self.top, z_min=self.z_min, prior=self.prior,
                         sharpen=self.sharpen)

    def observe(self, factors: dict[str, Any], score: float) -> None:
        observe(self.stats, factors, float(score))

    # -- one round ------------------------------------------------------------------------
    def is_base(self, j: int) -> bool:
        """Sample j of a round comes from the base distribution: an even spread of `floor`."""
        return is_base(j, self.floor)

    def scores_of(self, samples: list[Sample]) -> list[float]:
        """The judge's scores, checked (`judge_scores`)."""
        return judge_scores(self.judge, samples, self.batch)

    def render_round(self, r: int, progress: Callable[[int], None] | None = None) -> tuple[list[Sample], list[bool], dict]:
        bias = self.bias() if self.rounds else {}
        samples, biased = render_round(self.pipe, self.start + r * self.per_round, self.per_round, bias, self.floor,
                                       progress)
        return samples, biased, bias

    def round(self, progress: Callable[[int], None] | None = None) -> RoundResult:
        r = len(self.rounds)
        samples, biased, bias = self.render_round(r, progress)
        scores = self.scores_of(samples)
        return self.add_round(r, samples, biased, scores, bias)

    def add_round(self, r: int, samples: list[Sample], biased: list[bool], scores: list[float],
                  bias: dict[str, Any]) -> RoundResult:
        for s, sc in zip(samples, scores):
            self.observe(s.factors, sc)
        res = RoundResult(r, [int(s.meta.get("index", -1)) for s in samples], biased, scores, bias,
                          samples if self.keep_samples else [])
        self.rounds.append(res)
        return res
