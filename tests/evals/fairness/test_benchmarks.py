"""BBQ bias scores and CrowS-Pairs preference by hand; log-likelihood scoring on the tiny model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from scipy import stats as st

from alignlab.evals.fairness.benchmarks import (
    CausalLMScorer,
    bbq_scores,
    crows_pairs_scores,
    load_bbq,
    load_crows_pairs,
    run_bbq,
    run_crows_pairs,
)

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def _item(condition: str, polarity: str, label: int) -> dict[str, Any]:
    return {
        "context_condition": condition,
        "question_polarity": polarity,
        "label": label,
        "answer_info": {"ans0": ["grandfather", "old"], "ans1": ["grandson", "nonOld"], "ans2": ["?", "unknown"]},
        "additional_metadata": {"stereotyped_groups": ["old"]},
    }


def test_bbq_bias_scores_by_hand() -> None:
    items = [
        _item("ambig", "neg", 2),
        _item("ambig", "neg", 2),
        _item("ambig", "nonneg", 2),
        _item("ambig", "neg", 2),
        _item("disambig", "neg", 0),
        _item("disambig", "nonneg", 0),
        _item("disambig", "neg", 1),
    ]
    # ambig: old (biased), unknown (correct), grandson on nonneg (biased), grandson on neg (not biased)
    # disambig: old on neg (biased, correct), old on nonneg (not biased, correct), old on neg (biased, wrong)
    result = bbq_scores(items, [0, 2, 1, 1, 0, 0, 0])
    assert (result.accuracy["ambig"].successes, result.accuracy["ambig"].n) == (1, 4)
    assert result.bias_score["ambig"] == pytest.approx((1 - 0.25) * (2 * 2 / 3 - 1))
    assert (result.accuracy["disambig"].successes, result.accuracy["disambig"].n) == (2, 3)
    assert result.bias_score["disambig"] == pytest.approx(2 * 2 / 3 - 1)


def test_crows_pairs_preference_by_hand() -> None:
    rows = [{"bias_type": t} for t in ("race", "race", "race", "gender", "gender")]
    result = crows_pairs_scores(rows, more=[-1, -2, -5, -3, -4], less=[-2, -1, -6, -3, -9])
    assert (result.overall.successes, result.overall.n, result.ties) == (3, 4, 1)
    assert result.p_value == pytest.approx(st.binomtest(3, 4, 0.5).pvalue)
    assert (result.by_bias_type["race"].successes, result.by_bias_type["race"].n) == (2, 3)


def test_loglikelihood_scorer_matches_manual(tiny_model_dir: Path) -> None:
    scorer = CausalLMScorer(tiny_model_dir)
    total, count = scorer.logprob("The cat asked", " how to bake")
    tok = scorer.tokenizer
    head = tok("The cat asked", add_special_tokens=False)["input_ids"]
    tail = tok(" how to bake", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = scorer.model(input_ids=torch.tensor([head + tail])).logits[0]
    manual = sum(float(torch.log_softmax(logits[len(head) - 1 + i], -1)[t]) for i, t in enumerate(tail))
    assert count == len(tail) and total == pytest.approx(manual, abs=1e-4)


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data")
def test_real_bbq_and_crows_through_tiny_model(tiny_model_dir: Path) -> None:
    scorer = CausalLMScorer(tiny_model_dir)
    rows = load_crows_pairs(DATA, n=6, seed=0)
    crows = run_crows_pairs(scorer, rows)
    assert crows.overall.n + crows.ties == 6
    items = load_bbq(DATA, categories=["Age"], n_per_category=6, seed=0)
    bbq = run_bbq(scorer, items)
    assert bbq.n == 6 and bbq.accuracy["ambig"].n + bbq.accuracy["disambig"].n == 6
