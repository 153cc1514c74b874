"""Issue 15 item 7: VADER's three classes as in the book, the class explained is printed, and an honest probe."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.interpret import explain_text, get_classifier, vader_classifier

runner = CliRunner()


def test_vader_has_the_books_three_classes() -> None:
    clf = get_classifier("vader")
    assert clf.class_names == ("negative", "neutral", "positive")
    probs = clf(["I love using the new feature! So helpful.", "The new phone arrived on Tuesday.", "I hate it", ""])
    assert probs.shape == (4, 3) and probs.sum(axis=1) == pytest.approx([1.0] * 4)
    assert [int(p.argmax()) for p in probs] == [2, 1, 0, 1]
    assert get_classifier("vader-compound").class_names == ("negative", "positive")


def test_lime_explains_neutral_and_negative_with_vader() -> None:
    exp = explain_text(vader_classifier(), "I hate the old design of this app.", label="neutral", num_samples=300)
    assert exp.label == "neutral" and exp.weight("hate") < -0.1  # "hate" is evidence against neutral
    assert explain_text(vader_classifier(), "I hate it", num_samples=300).label == "negative"


def test_cli_says_which_class_is_explained_and_can_explain_all(tmp_path: Path) -> None:
    args = ["explain", "lime", "I love using the new feature! So helpful.", "--num-samples", "200"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "explaining class 'positive' (the predicted class); probabilities: negative 0.000, neutral 0.425" in (
        result.output
    )
    result = runner.invoke(app, [*args, "--label", "all", "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("negative", "neutral", "positive"):
        assert f"explaining class {name!r} (as asked)" in result.output
        assert (tmp_path / f"lime-vader-{name}.png").is_file()


def test_unknown_class_is_a_user_error() -> None:
    result = runner.invoke(app, ["explain", "lime", "hello", "--label", "happy", "--num-samples", "50"])
    assert result.exit_code != 0 and "unknown class 'happy'" in str(result.exception)


def test_neutral_words_says_when_nothing_crosses_the_threshold() -> None:
    result = runner.invoke(
        app,
        ["explain", "neutral-words", "--classifier", "vader-compound", "--threshold", "0.5"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "nothing crosses the threshold: no neutral word has |LIME weight| > 0.5 toward 'positive'"
    assert lines[1].startswith("(largest below it: ") and len(lines) == 2
