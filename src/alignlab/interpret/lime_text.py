"""LIME explanations for text classifiers, written as escaped HTML and PNG, and seed 3's "new"/"old" probe.

Seed 3 (Figure 8.20) showed a sentiment model attributing positive weight to "new" and
negative weight to "old". :func:`neutral_word_probe` turns that into a check: explain
sentences that contain words with no sentiment of their own and list those whose LIME
weight (and whose swap-in/swap-out effect on the probability) exceeds a threshold.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lime.lime_text import LimeTextExplainer
from matplotlib.figure import Figure

from alignlab.errors import UnknownNameError
from alignlab.interpret.classifiers import TextClassifier

__all__ = [
    "DEFAULT_NEUTRAL_SENTENCES",
    "ExplanationFiles",
    "NeutralWordFinding",
    "TextExplanation",
    "explain_text",
    "neutral_word_probe",
    "neutral_word_weights",
    "write_explanation",
]


@dataclass(frozen=True)
class TextExplanation:
    """LIME weights for one text.

    Attributes:
        text: The explained text.
        classifier: The classifier's name.
        class_names: Its classes.
        probabilities: Predicted probability per class for ``text``.
        label: The class explained.
        weights: ``(word, weight)`` sorted by absolute weight; positive pushes toward ``label``.
        score: R² of LIME's local linear model.
    """

    text: str
    classifier: str
    class_names: tuple[str, ...]
    probabilities: tuple[float, ...]
    label: str
    weights: list[tuple[str, float]]
    score: float

    def weight(self, word: str) -> float:
        """The weight of ``word`` (0 when LIME did not keep it)."""
        return dict(self.weights).get(word, 0.0)


def explain_text(
    classifier: TextClassifier,
    text: str,
    *,
    label: str | None = None,
    num_features: int = 10,
    num_samples: int = 1000,
    seed: int = 0,
) -> TextExplanation:
    """Explain ``classifier``'s prediction for ``text`` with LIME.

    Args:
        classifier: Any :class:`TextClassifier`.
        text: Text to explain.
        label: Class to explain (the predicted class by default).
        num_features: Words kept in the explanation.
        num_samples: Perturbed texts LIME scores.
        seed: LIME's random seed (explanations are stochastic).
    """
    if label is not None and label not in classifier.class_names:
        raise UnknownNameError("class", label, classifier.class_names)
    probs = classifier([text])[0]
    index = classifier.class_names.index(label) if label else int(probs.argmax())
    explainer = LimeTextExplainer(class_names=list(classifier.class_names), random_state=seed, bow=True)
    exp = explainer.explain_instance(
        text, classifier.predict_proba, labels=(index,), num_features=num_features, num_samples=num_samples
    )
    weights = sorted(((str(w), float(v)) for w, v in exp.as_list(label=index)), key=lambda x: -abs(x[1]))
    return TextExplanation(
        text,
        classifier.name,
        classifier.class_names,
        tuple(float(p) for p in probs),
        classifier.class_names[index],
        weights,
        float(exp.score),
    )


def _html(exp: TextExplanation) -> str:
    weights = dict(exp.weights)
    top = max((abs(v) for v in weights.values()), default=1.0) or 1.0
    parts = []
    for token in re.split(r"(\W+)", exp.text):
        w = weights.get(token)
        if w is None:
            parts.append(html.escape(token))
            continue
        colour = f"rgba(44,160,44,{abs(w) / top:.2f})" if w > 0 else f"rgba(214,39,40,{abs(w) / top:.2f})"
        parts.append(f'<span style="background:{colour}" title="{w:+.3f}">{html.escape(token)}</span>')
    rows = "".join(f"<tr><td>{html.escape(w)}</td><td>{v:+.4f}</td></tr>" for w, v in exp.weights)
    probs = ", ".join(f"{html.escape(c)} {p:.3f}" for c, p in zip(exp.class_names, exp.probabilities, strict=True))
    return (
        "<!doctype html><meta charset='utf-8'><title>LIME explanation</title>"
        f"<h2>{html.escape(exp.classifier)}: why “{html.escape(exp.label)}”</h2>"
        f"<p>probabilities: {probs}; local fit R² {exp.score:.3f}</p>"
        f"<p style='font-size:1.3em'>{''.join(parts)}</p>"
        "<p>green pushes toward the explained class, red away from it</p>"
        f"<table border=1 cellpadding=4><tr><th>word</th><th>weight</th></tr>{rows}</table>"
    )


@dataclass(frozen=True)
class ExplanationFiles:
    """Where an explanation was written."""

    html: Path
    png: Path


def write_explanation(exp: TextExplanation, out_dir: Path, *, stem: str = "lime") -> ExplanationFiles:
    """Write ``<stem>.html`` (text escaped) and ``<stem>.png`` (a weight bar chart)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(_html(exp), encoding="utf-8")
    fig = Figure(figsize=(6, 0.4 * max(len(exp.weights), 3) + 1))
    ax = fig.subplots()
    words = [w for w, _ in exp.weights][::-1]
    values = [v for _, v in exp.weights][::-1]
    ax.barh(words, values, color=["#2ca02c" if v > 0 else "#d62728" for v in values])
    ax.axvline(0, color="black", linewidth=0.5)
    ax.set_title(f"{exp.classifier} → {exp.label}", fontsize=10)
    png_path = out_dir / f"{stem}.png"
    fig.savefig(png_path, dpi=100, bbox_inches="tight")
    return ExplanationFiles(html_path, png_path)


DEFAULT_NEUTRAL_SENTENCES: tuple[str, ...] = (
    "I love using the new feature! So helpful.",
    "I hate the old design of this app.",
    "The new phone arrived on Tuesday.",
    "The old phone arrived on Tuesday.",
    "We moved the table to the new room.",
    "We moved the table to the old room.",
)


@dataclass(frozen=True)
class NeutralWordFinding:
    """A neutral word that carries attribution it should not.

    Attributes:
        word: The neutral word.
        sentence: Where it was found.
        label: The class explained.
        lime_weight: Its LIME weight toward ``label``.
        removal_effect: P(label | sentence) − P(label | sentence without the word).
    """

    word: str
    sentence: str
    label: str
    lime_weight: float
    removal_effect: float


def neutral_word_weights(
    classifier: TextClassifier,
    *,
    words: Sequence[str] = ("new", "old"),
    sentences: Sequence[str] = DEFAULT_NEUTRAL_SENTENCES,
    label: str | None = None,
    num_samples: int = 500,
    seed: int = 0,
) -> list[NeutralWordFinding]:
    """Every neutral word's LIME weight toward ``label`` and removal effect, in every sentence holding it.

    ``label`` defaults to the classifier's last class (``positive`` for VADER).
    """
    target = label or classifier.class_names[-1]
    if target not in classifier.class_names:
        raise UnknownNameError("class", target, classifier.class_names)
    index = classifier.class_names.index(target)
    measured = []
    for sentence in sentences:
        present = [w for w in words if re.search(rf"\b{re.escape(w)}\b", sentence)]
        if not present:
            continue
        exp = explain_text(classifier, sentence, label=target, num_samples=num_samples, seed=seed, num_features=20)
        for word in present:
            without = re.sub(rf"\s*\b{re.escape(word)}\b", "", sentence, count=1)
            probs = classifier([sentence, without])
            effect = float(probs[0][index] - probs[1][index])
            measured.append(NeutralWordFinding(word, sentence, target, exp.weight(word), effect))
    return measured


def neutral_word_probe(
    classifier: TextClassifier,
    *,
    words: Sequence[str] = ("new", "old"),
    sentences: Sequence[str] = DEFAULT_NEUTRAL_SENTENCES,
    label: str | None = None,
    threshold: float = 0.02,
    num_samples: int = 500,
    seed: int = 0,
) -> list[NeutralWordFinding]:
    """Neutral words whose |LIME weight| toward ``label`` exceeds ``threshold`` in any sentence."""
    measured = neutral_word_weights(
        classifier, words=words, sentences=sentences, label=label, num_samples=num_samples, seed=seed
    )
    return [f for f in measured if abs(f.lime_weight) > threshold]
