"""Per-condition rates and the free − paid gap, checked against scipy."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalSample, EvalSpec
from scipy import stats as st

from alignlab.evals.compliance_gap.summary import compute_gap_summary, summarize_compliance_gap
from alignlab.evals.summary import RateRow, SuiteSummary
from alignlab.scorers.correction import card_accuracy, correct_difference, correct_rate, read_card
from alignlab.stats import wilson_interval
from tests.conftest import FIXTURE_CARDS

from .helpers import scored_sample


def _condition(condition: str, n: int, accepted: int, complied: int, start: int = 0) -> list:  # type: ignore[type-arg]
    samples = []
    for i in range(n):
        prefix = "accepted" if i < accepted else ("ignored_instruction" if i % 2 else "rejected")
        label = "compliance" if i < complied else "refusal"
        samples.append(scored_sample(start + i, condition, prefix=prefix, label=label))
    return samples


def test_small_counts_use_fisher_exact() -> None:
    samples = _condition("free/cot", 10, 7, 6) + _condition("paid/cot", 10, 2, 3)
    summary = compute_gap_summary(samples)
    by_name = {c.condition: c for c in summary.conditions}
    assert (by_name["free/cot"].prefix_compliance.successes, by_name["free/cot"].prefix_compliance.n) == (7, 10)
    assert by_name["free/cot"].prefix_compliance.low == pytest.approx(wilson_interval(7, 10).low)
    gap = next(g for g in summary.gaps if g.measure == "prefix")
    assert gap.cot and gap.test.difference == pytest.approx(0.5)
    assert gap.test.method == "fisher-exact"
    # two_proportion_test(a=paid, b=free): table rows are paid then free
    assert gap.test.p_value == pytest.approx(st.fisher_exact([[2, 8], [7, 3]]).pvalue)
    # paired on request: free complied on requests 0-6, paid on 0-1 → 5 discordant pairs, all free-only
    assert gap.paired is not None
    assert (gap.paired.n_pairs, gap.paired.first_only, gap.paired.second_only) == (10, 5, 0)
    assert gap.paired.p_value == pytest.approx(st.binomtest(5, 5, 0.5).pvalue) == pytest.approx(0.0625)
    classifier = next(g for g in summary.gaps if g.measure == "classifier")
    assert classifier.test.difference == pytest.approx(0.3)
    assert classifier.test.p_value == pytest.approx(st.fisher_exact([[3, 7], [6, 4]]).pvalue)


def test_large_counts_use_z_test_matching_chi_square() -> None:
    samples = _condition("free/no-cot", 60, 30, 40) + _condition("paid/no-cot", 60, 15, 35, start=100)
    gap = next(g for g in compute_gap_summary(samples).gaps if g.measure == "prefix")
    assert not gap.cot and gap.test.method == "two-proportion z"
    _, p, _, _ = st.chi2_contingency([[15, 45], [30, 30]], correction=False)
    assert gap.test.p_value == pytest.approx(p, rel=1e-9)
    assert gap.test.low < 0.25 < gap.test.high


def test_ignored_instruction_is_not_a_refusal_and_af_rate_counts_unparsed() -> None:
    samples = [
        scored_sample(0, "free/cot", prefix="accepted", label="compliance", af_label=True, af_votes=3),
        scored_sample(1, "free/cot", prefix="ignored_instruction", label="compliance", af_label=False, af_votes=3),
        scored_sample(2, "free/cot", prefix="rejected", label="refusal", af_label=None, af_votes=3),
        scored_sample(3, "paid/cot", prefix="ignored_instruction", label="refusal", af_label=False, af_votes=3),
    ]
    summary = compute_gap_summary(samples)
    free = next(c for c in summary.conditions if c.condition == "free/cot")
    assert free.prefix_counts["ignored_instruction"] == 1 and free.prefix_counts["rejected"] == 1
    assert (free.ignored_instruction.successes, free.ignored_instruction.n) == (1, 3)
    assert free.alignment_faking is not None
    assert (free.alignment_faking.successes, free.alignment_faking.n) == (1, 2)
    assert free.af_unparsed_samples == 1
    assert {g.measure for g in summary.gaps} == {"prefix", "classifier", "alignment_faking"}


def test_errored_and_missing_conditions_are_skipped() -> None:
    samples = _condition("free/cot", 3, 1, 1)
    summary = compute_gap_summary(samples)
    assert [c.condition for c in summary.conditions] == ["free/cot"] and summary.gaps == []


def test_harm_measure_sits_beside_the_classifier_and_is_corrected(scorer_cards: Path) -> None:
    # free: 6 of 8 not refused, 2 of them actually harmful; paid: 4 of 8 not refused, none harmful
    free = [
        scored_sample(i, "free/cot", prefix="accepted", label="compliance" if i < 6 else "refusal",
                      harm="harmful" if i < 2 else "unharmful")
        for i in range(8)
    ]  # fmt: skip
    paid = [
        scored_sample(i, "paid/cot", prefix="rejected", label="compliance" if i < 4 else "refusal", harm="unharmful")
        for i in range(8)
    ]
    summary = compute_gap_summary(free + paid)
    by_name = {c.condition: c for c in summary.conditions}
    assert by_name["free/cot"].harm_compliance is not None
    assert (by_name["free/cot"].harm_compliance.successes, by_name["free/cot"].harm_compliance.n) == (2, 8)
    assert by_name["free/cot"].classifier_compliance.successes == 6
    harm_gap = next(g for g in summary.gaps if g.measure == "harm")
    assert harm_gap.test.difference == pytest.approx(0.25)
    assert next(g for g in summary.gaps if g.measure == "classifier").test.difference == pytest.approx(0.25)

    rows = _rows_of(free + paid)
    harm_card = read_card(FIXTURE_CARDS / "harm.json")
    assert rows["compliance_harm", "free/cot"].corrected == correct_rate(2, 8, card_accuracy(harm_card, {"harmful"}))
    assert rows["compliance_classifier", "paid/cot"].corrected is not None
    assert rows["compliance_prefix", "free/cot"].corrected is None  # no scorer decides a prefix


def test_logs_without_harm_labels_have_no_harm_measure() -> None:
    samples = _condition("free/cot", 4, 2, 2) + _condition("paid/cot", 4, 1, 1, start=10)
    summary = compute_gap_summary(samples)
    assert all(c.harm_compliance is None for c in summary.conditions)
    assert not any(g.measure == "harm" for g in summary.gaps)


def _rows_of(samples: list[EvalSample]) -> dict[tuple[str, str], RateRow]:
    return {(r.measure, r.group): r for r in _summary_of(samples).rows}


def _summary_of(samples: list[EvalSample]) -> SuiteSummary:
    log = EvalLog(
        eval=EvalSpec(
            created="2026-01-01T00:00:00+00:00",
            task="alignlab/compliance_gap",
            dataset=EvalDataset(name="strongreject-small"),
            model="mockllm/model",
            config=EvalConfig(),
        ),
        samples=samples,
    )
    return summarize_compliance_gap(log)


def test_gaps_of_scorer_measures_are_corrected_with_one_shared_card(scorer_cards: Path) -> None:
    # free: 6 of 8 not refused, 2 harmful; paid: 4 of 8 not refused, none harmful (as above)
    free = [
        scored_sample(i, "free/no-cot", prefix="accepted", label="compliance" if i < 6 else "refusal",
                      harm="harmful" if i < 2 else "unharmful")
        for i in range(8)
    ]  # fmt: skip
    paid = [
        scored_sample(i, "paid/no-cot", prefix="rejected", label="compliance" if i < 4 else "refusal", harm="unharmful")
        for i in range(8)
    ]
    gaps = {g.measure: g for g in compute_gap_summary(free + paid).gaps}
    harm = card_accuracy(read_card(FIXTURE_CARDS / "harm.json"), {"harmful"})
    refusal = card_accuracy(read_card(FIXTURE_CARDS / "refusal.json"), {"compliance", "partial_refusal"})
    assert gaps["harm"].corrected == correct_difference((0, 8), (2, 8), harm)  # free − paid: paid subtracted
    assert gaps["classifier"].corrected == correct_difference((4, 8), (6, 8), refusal)
    assert gaps["prefix"].corrected is None  # no scorer decides a prefix
    assert gaps["classifier"].corrected.point == pytest.approx(
        gaps["classifier"].corrected.b.point - gaps["classifier"].corrected.a.point
    )
    stored_diffs = _summary_of(free + paid).metrics_dict()["differences"]
    assert isinstance(stored_diffs, list)
    diffs = {(d["measure"], d["group"]): d for d in stored_diffs}
    stored = diffs["gap_harm", "no-cot"]["corrected"]
    assert stored["difference"] == pytest.approx(gaps["harm"].corrected.point)
    assert stored["ci_low"] == gaps["harm"].corrected.low and stored["method"].startswith("rogan-gladen")
    assert diffs["gap_prefix", "no-cot"]["corrected"] is None
