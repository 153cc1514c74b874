"""Text classifiers LIME can explain: VADER, HateSonar, alt-profanity-check, HF sequence classifiers, callables.

Each is a :class:`TextClassifier`: class names plus ``predict_proba(texts) -> (N, C)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alignlab.errors import ModelError, UnknownNameError

__all__ = [
    "CLASSIFIERS",
    "TextClassifier",
    "callable_classifier",
    "get_classifier",
    "hatesonar_classifier",
    "hf_sequence_classifier",
    "profanity_classifier",
    "vader_classifier",
    "vader_compound_classifier",
]

Proba = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class TextClassifier:
    """A named text classifier returning class probabilities.

    Attributes:
        name: What it is.
        class_names: One name per output column.
        predict_proba: ``texts -> array (N, C)`` of probabilities.
    """

    name: str
    class_names: tuple[str, ...]
    predict_proba: Callable[[Sequence[str]], Proba]

    def __call__(self, texts: Sequence[str]) -> Proba:
        return self.predict_proba(texts)


def callable_classifier(
    fn: Callable[[str], float], *, name: str = "callable", class_names: tuple[str, str] = ("low", "high")
) -> TextClassifier:
    """Wrap ``fn(text) -> probability of the second class`` (clipped to [0, 1])."""

    def predict(texts: Sequence[str]) -> Proba:
        p = np.clip(np.array([float(fn(t)) for t in texts], dtype=np.float64), 0.0, 1.0)
        return np.stack([1 - p, p], axis=1)

    return TextClassifier(name, class_names, predict)


def vader_classifier() -> TextClassifier:
    """VADER's three classes, as the book explains its sentiment model: negative / neutral / positive.

    The probabilities are VADER's ``neg``/``neu``/``pos`` proportions (the shares of the
    text's sentiment-bearing intensity; they sum to 1). A text without any words, for which
    VADER returns zeros, is neutral.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def predict(texts: Sequence[str]) -> Proba:
        rows = []
        for text in texts:
            scores = analyzer.polarity_scores(text)
            row = np.array([scores["neg"], scores["neu"], scores["pos"]], dtype=np.float64)
            rows.append(row / row.sum() if row.sum() > 0 else np.array([0.0, 1.0, 0.0]))
        return np.stack(rows) if rows else np.zeros((0, 3))

    return TextClassifier("vader", ("negative", "neutral", "positive"), predict)


def vader_compound_classifier() -> TextClassifier:
    """VADER's compound score as two classes: P(positive) = (compound + 1) / 2."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return callable_classifier(
        lambda t: (analyzer.polarity_scores(t)["compound"] + 1) / 2,
        name="vader-compound",
        class_names=("negative", "positive"),
    )


@functools.cache
def _hatesonar_session() -> Any:
    import onnx
    import onnxruntime as ort
    from hatesonar.api import DEFAULT_MODEL_FILE
    from onnx import helper

    # The model's StringNormalizer asks for locale en_US.UTF-8, which minimal images lack;
    # C.UTF-8 lower-cases ASCII the same way. Patched in memory, the package is untouched.
    model = onnx.load(str(DEFAULT_MODEL_FILE))
    for node in model.graph.node:
        if node.op_type == "StringNormalizer" and not any(a.name == "locale" for a in node.attribute):
            node.attribute.append(helper.make_attribute("locale", "C.UTF-8"))
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def hatesonar_classifier() -> TextClassifier:
    """HateSonar's ONNX TF-IDF classifier: hate_speech / offensive_language / neither."""
    try:
        session = _hatesonar_session()
    except ImportError as exc:
        raise ModelError(f"hatesonar needs its package: pip install hatesonar==0.1.0 ({exc.name} missing)") from None

    def predict(texts: Sequence[str]) -> Proba:
        _, probs = session.run(None, {"text": np.array(list(texts), dtype=object)})
        return np.array([[row[k] for k in (0, 1, 2)] for row in probs], dtype=np.float64)

    return TextClassifier("hatesonar", ("hate_speech", "offensive_language", "neither"), predict)


def profanity_classifier() -> TextClassifier:
    """alt-profanity-check: probability that a text is offensive."""
    try:
        from profanity_check import predict_prob
    except ImportError:
        raise ModelError("the profanity classifier needs: pip install alt-profanity-check") from None

    def predict(texts: Sequence[str]) -> Proba:
        p = np.asarray(predict_prob(list(texts)), dtype=np.float64)
        return np.stack([1 - p, p], axis=1)

    return TextClassifier("profanity", ("clean", "offensive"), predict)


def hf_sequence_classifier(model_dir: Path, *, max_length: int = 256, batch_size: int = 64) -> TextClassifier:
    """A local ``AutoModelForSequenceClassification`` (a reward model when ``num_labels == 1``).

    A one-logit reward model is read as P(high reward) = sigmoid(reward).
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    labels = model.config.num_labels

    def predict(texts: Sequence[str]) -> Proba:
        out = []
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(
                list(texts[start : start + batch_size]),
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=max_length,
            )
            with torch.no_grad():
                logits = model(**enc).logits  # (B, labels)
            if labels == 1:
                p = torch.sigmoid(logits[:, 0])
                out.append(torch.stack([1 - p, p], dim=1))
            else:
                out.append(torch.softmax(logits, dim=-1))
        return torch.cat(out).double().numpy()

    names = (
        ("low reward", "high reward")
        if labels == 1
        else tuple(str(model.config.id2label.get(i, i)) for i in range(labels))
    )
    return TextClassifier(f"hf:{model_dir.name}", names, predict)


CLASSIFIERS: dict[str, Callable[[], TextClassifier]] = {
    "vader": vader_classifier,
    "vader-compound": vader_compound_classifier,
    "hatesonar": hatesonar_classifier,
    "profanity": profanity_classifier,
}


def get_classifier(name: str) -> TextClassifier:
    """A registered classifier name, or a local sequence-classification model directory."""
    if name in CLASSIFIERS:
        return CLASSIFIERS[name]()
    if (Path(name) / "config.json").is_file():
        return hf_sequence_classifier(Path(name))
    raise UnknownNameError("classifier", name, [*CLASSIFIERS, "<model directory>"])
