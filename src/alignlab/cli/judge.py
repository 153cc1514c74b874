"""``alignlab judge``, ``alignlab fairness`` and ``alignlab explain``: thin adapters over
:mod:`alignlab.evals.judges`, :mod:`alignlab.evals.fairness` and :mod:`alignlab.interpret`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from alignlab.errors import ConfigError
from alignlab.settings import load_settings

judge_app = typer.Typer(no_args_is_help=True, help="LLM-as-judge with position-bias QA.")
fairness_app = typer.Typer(no_args_is_help=True, help="Bias probes and counterfactual fairness.")
explain_app = typer.Typer(no_args_is_help=True, help="LIME and Integrated Gradients explanations.")
console = Console()

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model name: default, ckpt:<name>, provider/model.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Directory for PNG/HTML/JSON outputs.")]


def register(app: typer.Typer) -> None:
    """Attach the three command groups to the main ``alignlab`` app."""
    app.add_typer(judge_app, name="judge")
    app.add_typer(fairness_app, name="fairness")
    app.add_typer(explain_app, name="explain")


def _pct(p: Any) -> str:
    return f"{p.rate:.1%} [{p.low:.1%}, {p.high:.1%}] ({p.successes}/{p.n})" if p.n else "n/a (n=0)"


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
    table.add_row("position consistency", _pct(s.consistency))
    table.add_row("… among pairs with a preference", _pct(s.decisive_consistency))
    table.add_row("first-position rate on human ties", _pct(s.first_position))
    table.add_row("second-position rate on human ties", _pct(s.second_position))
    table.add_row("binomial p (first vs second)", "n/a" if s.first_position_p is None else f"{s.first_position_p:.3g}")
    table.add_row("agreement with humans", _pct(s.agreement))
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


def _effects_table(report: Any, title: str) -> Table:
    table = Table(title=title)
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
        table.add_row(
            e.attribute,
            str(e.n),
            str(e.errors),
            f"{e.mean_change:+.3f}",
            f"{e.mean_abs_change:.3f}",
            f"{e.max_abs_change:.3f}",
            _pct(e.flip_rate),
            e.test.method,
            f"{e.test.p_value:.3g}",
            "[red]yes[/]" if e.flagged else "no",
        )
    return table


UnsafeOpt = Annotated[
    bool,
    typer.Option(
        "--unsafe-no-sandbox",
        help="Run model code even where no kernel sandbox (bubblewrap) works: only rlimits and an audit hook.",
    ),
]


def _sandbox_limits(unsafe: bool) -> Any:
    """The sandbox settings; prints the isolation layers that will apply (refuses without a sandbox)."""
    from alignlab.evals.fairness import SandboxLimits, isolation_layers

    limits = SandboxLimits(allow_unsafe=unsafe)
    layers = isolation_layers(limits)  # SandboxUnavailableError (one line, exit 2) without --unsafe-no-sandbox
    style = "bold red" if layers[0].startswith("NO KERNEL SANDBOX") else "dim"
    console.print(f"[{style}]sandbox: {', '.join(layers)}[/]", highlight=False)
    return limits


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
        SandboxedFunction(MORTGAGE_RISK_SOURCE, "calculate_mortgage_risk", _sandbox_limits(unsafe_no_sandbox))
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
    console.print(_effects_table(report, "counterfactual swaps"))
    console.print(f"attributes that move the score: {', '.join(report.flagged) or 'none'}")


@fairness_app.command("codegen")
def codegen(
    model: ModelOpt = "default",
    max_tokens: Annotated[int, typer.Option(min=16)] = 384,
    unsafe_no_sandbox: UnsafeOpt = False,
) -> None:
    """Red-team scenario: ask the model for a mortgage-risk function, test its code in the sandbox."""
    from alignlab.evals.fairness import audit_generated_scorer
    from alignlab.models import get_model

    limits = _sandbox_limits(unsafe_no_sandbox)
    audit = audit_generated_scorer(get_model(model), max_tokens=max_tokens, limits=limits)
    console.print(f"[bold]reply[/] ({len(audit.reply)} chars):")
    console.print(audit.reply[:1500], markup=False, highlight=False)
    if audit.report is None or audit.problem:
        console.print(f"no counterfactual report: {audit.problem}")
    if audit.report is not None:
        console.print(_effects_table(audit.report, f"counterfactual swaps of {audit.function}"))
        for line in audit.report.errors[:10]:
            console.print(f"  {line}", markup=False)


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
    scorers = dict(TEXT_SCORERS)
    if judge:
        scorers["judge"] = single_answer_scorer(get_model(judge), settings)
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
    """Listing 8.1: "Men/Women tend to enjoy and excel at jobs like" sampled at temperature 1."""
    from alignlab.evals.fairness import BOOK_TEMPLATES, hf_continuation_sampler, plot_bias_probe, probe_bias
    from alignlab.models import local_model_dir

    sampler = hf_continuation_sampler(local_model_dir(model), max_new_tokens=max_new_tokens, seed=seed)
    result = probe_bias(sampler, BOOK_TEMPLATES, n=n, top_k=top_k)
    for group, items in result.top.items():
        console.print(
            f"[bold]{group}[/] ({sum(result.counts[group].values())} items): " + ", ".join(f"{i} {c}" for i, c in items)
        )
    console.print(f"chi-square {result.chi2:.2f}, dof {result.dof}, p = {result.p_value:.3g}")
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
    png = plot_bias_probe(result, out / "bias_probe.png")
    (out / "completions.json").write_text(json.dumps(result.completions, indent=1), encoding="utf-8")
    console.print(f"chart: {png}")


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
        f"prefers sent_more: {_pct(result.overall)}, binomial p vs 50% = {result.p_value:.3g}, ties {result.ties}"
    )
    for bias_type, prop in result.by_bias_type.items():
        console.print(f"  {bias_type}: {_pct(prop)}")


@fairness_app.command("bbq")
def bbq(
    model: ModelOpt = "default",
    n_per_category: Annotated[int, typer.Option(help="Items sampled per category.", min=1)] = 100,
    seed: int = 0,
) -> None:
    """BBQ: accuracy and bias score on ambiguous and disambiguated contexts (log-likelihood choice)."""
    from alignlab.evals.fairness import CausalLMScorer, load_bbq, run_bbq
    from alignlab.models import local_model_dir

    data_dir = load_settings().data_dir
    if data_dir is None:
        raise ConfigError("BBQ is read from $ALIGNLAB_DATA_DIR/bbq; set ALIGNLAB_DATA_DIR")
    items = load_bbq(data_dir, n_per_category=n_per_category, seed=seed)
    result = run_bbq(CausalLMScorer(local_model_dir(model)), items)
    for condition in ("ambig", "disambig"):
        console.print(
            f"{condition}: accuracy {_pct(result.accuracy[condition])}, bias score {result.bias_score[condition]:+.3f}"
        )


@explain_app.command("lime")
def lime(
    text: Annotated[str, typer.Argument(help="Text to explain.")],
    classifier: Annotated[str, typer.Option(help="vader, hatesonar, profanity or a model dir.")] = "vader",
    label: Annotated[Optional[str], typer.Option(help="Class to explain (predicted by default).")] = None,  # noqa: UP045
    num_samples: Annotated[int, typer.Option(min=50)] = 1000,
    out: OutOpt = Path("explanations"),
) -> None:
    """LIME word weights for one text, as HTML and PNG."""
    from alignlab.interpret import explain_text, get_classifier, write_explanation

    exp = explain_text(get_classifier(classifier), text, label=label, num_samples=num_samples)
    for word, weight in exp.weights:
        console.print(f"{weight:+.4f}  {word}", markup=False)
    files = write_explanation(exp, out, stem=f"lime-{classifier.replace('/', '_')}")
    console.print(f"{files.html}\n{files.png}")


@explain_app.command("neutral-words")
def neutral_words(
    classifier: Annotated[str, typer.Option(help="vader, hatesonar, profanity or a model dir.")] = "vader",
    label: Annotated[Optional[str], typer.Option(help="Class to explain.")] = None,  # noqa: UP045
    threshold: Annotated[float, typer.Option(min=0.0)] = 0.02,
) -> None:
    """Seed 3's "new"/"old" probe: neutral words with strong LIME attributions."""
    from alignlab.interpret import get_classifier, neutral_word_probe

    findings = neutral_word_probe(get_classifier(classifier), label=label, threshold=threshold)
    if not findings:
        console.print(f"no neutral word above |weight| {threshold}")
    for f in findings:
        console.print(
            f"{f.word!r} → {f.label}: LIME {f.lime_weight:+.3f}, removal effect {f.removal_effect:+.3f}"
            f" in {f.sentence!r}",
            markup=False,
        )


@explain_app.command("ig")
def integrated_gradients(
    model_dir: Annotated[Path, typer.Argument(help="Local model directory.")],
    prompt: Annotated[str, typer.Option(help="Prompt (or the text for a reward model).")],
    completion: Annotated[Optional[str], typer.Option(help="Completion whose log-prob to explain.")] = None,  # noqa: UP045
    n_steps: Annotated[int, typer.Option(min=8)] = 200,
    out: OutOpt = Path("explanations"),
) -> None:
    """Captum Integrated Gradients: log p(completion | prompt), or a reward model's score."""
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    from alignlab.interpret import ig_completion_logprob, ig_reward, write_token_attributions

    if not (model_dir / "config.json").is_file():
        raise ConfigError(f"{model_dir} is not a model directory (no config.json)")
    tok = AutoTokenizer.from_pretrained(model_dir)
    if completion is not None:
        attr = ig_completion_logprob(
            AutoModelForCausalLM.from_pretrained(model_dir), tok, prompt, completion, n_steps=n_steps
        )
    else:
        attr = ig_reward(AutoModelForSequenceClassification.from_pretrained(model_dir), tok, prompt, n_steps=n_steps)
    for token, value in attr.top(10):
        console.print(f"{value:+.4f}  {token!r}", markup=False)
    path = write_token_attributions(attr, out / f"ig-{attr.what}.html")
    console.print(f"f(x)={attr.target:.4f} f(baseline)={attr.baseline_target:.4f} delta={attr.delta:.2e}\n{path}")
