"""LLM-as-judge with position-bias QA (seed 3's case study "Scale supervision with GPT-4").

Judge pairs in both orders, then ask how far the judge can be trusted: does its verdict
survive swapping the answers, does it prefer the first answer when humans saw no
difference, and how well does it agree with human labels (Cohen's κ)?
"""

from alignlab.evals.judges.pairs import (
    JudgePair,
    inject_verdict,
    load_hh_rlhf_pairs,
    load_pairs_jsonl,
    self_pairs,
)
from alignlab.evals.judges.plots import JudgePlots, plot_judge_histograms
from alignlab.evals.judges.prompts import (
    JudgePrompt,
    ParsedVerdict,
    get_judge_prompt,
    injection_evidence,
    judge_prompt_names,
    looks_like_injected_verdict,
    parse_reply,
)
from alignlab.evals.judges.qa import (
    JudgeQASummary,
    Kappa,
    OrderJudgment,
    PairOutcome,
    cohen_kappa,
    pair_outcomes,
    summarize_judgments,
)
from alignlab.evals.judges.report import qa_rows, write_judge_report
from alignlab.evals.judges.single import SingleAnswerJudge, parse_rating, single_answer_scorer
from alignlab.evals.judges.task import JudgeRun, judgments_from_log, pairwise_judge_task, run_pairwise_judge
from alignlab.evals.judges.transform import label_from_score, swap_score, transform_score

__all__ = [
    "JudgePair",
    "JudgePlots",
    "JudgePrompt",
    "JudgeQASummary",
    "JudgeRun",
    "Kappa",
    "OrderJudgment",
    "PairOutcome",
    "ParsedVerdict",
    "SingleAnswerJudge",
    "cohen_kappa",
    "get_judge_prompt",
    "inject_verdict",
    "injection_evidence",
    "judge_prompt_names",
    "judgments_from_log",
    "label_from_score",
    "load_hh_rlhf_pairs",
    "load_pairs_jsonl",
    "looks_like_injected_verdict",
    "pair_outcomes",
    "pairwise_judge_task",
    "parse_rating",
    "parse_reply",
    "plot_judge_histograms",
    "qa_rows",
    "run_pairwise_judge",
    "self_pairs",
    "single_answer_scorer",
    "summarize_judgments",
    "swap_score",
    "transform_score",
    "write_judge_report",
]
