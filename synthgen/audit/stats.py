"""Rates with a Wilson 95% interval, and the bisection that tunes the strength."""

from __future__ import annotations

import math
from collections.abc import Callable

Z95 = 1.959963984540054


def wilson(bad: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (bad of n); (0, 1) when n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = bad / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def tune(upper_at: Callable[[float], float], grid: list[float], target: float, steps: int = 4) -> tuple[float, list[float]]:
    """The largest strength whose interval's upper bound stays under `target`.

    Evaluates the grid (ascending), then bisects between the first failing grid point and the
    one below it. Returns (strength, every strength evaluated in order). If even the
    lowest grid point fails, that point is returned (the caller reports it)."""
    grid = sorted(grid)
    tried: list[float] = []
    ok = {}
    for s in grid:
        ok[s] = upper_at(s) < target
        tried.append(s)
    # the first failing grid point bounds the search (a curve that dips again above it is noise)
    first_bad = next((k for k, s in enumerate(grid) if not ok[s]), None)
    if first_bad == 0:
        return grid[0], tried
    if first_bad is None:
        return grid[-1], tried
    lo, hi = grid[first_bad - 1], grid[first_bad]
    for _ in range(steps):
        mid = round((lo + hi) / 2, 6)
        tried.append(mid)
        if upper_at(mid) < target:
            lo = mid
        else:
            hi = mid
    return lo, tried
