"""Paired bootstrap of a mean difference, with one-sided p-values against a tolerance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["BootstrapResult", "paired_bootstrap"]


@dataclass(frozen=True)
class BootstrapResult:
    """Paired bootstrap of the mean difference ``candidate - baseline`` (positive = worse)."""

    estimate: float
    low: float
    high: float
    p_worse: float
    p_within: float
    resamples: int


def paired_bootstrap(
    baseline: Sequence[float],
    candidate: Sequence[float],
    *,
    margin: float = 0.0,
    alpha: float = 0.05,
    resamples: int = 2000,
    seed: int = 0,
) -> BootstrapResult:
    """Resample samples (pairs kept together) to get the distribution of the mean difference.

    The interval is the percentile ``1 - 2·alpha`` one; p-values are the share of bootstrap
    means on the wrong side of ``margin``, with the ``+1`` correction so none is 0.
    """
    x = np.asarray(baseline, dtype=float)
    y = np.asarray(candidate, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.shape} vs {y.shape}")
    if x.size == 0:
        return BootstrapResult(float("nan"), -1.0, 1.0, 1.0, 1.0, resamples)
    d = y - x  # (n,)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // d.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, d.size, size=(stop - start, d.size))  # (chunk, n)
        means[start:stop] = d[idx].mean(axis=1)
    low, high = np.quantile(means, [alpha, 1 - alpha])
    p_worse = (1 + int(np.sum(means <= margin))) / (resamples + 1)
    p_within = (1 + int(np.sum(means >= margin))) / (resamples + 1)
    return BootstrapResult(float(d.mean()), float(low), float(high), p_worse, p_within, resamples)
