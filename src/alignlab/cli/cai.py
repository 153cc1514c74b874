"""``alignlab cai run|status|constitution``: thin adapters over :mod:`alignlab.cai`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from alignlab.settings import load_settings

__all__ = ["cai_app"]

cai_app = typer.Typer(
    no_args_is_help=True,
    help="Constitutional AI: critique → revise → SFT → AI preferences → preference model → RLAIF → evaluate.",
)
console = Console()
STEPS = "critique, sft, label, preference-model, rlaif, evaluate, report"


@cai_app.command("run")
def run(
    config: Annotated[Path, typer.Option("--config", "-c", help="cai.yaml (see examples/cai/).")],
    until: Annotated[Optional[str], typer.Option(help=f"Stop after this step ({STEPS}).")] = None,  # noqa: UP045
    step: Annotated[Optional[str], typer.Option(help="Run only this step (its inputs must exist).")] = None,  # noqa: UP045
) -> None:
    """Run the chain (or part of it); finished steps are skipped, so the same command resumes."""
    from alignlab.cai import load_cai_config, run_pipeline
    from alignlab.store import open_store

    cfg = load_cai_config(config)
    settings = load_settings()

    def show(stage: str, event: str) -> None:
        console.print(f"[bold]{stage}[/]: {event}")

    state = run_pipeline(
        cfg, settings=settings, store=open_store(settings.database_url), until=until, step=step, on_stage=show
    )
    console.print(_status_table(state))
    console.print(f"run directory: {state.run_dir}")


@cai_app.command("status")
def status(run_name: Annotated[str, typer.Argument(help="Run name or run directory.")]) -> None:
    """Each step's state, artefacts, model calls and time."""
    from alignlab.cai import read_manifest

    state = read_manifest(run_name, load_settings())
    console.print(_status_table(state))
    console.print(f"run directory: {state.run_dir}")


def _status_table(state: object) -> Table:
    from alignlab.cai import STAGES, RunState

    assert isinstance(state, RunState)
    stages = state.manifest.get("stages", {})
    table = Table(title=f"cai run {state.manifest.get('name', '')}")
    for col in ("step", "status", "artefacts", "calls (new/cached)", "seconds"):
        table.add_column(col)
    for stage in STAGES:
        entry = stages.get(stage, {})
        artefacts = [*entry.get("files", {}).values(), *(f"ckpt:{c}" for c in entry.get("checkpoints", {}).values())]
        calls = ", ".join(f"{p} {c['new']}/{c['cached']}" for p, c in entry.get("calls", {}).items())
        seconds = entry.get("seconds")
        table.add_row(
            stage,
            state.status(stage),
            ", ".join(artefacts),
            calls,
            f"{seconds:.0f}" if isinstance(seconds, int | float) else "",
        )
    return table


@cai_app.command("constitution")
def constitution(
    check: Annotated[Optional[Path], typer.Option(help="Validate this constitution YAML file.")] = None,  # noqa: UP045
    name: Annotated[str, typer.Option(help="Show a built-in constitution: default or palms-values.")] = "default",
) -> None:
    """Show a built-in constitution, or check a file (exit 2 naming the bad principle and field)."""
    from alignlab.cai import load_constitution

    loaded = load_constitution(str(check) if check is not None else name)
    if check is not None:
        console.print(f"{check}: ok, {len(loaded.principles)} principles ({loaded.name})")
        return
    for p in loaded.principles:
        console.print(f"[bold]{p.name}[/] ({p.kind})")
        console.print(f"  critique: {p.critique_request}", highlight=False)
        console.print(f"  revision: {p.revision_request}", highlight=False)
        console.print(f"  compare:  {p.comparison}", highlight=False)
