"""``alignlab fairness``: a thin adapter over :mod:`alignlab.evals.fairness`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from alignlab.cli._common import ModelOpt, OutOpt, pct
from alignlab.cli._sandbox import UnsafeOpt, sandbox_limits
from alignlab.errors import ConfigError
from alignlab.settings import load_settings

fairness_app = typer.Typer(no_args_is_help=True, help="Bias probes and counterfactual fairness.")
console = Console()


def _effects_table(report: Any, title: str) -> Table:
    table = Table(title=title, caption="Δ = score with the attribute swapped − score as recorded")
    for col in (
        "attribute",
        "n",
        "errors",
        "mean Δ",
        "mean |Δ|",
        "max |Δ|",
        "flip rate",
        "paired test",
        "p",
        "flagged",
    ):
        table.add_column(col)
    for e in report.effects.values():
        if not e.n:  # nothing was scored: no effect to show, and no verdict either way
            table.add_row(e.attribute, "0", str(e.errors), *["n/a"] * 5, "n/a", "n/a (no scores)")
            continue
        table.add_row(
            e.attribute,
            str(e.n),
            str(e.errors),
            f"{e.mean_change:+.3f}",
            f"{e.mean_abs_change:.3f}",
            f"{e.max_abs_change:.3f}",
            pct(e.flip_rate),
            e.test.method,
            f"{e.test.p_value:.3g}",
            "[red]yes[/]" if e.flagged else "no",
        )
    return table


def _values_table(report: Any) -> Table:
    table = Table(
        title="per-value effects",
        caption="mean of score(record at value) − score(same record at the reference value)",
    )
    for col in ("attribute", "value", "vs", "mean effect", "records", "Wilcoxon p"):
        table.add_column(col)
    for e in report.effects.values():
        for value, effect in e.by_value.items():
            test = e.value_tests[value]
            shown = "n/a" if test.n == 0 else ("0" if effect == 0 else f"{effect:+g}")
            p = "n/a" if test.n == 0 else f"{test.p_value:.3g}"
            table.add_row(e.attribute, value, e.reference, shown, str(test.n), p)
    return table


def _print_report(report: Any, title: str) -> None:
    console.print(_effects_table(report, title))
    console.print(_values_table(report))
    console.print(f"attributes that move the score: {', '.join(report.flagged) or 'none'}")
    for line in report.errors[:10]:
        console.print(f"  {line}", markup=False)
    if len(report.errors) > 10:
        console.print(f"  … {len(report.errors) - 10} more scoring errors")


@fairness_app.command("mortgage")
def mortgage(
    sandbox: Annotated[bool, typer.Option(help="Run the function as untrusted code.")] = True,
    unsafe_no_sandbox: UnsafeOpt = False,
) -> None:
    """Seed 3's Table 8.1: the model-written mortgage-risk function under race/gender swaps."""
    from alignlab.evals.fairness import (
        BOOK_APPLICANTS,
        BOOK_PROTECTED,
        MORTGAGE_RISK_SOURCE,
        SandboxedFunction,
        calculate_mortgage_risk,
        counterfactual_fairness,
    )

    scorer: Any = (
        SandboxedFunction(MORTGAGE_RISK_SOURCE, "calculate_mortgage_risk", sandbox_limits(unsafe_no_sandbox, console))
        if sandbox
        else calculate_mortgage_risk
    )
    report = counterfactual_fairness(scorer, BOOK_APPLICANTS, BOOK_PROTECTED)
    table = Table(title="Table 8.1")
    for col in ("race", "gender", "income", "age", "risk"):
        table.add_column(col)
    for applicant, risk in zip(BOOK_APPLICANTS, report.scores, strict=True):
        table.add_row(
            applicant["race"],
            applicant["gender"],
            f"${applicant['income']:,}",
            str(applicant["age"]),
            "error" if risk is None else f"{risk:g}",
        )
    console.print(table)
    _print_report(report, "counterfactual swaps")


@fairness_app.command("check")
def check(
    function: Annotated[str, typer.Option(help="Your scoring function, module:callable (imported and run here).")],
    records: Annotated[Path, typer.Option(help="JSONL file, one record (JSON object) per line.")],
    protected: Annotated[str, typer.Option(help="Comma-separated protected attributes, e.g. race,gender.")],
    threshold: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(help="Decision threshold: count decision flips (score >= threshold) instead of any change."),
    ] = None,
) -> None:
    """Counterfactual fairness of your own function: swap each protected attribute through the values seen."""
    from alignlab.evals.fairness import (
        counterfactual_fairness,
        import_scoring_function,
        load_records_jsonl,
        protected_values,
    )

    attrs = [a.strip() for a in protected.split(",") if a.strip()]
    if not attrs:
        raise ConfigError("--protected needs at least one attribute name")
    rows = load_records_jsonl(records, attrs)
    values = protected_values(rows, attrs)
    report = counterfactual_fairness(import_scoring_function(function), rows, values, threshold=threshold)
    console.print(
        f"{len(rows)} records; reference values: "
        + ", ".join(f"{a}={v[0]!r} (of {', '.join(map(str, v))})" for a, v in values.items()),
        markup=False,
    )
    _print_report(report, f"counterfactual swaps of {function}")


@fairness_app.command("codegen")
def codegen(
    model: ModelOpt = "default",
    max_tokens: Annotated[int, typer.Option(min=16)] = 384,
    unsafe_no_sandbox: UnsafeOpt = False,
) -> None:
    """Red-team scenario: ask the model for a mortgage-risk function, test its code in the sandbox."""
    from alignlab.evals.fairness import audit_generated_scorer
    from alignlab.models import get_model

    limits = sandbox_limits(unsafe_no_sandbox, console)
    audit = audit_generated_scorer(get_model(model), max_tokens=max_tokens, limits=limits)
    console.print(f"[bold]reply[/] ({len(audit.reply)} chars):")
    console.print(audit.reply[:1500], markup=False, highlight=False)
    if audit.report is None or audit.problem:
        console.print(f"no counterfactual report: {audit.problem}")
    if audit.report is not None:
        _print_report(audit.report, f"counterfactual swaps of {audit.function}")


@fairness_app.command("prompts")
def counterfactual_prompts(
    model: ModelOpt = "default",
    max_tokens: Annotated[int, typer.Option(min=8)] = 64,
    judge: Annotated[Optional[str], typer.Option(help="Also grade answers 1-10 with this judge model.")] = None,  # noqa: UP045
) -> None:
    """Counterfactual prompts (name/gender/race swaps): refusal, sentiment (and a judge score), paired tests."""
    from alignlab.evals.fairness import TEXT_SCORERS, llm_counterfactual_fairness
    from alignlab.evals.judges import single_answer_scorer
    from alignlab.models import get_model

    settings = load_settings()
    scorers: dict[str, Any] = dict(TEXT_SCORERS)
    judge_scorer = single_answer_scorer(get_model(judge), settings) if judge else None
    if judge_scorer is not None:
        scorers["judge"] = judge_scorer
    report = llm_counterfactual_fairness(
        get_model(model), max_tokens=max_tokens, log_dir=settings.log_dir, scorers=scorers
    )
    table = Table(title=f"counterfactual prompts ({len(report.templates)} templates per group)")
    for col in ("scorer", "group", "mean", "reference", "ref mean", "difference", "test", "p"):
        table.add_column(col)
    for c in report.comparisons:
        table.add_row(
            c.scorer,
            c.group,
            f"{c.mean:.3f}",
            c.reference,
            f"{c.reference_mean:.3f}",
            f"{c.difference:+.3f}",
            c.test.method,
            f"{c.test.p_value:.3g}",
        )
    console.print(table)
    if judge_scorer is not None:
        console.print(
            f"judge: {judge_scorer.unparsed} unparsed ratings (left out of the tests); "
            f"{len(judge_scorer.flagged)} answers with verdict-like or grader-directed text"
        )
        for question, phrase in judge_scorer.flagged[:10]:
            console.print(f"  flagged {phrase!r} in the answer to {question[:80]!r}", markup=False)
    console.print(f"log: {report.log_location}")


@fairness_app.command("probe")
def probe(
    model: ModelOpt = "default",
    n: Annotated[int, typer.Option(help="Samples per group (the book used 1000).", min=1)] = 1000,
    top_k: Annotated[int, typer.Option(min=1)] = 10,
    max_new_tokens: Annotated[int, typer.Option(min=1)] = 20,
    seed: int = 0,
    out: OutOpt = Path("bias-probe"),
) -> None:
    """Listing 8.1: "Men/Women tend to enjoy and excel at jobs like" sampled at temperature 1; HTML + PNG report."""
    from alignlab.evals.fairness import BOOK_TEMPLATES, hf_continuation_sampler, probe_bias, write_probe_report
    from alignlab.models import local_model_dir

    sampler = hf_continuation_sampler(local_model_dir(model), max_new_tokens=max_new_tokens, seed=seed)
    result = probe_bias(sampler, BOOK_TEMPLATES, n=n, top_k=top_k)
    for group, items in result.top.items():
        console.print(
            f"[bold]{group}[/] ({sum(result.counts[group].values())} items): " + ", ".join(f"{i} {c}" for i, c in items)
        )
    console.print(f"chi-square {result.chi2:.2f}, dof {result.dof}, p = {result.p_value:.3g}")
    console.print(f"test: {result.test}", markup=False)
    table = Table(title="log odds (group vs others, 95% CI)")
    for col in ("group", "item", "count", "others", "log odds", "CI"):
        table.add_column(col)
    for lo in result.log_odds:
        table.add_row(
            lo.group,
            lo.item,
            str(lo.count),
            str(lo.other_count),
            f"{lo.log_odds:+.2f}",
            f"[{lo.low:+.2f}, {lo.high:+.2f}]",
        )
    console.print(table)
    out.mkdir(parents=True, exist_ok=True)
    page = write_probe_report(result, out)
    (out / "completions.json").write_text(json.dumps(result.completions, indent=1), encoding="utf-8")
    console.print(f"report: {page}\nchart: {out / 'bias_probe.png'}\ncompletions: {out / 'completions.json'}")


@fairness_app.command("crows-pairs")
def crows_pairs(
    model: ModelOpt = "default",
    n: Annotated[Optional[int], typer.Option(help="Sample this many pairs (all 1,508 by default).", min=1)] = None,  # noqa: UP045
    seed: int = 0,
) -> None:
    """CrowS-Pairs: how often a local model finds the more-stereotyping sentence more likely (ideal 50%)."""
    from alignlab.evals.fairness import CausalLMScorer, load_crows_pairs, run_crows_pairs
    from alignlab.models import local_model_dir

    data_dir = load_settings().data_dir
    if data_dir is None:
        raise ConfigError("CrowS-Pairs is read from $ALIGNLAB_DATA_DIR/crows-pairs; set ALIGNLAB_DATA_DIR")
    result = run_crows_pairs(CausalLMScorer(local_model_dir(model)), load_crows_pairs(data_dir, n=n, seed=seed))
    console.print(
        f"prefers sent_more: {pct(result.overall)}, binomial p vs 50% = {result.p_value:.3g}, ties {result.ties}"
    )
    for bias_type, prop in result.by_bias_type.items():
        console.print(f"  {bias_type}: {pct(prop)}")


@fairness_app.command("bbq")
def bbq(
    model: ModelOpt = "default",
    n_per_category: Annotated[int, typer.Option(help="Items sampled per category.", min=1)] = 100,
    seed: int = 0,
) -> None:
    """BBQ: accuracy and bias score (bootstrap 95% CI) on ambiguous and disambiguated contexts, per category."""
    from alignlab.evals.fairness import BBQ_SOURCE, CausalLMScorer, bbq_categories, load_bbq, run_bbq
    from alignlab.models import local_model_dir

    data_dir = load_settings().data_dir
    if data_dir is None:
        raise ConfigError("BBQ is read from $ALIGNLAB_DATA_DIR/bbq; set ALIGNLAB_DATA_DIR")
    present, missing = bbq_categories(data_dir)
    items = load_bbq(data_dir, n_per_category=n_per_category, seed=seed)
    console.print(f"categories run ({len(present)} of 11): {', '.join(present)}", markup=False)
    if missing:
        console.print(
            f"not in the local data: {', '.join(missing)} — the canonical source has them: {BBQ_SOURCE}",
            markup=False,
        )
    result = run_bbq(CausalLMScorer(local_model_dir(model)), items)
    table = Table(title=f"BBQ, {model}: {result.n} items (bias score: bootstrap 95% CI)")
    for col in ("category", "context", "accuracy", "bias score", "95% CI", "biased/answered"):
        table.add_column(col)
    rows = [("all", result.conditions)] + [(c, result.by_category[c]) for c in result.categories]
    for category, conditions in rows:
        for condition, c in conditions.items():
            ci = "n/a" if c.low != c.low else f"[{c.low:+.3f}, {c.high:+.3f}]"
            score = "n/a" if c.bias_score != c.bias_score else f"{c.bias_score:+.3f}"
            table.add_row(category, condition, pct(c.accuracy), score, ci, f"{c.biased}/{c.answered}")
    console.print(table)
