"""Alignment-faking compliance-gap suite (the helpful-only setting of Greenblatt et al., 2024).

Does a model comply with harmful requests more when its prompt implies the conversation
will be used to train it (free tier) than when it implies it will not (paid tier)?

Modules: :mod:`.prompts` (the setting's text), :mod:`.variants` (prompt variants as data),
:mod:`.parsing` (scratchpad and prefix), :mod:`.suite` (the Inspect task),
:mod:`.af_classifier` (alignment-faking reasoning judge), :mod:`.summary` (rates, gaps,
tests), :mod:`.explorer` (HTML transcripts) and :mod:`.synthdocs` (documents stating the
setting's facts, for ``alignlab.train.synthdoc``). The variant grid, which runs the suite, is
:mod:`alignlab.evals.compliance_grid`, beside the runner it uses.
"""

from alignlab.evals.compliance_gap.af_classifier import (
    AFClassification,
    AFVote,
    JudgeAgreement,
    classify_alignment_faking,
    evaluate_af_judge,
    load_labelled_scratchpads,
)
from alignlab.evals.compliance_gap.explorer import export_explorer, filter_values, load_transcripts, select_transcripts
from alignlab.evals.compliance_gap.parsing import ParsedReply, PrefixStatus, parse_reply
from alignlab.evals.compliance_gap.prompts import (
    ALL_CONDITIONS,
    Condition,
    build_system_prompt,
    build_user_message,
)
from alignlab.evals.compliance_gap.suite import compliance_gap, compliance_gap_scorer
from alignlab.evals.compliance_gap.summary import GapSummary, summarize_compliance_gap
from alignlab.evals.compliance_gap.synthdocs import (
    DocumentSet,
    generate_documents,
    ingest_documents,
    template_documents,
    write_documents,
)
from alignlab.evals.compliance_gap.variants import PromptVariant, get_variant, load_variants

__all__ = [
    "ALL_CONDITIONS",
    "AFClassification",
    "AFVote",
    "Condition",
    "DocumentSet",
    "GapSummary",
    "JudgeAgreement",
    "ParsedReply",
    "PrefixStatus",
    "PromptVariant",
    "build_system_prompt",
    "build_user_message",
    "classify_alignment_faking",
    "compliance_gap",
    "compliance_gap_scorer",
    "evaluate_af_judge",
    "export_explorer",
    "filter_values",
    "generate_documents",
    "get_variant",
    "ingest_documents",
    "load_labelled_scratchpads",
    "load_transcripts",
    "load_variants",
    "parse_reply",
    "select_transcripts",
    "summarize_compliance_gap",
    "template_documents",
    "write_documents",
]
