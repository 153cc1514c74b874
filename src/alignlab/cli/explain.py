"""``alignlab explain``: a thin adapter over :mod:`alignlab.interpret`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from alignlab.cli._common import OutOpt

explain_app = typer.Typer(no_args_is_help=True, help="LIME and Integrated Gradients explanations.")
console = Console()


ClassifierOpt = Annotated[
    str, typer.Option(help="vader (negative/neutral/positive), vader-compound, hatesonar, profanity or a model dir.")
]


@explain_app.command("lime")
def lime(
    text: Annotated[str, typer.Argument(help="Text to explain.")],
    classifier: ClassifierOpt = "vader",
    label: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Class to explain, or 'all' for every class (the predicted class by default)."),
    ] = None,
    num_samples: Annotated[int, typer.Option(min=50)] = 1000,
    out: OutOpt = Path("explanations"),
) -> None:
    """LIME word weights for one text, as HTML and PNG; says which class is explained."""
    from alignlab.interpret import explain_text, get_classifier, write_explanation

    clf = get_classifier(classifier)
    labels: list[str | None] = list(clf.class_names) if label == "all" else [label]
    for wanted in labels:
        exp = explain_text(clf, text, label=wanted, num_samples=num_samples)
        probs = ", ".join(f"{c} {p:.3f}" for c, p in zip(exp.class_names, exp.probabilities, strict=True))
        how = "the predicted class" if wanted is None else "as asked"
        console.print(f"explaining class {exp.label!r} ({how}); probabilities: {probs}", markup=False)
        for word, weight in exp.weights:
            console.print(f"{weight:+.4f}  {word}", markup=False)
        stem = f"lime-{classifier.replace('/', '_')}" + (f"-{exp.label}" if label == "all" else "")
        files = write_explanation(exp, out, stem=stem)
        console.print(f"{files.html}\n{files.png}", markup=False)


@explain_app.command("neutral-words")
def neutral_words(
    classifier: ClassifierOpt = "vader",
    label: Annotated[Optional[str], typer.Option(help="Class to explain (the last class by default).")] = None,  # noqa: UP045
    threshold: Annotated[float, typer.Option(min=0.0)] = 0.02,
) -> None:
    """Seed 3's "new"/"old" probe: neutral words with strong LIME attributions."""
    from alignlab.interpret import get_classifier, neutral_word_weights

    clf = get_classifier(classifier)
    measured = neutral_word_weights(clf, label=label)
    target = measured[0].label if measured else (label or clf.class_names[-1])
    findings = [f for f in measured if abs(f.lime_weight) > threshold]
    if not findings:
        console.print(
            f"nothing crosses the threshold: no neutral word has |LIME weight| > {threshold} toward {target!r}"
        )
        if measured:
            top = max(measured, key=lambda f: abs(f.lime_weight))
            console.print(f"(largest below it: {top.word!r} {top.lime_weight:+.4f} in {top.sentence!r})", markup=False)
        return
    console.print(
        f"{len(findings)} of {len(measured)} neutral-word uses cross |LIME weight| > {threshold} toward {target!r}:"
    )
    for f in findings:
        console.print(
            f"{f.word!r} → {f.label}: LIME {f.lime_weight:+.3f}, removal effect {f.removal_effect:+.3f}"
            f" in {f.sentence!r}",
            markup=False,
        )


@explain_app.command("ig")
def integrated_gradients(
    model: Annotated[str, typer.Argument(help="default, ckpt:<name> or a local model directory.")],
    prompt: Annotated[str, typer.Option(help="Prompt (or the text for a reward model).")],
    completion: Annotated[Optional[str], typer.Option(help="Completion whose log-prob to explain.")] = None,  # noqa: UP045
    n_steps: Annotated[int, typer.Option(min=8, help="Steps of the first try; doubled until within tolerance.")] = 200,
    tolerance: Annotated[
        float, typer.Option(min=0.0, help="Allowed |delta| as a share of max(|f(x) − f(baseline)|, 1).")
    ] = 0.05,
    max_steps: Annotated[int, typer.Option(min=8, help="The most steps tried.")] = 1600,
    out: OutOpt = Path("explanations"),
) -> None:
    """Captum Integrated Gradients: log p(completion | prompt), or a reward model's score; HTML and PNG."""
    import warnings

    from alignlab.interpret import IGConvergenceWarning, plot_token_attributions, write_token_attributions
    from alignlab.interpret import integrated_gradients as run_ig

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IGConvergenceWarning)  # reported below, in the run's own words
        attr = run_ig(model, prompt, completion=completion, n_steps=n_steps, tolerance=tolerance, max_steps=max_steps)
    for token, value in attr.top(10):
        console.print(f"{value:+.4f}  {token!r}", markup=False)
    console.print(
        f"f(x)={attr.target:.4f} f(baseline)={attr.baseline_target:.4f} f(x)−f(baseline)="
        f"{attr.target - attr.baseline_target:.4f}; sum of attributions = {sum(attr.attributions):.4f}"
    )
    for t in attr.tries:
        console.print(f"  {t.n_steps} steps: convergence delta {t.delta:+.4g}", markup=False)
    if attr.converged:
        console.print(
            f"completeness: |delta| ≤ {attr.allowed_delta:.3g} (tolerance {tolerance:g}) at {attr.n_steps} steps"
        )
    else:
        console.print(
            f"[yellow]warning:[/] completeness not reached: |delta| {abs(attr.delta):.3g} > {attr.allowed_delta:.3g} "
            f"after {attr.n_steps} steps (max {max_steps}); treat the attributions as approximate"
        )
    stem = f"ig-{attr.what}"
    html_path = write_token_attributions(attr, out / f"{stem}.html")
    png_path = plot_token_attributions(attr, out / f"{stem}.png")
    console.print(f"{html_path}\n{png_path}", markup=False)
