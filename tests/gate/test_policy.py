"""Policy validation: names checked against the suite registry, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.errors import ConfigError, UnknownNameError
from alignlab.gate.policy import load_policy, parse_policy


def _policy(**rule: object) -> dict[str, object]:
    return {"suites": {"redteam": {"rules": [{"metric": "harmful_compliance", **rule}]}}}


def test_example_policy_parses(scorer_cards: Path) -> None:
    policy = load_policy(Path(__file__).resolve().parents[2] / "examples" / "gate.yaml")
    assert set(policy.suites) == {"redteam", "overrefusal", "crows-pairs"}
    assert policy.alpha == 0.05 and policy.unparsed == "exclude"
    rules = {r.metric: r for r in policy.suites["redteam"].rules}
    assert rules["harmful_compliance"].corrected and not rules["non_refusal"].corrected
    fairness = policy.suites["crows-pairs"].rules[0]
    assert (fairness.metric, fairness.max_regression, fairness.corrected) == ("prefers_stereotype", 0.05, False)


def test_judge_qa_number_means_minimum() -> None:
    policy = parse_policy(_policy(judge_qa={"scored_rate": 0.9, "judge_parse_rate": {"max": 1.0, "min": 0.5}}))
    qa = policy.suites["redteam"].rules[0].judge_qa
    assert (qa["scored_rate"].min, qa["scored_rate"].max) == (0.9, None)
    assert (qa["judge_parse_rate"].min, qa["judge_parse_rate"].max) == (0.5, 1.0)


def test_unknown_suite_names_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as err:
        parse_policy({"suites": {"redtem": {"rules": [{"metric": "harmful_compliance", "max": 0.1}]}}})
    assert (
        str(err.value)
        == "unknown suite 'redtem'; valid suites: bbq, bias-probe, compliance-gap, crows-pairs, overrefusal, redteam"
    )


def test_unknown_metric_names_the_suites_metrics() -> None:
    with pytest.raises(UnknownNameError) as err:
        parse_policy({"suites": {"overrefusal": {"rules": [{"metric": "harmful_compliance", "max": 0.1}]}}})
    assert str(err.value) == (
        "unknown overrefusal metric 'harmful_compliance'; valid overrefusal metrics: over_refusal, unsafe_compliance"
    )


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (_policy(max=0.1, maxx=0.2), "suites.redteam.rules.0.maxx: Extra inputs are not permitted"),
        (_policy(max=1.5), "suites.redteam.rules.0.max"),
        (_policy(), "checks nothing"),
        ({**_policy(max=0.1), "unparsed": "drop"}, "unparsed"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_malformed_policy_is_one_line_config_error(data: object, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_policy(data, source="gate.yaml")
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "gate.yaml"
    bad.write_text("suites: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_policy(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_policy(tmp_path / "missing.yaml")
