"""The loop end to end on the tiny random Llama: serve → feedback over HTTP → export → DPO →
evaluate → gate → lineage, the same chain ``make loop-demo`` runs on ``default``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.loop_demo import LoopDemoConfig, run_loop_demo
from alignlab.monitor import list_feedback
from alignlab.settings import Settings
from alignlab.store import Store, feedback_lineage_report


@pytest.mark.slow
def test_loop_demo_chain_on_the_tiny_model(
    tiny_model_dir: Path, settings: Settings, store: Store, tmp_path: Path
) -> None:
    config = LoopDemoConfig(
        model=str(tiny_model_dir),
        out_dir=tmp_path / "loop",
        name="loop-tiny",
        n_prompts=6,
        max_tokens=12,
        dpo_steps=2,
        eval_limit=4,
        trl={"learning_rate": 5e-3},
    )
    result = run_loop_demo(config, settings=settings, store=store)

    # feedback went in through the API: two answers per prompt, all three kinds of feedback
    assert result.interactions == 12
    assert set(result.feedback) == {"thumbs", "pairwise", "flag"}
    posted = list_feedback(store)
    flags = [f for f in posted if f.kind == "flag"]
    assert flags and all(f.resolution == "confirmed" for f in flags)
    # the export is a dataset whose rows keep their feedback ids
    exported = [json.loads(line) for line in result.export.path.read_text().splitlines()]
    assert len(exported) == result.export.pairs > 0
    assert {r["lineage"]["source"] for r in exported} == {"thumbs", "pairwise", "flag"}
    exported_ids = {i for r in exported for i in r["lineage"]["feedback_ids"]}
    # the checkpoint learned from exactly those events (DPO holds nothing out by default)
    lineage = result.lineage
    assert lineage.checkpoint.name == "loop-tiny" and lineage.checkpoint.recipe == "dpo"
    assert lineage.checkpoint.datasets[0].export_id == result.export.export_id
    assert {e.id for e in lineage.feedback} == exported_ids
    assert {e.split for e in lineage.feedback} == {"train"}
    assert [x.id for x in lineage.exports] == [result.export.export_id]
    # downstream: the checkpoint's evaluation run, and the verdict that read it
    assert [r.id for r in lineage.runs] == [result.candidate.record.id]
    assert [v.outcome for v in lineage.verdicts] == [result.gate.outcome]
    used = {(r.side, r.run_id) for r in lineage.verdicts[0].runs}
    assert used == {("baseline", result.baseline.record.id), ("candidate", result.candidate.record.id)}
    # the other direction: which checkpoints learned from this flag?
    learned = feedback_lineage_report(store, f"feedback:{flags[0].id[:10]}")
    assert [(c.checkpoint.name, c.split) for c in learned.checkpoints] == [("loop-tiny", "train")]
    by_export = feedback_lineage_report(store, f"export:{result.export.export_id[:8]}")
    assert [(c.checkpoint.name, c.n_events) for c in by_export.checkpoints] == [("loop-tiny", len(exported_ids))]

    out = CliRunner().invoke(app, ["lineage", "ckpt:loop-tiny"], terminal_width=200)
    assert out.exit_code == 0, out.output
    for heading in ("1. feedback events", "2. exports", "3. datasets", "4. checkpoint", "5. evaluation", "6. gate"):
        assert heading in out.output
    assert flags[0].id[:8] in out.output and result.candidate.record.id[:8] in out.output
    as_json = CliRunner().invoke(app, ["lineage", "ckpt:loop-tiny", "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output) == json.loads(lineage.model_dump_json())
    out = CliRunner().invoke(app, ["lineage", f"feedback:{flags[0].id}"], terminal_width=200)
    assert out.exit_code == 0 and "ckpt:loop-tiny" in out.output
