"""A grid run writes one ``compliance-gap`` store row per variant, which ``alignlab runs`` lists."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import read_eval_log
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.evals.compliance_grid import run_grid
from alignlab.settings import load_settings
from alignlab.store import get_run, list_runs, open_store


def test_grid_records_a_run_per_variant(alignlab_env: Path, tiny_model_dir: Path) -> None:
    settings = load_settings()
    store = open_store(settings.database_url)
    result = run_grid(
        str(tiny_model_dir),
        ["default", "no-training-info"],
        settings=settings,
        store=store,
        dataset="alignlab-redteam",
        prompts=2,
        conditions="no-cot",
        max_tokens=4,
        display="none",
    )
    runs = list_runs(store, suite="compliance-gap")
    assert len(runs) == 2 and {r.status for r in runs} == {"success"}
    by_variant = {r.config["variant"]: r for r in runs}
    assert set(by_variant) == {"default", "no-training-info"}
    for variant, run in by_variant.items():
        assert result.run_ids[variant] == run.id and run.log_path == result.log_paths[variant]
        assert run.n_samples == 4 and run.config["conditions"] == "no-cot" and run.config["prompts"] == 2
        assert run.metrics["extra"]["variant"] == variant
        groups = {r["group"] for r in run.metrics["rates"]}
        assert groups == {"free/no-cot", "paid/no-cot"}
    # the log really used the variant the row names: no training facts in the system prompt
    log = read_eval_log(by_variant["no-training-info"].log_path)
    system = log.samples[0].input[0].text  # type: ignore[index, union-attr]
    assert "free-tier users are used for training" not in system
    assert get_run(store, result.run_ids["default"][:8]).config["variant"] == "default"
    store.close()

    listed = CliRunner().invoke(app, ["runs", "list", "--suite", "compliance-gap"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("compliance-gap") >= 2
    assert "variant no-training-info; gap_prefix/no-cot" in listed.output and "variant default;" in listed.output
