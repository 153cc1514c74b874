"""``alignlab export …``: data out of the store (preference pairs from feedback)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from alignlab.cli._store import default_store

__all__ = ["export_app"]

console = Console()
export_app = typer.Typer(no_args_is_help=True, help="Export data from the store.")


@export_app.command("preferences")
def export_prefs(
    out: Annotated[Path, typer.Option(help="Output JSONL (TRL prompt/chosen/rejected + lineage).")],
    min_score_gap: Annotated[float, typer.Option(help="Score difference that makes a pair.")] = 2.0,
    implicit: Annotated[bool, typer.Option("--implicit", help="Also pair copied over regenerated answers.")] = False,
) -> None:
    """Turn pairwise, thumbs, score and flag feedback into preference pairs (a dataset: export:<id>)."""
    from alignlab.monitor import export_preferences

    summary = export_preferences(default_store(), out, min_score_gap=min_score_gap, include_implicit=implicit)
    detail = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_source.items())) or "no feedback yet"
    console.print(f"{summary.pairs} pairs → {summary.path} ({detail}); train on it as export:{summary.export_id[:12]}")
