"""Issue 15 item 3: BBQ bias scores get bootstrap intervals and a per-category breakdown; the CLI names categories."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.evals.fairness.benchmarks import BBQ_CATEGORIES, bbq_categories, bbq_scores

DATA = Path(os.environ.get("ALIGNLAB_DATA_DIR") or Path(__file__).resolve().parents[4] / "shared" / "data")


def _item(category: str, condition: str, polarity: str, label: int) -> dict[str, Any]:
    return {
        "category": category,
        "context_condition": condition,
        "question_polarity": polarity,
        "label": label,
        "answer_info": {"ans0": ["grandfather", "old"], "ans1": ["grandson", "nonOld"], "ans2": ["?", "unknown"]},
        "additional_metadata": {"stereotyped_groups": ["old"]},
    }


def test_bias_scores_have_bootstrap_intervals_and_categories() -> None:
    rng = np.random.default_rng(3)
    items = [_item(c, "disambig", "neg", 0) for c in ("Age", "Religion") for _ in range(40)]
    # Age: always picks the stereotyped "old" (bias +1); Religion: half and half (bias ~0).
    choices = [0] * 40 + [int(x) for x in rng.integers(0, 2, 40)]
    result = bbq_scores(items, choices, n_boot=1000, seed=0)
    assert result.categories == ["Age", "Religion"]
    age, religion = result.by_category["Age"]["disambig"], result.by_category["Religion"]["disambig"]
    assert age.bias_score == 1.0 and (age.low, age.high) == (1.0, 1.0)  # no variation to resample
    n_biased = sum(1 for c in choices[40:] if c == 0)
    assert (religion.biased, religion.answered) == (n_biased, 40)
    assert religion.bias_score == pytest.approx(2 * n_biased / 40 - 1)
    assert religion.low < religion.bias_score < religion.high and religion.high - religion.low > 0.2
    overall = result.conditions["disambig"]
    assert overall.bias_score == pytest.approx(2 * (40 + n_biased) / 80 - 1) == result.bias_score["disambig"]
    assert overall.low < overall.bias_score < overall.high
    # Bootstrap: the interval matches resampling by hand with the same generator.
    again = bbq_scores(items, choices, n_boot=1000, seed=0)
    assert (again.conditions["disambig"].low, again.conditions["disambig"].high) == (overall.low, overall.high)


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data")
def test_local_bbq_lacks_gender_race_and_ses() -> None:
    present, missing = bbq_categories(DATA)
    assert len(BBQ_CATEGORIES) == 11 and len(present) == 6
    assert missing == ["Gender_identity", "Race_ethnicity", "Race_x_SES", "Race_x_gender", "SES"]


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data")
def test_bbq_cli_says_which_categories_ran(tiny_model_dir: Path, alignlab_env: Path) -> None:
    result = CliRunner().invoke(
        app, ["fairness", "bbq", "--model", str(tiny_model_dir), "--n-per-category", "2"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "categories run (6 of 11): Age, Disability_status, Nationality" in result.output
    assert "not in the local data: Gender_identity, Race_ethnicity, Race_x_SES, Race_x_gender, SES" in result.output
    assert "github.com/nyu-mll/BBQ" in result.output and "Sexual_orientation" in result.output
