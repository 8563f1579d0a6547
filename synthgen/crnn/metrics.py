"""Text-reading metrics without torch: the edit distance behind CER, for the demo model and
for any other reader (tesseract in scripts/tesseract_legibility.py), and the paired tests that
compare two readers scored on the same lines (scripts/mine_crnn.py, scripts/heldout_fonts.py)."""

from __future__ import annotations

import math

import numpy as np


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, each costing 1."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def mcnemar_p(x: int, y: int) -> float:
    """Exact two-sided McNemar p: x lines only the first reader got right, y only the second
    (a binomial test on the discordant lines)."""
    n, k = x + y, min(x, y)
    if n == 0:
        return 1.0
    return min(1.0, float(2 * sum(math.comb(n, j) for j in range(k + 1)) / 2**n))


def paired_bootstrap(a: np.ndarray, b: np.ndarray, seed: int, reps: int = 10_000) -> list[float]:
    """95% interval of accuracy(b) - accuracy(a) (= error(a) - error(b)), a and b per-line
    correctness on the same lines (bools, or per-line scores such as the mean correctness over
    several seeds), resampled in pairs with replacement."""
    d = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    means = d[np.random.default_rng(seed).integers(0, len(d), size=(reps, len(d)))].mean(axis=1)
    return [float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))]
