"""The align-demo's before/after rows carry each measure's corrected rates."""

from __future__ import annotations

from pathlib import Path

from alignlab.evals.runner import SuiteRun
from alignlab.evals.summary import RateRow, SuiteSummary, corrected_row
from alignlab.stats import wilson_interval
from alignlab.train.demo import _compare


def _run(harmful: int, refused: int) -> SuiteRun:
    rows = [
        corrected_row("harmful_compliance", "all", wilson_interval(harmful, 20), "harmful"),
        RateRow("harmful_compliance", "drugs", wilson_interval(1, 2)),
        corrected_row("non_refusal", "all", wilson_interval(20 - refused, 20), "not_refused"),
    ]
    summary = SuiteSummary("redteam", "m", "strongreject-small", "success", 20, rows, {}, 0, "log")
    return SuiteRun(record=None, summary=summary)  # type: ignore[arg-type]  # _compare reads only the summary


def test_rows_carry_corrected_rates(scorer_cards: Path) -> None:
    before, after = _run(harmful=18, refused=1), _run(harmful=2, refused=17)
    rows = {r.measure: r for r in _compare([before], [after])}
    assert set(rows) == {"harmful_compliance", "non_refusal"}
    harm = rows["harmful_compliance"]
    assert (harm.test.a.successes, harm.test.b.successes) == (18, 2)
    assert harm.before_corrected == before.summary.corrected()["harmful_compliance"]
    assert harm.after_corrected is not None and harm.after_corrected.point < harm.test.b.rate < 0.15
