"""Inspect entry point: registers alignlab's tasks and the ``alignlab/`` model provider."""

from alignlab.evals.compliance_gap.suite import compliance_gap
from alignlab.evals.suites import overrefusal, redteam, refusal_classifier
from alignlab.models.provider import AlignlabLocalAPI

__all__ = ["AlignlabLocalAPI", "compliance_gap", "overrefusal", "redteam", "refusal_classifier"]
