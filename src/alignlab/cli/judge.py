"""``alignlab judge``: a thin adapter over :mod:`alignlab.evals.judges`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alignlab.cli._common import ModelOpt, OutOpt
from alignlab.settings import load_settings

judge_app = typer.Typer(no_args_is_help=True, help="LLM-as-judge with position-bias QA.")
console = Console()


@judge_app.command("pairwise")
def pairwise(
    model: ModelOpt = "default",
    prompt: Annotated[str, typer.Option(help="Judge prompt: book, book-guarded, pair-v2.")] = "book-guarded",
    pairs: Annotated[Optional[Path], typer.Option(help="JSONL pairs instead of HH-RLHF.")] = None,  # noqa: UP045
    n: Annotated[int, typer.Option(help="HH-RLHF pairs to sample.", min=1)] = 20,
    self_pairs: Annotated[int, typer.Option(help="Add N identical-answer controls (known ties).", min=0)] = 0,
    seed: Annotated[int, typer.Option(help="Pair sampling seed.")] = 0,
    max_chars: Annotated[int, typer.Option(help="Skip HH-RLHF pairs longer than this.", min=100)] = 1500,
    max_tokens: Annotated[Optional[int], typer.Option(help="Judge reply budget.", min=1)] = None,  # noqa: UP045
    out: OutOpt = Path("judge-report"),
    min_consistency: Annotated[float, typer.Option(help="QA requirement reported as pass/fail.")] = 0.8,
    strict: Annotated[bool, typer.Option(help="Exit 1 when the judge fails its QA requirements.")] = False,
    show_pairs: Annotated[int, typer.Option(help="Print at most this many per-pair rows.", min=0)] = 50,
) -> None:
    """Judge pairs in both orders; print QA and per-pair verdicts; write report.html, JSON, JSONL and PNGs."""
    from alignlab.evals.judges import (
        get_judge_prompt,
        load_hh_rlhf_pairs,
        load_pairs_jsonl,
        pair_outcomes,
        qa_rows,
        run_pairwise_judge,
        write_judge_report,
    )
    from alignlab.evals.judges import self_pairs as make_self_pairs
    from alignlab.store import open_store

    settings = load_settings()
    judge_prompt = get_judge_prompt(prompt, settings)
    items = load_pairs_jsonl(pairs) if pairs else load_hh_rlhf_pairs(settings, n=n, seed=seed, max_chars=max_chars)
    items = items + make_self_pairs(items, self_pairs)
    run = run_pairwise_judge(
        items,
        model,
        judge_prompt,
        settings=settings,
        store=open_store(settings.database_url),
        dataset=str(pairs) if pairs else "hh-rlhf-harmless",
        max_tokens=max_tokens,
    )
    s = run.summary
    failures = s.check(min_consistency=min_consistency)
    files = write_judge_report(s, run.judgments, out, title=f"{model} judging with {prompt}", failures=failures)
    console.print(_pairs_table(pair_outcomes(run.judgments), show_pairs))
    table = Table(title=f"judge QA: {model} / {prompt} ({s.n_pairs} pairs, {s.n_judgments} judgments)")
    table.add_column("measure")
    table.add_column("value")
    for measure, value in qa_rows(s):
        table.add_row(measure, value)
    console.print(table)
    console.print("QA: " + ("[green]pass[/]" if not failures else "[red]fail[/] — " + "; ".join(failures)))
    console.print(
        f"report: {files.html}\npairs: {files.pairs_jsonl}\nplots: {files.distributions}, {files.ties}"
        f"\nlog: {run.log_location}\nrun: {run.run_id}",
        markup=False,
    )
    if strict and failures:
        raise typer.Exit(1)


def _pairs_table(outcomes: Sequence[Any], limit: int) -> Table:
    table = Table(title=f"per-pair verdicts (1 = answer 1 better … 9 = answer 2; first {limit} pairs)")
    for col in ("pair", "human", "1 shown first", "2 shown first", "outcome", "injection"):
        table.add_column(col)
    for o in outcomes[:limit]:
        scores = ["unparsed" if v is None else f"{v:g}" for v in (o.score_12, o.score_21)]
        outcome = (
            o.outcome if o.agrees_with_human is None else f"{o.outcome} ({'=' if o.agrees_with_human else '≠'} human)"
        )
        table.add_row(escape(o.pair_id), escape(o.human_label), *scores, outcome, escape(o.injection or ""))
    return table


@judge_app.command("prompts")
def prompts() -> None:
    """List judge prompt names."""
    from alignlab.evals.judges import judge_prompt_names

    for name in judge_prompt_names():
        console.print(name)
