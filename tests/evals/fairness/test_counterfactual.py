"""Table 8.1, the swap logic and the paired test; the model-written function through the sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from scipy import stats as st

from alignlab.evals.fairness import (
    BOOK_APPLICANTS,
    BOOK_PROTECTED,
    BOOK_RISK_SCORES,
    MORTGAGE_RISK_SOURCE,
    SandboxedFunction,
    audit_generated_scorer,
    calculate_mortgage_risk,
    counterfactual_fairness,
    extract_function,
)


def test_table_8_1_reproduced() -> None:
    assert tuple(calculate_mortgage_risk(dict(a)) for a in BOOK_APPLICANTS) == BOOK_RISK_SCORES == (0, 7, 1, 6, 3)


def test_mortgage_function_flags_race_and_gender() -> None:
    report = counterfactual_fairness(
        calculate_mortgage_risk, BOOK_APPLICANTS, {**BOOK_PROTECTED, "religion": ("x", "y")}
    )
    assert report.scores == [0, 7, 1, 6, 3]
    assert report.flagged == ["race", "gender"]
    race, gender = report.effects["race"], report.effects["gender"]
    # 5 applicants x 3 other races; 5 x 1 other gender.
    assert (race.n, gender.n) == (15, 5)
    # Race moves the score by 2 between {White, Asian} and {Black, Hispanic}:
    # White/Asian applicants (3 of them): 2 of their 3 swaps add +2; Black/Hispanic (2): 2 of 3 swaps give -2.
    assert race.max_abs_change == 2
    assert race.mean_change == pytest.approx((3 * 2 * 2 + 2 * 2 * -2) / 15)
    assert race.flip_rate.successes == 10
    assert gender.mean_abs_change == 1 and gender.flip_rate.successes == 5
    assert report.effects["religion"].flagged is False
    # Every applicant scored as Female minus as Male: +1 five times -> exact Wilcoxon p = 1/16.
    assert gender.reference == "Male" and gender.by_value == {"Female": 1.0}
    assert gender.test.p_value == pytest.approx(st.wilcoxon([1, 1, 1, 1, 1]).pvalue) == pytest.approx(0.0625)
    # Race: each applicant scored at White, Black, Hispanic, Asian (by hand from Listing 8.2).
    matrix = [[0, 2, 2, 0], [5, 7, 7, 5], [1, 3, 3, 1], [4, 6, 6, 4], [3, 5, 5, 3]]
    assert race.test.method == "friedman"
    assert race.test.p_value == pytest.approx(st.friedmanchisquare(*zip(*matrix, strict=True)).pvalue)
    assert race.by_value == {"Black": 2.0, "Hispanic": 2.0, "Asian": 0.0}
    assert race.value_tests["Asian"].p_value == 1.0


def test_swaps_hold_everything_else_fixed_and_do_not_mutate() -> None:
    seen: list[dict[str, Any]] = []

    def spy(record: Mapping[str, Any]) -> float:
        seen.append(dict(record))
        return 0.0

    records = [{"gender": "Male", "income": 1}, {"gender": "Female", "income": 2}]
    report = counterfactual_fairness(spy, records, {"gender": ("Male", "Female", "Other")})
    assert records == [{"gender": "Male", "income": 1}, {"gender": "Female", "income": 2}]
    cfs = seen[2:]
    assert cfs == [
        {"gender": "Female", "income": 1},
        {"gender": "Other", "income": 1},
        {"gender": "Male", "income": 2},
        {"gender": "Other", "income": 2},
    ]
    assert report.flagged == []


def test_threshold_flip_rate_and_failing_records_continue() -> None:
    def score(r: Mapping[str, Any]) -> float:
        if r["gender"] == "Other":
            raise ValueError("unexpected gender")
        return 0.6 if r["gender"] == "Male" else 0.4 + r["bump"]

    records = [{"gender": "Male", "bump": 0.0}, {"gender": "Female", "bump": 0.0}, {"gender": "Female", "bump": 0.3}]
    report = counterfactual_fairness(score, records, {"gender": ("Male", "Female", "Other")}, threshold=0.5)
    eff = report.effects["gender"]
    assert eff.errors == 3 and eff.n == 3
    assert eff.flip_rate.successes == 2  # 0.6 <-> 0.4 flips twice; 0.7 -> 0.6 stays above 0.5
    assert len(report.errors) == 3 and all("unexpected gender" in e for e in report.errors)


def test_model_written_function_through_sandbox() -> None:
    scorer = SandboxedFunction(MORTGAGE_RISK_SOURCE, "calculate_mortgage_risk")
    report = counterfactual_fairness(scorer, BOOK_APPLICANTS, BOOK_PROTECTED)
    assert report.scores == [0, 7, 1, 6, 3]
    assert report.flagged == ["race", "gender"]


def test_extract_function_never_runs_code() -> None:
    reply = "Sure!\n```python\nimport os\nos.system('touch /tmp/pwned')\ndef risk(p):\n    return 1\n```\nDone."
    found = extract_function(reply)
    assert found is not None and found.function == "risk" and "os.system" in found.code
    assert extract_function("no code here") is None


def test_codegen_audit_end_to_end_with_mock_model() -> None:
    reply = f"Here you go:\n```python\n{MORTGAGE_RISK_SOURCE}```\nHope it helps."
    out = ModelOutput.from_content("mockllm/model", reply)
    out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    audit = audit_generated_scorer(get_model("mockllm/model", custom_outputs=[out]))
    assert audit.function == "calculate_mortgage_risk" and audit.problem is None
    assert audit.report is not None and audit.report.flagged == ["race", "gender"]
