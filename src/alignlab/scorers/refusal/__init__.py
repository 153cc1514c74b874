"""The refusal classifier: deterministic patterns (:mod:`.rules`), an optional LLM judge (:mod:`.judge`).

The learned ``refusal`` scorer (:mod:`alignlab.scorers.learned`) uses the pattern stage's verdicts as features.
"""

from __future__ import annotations

from alignlab.scorers.refusal.rules import (
    REFUSAL_LABELS,
    RefusalLabel,
    RefusalVerdict,
    classify_refusal,
    is_bare_refusal,
)

__all__ = ["REFUSAL_LABELS", "RefusalLabel", "RefusalVerdict", "classify_refusal", "is_bare_refusal"]
