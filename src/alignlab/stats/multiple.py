"""Multiple comparisons: adjusted p-values across a family of tests."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["holm"]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (reject ``i`` when ``adjusted[i] < alpha``).

    Controls the family-wise error rate under any dependence between the tests.
    """
    from statsmodels.stats.multitest import multipletests  # seconds to import

    if not p_values:
        return []
    return [float(p) for p in multipletests(list(p_values), method="holm")[1]]
