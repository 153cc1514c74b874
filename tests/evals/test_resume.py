"""An interrupted run keeps its finished samples and resumes without redoing them."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import read_eval_log, write_eval_log

from alignlab.evals.runner import resume_suite, run_suite
from alignlab.settings import load_settings
from alignlab.store import list_runs, open_store


def test_resume_skips_finished_samples(alignlab_env: Path, tiny_model_dir: Path) -> None:
    settings = load_settings()
    store = open_store(settings.database_url)
    full = run_suite(
        "redteam", str(tiny_model_dir), settings=settings, store=store, limit=5, max_tokens=4, display="none"
    )
    # Make the log look like a run cancelled after two samples (what Ctrl-C leaves behind).
    log = read_eval_log(full.summary.log_location)
    assert log.samples is not None
    kept = {s.id: s.uuid for s in log.samples[:2]}
    log.samples = log.samples[:2]
    log.status = "cancelled"
    log.results = None
    partial = Path(settings.log_dir) / "partial.eval"
    write_eval_log(log, str(partial))

    resumed = resume_suite(str(partial), store=store, display="none")

    assert resumed.record.status == "success"
    assert resumed.summary.n_samples == 5
    final = read_eval_log(resumed.summary.log_location)
    assert final.samples is not None
    by_id = {s.id: s.uuid for s in final.samples}
    assert len(by_id) == 5
    # The two finished samples were carried over, not generated again.
    assert all(by_id[sid] == uuid for sid, uuid in kept.items())
    assert len(list_runs(store)) == 2
