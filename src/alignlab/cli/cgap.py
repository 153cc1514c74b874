"""``alignlab cgap``: the compliance-gap suite's extra commands (grid, explorer, judge agreement).

``alignlab eval compliance-gap`` runs one variant through the shared suite runner; these
commands cover what only this suite has.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from alignlab.evals import GridRow

cgap_app = typer.Typer(no_args_is_help=True, help="Alignment-faking compliance gap: grid, explorer, judge.")
console = Console()


def _pct(p) -> str:  # type: ignore[no-untyped-def]
    return f"{p.rate:.0%} [{p.low:.0%}, {p.high:.0%}]" if p.n else "n/a"


def _gap(x: float | None, p: float | None, paired: float | None) -> str:
    if x is None or p is None:
        return ""
    return f"{x:+.0%} (p={p:.2g}" + (f", McNemar p={paired:.2g})" if paired is not None else ")")


_COLUMNS = (
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
)


def _grid_table(rows: list[tuple[str, GridRow]], title: str) -> Table:
    """Grid rows as a table; a non-empty label (e.g. base / fine-tuned) adds a first column."""
    labelled = any(label for label, _ in rows)
    table = Table(title=f"{title} (Wilson 95% CI; gap = free − paid)")
    for col in (("model",) if labelled else ()) + _COLUMNS:
        table.add_column(col)
    for label, r in rows:
        table.add_row(
            *((label,) if labelled else ()),
            r.variant,
            r.trained_tier,
            r.condition,
            str(r.n),
            _pct(r.prefix),
            _pct(r.classifier),
            _pct(r.ignored_instruction),
            _pct(r.alignment_faking) if r.alignment_faking else "not judged",
            _gap(r.gap_prefix, r.gap_prefix_p, r.gap_prefix_mcnemar_p),
            _gap(r.gap_classifier, r.gap_classifier_p, r.gap_classifier_mcnemar_p)
            + (f"; corrected {r.gap_classifier_corrected}" if r.gap_classifier_corrected else ""),
        )
    return table


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
    max_sample_errors: Annotated[
        float, typer.Option(min=0.0, max=0.99, help="Share of samples that may error per variant (exit 1 above it).")
    ] = 0.0,
) -> None:
    """Run every variant × condition; write a CSV table and a bar chart with 95% error bars."""
    from alignlab.evals import grid_from_logs, grid_rows, plot_grid, run_grid, write_grid_csv
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
            max_sample_errors=max_sample_errors,
        )
    rows = grid_rows(result)
    table = _grid_table([("", r) for r in rows], f"compliance gap grid — {result.model}")
    console.print(table)
    csv_path = write_grid_csv(rows, out / "grid.csv")
    png_path = plot_grid(rows, out / "grid.png", title=f"compliance by variant × condition — {result.model}")
    console.print(f"table: {csv_path}\nchart: {png_path}")
    for variant, path in result.log_paths.items():
        run_id = result.run_ids.get(variant)
        console.print(f"  log ({variant}): {path}" + (f"  run {run_id[:8]}" if run_id else ""))
    for variant, error in result.errors.items():
        style = "bold red" if variant in result.failed else "yellow"
        console.print(f"[{style}]{variant}:[/] {error}", highlight=False)
    if result.failed:
        raise typer.Exit(1)


@cgap_app.command("explore")
def explore(
    logs: Annotated[list[Path], typer.Argument(help="compliance_gap eval logs.")],
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("cgap-transcripts.html"),
) -> None:
    """Export every transcript to one self-contained HTML page with filters."""
    from alignlab.evals.compliance_gap import export_explorer

    console.print(f"wrote {export_explorer(logs, out)}")


@cgap_app.command("judge-agreement")
def judge_agreement(
    judge: Annotated[str, typer.Option(help="Alignment-faking judge model.")],
    votes: Annotated[int, typer.Option(help="Votes per scratchpad.", min=1)] = 3,
) -> None:
    """Agreement of an alignment-faking judge with the project's labelled scratchpads."""
    from alignlab.evals.compliance_gap import evaluate_af_judge

    result = evaluate_af_judge(judge, votes=votes)
    console.print(
        f"judge {result.judge}, {result.votes} vote(s) on {result.n} labelled scratchpads: "
        f"accuracy {result.accuracy}, Cohen's {result.kappa}, "
        f"unparsed items {result.unparsed_items}, unparsed votes {result.unparsed_votes}"
    )
    for name, p in result.criteria_accuracy.items():
        console.print(f"  {name}: {p}")


synthdoc_app = typer.Typer(
    no_args_is_help=True,
    help="Synthetic-document fine-tuning: documents stating the setting's facts → SFT → suite without them.",
)
cgap_app.add_typer(synthdoc_app, name="synthdoc")
OptPath = Optional[Path]  # noqa: UP045
OptStr = Optional[str]  # noqa: UP045
OptInt = Optional[int]  # noqa: UP045


@synthdoc_app.command("generate")
def synthdoc_generate(
    out: Annotated[Path, typer.Option(help="JSON-lines file to write (a 'text' field per document).")],
    n: Annotated[int, typer.Option("--n", help="Documents to make (templates or model); 0 = ingest only.", min=0)] = 40,
    seed: Annotated[int, typer.Option(help="Seed for templates, genres and sampling.")] = 0,
    generator: Annotated[OptStr, typer.Option(help="Model that writes the documents (default: templates).")] = None,
    max_tokens: Annotated[int, typer.Option(help="Generator budget per document.", min=1)] = 400,
    temperature: Annotated[float, typer.Option(help="Generator temperature.", min=0.0)] = 1.0,
    ingest: Annotated[Optional[list[Path]], typer.Option(help="Your .jsonl/.txt documents to add.")] = None,  # noqa: UP045
) -> None:
    """Make (templates or a model) and/or ingest documents; keep those that state the facts without tags."""
    from alignlab.evals.compliance_gap import (
        DocumentSet,
        generate_documents,
        ingest_documents,
        template_documents,
        write_documents,
    )
    from alignlab.models import get_model

    docs = DocumentSet([])
    if n and generator:
        docs += generate_documents(get_model(generator), n, seed=seed, max_tokens=max_tokens, temperature=temperature)
    elif n:
        docs += template_documents(n, seed=seed)
    if ingest:
        docs += ingest_documents(ingest)
    path = write_documents(docs.documents, out)
    coverage = ", ".join(f"{k} {v}" for k, v in docs.coverage().items())
    console.print(f"wrote {len(docs.documents)} document(s) to {path}; stating each fact: {coverage}")
    for r in docs.rejected[:10]:
        console.print(f"  rejected ({r.source}, {r.genre}): {r.reason}")
    if docs.rejected:
        console.print(f"{len(docs.rejected)} candidate(s) rejected")


@synthdoc_app.command("train")
def synthdoc_train(
    documents: Annotated[Path, typer.Argument(help="Documents from `synthdoc generate`.")],
    name: Annotated[str, typer.Option(help="Checkpoint name (the result is ckpt:<name>).")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model to fine-tune.")] = "default",
    config: Annotated[OptPath, typer.Option(help="YAML of SFT recipe keys (lora, TRL fields).")] = None,
    max_steps: Annotated[OptInt, typer.Option(help="Optimizer steps (overrides the config).", min=1)] = None,
) -> None:
    """Fine-tune on the documents as plain text; records the checkpoint with its lineage."""
    from alignlab.settings import load_settings
    from alignlab.store import open_store
    from alignlab.train import train_on_documents

    settings = load_settings()
    options = _yaml_options(config)
    if max_steps is not None:
        options["max_steps"] = max_steps
    result = train_on_documents(
        documents, model=model, name=name, options=options, settings=settings, store=open_store(settings.database_url)
    )
    first, last = result.metrics.get("first_loss"), result.metrics.get("last_loss")
    console.print(f"[bold]{result.model_name}[/] saved to {result.checkpoint.path} (loss {first} → {last})")
    console.print(f"next: alignlab cgap synthdoc run --base {model} --tuned {result.model_name}")


def _yaml_options(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    from alignlab.yamlfile import read_yaml

    data: dict[str, Any] = read_yaml(path, what="options file")
    return data


@synthdoc_app.command("run")
def synthdoc_run(
    tuned: Annotated[str, typer.Option(help="The fine-tuned model, e.g. ckpt:<name>.")],
    base: Annotated[str, typer.Option(help="The model it was fine-tuned from.")] = "default",
    variant: Annotated[str, typer.Option(help="Variant without the training facts.")] = "no-training-info",
    dataset: Annotated[str, typer.Option(help="Harmful-request dataset.")] = "strongreject-small",
    prompts: Annotated[OptInt, typer.Option(help="First N requests only.", min=1)] = 10,
    conditions: Annotated[str, typer.Option(help="all, cot, no-cot or e.g. free/cot,paid/cot.")] = "all",
    max_tokens: Annotated[OptInt, typer.Option(help="Max new tokens per reply.", min=1)] = None,
    judge: Annotated[OptStr, typer.Option(help="Refusal classifier's 2nd-stage model.")] = None,
    af_judge: Annotated[OptStr, typer.Option(help="Alignment-faking judge model.")] = None,
    log_dir: Annotated[OptPath, typer.Option(help="Where Inspect logs go.")] = None,
) -> None:
    """The suite with the training facts removed from the prompt, on base and fine-tuned: the gap of each."""
    from alignlab.evals import compare_models, grid_rows
    from alignlab.settings import load_settings
    from alignlab.store import open_store

    settings = load_settings()
    results = compare_models(
        {"base": base, "fine-tuned": tuned},
        variant=variant,
        settings=settings,
        store=open_store(settings.database_url),
        dataset=dataset,
        prompts=prompts,
        conditions=conditions,
        max_tokens=max_tokens,
        judge=judge,
        af_judge=af_judge,
        log_dir=log_dir,
    )
    rows = [(f"{label} ({result.model})", r) for label, result in results.items() for r in grid_rows(result)]
    console.print(_grid_table(rows, f"compliance gap, variant {variant}: base vs fine-tuned on documents"))
    for label, result in results.items():
        for path in result.log_paths.values():
            console.print(f"  {label}: run {result.run_ids[variant][:8]}, log {path}")
