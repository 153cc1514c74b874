"""Inspect entry point: registers alignlab's tasks and the ``alignlab/`` and ``scripted/`` model providers."""

from alignlab.evals.compliance_gap.suite import compliance_gap
from alignlab.evals.suites import overrefusal, redteam, refusal_classifier
from alignlab.models.provider import AlignlabLocalAPI
from alignlab.models.scripted import ScriptedAPI

__all__ = ["AlignlabLocalAPI", "ScriptedAPI", "compliance_gap", "overrefusal", "redteam", "refusal_classifier"]
