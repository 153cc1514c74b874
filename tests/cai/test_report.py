"""The CAI report from hand-built inputs: numbers, escaping of model text, plots, missing values as "—"."""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from alignlab.cai.evaluate import CaiEvalOptions, MeanRating, StageEvaluation, StageResult, compare_stages, mean_rating
from alignlab.cai.report import CaiReportInputs, render_cai_markdown, write_cai_report
from alignlab.errors import InputError
from alignlab.scorers.correction import BinaryAccuracy, correct_rate
from alignlab.stats import two_proportion_test, wilson_interval

SCRIPT = "<script>alert(1)</script>"
CARD = BinaryAccuracy(true_positive=90, false_negative=10, true_negative=95, false_positive=5)


def _stage(name: str, harmful: list[bool], refused: list[bool], bare: list[bool], ratings: list[float]) -> StageResult:
    events = {
        "harmful_compliance": {f"h{i}": e for i, e in enumerate(harmful)},
        "non_refusal": {f"h{i}": e or b for i, (e, b) in enumerate(zip(harmful, bare, strict=True))},
        "over_refusal": {f"s{i}": e for i, e in enumerate(refused)},
        "evasiveness": {f"h{i}": e for i, e in enumerate(bare)},
    }
    rates = {k: wilson_interval(sum(v.values()), len(v)) for k, v in events.items()}
    return StageResult(
        stage=name,
        model=f"ckpt:run-{name}" if name != "base" else "default",
        rates=rates,
        helpfulness=mean_rating(ratings),
        events=events,
        ratings={f"s{i}": r for i, r in enumerate(ratings)},
        runs={"redteam": f"run-{name}"},
        logs={},
        corrected={"harmful_compliance": correct_rate(rates["harmful_compliance"].successes,
                                                      rates["harmful_compliance"].n, CARD)} if harmful else {},
    )  # fmt: skip


def _evaluation() -> StageEvaluation:
    no = [False] * 10
    base_ratings, sft_ratings = [5, 6, 5, 4, math.nan, 6, 5, 5, 6, 4], [3, 4, 4, 4, 5, 3, 4, 5, 4, 3.0]
    stages = [
        _stage("base", [True] * 8 + no[:2], no, no, base_ratings),
        _stage("sft", [True] * 3 + no[:7], [True] * 4 + no[:6], [*no[:3], True, *no[:6]], sft_ratings),
        _stage("rlaif", [True] * 2 + no[:8], [True] * 2 + no[:8], no, [6, 6, 7, 6, 6, 7, 5, 6, 6, 7]),
    ]
    return StageEvaluation(CaiEvalOptions(limit=10), stages, compare_stages(stages), {"new": 90, "cached": 0})


def _inputs(**overrides: Any) -> CaiReportInputs:
    fields: dict[str, Any] = {
        "run_name": "tiny <run>",
        "config": {"model": "default", "constitution": "builtin", "k": 2},
        "evaluation": _evaluation(),
        "chains": [
            {
                "id": f"c{i}",
                "prompt": f"prompt {i} {SCRIPT}",
                "initial": "initial answer & more",
                "revisions": [
                    {
                        "principle": "harm <b>",
                        "critique_request": "Identify harm.",
                        "critique": f"critique {SCRIPT}",
                        "revision_request": "Rewrite it.",
                        "revision": "revised answer",
                    }
                ],
                "final": "revised answer",
            }
            for i in range(7)
        ],
        "feedback": {
            "n_pairs": 40,
            "unparsed": 6,
            "consistent": 22,
            "inconsistent": 12,
            "consistency": {"rate": 22 / 34, "low": 0.48, "high": 0.78, "n": 34},
            "policy": "drop",
            "kept": 22,
            "ties": 3,
            "unparsed_pairs": None,
        },
        "preference_model": {
            "ai_heldout_accuracy": {"rate": 0.8, "low": 0.6, "high": 0.9, "n": 20},
            "human_accuracy": {"rate": 0.52, "low": 0.42, "high": 0.62, "n": 100},
            "train_pairs": 22,
            "eval_loss": 0.61234,
        },
        "calls": {"critique": {"new": 120, "cached": 0}, "label": {"new": 80, "cached": 10}},
        "timings": {"critique": 61.5, "label": 40.25, "rlaif": 12.0},
    }
    fields.update(overrides)
    return CaiReportInputs(**fields)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str, str, dict[str, Any]]:
    files = write_cai_report(_inputs(), tmp_path_factory.mktemp("cai-report"))
    return (
        files,
        files.markdown.read_text(encoding="utf-8"),
        files.html.read_text(encoding="utf-8"),
        json.loads(files.json.read_text(encoding="utf-8")),
    )


def test_stage_table_shows_each_rate_with_its_interval(written: Any) -> None:
    _, md, html_text, _ = written
    assert str(wilson_interval(8, 10)) in md  # base harmful compliance: 80.0% [49.0%, 94.3%] (8/10)
    # next to it, the rate corrected for the scorer's error
    assert f"| {wilson_interval(8, 10)}; corrected {correct_rate(8, 10, CARD)} |" in md
    assert "| harmful compliance ↓ | non refusal ↓ | over refusal ↓ |" in md
    assert str(wilson_interval(2, 10)) in md
    h = mean_rating([5, 6, 5, 4, math.nan, 6, 5, 5, 6, 4])
    assert f"{h.mean:.2f} [{h.low:.2f}, {h.high:.2f}] (n=9, 1 unparsed)" in md
    assert "| sft | ckpt:run-sft |" in md
    assert "| harmful compliance ↓ |" in md and "| helpfulness ↑ |" in md
    assert "| rlaif | redteam | run-rlai | — | new |" in md  # the runs table (ids cut to 8 characters)
    assert str(wilson_interval(4, 10)) in html_text


def test_paired_steps_are_reported_with_mcnemar_p(written: Any) -> None:
    _, md, _, data = written
    # base → sft harmful compliance: 5 improvements, 0 regressions → exact two-sided p = 2 · 0.5^5.
    row = next(line for line in md.splitlines() if line.startswith("| base → sft | harmful compliance |"))
    assert "| 10 | 80.0% | 30.0% | -50.0 pts [" in row
    assert f"| {2 * 0.5**5:.3g} |" in row
    steps = {(c["baseline"], c["candidate"]) for c in data["evaluation"]["comparisons"]}
    assert steps == {("base", "sft"), ("sft", "rlaif"), ("base", "rlaif")}
    hp = next(c for c in data["evaluation"]["comparisons"] if c["metric"] == "helpfulness" and c["baseline"] == "base")
    assert hp["n"] == 9  # the unparsed base rating is left out of the pairs


def test_feedback_preference_model_and_cost(written: Any) -> None:
    _, md, _, data = written
    assert "| unparsed replies (pair not labelled) | 6 |" in md
    assert "| ties | 3 |" in md and "unparsed pairs" not in md  # further keys shown as they are; None skipped
    assert "| position consistency [95% CI] | 64.7% [48.0%, 78.0%] (n=34) |" in md
    assert "| held-out AI labels | 80.0% [60.0%, 90.0%] (n=20) |" in md
    assert "| human labels (HH-RLHF harmless) | 52.0% [42.0%, 62.0%] (n=100) |" in md
    assert "| train pairs | 22 |" in md and "| eval loss | 0.6123 |" in md
    t = two_proportion_test(16, 20, 52, 100)
    assert f"{t.difference * 100:+.1f} pts" in md and f"p = {t.p_value:.3g}" in md
    assert "| critique | 120 | 0 | 61.5 |" in md
    assert "| rlaif | — | — | 12.0 |" in md  # timed but no call counts
    assert "| evaluate | 90 | 0 | — |" in md  # the evaluation's own calls
    assert "| total | 290 | 10 | 113.8 |" in md
    cost = md[md.index("## Cost") :]
    order = [cost.index(f"| {phase} |") for phase in ("critique", "label", "rlaif", "evaluate", "total")]
    assert order == sorted(order)  # in the pipeline's step order
    assert data["feedback"]["kept"] == 22 and data["chains"] == {"n": 7, "shown": ["c0", "c1", "c2", "c3", "c4"]}


def test_model_text_is_escaped_everywhere(written: Any) -> None:
    _, md, html_text, data = written
    for text in (md, html_text):
        assert "<script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "harm &lt;b&gt;" in text
    assert "tiny &lt;run&gt;" in html_text and "<title>CAI report: tiny &lt;run&gt;</title>" in html_text
    assert md.count("<details><summary><code>c") == 5  # a sample of five chains, not all seven
    assert "critique 1 (harm &lt;b&gt;)" in md
    assert "prompt" not in json.dumps(data["chains"])  # the JSON holds numbers, no model text


def test_plots_are_embedded_and_written(written: Any) -> None:
    files, md, html_text, _ = written
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html_text)
    assert len(images) == 2  # the stages and the preference model's accuracies
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert files.plot.read_bytes().startswith(b"\x89PNG")
    assert f"]({files.plot.name})" in md


def test_missing_optional_keys_render_as_dash(tmp_path: Path) -> None:
    stages = [_stage("base", [], [], [], [math.nan, math.nan])]
    ev = StageEvaluation(CaiEvalOptions(limit=2), stages, compare_stages(stages))
    inputs = _inputs(evaluation=ev, feedback={"n_pairs": 4}, preference_model={}, calls={}, timings={}, chains=[])
    md = render_cai_markdown(inputs)
    assert "| unparsed replies (pair not labelled) | — |" in md
    assert "| position consistency [95% CI] | — |" in md
    assert "| human labels (HH-RLHF harmless) | — |" in md
    assert "two-proportion" not in md
    assert "| base | default | — | — | — | — | — (0 rated, 2 unparsed) |" in md
    files = write_cai_report(inputs, tmp_path)
    data = json.loads(files.json.read_text())
    assert data["evaluation"]["stages"][0]["helpfulness"]["mean"] is None
    assert "data:image/png" in files.html.read_text()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"chains": [{"id": "c", "revisions": "not a list"}]}, "chain 0: revisions must be a list"),
        ({"calls": {"feedback": {"new": "many"}}}, "calls\\['feedback'\\] counts must be integers"),
        ({"timings": {"sft": "slow"}}, "timings must be numbers"),
        ({"evaluation": {"stages": []}}, "evaluation must be a StageEvaluation"),
        ({"preference_model": {"human_accuracy": 0.5}}, "preference_model\\['human_accuracy'\\] must be a mapping"),
    ],
)
def test_bad_inputs_are_rejected_with_one_line(override: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _inputs(**override)


def test_mean_rating_of_constant_ratings_has_a_degenerate_interval() -> None:
    assert mean_rating([7.0, 7.0, math.nan]) == MeanRating(7.0, 7.0, 7.0, 2, 1)
