"""Listing 8.3's transform and ``judge pairwise --pairs`` refuse scores that are not on the scale."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from alignlab.cli.main import main
from alignlab.errors import InputError
from alignlab.evals.judges import load_pairs_jsonl, transform_score


@pytest.mark.parametrize(
    ("a1", "a2", "named"),
    [
        (11, 0, "answer_1_score 11 "),
        (-5, 20, "answer_1_score -5 "),
        (-3, -1, "answer_1_score -3 "),
        (math.nan, 3, "answer_1_score nan "),
        (True, 3, "answer_1_score True "),
        ("7", 3, "answer_1_score '7' "),
        (3, math.inf, "answer_2_score inf "),
    ],
)
def test_transform_refuses_scores_off_the_scale_naming_the_input(a1: Any, a2: Any, named: str) -> None:
    with pytest.raises(InputError, match="^" + named.replace("(", r"\(")):
        transform_score({"answer_1_score": a1, "answer_2_score": a2})


def test_transform_still_reproduces_listing_8_3() -> None:
    assert transform_score({"answer_1_score": 3, "answer_2_score": 7}) == 6.6
    assert transform_score({"answer_1_score": 10.0, "answer_2_score": 0}) == 1.0


def _run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["alignlab", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return int(exit_info.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '{"question": "q", "answer_1": "a", "answer_2": "b", "answer_1_score": 11, "answer_2_score": 0}',
            "pairs.jsonl:2: answer_1_score 11 is outside 0–10",
        ),
        (
            '{"question": "q", "answer_1": "a", "answer_2": "b", "answer_1_score": -3, "answer_2_score": -1}',
            "pairs.jsonl:2: answer_1_score -3 is outside 0–10",
        ),
        (
            '{"question": "q", "answer_1": "a", "answer_2": "b", "answer_1_score": "high", "answer_2_score": 1}',
            "pairs.jsonl:2: answer_1_score 'high' is not a number",
        ),
        (
            '{"question": "q", "answer_1": "a", "answer_2": "b", "human_score": "5"}',
            "pairs.jsonl:2: human_score '5' is not a number",
        ),
        (
            '{"question": "q", "answer_1": "a", "answer_2": "b", "human_score": 9.5}',
            "pairs.jsonl:2: human_score 9.5 is outside 1–9",
        ),
        ('{"question": "q", "answer_1": "a",', "pairs.jsonl:2: not valid JSON"),
        ("[1, 2]", "pairs.jsonl:2: expected a JSON object, got list"),
    ],
)
def test_judge_pairwise_bad_pairs_are_one_line_exit_2(
    alignlab_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    good = json.dumps({"question": "q", "answer_1": "a", "answer_2": "b", "answer_1_score": 3, "answer_2_score": 7})
    pairs = alignlab_env / "pairs.jsonl"
    pairs.write_text(good + "\n" + line + "\n", encoding="utf-8")
    code, err = _run_cli(monkeypatch, capsys, "judge", "pairwise", "--pairs", str(pairs), "--model", "mockllm/model")
    assert code == 2
    assert expected in " ".join(err.split())
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_load_pairs_reads_transformed_scores(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        json.dumps({"prompt": "q", "answer_1": "a", "answer_2": "b", "answer_1_score": 3, "answer_2_score": 7})
    )
    [pair] = load_pairs_jsonl(path)
    assert pair.human_score == 6.6
