"""The ``alignlab`` command: a thin adapter that parses options, calls one library
function and formats the result."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from alignlab.cli.cai import cai_app
from alignlab.cli.cgap import cgap_app
from alignlab.cli.explain import explain_app
from alignlab.cli.fairness import fairness_app
from alignlab.cli.gate import gate as gate_cmd
from alignlab.cli.judge import judge_app
from alignlab.cli.lineage import register as register_lineage
from alignlab.cli.scorers import classify_app, scorers_app
from alignlab.cli.train import register as register_train
from alignlab.errors import AlignlabError
from alignlab.settings import Settings, load_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="alignlab: alignment engineering workbench.")
runs_app = typer.Typer(no_args_is_help=True, help="Past evaluation runs recorded in the store.")
app.add_typer(classify_app, name="classify")
app.add_typer(scorers_app, name="scorers")
app.add_typer(runs_app, name="runs")
app.add_typer(cgap_app, name="cgap")
app.add_typer(cai_app, name="cai")
app.command("gate")(gate_cmd)
app.add_typer(judge_app, name="judge")
app.add_typer(fairness_app, name="fairness")
app.add_typer(explain_app, name="explain")
register_train(app)
register_lineage(app)
console = Console()
err_console = Console(stderr=True)

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model name: default, ckpt:<name>, provider/model.")]


@app.callback()
def _engine_options(
    engine: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Local engine: auto (OpenVINO, else transformers), openvino, transformers."),
    ] = None,
    precision: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Local precision: exact (= transformers fp32 greedy), bf16, int8, int4."),
    ] = None,
) -> None:
    """alignlab: alignment engineering workbench."""
    from alignlab.models.engines.choice import choose_engine

    choose_engine({"engine": engine, "precision": precision})  # one-line error for a bad value
    if engine:
        os.environ["ALIGNLAB_ENGINE"] = engine
    if precision:
        os.environ["ALIGNLAB_PRECISION"] = precision


LimitOpt = Annotated[Optional[int], typer.Option(help="Evaluate only the first N samples.", min=1)]  # noqa: UP045
SeedOpt = Annotated[int, typer.Option(help="Generation seed.")]
LogDirOpt = Annotated[Optional[Path], typer.Option("--log-dir", help="Where Inspect logs go.")]  # noqa: UP045
JudgeOpt = Annotated[Optional[str], typer.Option(help="Model for the refusal classifier's 2nd stage.")]  # noqa: UP045
MaxErrorsOpt = Annotated[
    float,
    typer.Option(
        "--max-sample-errors",
        min=0.0,
        max=0.99,
        help="Share of samples that may error with the run still a success (exit 1 above it, or when all errored).",
    ),
]


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    from alignlab.store import open_store

    return open_store(settings.database_url)


def _corrected_cells(row) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    c = row.corrected
    if c is None:
        return "", ""
    if not c.correctable:
        return "n/a", ""
    return f"{c.point:.1%}", f"[{c.low:.1%}, {c.high:.1%}]"


def _rate_table(summaries: list) -> Table:  # type: ignore[type-arg]
    table = Table(title="alignlab results (Wilson 95% CI; corrected: for the scorer's error, 95% CI)")
    for col in ("suite", "measure", "group", "rate", "95% CI", "corrected", "corrected CI", "n"):
        table.add_column(col, justify="right" if col in ("rate", "corrected", "n") else "left")
    notes: dict[str, str] = {}
    for s in summaries:
        for row in s.rows:
            p = row.proportion
            if not p.n:
                continue
            style = "bold" if row.group == "all" else "dim"
            ci = f"[{p.low:.1%}, {p.high:.1%}]"
            rate = f"{p.rate:.1%}" if p.n else "n/a"
            table.add_row(s.suite, row.measure, row.group, rate, ci, *_corrected_cells(row), str(p.n), style=style)
            if row.group == "all" and row.corrected is not None and row.corrected.note:
                notes[f"{s.suite} {row.measure}"] = row.corrected.note
    if notes:
        table.caption = "\n".join(f"{k}: {v}" for k, v in notes.items())
    return table


@app.command("eval")
def eval_cmd(
    suite: Annotated[str, typer.Argument(help="Suite name: redteam, overrefusal, compliance-gap.")],
    model: ModelOpt = "default",
    dataset: Annotated[Optional[str], typer.Option(help="Dataset name (suite default if omitted).")] = None,  # noqa: UP045
    limit: LimitOpt = None,
    seed: SeedOpt = 0,
    log_dir: LogDirOpt = None,
    judge: JudgeOpt = None,
    model_base_url: Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server.")] = None,  # noqa: UP045
    max_tokens: Annotated[Optional[int], typer.Option(help="Max new tokens per answer.", min=1)] = None,  # noqa: UP045
    resume: Annotated[Optional[Path], typer.Option(help="Resume an interrupted run from its log.")] = None,  # noqa: UP045
    max_sample_errors: MaxErrorsOpt = 0.0,
) -> None:
    """Evaluate a model on a suite; prints rates with 95% CIs and records the run (exit 1 if samples errored)."""
    from alignlab.evals import resume_suite, run_suite

    settings = load_settings()
    store = _store(settings)
    if resume is not None:
        run = resume_suite(str(resume), store=store, max_sample_errors=max_sample_errors)
    else:
        run = run_suite(
            suite,
            model,
            settings=settings,
            store=store,
            dataset=dataset,
            limit=limit,
            seed=seed,
            judge=judge,
            log_dir=log_dir,
            base_url=model_base_url,
            max_tokens=max_tokens,
            max_sample_errors=max_sample_errors,
        )
    _report([run])


def _diff_table(summaries: list) -> Table | None:  # type: ignore[type-arg]
    rows = [(s, d) for s in summaries for d in s.diffs]
    if not rows:
        return None
    table = Table(title="differences (Newcombe 95% CI; z-test, or Fisher exact for small counts)")
    for col in ("suite", "measure", "group", "difference", "95% CI", "p", "test", "corrected [95% CI]", "note"):
        table.add_column(col, justify="right" if col in ("difference", "p") else "left")
    for s, d in rows:
        t = d.test
        table.add_row(
            s.suite,
            d.measure,
            d.group,
            f"{d.label}: {t.difference:+.1%}",
            f"[{t.low:+.1%}, {t.high:+.1%}]",
            f"{t.p_value:.3g}",
            t.method,
            "" if d.corrected is None else str(d.corrected),
            "; ".join(n for n in (d.note, d.corrected.note if d.corrected else "") if n),
        )
    return table


def _report(runs: list) -> None:  # type: ignore[type-arg]
    """Print the rate table; exit 130 (keeping the partial log) when a run was interrupted."""
    console.print(_rate_table([r.summary for r in runs]))
    if (diffs := _diff_table([r.summary for r in runs])) is not None:
        console.print(diffs)
    for r in runs:
        counts = {**r.summary.labels, **r.summary.harm_labels}
        labels = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        console.print(f"[bold]{r.summary.suite}[/] run {r.record.id[:8]} ({r.record.status}): {labels}")
        console.print(f"  log: {r.summary.log_location}")
        if r.record.status == "cancelled":
            console.print(
                f"  interrupted — resume with: alignlab eval {r.summary.suite} --resume {r.summary.log_location}"
            )
        if r.record.error:
            style = "bold red" if r.failed else "yellow"
            err_console.print(f"[{style}]{r.summary.suite} run {r.record.id[:8]}:[/] {r.record.error}", highlight=False)
    if any(r.record.status == "cancelled" for r in runs):
        sys.stdout.flush()
        sys.stderr.flush()
        # Skip interpreter finalisation: the generation thread may still be inside torch,
        # and tearing it down aborts the process ("terminate called without an active exception").
        os._exit(130)
    if any(r.failed for r in runs):
        raise typer.Exit(1)


@app.command()
def demo(
    model: ModelOpt = "default",
    limit: LimitOpt = None,
    log_dir: LogDirOpt = None,
    max_tokens: Annotated[int, typer.Option(help="Max new tokens per answer.", min=1)] = 96,
) -> None:
    """The main job: harmful compliance and over-refusal on the built-in datasets.

    The red-team requests are generated once: over-refusal here uses only the safe
    look-alikes (``alignlab-overrefusal`` adds the harmful contrasts for a standalone run).
    """
    from alignlab.evals import run_suite

    settings = load_settings()
    store = _store(settings)
    runs = [
        run_suite(
            suite,
            model,
            settings=settings,
            store=store,
            dataset=dataset,
            limit=limit,
            log_dir=log_dir,
            max_tokens=max_tokens,
        )
        for suite, dataset in (("redteam", "alignlab-redteam"), ("overrefusal", "alignlab-lookalikes"))
    ]
    _report(runs)


@runs_app.command("list")
def runs_list(
    suite: Annotated[Optional[str], typer.Option(help="Only this suite.")] = None,  # noqa: UP045
    model: Annotated[Optional[str], typer.Option(help="Only this model.")] = None,  # noqa: UP045
    limit: Annotated[int, typer.Option(help="How many.", min=1)] = 20,
) -> None:
    """List recent runs, newest first."""
    from alignlab.store import list_runs

    table = Table(title="runs")
    for col in ("id", "started", "suite", "model", "dataset", "status", "n", "headline"):
        table.add_column(col)
    for r in list_runs(_store(load_settings()), suite=suite, model=model, limit=limit):
        rates = [x for x in r.metrics.get("rates", []) if x.get("group") == "all"]
        headline = "; ".join(
            f"{x['measure']} {x['rate']:.1%}"
            + (f" (corrected {c['rate']:.1%})" if (c := x.get("corrected")) and c.get("rate") is not None else "")
            for x in rates
            if x.get("n")
        )
        if not headline:  # suites without an overall rate (compliance-gap) headline their differences
            diffs = r.metrics.get("differences", [])
            variant = [f"variant {r.config['variant']}"] if r.config.get("variant") else []
            headline = "; ".join(variant + [f"{d['measure']}/{d['group']} {d['difference']:+.1%}" for d in diffs])
        table.add_row(
            r.id[:8],
            f"{r.started_at:%Y-%m-%d %H:%M}",
            r.suite,
            r.model,
            r.dataset,
            r.status,
            str(r.n_samples),
            headline,
        )
    console.print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="Run id or unique prefix.")]) -> None:
    """Show one run in full (JSON)."""
    from alignlab.store import get_run

    console.print_json(json.dumps(get_run(_store(load_settings()), run_id).model_dump(mode="json")))


@app.command()
def models() -> None:
    """List model names."""
    from alignlab.models import list_models

    for name, desc in list_models().items():
        console.print(f"[bold]{name}[/]  {desc}")


@app.command()
def datasets() -> None:
    """List dataset names."""
    from alignlab.data import dataset_names, get_dataset_spec

    for name in dataset_names():
        spec = get_dataset_spec(name)
        console.print(f"[bold]{name}[/]  {spec.description} ({spec.license}{', built in' if spec.builtin else ''})")


@app.command()
def suites() -> None:
    """List suite names."""
    from alignlab.evals import get_suite, suite_names

    for name in suite_names():
        spec = get_suite(name)
        console.print(f"[bold]{name}[/]  {spec.description} (default dataset: {spec.default_dataset})")


from alignlab.cli.export import export_app  # noqa: E402
from alignlab.cli.keys import keys_app  # noqa: E402
from alignlab.cli.monitor import monitor_app  # noqa: E402
from alignlab.cli.serve import serve  # noqa: E402

app.command("serve")(serve)
app.add_typer(keys_app, name="keys")
app.add_typer(export_app, name="export")
app.add_typer(monitor_app, name="monitor")


def main() -> None:
    """Entry point: user errors print one line, bugs keep their traceback."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except AlignlabError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
