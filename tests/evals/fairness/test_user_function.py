"""Counterfactual fairness from the CLI: per-value effects, the direction of Δ, a user's own function, n/a."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app, main
from alignlab.evals.fairness import BOOK_APPLICANTS

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def _value_rows(output: str) -> dict[tuple[str, str], str]:
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│") if c.strip()]
        if len(cells) == 6 and cells[0] in ("race", "gender"):
            rows[(cells[0], cells[1])] = cells[3]
    return rows


def test_mortgage_prints_per_value_effects_and_the_direction_of_delta() -> None:
    result = runner.invoke(app, ["fairness", "mortgage", "--no-sandbox"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert _value_rows(result.output) == {
        ("race", "Black"): "+2",
        ("race", "Hispanic"): "+2",
        ("race", "Asian"): "0",
        ("gender", "Female"): "+1",
    }
    assert "Δ = score with the attribute swapped − score as recorded" in result.output


def _user_module(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / f"{name}.py").write_text(body, encoding="utf-8")


def _records(tmp_path: Path) -> Path:
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in BOOK_APPLICANTS), encoding="utf-8")
    return path


def test_check_runs_a_users_function_on_their_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _user_module(
        tmp_path,
        "user_scoring_ok",
        "def risk(p):\n    return 2 * (p['race'] in ('Black', 'Hispanic')) + (p['gender'] == 'Female')\n",
    )
    monkeypatch.chdir(tmp_path)
    args = ["fairness", "check", "--function", "user_scoring_ok:risk", "--records", str(_records(tmp_path))]
    result = runner.invoke(app, [*args, "--protected", "race,gender"], env=WIDE)
    assert result.exit_code == 0, result.output
    # Reference values are the first seen in the records: White, Male.
    assert "race='White'" in result.output and "gender='Male'" in result.output
    assert _value_rows(result.output) == {
        ("race", "Hispanic"): "+2",
        ("race", "Asian"): "0",
        ("race", "Black"): "+2",
        ("gender", "Female"): "+1",
    }
    assert "attributes that move the score: race, gender" in result.output


def test_a_function_that_never_scores_shows_na_not_nan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _user_module(tmp_path, "user_scoring_broken", "def risk(p):\n    raise RecursionError('deep')\n")
    monkeypatch.chdir(tmp_path)
    args = ["fairness", "check", "--function", "user_scoring_broken:risk", "--records", str(_records(tmp_path))]
    result = runner.invoke(app, [*args, "--protected", "race,gender"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "nan" not in result.output.lower().replace("n/a", "")
    assert "n/a (no scores)" in result.output and "flagged no" not in result.output
    assert "attributes that move the score: none" in result.output
    assert "RecursionError: deep" in result.output


@pytest.mark.parametrize(
    ("function", "records", "expected"),
    [
        ("nosuchmodule_xyz:risk", None, "cannot import 'nosuchmodule_xyz'"),
        ("user_scoring_ok2", None, "expected module:callable"),
        ("user_scoring_ok2:nope", None, "has no attribute 'nope'"),
        ("user_scoring_ok2:risk", '{"race": "White"}\n', "people.jsonl:1: no 'gender' field"),
        (
            "user_scoring_ok2:risk",
            '{"race": ["White"], "gender": "Male"}\n',
            "race must be a string, number or boolean",
        ),
        ("user_scoring_ok2:risk", '{"race": "White", "gender": "Male"\n', "people.jsonl:1: not valid JSON"),
        ("user_scoring_ok2:risk", '{"race": "White", "gender": "Male"}\n', "'race' has one value ('White')"),
    ],
)
def test_check_bad_input_is_one_line_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    function: str,
    records: str | None,
    expected: str,
) -> None:
    _user_module(tmp_path, "user_scoring_ok2", "def risk(p):\n    return 1.0\n")
    monkeypatch.chdir(tmp_path)
    path = _records(tmp_path)
    if records is not None:
        path.write_text(records, encoding="utf-8")
    argv = [
        "alignlab",
        "fairness",
        "check",
        "--function",
        function,
        "--records",
        str(path),
        "--protected",
        "race,gender",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert expected in " ".join(err.split()) and len(err.strip().splitlines()) == 1
