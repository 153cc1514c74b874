"""``alignlab gate``: compare a candidate with a baseline under a policy; the exit code is the verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["gate"]

console = Console()
_STYLE = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}


def gate(
    policy: Annotated[Path, typer.Option(help="YAML gate policy (see docs/gate.md).")],
    baseline: Annotated[str, typer.Option(help="Baseline: an eval log, a directory of logs, or a model name.")],
    candidate: Annotated[str, typer.Option(help="Candidate: an eval log, a directory of logs, or a model name.")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where reports (and model-run logs) go.")] = Path(
        "gate-report"
    ),
    limit: Annotated[Optional[int], typer.Option(help="Samples per suite for model runs.", min=1)] = None,  # noqa: UP045
) -> None:
    """Gate a candidate against a baseline: exit 0 pass, 1 fail, 3 inconclusive, 2 bad input."""
    from alignlab.gate import load_policy, run_gate, write_reports
    from alignlab.settings import load_settings

    result = run_gate(load_policy(policy), baseline, candidate, settings=load_settings(), out_dir=out_dir, limit=limit)
    table = Table(title=f"alignlab gate (α={result.alpha}, Holm; {1 - 2 * result.alpha:.0%} CIs)")
    for col in ("rule", "check", "baseline", "candidate", "estimate [CI]", "p (Holm)", "verdict"):
        table.add_column(col)
    from alignlab.gate import format_estimate, format_p, format_sides

    for r in result.rules:
        for c in r.checks:
            rates = format_sides(r, c)
            table.add_row(
                r.name, c.name, *rates, format_estimate(c), format_p(c), f"[{_STYLE[c.verdict]}]{c.verdict}[/]"
            )
    console.print(table)
    for p in result.pairings:
        if p.dropped:
            console.print(f"{p.suite}: compared {len(p.samples)} shared samples, dropped {p.dropped} unpaired")
        for note in p.notes:
            console.print(f"[yellow]{p.suite}: {note}[/]", highlight=False)
    for r in result.rules:
        regressed = sum(f.direction == "regressed" for f in r.flips)
        if r.flips:
            console.print(f"{r.name}: {regressed} regressed, {len(r.flips) - regressed} improved")
    files = write_reports(result, out_dir)
    console.print(f"reports: {files.markdown}, {files.html}, {files.junit}, {files.json}")
    console.print(f"[{_STYLE[result.outcome]}]{result.outcome.upper()}[/] (exit {result.exit_code})")
    raise typer.Exit(result.exit_code)
