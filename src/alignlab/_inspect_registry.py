"""Inspect entry point: registers alignlab's tasks and the ``alignlab/`` and ``scripted/`` model providers."""

from alignlab.evals.compliance_gap.suite import compliance_gap
from alignlab.evals.fairness.tasks import bbq, bias_probe, crows_pairs
from alignlab.evals.suites import overrefusal, redteam, refusal_classifier
from alignlab.models.provider import AlignlabLocalAPI
from alignlab.models.scripted import ScriptedAPI

__all__ = [
    "AlignlabLocalAPI",
    "ScriptedAPI",
    "bbq",
    "bias_probe",
    "compliance_gap",
    "crows_pairs",
    "overrefusal",
    "redteam",
    "refusal_classifier",
]
