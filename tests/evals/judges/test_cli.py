"""The thin CLI adapters: judge pairwise (mockllm), fairness mortgage, explain lime."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.settings import load_settings
from alignlab.store import list_runs, open_store

runner = CliRunner()


def test_judge_pairwise_cli_writes_report_and_store_row(alignlab_env: Path) -> None:
    pairs = alignlab_env / "pairs.jsonl"
    rows = [
        {"question": f"q{i}", "answer_1": "a", "answer_2": "b", "answer_1_score": 9, "answer_2_score": 3}
        for i in range(2)
    ]
    pairs.write_text("\n".join(json.dumps(r) for r in rows))
    out = alignlab_env / "report"
    result = runner.invoke(
        app,
        [
            "judge",
            "pairwise",
            "--pairs",
            str(pairs),
            "--model",
            "mockllm/model",
            "--self-pairs",
            "1",
            "--out",
            str(out),
            "--strict",
        ],
        env={"COLUMNS": "200"},  # a narrow terminal would elide the pair ids in the table
    )
    # mockllm's default reply is not a verdict: every judgment is unparsed and --strict fails.
    assert result.exit_code == 1, result.output
    assert "unparsed" in result.output
    qa = json.loads((out / "judge_qa.json").read_text())
    assert qa["n_pairs"] == 3 and qa["n_unparsed"] == 6
    assert (out / "score_distributions.png").is_file() and (out / "human_ties.png").is_file()
    # The report --help promises, and the per-pair outcomes in both orders (printed and exported).
    page = (out / "report.html").read_text()
    assert "Per-pair verdicts" in page and "answer scores 9 vs 3 (Listing 8.3)" in page
    rows = [json.loads(line) for line in (out / "judge_pairs.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and {r["outcome"] for r in rows} == {"unparsed"}
    assert "per-pair verdicts" in result.output and "self-pair-0001" in result.output
    [run] = list_runs(open_store(load_settings().database_url))
    assert run.suite == "judge-pairwise" and run.metrics["judge_qa"]["n_judgments"] == 6


def test_fairness_mortgage_cli() -> None:
    result = runner.invoke(app, ["fairness", "mortgage"])
    assert result.exit_code == 0, result.output
    assert "attributes that move the score: race, gender" in result.output


def test_explain_lime_cli(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["explain", "lime", "what a wonderful day", "--num-samples", "200", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "wonderful" in result.output and (tmp_path / "lime-vader.png").is_file()
