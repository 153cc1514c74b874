"""Evaluations: the suites (Inspect tasks), their registry, runs and run summaries.

The public face of the package: import from ``alignlab.evals`` rather than its modules.
Subpackages have their own faces: :mod:`alignlab.evals.judges`, :mod:`alignlab.evals.fairness`,
:mod:`alignlab.evals.compliance_gap`. Names load on first use (the suites import Inspect and the
datasets, seconds on a small machine), which also keeps importing one evals module from pulling in
the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alignlab.evals.compliance_grid import (
        GridResult,
        GridRow,
        compare_models,
        grid_from_logs,
        grid_rows,
        plot_grid,
        run_grid,
        write_grid_csv,
    )
    from alignlab.evals.metrics import Event, Measure, event_happened, rate_of
    from alignlab.evals.runner import Display, SuiteRun, resume_suite, run_suite
    from alignlab.evals.suites import (
        SuiteSpec,
        get_suite,
        overrefusal,
        redteam,
        refusal_classifier,
        suite_for_task,
        suite_names,
        summarize_log,
    )
    from alignlab.evals.summary import DiffRow, RateRow, SuiteSummary, label_counts, sample_label

__all__ = [
    "DiffRow",
    "Display",
    "Event",
    "GridResult",
    "GridRow",
    "Measure",
    "RateRow",
    "SuiteRun",
    "SuiteSpec",
    "SuiteSummary",
    "compare_models",
    "event_happened",
    "get_suite",
    "grid_from_logs",
    "grid_rows",
    "label_counts",
    "overrefusal",
    "plot_grid",
    "rate_of",
    "redteam",
    "refusal_classifier",
    "resume_suite",
    "run_grid",
    "run_suite",
    "sample_label",
    "suite_for_task",
    "suite_names",
    "summarize_log",
    "write_grid_csv",
]

_HOME = {
    **dict.fromkeys(
        (
            "GridResult",
            "GridRow",
            "compare_models",
            "grid_from_logs",
            "grid_rows",
            "plot_grid",
            "run_grid",
            "write_grid_csv",
        ),
        "compliance_grid",
    ),
    **dict.fromkeys(("Event", "Measure", "event_happened", "rate_of"), "metrics"),
    **dict.fromkeys(("Display", "SuiteRun", "resume_suite", "run_suite"), "runner"),
    **dict.fromkeys(
        (
            "SuiteSpec",
            "get_suite",
            "overrefusal",
            "redteam",
            "refusal_classifier",
            "suite_for_task",
            "suite_names",
            "summarize_log",
        ),
        "suites",
    ),
    **dict.fromkeys(("DiffRow", "RateRow", "SuiteSummary", "label_counts", "sample_label"), "summary"),
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"alignlab.evals.{_HOME[name]}"), name)
    raise AttributeError(f"module 'alignlab.evals' has no attribute {name!r}")
