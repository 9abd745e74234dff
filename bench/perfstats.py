"""The statistics of `attnbench gate` and `attnbench compare`, on log time ratios.

Every test comes from scipy.stats; this module only arranges them:
- paired rounds (gate): the Wilcoxon signed-rank test (exact null distribution) on the per-round
  log ratios ln(head / base), its Hodges-Lehmann estimate, and the confidence interval found by
  inverting the same test;
- unpaired repetitions (compare): the Mann-Whitney U test on log times;
- Holm's step-down correction over the benchmarks of one gate.
"""
import math
import warnings

import numpy as np
from scipy import stats


def walsh_averages(x):
    """Every pairwise mean (x_i + x_j) / 2, i <= j, sorted: the points the signed-rank CI uses."""
    x = np.asarray(x, dtype=float)
    i, j = np.triu_indices(len(x))
    return np.sort((x[i] + x[j]) / 2.0)


def hodges_lehmann(x):
    """The Hodges-Lehmann location estimate: the median of the Walsh averages."""
    return float(np.median(walsh_averages(x))) if len(x) else math.nan


def _signed_rank_p(x, alternative):
    """scipy's exact signed-rank p-value of x against a zero median (1 when x is all zeros)."""
    x = np.asarray(x, dtype=float)
    if len(x) == 0 or not np.any(x != 0):
        return 1.0
    with warnings.catch_warnings():
        # Zeros or ties make scipy fall back from the exact distribution to the normal one and warn.
        warnings.simplefilter("ignore")
        return float(stats.wilcoxon(x, alternative=alternative, method="exact").pvalue)


def _inverted_ci(x, confidence):
    """The interval by brute force: test a shift in every gap between consecutive Walsh averages
    (the p-value only changes where the shift crosses one) and keep those not rejected."""
    w = walsh_averages(x)
    probes = np.concatenate(([w[0] - 1.0], (w[:-1] + w[1:]) / 2.0, [w[-1] + 1.0]))
    kept = [k for k, c in enumerate(probes) if _signed_rank_p(np.asarray(x) - c, "two-sided") >= 1 - confidence]
    if not kept:
        return (hodges_lehmann(x), hodges_lehmann(x))
    lo = -math.inf if kept[0] == 0 else float(w[kept[0] - 1])
    hi = math.inf if kept[-1] == len(w) else float(w[kept[-1]])
    return (lo, hi)


_TRIM = {}


def _trimmed(n, confidence):
    """How many Walsh averages the interval leaves out at each end for n values: found once per n
    by inverting scipy's exact test on n values whose Walsh averages are all distinct (for data
    without ties the count depends on n alone)."""
    key = (n, confidence)
    if key not in _TRIM:
        x = np.array([2.0 ** (i / n) + 0.001 * i * i for i in range(n)])
        w = walsh_averages(x)
        lo, _ = _inverted_ci(x, confidence)
        _TRIM[key] = None if lo == -math.inf else int(np.searchsorted(w, lo))
    return _TRIM[key]


def signed_rank_ci(x, confidence=0.95):
    """The (low, high) confidence interval of the median of x that inverts the two-sided exact
    signed-rank test: every shift c whose test of x - c is not rejected at 1 - confidence. Its ends
    are Walsh averages, the k-th from each end with k fixed by len(x); with too few values to
    reject anything they are infinite."""
    w = walsh_averages(x)
    if len(w) == 0:
        return (-math.inf, math.inf)
    k = _trimmed(len(x), confidence)
    if k is None:
        return (-math.inf, math.inf)
    return (float(w[k]), float(w[len(w) - 1 - k]))


def slower_than_margin_p(log_ratios, margin):
    """One-sided p that the median log ratio exceeds ln(1 + margin): small when head is slower
    than base by more than the margin in most rounds."""
    return _signed_rank_p(np.asarray(log_ratios, dtype=float) - math.log1p(margin), "greater")


def faster_than_margin_p(log_ratios, margin):
    """One-sided p that the median log ratio is below -ln(1 + margin) (head faster by the margin)."""
    return _signed_rank_p(np.asarray(log_ratios, dtype=float) + math.log1p(margin), "less")


def unpaired_slower_p(base_times, head_times, margin):
    """Mann-Whitney U p that head's log times exceed base's by more than ln(1 + margin)."""
    a = np.log(np.asarray(base_times, dtype=float))
    b = np.log(np.asarray(head_times, dtype=float)) - math.log1p(margin)
    return float(stats.mannwhitneyu(b, a, alternative="greater", method="auto").pvalue)


def unpaired_faster_p(base_times, head_times, margin):
    """Mann-Whitney U p that head's log times are below base's by more than ln(1 + margin)."""
    a = np.log(np.asarray(base_times, dtype=float))
    b = np.log(np.asarray(head_times, dtype=float)) + math.log1p(margin)
    return float(stats.mannwhitneyu(b, a, alternative="less", method="auto").pvalue)


def holm(pvalues):
    """Holm's step-down adjusted p-values, in the order given: reject where adjusted < alpha keeps
    the chance of any false rejection among them below alpha."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = [1.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def robust_noise(log_ratios):
    """The spread of the per-round log ratios as a standard deviation (1.4826 x MAD): the paired
    noise the gate saw, comparable across benchmarks."""
    x = np.asarray(log_ratios, dtype=float)
    if len(x) < 2:
        return math.nan
    return float(1.4826 * np.median(np.abs(x - np.median(x))))
