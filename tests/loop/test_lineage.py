"""The loop's links without a model: export → dataset → checkpoint ← feedback, runs and verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from alignlab.data.training_sets import content_hash
from alignlab.errors import InputError
from alignlab.monitor import NewInteraction, export_preferences, record_feedback, record_interaction, resolve_flag
from alignlab.monitor.feedback import FlagFeedback, ThumbsFeedback
from alignlab.settings import Settings
from alignlab.store import (
    DatasetRef,
    FeedbackLink,
    GateSideRun,
    Store,
    checkpoint_lineage_report,
    config_hash,
    feedback_lineage_report,
    finish_run,
    get_feedback_export,
    record_checkpoint,
    record_feedback_export,
    record_gate_verdict,
    start_run,
)
from alignlab.store.db import _alembic_config
from alignlab.train import config_from_dict
from alignlab.train.common import PREFERENCE_COLUMNS, prepare_run


def _answer(store: Store, prompt: str, text: str) -> str:
    new = NewInteraction(
        model="m",
        backend="upstream",
        stream=False,
        status="ok",
        http_status=200,
        request={"messages": [{"role": "user", "content": prompt}]},
        response_text=text,
        latency_ms=1.0,
    )
    return record_interaction(store, new).id


def test_a_confirmed_flag_makes_pairs_and_the_export_is_recorded(store: Store, tmp_path: Path) -> None:
    good, bad, unrated = (_answer(store, "P", t) for t in ("good answer", "bad answer", "plain answer"))
    other = _answer(store, "Q", "unrelated")
    up = record_feedback(store, ThumbsFeedback(kind="thumbs", interaction_id=good, value="up")).id
    down = record_feedback(store, ThumbsFeedback(kind="thumbs", interaction_id=bad, value="down")).id
    flag = record_feedback(store, FlagFeedback(kind="flag", interaction_id=bad, reason="harmful")).id
    open_flag = record_feedback(store, FlagFeedback(kind="flag", interaction_id=other, reason="spam")).id
    resolve_flag(store, flag, "confirmed")

    summary = export_preferences(store, tmp_path / "prefs.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "prefs.jsonl").read_text().splitlines()]
    assert summary.by_source == {"thumbs": 1, "flag": 1}
    by_source = {r["lineage"]["source"]: r["lineage"] for r in rows}
    # the thumbs pair lists the flag that confirmed its rejected answer
    assert by_source["thumbs"]["feedback_ids"] == [up, down, flag]
    # the flag alone prefers the unrated answer to the same prompt over the flagged one
    assert (by_source["flag"]["chosen_interaction_id"], by_source["flag"]["rejected_interaction_id"]) == (unrated, bad)
    assert by_source["flag"]["feedback_ids"] == [flag]
    assert open_flag not in json.dumps(rows)  # an open flag makes no pair
    export = get_feedback_export(store, "latest")
    assert export.id == summary.export_id and export.n_pairs == 2 and export.sha256 == content_hash(rows)
    assert get_feedback_export(store, summary.export_id[:6]).path == str((tmp_path / "prefs.jsonl").resolve())
    with pytest.raises(InputError, match="no feedback export 'zzz'"):
        get_feedback_export(store, "zzz")


def _pair(i: int, feedback_ids: list[str]) -> dict[str, Any]:
    return {
        "prompt": [{"role": "user", "content": f"question {i}"}],
        "chosen": [{"role": "assistant", "content": f"good {i}"}],
        "rejected": [{"role": "assistant", "content": f"bad {i}"}],
        "lineage": {"source": "thumbs", "feedback_ids": feedback_ids},
    }


def _export(store: Store, path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    n = len(rows)
    record = record_feedback_export(
        store, path=str(path), sha256=content_hash(rows), n_pairs=n, by_source={"thumbs": n}, options={}
    )
    return record.id


def test_training_on_an_export_keeps_each_rows_feedback_through_the_split(
    tiny_model_dir: Path, settings: Settings, store: Store, tmp_path: Path
) -> None:
    rows = [_pair(i, [f"fb{i}", "shared"]) for i in range(8)]
    export_id = _export(store, tmp_path / "export.jsonl", rows)
    config = config_from_dict(
        "dpo", {"model": str(tiny_model_dir), "datasets": ["export:latest"], "name": "c1", "test_fraction": 0.25}
    )
    run = prepare_run(config, settings=settings, store=store, formats=PREFERENCE_COLUMNS)
    assert all(set(r) == {"prompt", "chosen", "rejected"} for r in run.train_rows)  # the trainer never sees lineage
    assert run.dataset_refs == [
        DatasetRef(name="export:latest", sha256=content_hash(rows), n_rows=8, export_id=export_id)
    ]
    in_train = {r["prompt"][0]["content"].split()[-1] for r in run.train_rows}
    links = {(link.feedback_id, link.split): link for link in run.feedback}
    assert {f for f, s in links if s == "train" and f != "shared"} == {f"fb{i}" for i in in_train}
    assert {f for f, s in links if s == "test" and f != "shared"} == {
        f"fb{i}" for i in range(8) if str(i) not in in_train
    }
    assert (links["shared", "train"].n_rows, links["shared", "test"].n_rows) == (6, 2)
    assert all(link.export_id == export_id for link in run.feedback)
    # the same file by path is recognised as that export by its hash
    by_path = config_from_dict("dpo", {"model": str(tiny_model_dir), "datasets": [str(tmp_path / "export.jsonl")]})
    assert (
        prepare_run(by_path, settings=settings, store=store, formats=PREFERENCE_COLUMNS).dataset_refs[0].export_id
        == export_id
    )
    # an export edited after the fact is refused
    (tmp_path / "export.jsonl").write_text(json.dumps(_pair(0, [])) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="changed since it was exported"):
        prepare_run(config, settings=settings, store=store, formats=PREFERENCE_COLUMNS)


def _checkpoint(store: Store, name: str, parent: str | None, links: list[FeedbackLink]) -> None:
    record_checkpoint(
        store,
        name=name,
        recipe="dpo",
        base_model="default",
        parent=parent,
        datasets=[DatasetRef(name="export:e1", sha256="0" * 64, n_rows=2, export_id="e1")],
        config={"recipe": "dpo", "trl": {"beta": 0.1}},
        metrics={},
        wall_time_s=1.0,
        path="/nowhere",
        feedback=links,
    )


def _run(store: Store, model: str) -> str:
    run = start_run(store, suite="redteam", model=model, dataset="alignlab-redteam")
    return finish_run(store, run.id, status="success", n_samples=4, metrics={"harmful_compliance": 0.25}).id


def test_checkpoint_lineage_reaches_runs_and_the_verdicts_that_read_them(store: Store) -> None:
    answer = _answer(store, "P", "bad answer")
    flag = record_feedback(store, FlagFeedback(kind="flag", interaction_id=answer, reason="harmful")).id
    _checkpoint(store, "parent", None, [])
    _checkpoint(
        store, "child", "parent", [FeedbackLink(feedback_id=flag, dataset="export:e1", split="train", export_id="e1")]
    )
    ours, theirs = _run(store, "ckpt:child"), _run(store, "ckpt:parent")
    runs = [GateSideRun(side="baseline", suite="redteam", run_id=theirs, log_path="b.eval")]
    used = record_gate_verdict(
        store,
        baseline="b.eval",
        candidate="c.eval",
        verdict="pass",
        outcome="pass",
        policy_sha256="x",
        rules={"redteam/harmful_compliance": "pass"},
        runs=[*runs, GateSideRun(side="candidate", suite="redteam", run_id=ours, log_path="c.eval")],
    )
    record_gate_verdict(  # a verdict that never read the child's runs
        store, baseline="a", candidate="b", verdict="fail", outcome="fail", policy_sha256="x", rules={}, runs=runs
    )
    report = checkpoint_lineage_report(store, "child")
    assert [a.name for a in report.ancestors] == ["parent"]
    assert report.config_hash == config_hash({"trl": {"beta": 0.1}, "recipe": "dpo"})  # key order does not matter
    assert [(e.id, e.kind, e.detail, e.split) for e in report.feedback] == [(flag, "flag", "harmful, open", "train")]
    assert [r.id for r in report.runs] == [ours]
    assert [v.id for v in report.verdicts] == [used.id]
    assert {r.run_id for r in report.verdicts[0].runs} == {ours, theirs}
    learned = feedback_lineage_report(store, f"feedback:{flag[:8]}")
    assert learned.event is not None and learned.event.kind == "flag"
    assert [(c.checkpoint.name, c.split, c.n_rows) for c in learned.checkpoints] == [("child", "train", 1)]
    with pytest.raises(InputError, match="no feedback event matches"):
        feedback_lineage_report(store, "feedback:nope")
    with pytest.raises(InputError, match="give ckpt:<name>, feedback:<id> or export:<id>"):
        feedback_lineage_report(store, "run:1")


def test_migration_0106_downgrades_and_upgrades(store: Store) -> None:
    tables = {"feedback_exports", "checkpoint_feedback", "gate_verdicts", "gate_verdict_runs"}
    assert tables <= set(inspect(store.engine).get_table_names())
    config = _alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")
    assert not tables & set(inspect(store.engine).get_table_names())
    assert "checkpoints" in inspect(store.engine).get_table_names()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert tables <= set(inspect(store.engine).get_table_names())
