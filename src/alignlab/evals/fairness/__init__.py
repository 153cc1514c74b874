"""Fairness measurements from seed 3: bias probes by sampling, counterfactual fairness for
scoring functions and LLM prompts, the sandbox that runs model-written scoring code, and the
BBQ / CrowS-Pairs benchmarks for local models."""

from alignlab.evals.fairness.benchmarks import (
    BBQResult,
    CausalLMScorer,
    CrowsPairsResult,
    bbq_scores,
    crows_pairs_scores,
    load_bbq,
    load_crows_pairs,
    run_bbq,
    run_crows_pairs,
)
from alignlab.evals.fairness.codegen import CodegenAudit, audit_generated_scorer, extract_function
from alignlab.evals.fairness.counterfactual import (
    AttributeEffect,
    BatchScorer,
    Counterfactual,
    CounterfactualReport,
    counterfactual_fairness,
)
from alignlab.evals.fairness.llm import (
    DEFAULT_GROUPS,
    DEFAULT_TEMPLATES,
    TEXT_SCORERS,
    GroupComparison,
    LLMFairnessReport,
    llm_counterfactual_fairness,
)
from alignlab.evals.fairness.mortgage import (
    BOOK_APPLICANTS,
    BOOK_PROMPT,
    BOOK_PROTECTED,
    BOOK_RISK_SCORES,
    MORTGAGE_RISK_SOURCE,
    calculate_mortgage_risk,
)
from alignlab.evals.fairness.probe import (
    BOOK_TEMPLATES,
    BiasProbeResult,
    ItemLogOdds,
    hf_continuation_sampler,
    item_log_odds,
    parse_items,
    plot_bias_probe,
    probe_bias,
)
from alignlab.evals.fairness.sandbox import (
    SandboxedFunction,
    SandboxLimits,
    SandboxResult,
    isolation_layers,
    run_sandboxed,
)

__all__ = [
    "BOOK_APPLICANTS",
    "BOOK_PROMPT",
    "BOOK_PROTECTED",
    "BOOK_RISK_SCORES",
    "BOOK_TEMPLATES",
    "DEFAULT_GROUPS",
    "DEFAULT_TEMPLATES",
    "MORTGAGE_RISK_SOURCE",
    "TEXT_SCORERS",
    "AttributeEffect",
    "BBQResult",
    "BatchScorer",
    "BiasProbeResult",
    "CausalLMScorer",
    "CodegenAudit",
    "Counterfactual",
    "CounterfactualReport",
    "CrowsPairsResult",
    "GroupComparison",
    "ItemLogOdds",
    "LLMFairnessReport",
    "SandboxLimits",
    "SandboxResult",
    "SandboxedFunction",
    "audit_generated_scorer",
    "bbq_scores",
    "calculate_mortgage_risk",
    "counterfactual_fairness",
    "crows_pairs_scores",
    "extract_function",
    "hf_continuation_sampler",
    "isolation_layers",
    "item_log_odds",
    "llm_counterfactual_fairness",
    "load_bbq",
    "load_crows_pairs",
    "parse_items",
    "plot_bias_probe",
    "probe_bias",
    "run_bbq",
    "run_crows_pairs",
    "run_sandboxed",
]
