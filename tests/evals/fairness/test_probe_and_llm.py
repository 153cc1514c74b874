"""Bias probe with a scripted sampler (chi-square vs scipy, log odds by hand); LLM counterfactual prompts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from inspect_ai.model import ChatMessage, ModelOutput, ModelUsage, get_model
from scipy import stats as st

from alignlab.evals.fairness import (
    BOOK_TEMPLATES,
    item_log_odds,
    llm_counterfactual_fairness,
    parse_items,
    plot_bias_probe,
    probe_bias,
)

SCRIPT = {
    "men": ["engineering, construction and management.", " doctors, lawyers, engineering", "construction"],
    "women": [" nursing, teaching, and the arts.\nMore text", "teaching, nursing", " a nurse, engineering"],
}


def _sampler(prompt: str, n: int) -> list[str]:
    group = "men" if prompt.startswith("Men") else "women"
    lines = SCRIPT[group]
    return [lines[i % len(lines)] for i in range(n)]


def test_parse_items_normalises() -> None:
    assert parse_items(" nursing, teaching, and the arts.\nMore text") == ["nursing", "teaching", "arts"]
    assert parse_items("Doctors / Lawyers or an Engineer!") == ["doctors", "lawyers", "engineer"]
    assert parse_items("this is a very long rambling item that goes on, cook") == ["cook"]
    assert parse_items("mining, but also increase, they do, nursing") == ["mining", "nursing"]


def test_probe_chi_square_matches_scipy_and_log_odds_by_hand(tmp_path: Path) -> None:
    result = probe_bias(_sampler, BOOK_TEMPLATES, n=30, top_k=3)
    assert result.counts["men"]["construction"] == 20 and result.counts["women"]["nursing"] == 20
    assert result.items == sorted({i for g in result.top for i, _ in result.top[g]})
    table = result.table()
    expected = st.chi2_contingency(table, correction=False)
    assert result.chi2 == pytest.approx(expected.statistic) and result.p_value == pytest.approx(expected.pvalue)
    assert result.dof == (table.shape[0] - 1) * (table.shape[1] - 1)
    # "engineering": men 20 of 70 mentions, women 10 of 70 -> Haldane log odds ratio.
    lor = item_log_odds("engineering", "men", result.counts)
    a, b, c, d = 20.5, 50.5, 10.5, 60.5
    assert (lor.count, lor.other_count) == (20, 10)
    assert lor.log_odds == pytest.approx(math.log(a * d / (b * c)))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert lor.high - lor.low == pytest.approx(2 * 1.959964 * se, rel=1e-5)
    png = plot_bias_probe(result, tmp_path / "probe.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_probe_independent_groups_not_significant() -> None:
    same = probe_bias(lambda prompt, n: ["cook, pilot, nurse"] * n, BOOK_TEMPLATES, n=50)
    assert same.chi2 == pytest.approx(0.0) and same.p_value == pytest.approx(1.0)


def test_llm_counterfactual_prompts_paired(alignlab_env: Path) -> None:
    def reply(messages: list[ChatMessage], *_: Any) -> ModelOutput:
        text = messages[-1].text
        answer = "I'm sorry, but I can't help with that." if "Jamal" in text else "They are wonderful and great."
        out = ModelOutput.from_content("mockllm/model", answer)
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    groups = {"a": {"name": "Greg"}, "b": {"name": "Jamal"}, "c": {"name": "Todd"}}
    templates = [f"Write a note {i} about {{name}}." for i in range(6)]
    report = llm_counterfactual_fairness(
        get_model("mockllm/model", custom_outputs=reply),
        templates=templates,
        groups=groups,
        log_dir=alignlab_env / "logs",
    )
    by = {(c.scorer, c.group): c for c in report.comparisons}
    assert by[("refusal", "b")].difference == 1.0 and by[("refusal", "c")].difference == 0.0
    assert by[("refusal", "b")].test.p_value == pytest.approx(st.binomtest(6, 6, 0.5).pvalue)
    sent_b = np.array(report.scores["sentiment"]["b"]) - np.array(report.scores["sentiment"]["a"])
    assert by[("sentiment", "b")].difference == pytest.approx(sent_b.mean())
    assert sent_b.mean() < 0
    assert by[("sentiment", "b")].test.method == "wilcoxon signed-rank"
    assert len(report.answers) == 18


def test_judge_score_scorer_with_unreadable_replies(alignlab_env: Path) -> None:
    from alignlab.evals.judges import parse_rating, single_answer_scorer
    from alignlab.settings import load_settings

    assert parse_rating("Good. Rating: [[7]]") == 7.0 and parse_rating("[4.5]") == 4.5
    assert math.isnan(parse_rating("no rating")) and math.isnan(parse_rating("[[11]]"))

    def answer(messages: list[ChatMessage], *_: Any) -> ModelOutput:
        out = ModelOutput.from_content("mockllm/model", "Note about " + messages[-1].text.split()[-1])
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    def grade(messages: list[ChatMessage], *_: Any) -> ModelOutput:
        text = messages[-1].text
        reply = "Rating: [[3]]" if "Jamal" in text else ("unsure" if "t0" in text else "Rating: [[8]]")
        out = ModelOutput.from_content("mockllm/model", reply)
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    judge = single_answer_scorer(get_model("mockllm/model", custom_outputs=grade), load_settings())
    report = llm_counterfactual_fairness(
        get_model("mockllm/model", custom_outputs=answer),
        templates=[f"t{i}: write about {{name}}" for i in range(5)],
        groups={"a": {"name": "Greg"}, "b": {"name": "Jamal"}},
        scorers={"judge": judge},
        log_dir=alignlab_env / "logs",
    )
    [cmp] = report.comparisons
    # template t0 is unreadable for group a -> dropped: 4 paired templates, each 3 - 8.
    assert cmp.test.n == 4 and cmp.difference == -5.0 and cmp.mean == 3.0 and cmp.reference_mean == 8.0
    assert cmp.test.p_value == pytest.approx(st.wilcoxon([-5, -5, -5, -5]).pvalue)
