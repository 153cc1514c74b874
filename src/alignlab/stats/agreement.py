"""Agreement between two raters: Cohen's κ with a confidence interval, or why it is undefined."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

__all__ = ["KappaResult", "cohen_kappa"]


@dataclass(frozen=True)
class KappaResult:
    """Cohen's κ with a large-sample (Fleiss, Cohen & Everitt 1969) Wald interval.

    Attributes:
        value: κ, or ``None`` when it is undefined (see ``reason``).
        low: Lower end of the interval (``None`` when κ is undefined).
        high: Upper end (``None`` when κ is undefined).
        reason: Why κ is undefined; empty when it is defined.
        n: Items rated by both raters.
        confidence: Two-sided level of the interval.
    """

    value: float | None
    low: float | None
    high: float | None
    reason: str = ""
    n: int = 0
    confidence: float = 0.95

    @property
    def defined(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        if self.value is None or self.low is None or self.high is None:
            return f"κ undefined: {self.reason}"
        return f"κ={self.value:.3f} [{self.low:.3f}, {self.high:.3f}] (n={self.n})"


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    *,
    labels: Sequence[Hashable] | None = None,
    confidence: float = 0.95,
) -> KappaResult:
    """Cohen's κ between two raters' labels of the same items (scikit-learn's value).

    κ is undefined, and reported with a reason rather than as 0 or NaN, when there are no
    items or when a rater gave every item the same label: agreement beyond chance cannot be
    measured against a rater who never varies.

    Args:
        a: The first rater's labels.
        b: The second rater's labels, item for item.
        labels: All categories (those neither rater used still count for the table).
        confidence: Two-sided level of the interval.

    Raises:
        ValueError: The raters labelled different numbers of items.
    """
    from sklearn.metrics import cohen_kappa_score, confusion_matrix  # seconds to import
    from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

    if len(a) != len(b):
        raise ValueError(f"need as many labels from each rater, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return KappaResult(None, None, None, "no items rated by both raters", 0, confidence)
    for rater, values in (("first", a), ("second", b)):
        if len(set(values)) == 1:
            reason = f"the {rater} rater gave every item the same label ({next(iter(values))!r})"
            return KappaResult(None, None, None, reason, n, confidence)
    cats = list(labels) if labels is not None else sorted(set(a) | set(b), key=str)
    keys = {c: i for i, c in enumerate(cats)}  # sklearn wants comparable labels; map to ints
    x, y = [keys[v] for v in a], [keys[v] for v in b]
    value = float(cohen_kappa_score(x, y, labels=list(range(len(cats)))))
    table = confusion_matrix(x, y, labels=list(range(len(cats))))
    se = math.sqrt(max(0.0, float(sm_cohens_kappa(np.asarray(table, dtype=float)).var_kappa)))
    z = float(_st.norm.ppf(1 - (1 - confidence) / 2))
    return KappaResult(value, value - z * se, value + z * se, "", n, confidence)
