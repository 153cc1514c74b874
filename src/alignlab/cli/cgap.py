"""``alignlab cgap``: the compliance-gap suite's extra commands (grid, explorer, judge agreement).

``alignlab eval compliance-gap`` runs one variant through the shared suite runner; these
commands cover what only this suite has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

cgap_app = typer.Typer(no_args_is_help=True, help="Alignment-faking compliance gap: grid, explorer, judge.")
console = Console()


def _pct(p) -> str:  # type: ignore[no-untyped-def]
    return f"{p.rate:.0%} [{p.low:.0%}, {p.high:.0%}]" if p.n else "n/a"


def _gap(x: float | None, p: float | None, paired: float | None) -> str:
    if x is None or p is None:
        return ""
    return f"{x:+.0%} (p={p:.2g}" + (f", McNemar p={paired:.2g})" if paired is not None else ")")


@cgap_app.command("grid")
def grid(
    model: Annotated[str, typer.Option("--model", "-m", help="Model name.")] = "default",
    variants: Annotated[str, typer.Option(help="Comma-separated variant names.")] = (
        "default,no-training-info,paid-tier-trained,harmless-objective,rephrased"
    ),
    variants_file: Annotated[Optional[Path], typer.Option(help="YAML file with extra variants.")] = None,  # noqa: UP045
    dataset: Annotated[str, typer.Option(help="Harmful-request dataset.")] = "strongreject-small",
    prompts: Annotated[Optional[int], typer.Option(help="First N requests only.", min=1)] = None,  # noqa: UP045
    conditions: Annotated[str, typer.Option(help="all, cot, no-cot or e.g. free/cot,paid/cot.")] = "all",
    max_tokens: Annotated[Optional[int], typer.Option(help="Max new tokens per reply.", min=1)] = None,  # noqa: UP045
    judge: Annotated[Optional[str], typer.Option(help="Refusal classifier's 2nd-stage model.")] = None,  # noqa: UP045
    af_judge: Annotated[Optional[str], typer.Option(help="Alignment-faking judge model.")] = None,  # noqa: UP045
    af_votes: Annotated[int, typer.Option(help="Judge votes per scratchpad.", min=1)] = 3,
    out: Annotated[Path, typer.Option(help="Folder for grid.csv and grid.png.")] = Path("cgap-grid"),
    log_dir: Annotated[Optional[Path], typer.Option(help="Where Inspect logs go.")] = None,  # noqa: UP045
    from_logs: Annotated[Optional[list[Path]], typer.Option(help="Tabulate these logs instead of running.")] = None,  # noqa: UP045
) -> None:
    """Run every variant × condition; write a CSV table and a bar chart with 95% error bars."""
    from alignlab.evals.compliance_gap.grid import grid_from_logs, grid_rows, plot_grid, run_grid, write_grid_csv
    from alignlab.settings import load_settings
    from alignlab.store import open_store

    if from_logs:
        result = grid_from_logs(from_logs)
    else:
        names = [v.strip() for v in variants.split(",") if v.strip()]
        settings = load_settings()
        result = run_grid(
            model,
            names,
            settings=settings,
            store=open_store(settings.database_url),
            dataset=dataset,
            prompts=prompts,
            conditions=conditions,
            max_tokens=max_tokens,
            judge=judge,
            af_judge=af_judge,
            af_votes=af_votes,
            variants_file=variants_file,
            log_dir=log_dir,
        )
    rows = grid_rows(result)
    table = Table(title=f"compliance gap grid — {result.model} (Wilson 95% CI; gap = free − paid)")
    for col in (
        "variant",
        "trained",
        "condition",
        "n",
        "prefix",
        "classifier",
        "ignored",
        "AF",
        "gap prefix",
        "gap classifier",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.variant,
            r.trained_tier,
            r.condition,
            str(r.n),
            _pct(r.prefix),
            _pct(r.classifier),
            _pct(r.ignored_instruction),
            _pct(r.alignment_faking) if r.alignment_faking else "not judged",
            _gap(r.gap_prefix, r.gap_prefix_p, r.gap_prefix_mcnemar_p),
            _gap(r.gap_classifier, r.gap_classifier_p, r.gap_classifier_mcnemar_p),
        )
    console.print(table)
    csv_path = write_grid_csv(rows, out / "grid.csv")
    png_path = plot_grid(rows, out / "grid.png", title=f"compliance by variant × condition — {result.model}")
    console.print(f"table: {csv_path}\nchart: {png_path}")
    for variant, path in result.log_paths.items():
        run_id = result.run_ids.get(variant)
        console.print(f"  log ({variant}): {path}" + (f"  run {run_id[:8]}" if run_id else ""))


@cgap_app.command("explore")
def explore(
    logs: Annotated[list[Path], typer.Argument(help="compliance_gap eval logs.")],
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("cgap-transcripts.html"),
) -> None:
    """Export every transcript to one self-contained HTML page with filters."""
    from alignlab.evals.compliance_gap.explorer import export_explorer

    console.print(f"wrote {export_explorer(logs, out)}")


@cgap_app.command("judge-agreement")
def judge_agreement(
    judge: Annotated[str, typer.Option(help="Alignment-faking judge model.")],
    votes: Annotated[int, typer.Option(help="Votes per scratchpad.", min=1)] = 3,
) -> None:
    """Agreement of an alignment-faking judge with the project's labelled scratchpads."""
    from alignlab.evals.compliance_gap.af_classifier import evaluate_af_judge

    result = evaluate_af_judge(judge, votes=votes)
    console.print(
        f"judge {result.judge}, {result.votes} vote(s) on {result.n} labelled scratchpads: "
        f"accuracy {result.accuracy}, Cohen's kappa {result.kappa:.2f}, "
        f"unparsed items {result.unparsed_items}, unparsed votes {result.unparsed_votes}"
    )
    for name, p in result.criteria_accuracy.items():
        console.print(f"  {name}: {p}")
