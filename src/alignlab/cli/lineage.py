"""``alignlab lineage`` (the loop's chain for a checkpoint, a feedback event or an export) and
``alignlab loop-demo`` (the loop end to end, then its lineage)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alignlab.store import CheckpointLineage, FeedbackLineage, GateSideRun

__all__ = ["lineage", "loop_demo", "register"]

console = Console()
_IDS = {"feedback", "interaction", "export", "run", "verdict", "sha256"}


def _short(value: str | None, n: int = 8) -> str:
    return (value or "")[:n]


def _table(title: str, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col in _IDS, min_width=8 if col in _IDS else None)
    for row in rows:
        # Feedback details and model names come from users: never let them be read as markup.
        table.add_row(*(escape(cell) for cell in row))
    return table


def print_checkpoint(report: CheckpointLineage) -> None:
    """Print feedback events → exports → datasets → checkpoint → runs → gate verdicts."""
    ckpt = report.checkpoint
    events = [
        (_short(e.id), e.kind, e.detail, _short(e.interaction_id), e.split, str(e.n_rows)) for e in report.feedback
    ]
    columns = ("feedback", "kind", "detail", "interaction", "split", "rows")
    console.print(_table(f"1. feedback events ({len(events)})", columns, events))
    exports = [
        (_short(x.id), f"{x.created_at:%Y-%m-%d %H:%M}", str(x.n_pairs), _pairs(x.by_source), x.path)
        for x in report.exports
    ]
    console.print(_table("2. exports", ("export", "created (UTC)", "pairs", "by source", "file"), exports))
    datasets = [(d.name, _short(d.sha256), str(d.n_rows), _short(d.export_id) or "-") for d in ckpt.datasets]
    console.print(_table("3. datasets", ("dataset", "sha256", "rows", "export"), datasets))
    parents = " ← ".join(f"{a.name} ({a.recipe})" for a in report.ancestors) or "none"
    console.print(
        f"[bold]4. checkpoint[/] ckpt:{escape(ckpt.name)}: recipe {ckpt.recipe}, config {report.config_hash}, "
        f"base {escape(ckpt.base_model)}, parent {escape(parents)}, created {ckpt.created_at:%Y-%m-%d %H:%M} UTC",
        highlight=False,
    )
    runs = [
        (_short(r.id), r.suite, r.status, str(r.n_samples), _rates(r.metrics), f"{r.started_at:%m-%d %H:%M}")
        for r in report.runs
    ]
    console.print(_table("5. evaluation runs", ("run", "suite", "status", "n", "rates", "started (UTC)"), runs))
    ours = {r.id for r in report.runs}
    verdicts = [(_short(v.id), v.outcome, _rules(v.rules), _used(v.runs, ours)) for v in report.verdicts]
    console.print(_table("6. gate verdicts", ("verdict", "outcome", "rules", "runs it read"), verdicts))


def _pairs(by_source: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(by_source.items())) or "-"


def _rates(metrics: dict[str, Any]) -> str:
    """The overall rates of a run (``measure successes/n``)."""
    rates = metrics.get("rates", [])
    shown = [
        f"{r['measure']} {r['successes']}/{r['n']}" for r in rates if isinstance(r, dict) and r.get("group") == "all"
    ]
    return ", ".join(shown) or "-"


def _num(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "n/a"


def _rules(rules: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in rules.items()) or "-"


def _used(runs: list[GateSideRun], ours: set[str]) -> str:
    # This checkpoint's runs are starred; a log made outside alignlab has no run id.
    return ", ".join(f"{r.side} {r.suite} {_short(r.run_id) or '(log)'}{'*' * (r.run_id in ours)}" for r in runs)


def print_feedback(report: FeedbackLineage) -> None:
    """Print the subject and the checkpoints that learned from it."""
    if report.event is not None:
        e = report.event
        console.print(
            f"feedback:{e.id} ({e.kind} {escape(e.detail)}) on interaction {e.interaction_id}, "
            f"{e.created_at:%Y-%m-%d %H:%M} UTC",
            highlight=False,
        )
    if report.export is not None:
        x = report.export
        console.print(f"export:{x.id}: {x.n_pairs} pairs ({_pairs(x.by_source)}) → {escape(x.path)}", highlight=False)
    rows = [
        (f"ckpt:{c.checkpoint.name}", c.checkpoint.recipe, c.dataset, c.split, str(c.n_events), str(c.n_rows or "-"))
        for c in report.checkpoints
    ]
    learned = [c for c in report.checkpoints if c.split == "train"]
    title = f"checkpoints that learned from it: {len({c.checkpoint.name for c in learned})}"
    console.print(_table(title, ("checkpoint", "recipe", "dataset", "split", "events", "rows"), rows))


def lineage(
    subject: Annotated[str, typer.Argument(help="ckpt:<name>, feedback:<id> or export:<id> (ids may be prefixes).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the lineage as JSON.")] = False,
) -> None:
    """The loop's chain: feedback → export → dataset → checkpoint → evaluations → gate verdicts."""
    from alignlab.settings import load_settings
    from alignlab.store import checkpoint_lineage_report, feedback_lineage_report, open_store

    store = open_store(load_settings().database_url)
    try:
        if subject.startswith("ckpt:"):
            report: CheckpointLineage | FeedbackLineage = checkpoint_lineage_report(
                store, subject.removeprefix("ckpt:")
            )
        else:
            report = feedback_lineage_report(store, subject)
    finally:
        store.close()
    if as_json:
        print(report.model_dump_json(indent=2))
    elif isinstance(report, CheckpointLineage):
        print_checkpoint(report)
    else:
        print_feedback(report)


def loop_demo(
    model: Annotated[str, typer.Option("--model", "-m", help="Model to serve, train and gate.")] = "default",
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Export, logs and trainer state.")] = Path("loop-demo"),
    name: Annotated[Optional[str], typer.Option(help="Checkpoint name (loop-<time> if omitted).")] = None,  # noqa: UP045
    prompts: Annotated[int, typer.Option(help="Prompts sent through the API (two answers each).", min=2)] = 12,
    steps: Annotated[int, typer.Option(help="DPO steps.", min=1)] = 4,
    limit: Annotated[int, typer.Option(help="Red-team samples evaluated per model.", min=1)] = 10,
) -> None:
    """Serve → feedback through the API → export → DPO → evaluate → gate → lineage, in one go."""
    from alignlab.loop_demo import LoopDemoConfig, run_loop_demo
    from alignlab.settings import load_settings
    from alignlab.store import open_store

    settings = load_settings()
    store = open_store(settings.database_url)
    config = LoopDemoConfig(
        model=model, out_dir=out_dir, name=name, n_prompts=prompts, dpo_steps=steps, eval_limit=limit
    )
    try:
        result = run_loop_demo(
            config, settings=settings, store=store, progress=lambda s: console.print(f"[bold]→ {s}[/]")
        )
    finally:
        store.close()
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(result.feedback.items()))
    console.print(f"{result.interactions} interactions, feedback on {sum(result.feedback.values())} prompts ({kinds})")
    x = result.export
    console.print(f"export:{x.export_id[:12]}: {x.pairs} pairs ({_pairs(x.by_source)}) → {escape(str(x.path))}")
    m = result.checkpoint.metrics
    console.print(f"{result.checkpoint.model_name}: DPO loss {_num(m.get('first_loss'))} → {_num(m.get('last_loss'))}")
    for side, run in (("baseline", result.baseline), ("candidate", result.candidate)):
        console.print(f"{side} {escape(run.record.model)}: {_rates(run.record.metrics)}", highlight=False)
    console.print(f"gate: {result.gate.outcome.upper()}")
    print_checkpoint(result.lineage)
    timings = ", ".join(f"{k} {v:.0f}s" for k, v in result.timings.items())
    console.print(f"timings: {timings}; total {sum(result.timings.values()):.0f}s")


def register(app: typer.Typer) -> None:
    """Add ``lineage`` and ``loop-demo`` to the main app."""
    app.command("lineage")(lineage)
    app.command("loop-demo")(loop_demo)
