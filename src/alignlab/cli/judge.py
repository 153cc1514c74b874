"""``alignlab judge``: a thin adapter over :mod:`alignlab.evals.judges`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from alignlab.cli._common import ModelOpt, OutOpt, pct
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
) -> None:
    """Judge pairs in both orders; report consistency, first-position preference, κ and histograms."""
    from alignlab.evals.judges import (
        get_judge_prompt,
        load_hh_rlhf_pairs,
        load_pairs_jsonl,
        plot_judge_histograms,
        run_pairwise_judge,
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
    plots = plot_judge_histograms(run.judgments, out, title=f"{model} judging with {prompt}")
    (out / "judge_qa.json").write_text(json.dumps(s.to_dict(), indent=2), encoding="utf-8")
    table = Table(title=f"judge QA: {model} / {prompt} ({s.n_pairs} pairs, {s.n_judgments} judgments)")
    table.add_column("measure")
    table.add_column("value")
    table.add_row("unparsed replies", f"{s.n_unparsed} ({s.unparsed_rate:.1%})")
    table.add_row("position consistency", pct(s.consistency))
    table.add_row("… among pairs with a preference", pct(s.decisive_consistency))
    table.add_row("first-position rate on human ties", pct(s.first_position))
    table.add_row("second-position rate on human ties", pct(s.second_position))
    table.add_row("binomial p (first vs second)", "n/a" if s.first_position_p is None else f"{s.first_position_p:.3g}")
    table.add_row("agreement with humans", pct(s.agreement))
    table.add_row("Cohen's κ", str(s.kappa) if s.kappa else "n/a")
    table.add_row("judge labels", ", ".join(f"{k}={v}" for k, v in sorted(s.judge_label_counts.items())))
    table.add_row("answers with verdict-like text", str(s.injection_flagged))
    console.print(table)
    failures = s.check(min_consistency=min_consistency)
    console.print("QA: " + ("[green]pass[/]" if not failures else "[red]fail[/] — " + "; ".join(failures)))
    console.print(f"plots: {plots.distributions}, {plots.ties}\nlog: {run.log_location}\nrun: {run.run_id}")
    if strict and failures:
        raise typer.Exit(1)


@judge_app.command("prompts")
def prompts() -> None:
    """List judge prompt names."""
    from alignlab.evals.judges import judge_prompt_names

    for name in judge_prompt_names():
        console.print(name)
