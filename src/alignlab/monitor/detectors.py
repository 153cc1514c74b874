"""Online detectors: score each response off the request path.

A detector takes a batch of (prompt, response) texts and returns, for each, a JSON-able dict
with at least ``flagged`` (bool). Register new ones with :func:`register_detector`; the
service runs the names listed in its config.

* ``refusal``: :func:`alignlab.evals.refusal.classify_refusal` (flagged = not compliance).
* ``toxicity``: HateSonar's ONNX hate/offensive classifier (flagged = P(neither) < 0.5).
* ``profanity``: alt-profanity-check's offensive-language probability (flagged ≥ 0.5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from alignlab.errors import ConfigError, UnknownNameError
from alignlab.evals.refusal import classify_refusal

__all__ = ["Detector", "detector_names", "get_detector", "register_detector"]


class Detector(Protocol):
    """Scores responses; ``name`` keys the result in an interaction's ``scores``."""

    name: str

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> list[dict[str, Any]]:
        """One result dict (with ``flagged``) per response."""
        ...


_REGISTRY: dict[str, Callable[[], Detector]] = {}


def register_detector(name: str, factory: Callable[[], Detector]) -> None:
    """Make ``name`` usable in the service's detector list."""
    _REGISTRY[name] = factory


def detector_names() -> list[str]:
    """Registered detector names."""
    return sorted(_REGISTRY)


def get_detector(name: str) -> Detector:
    """Build the detector registered as ``name`` (its model loads here, not at import).

    Raises:
        UnknownNameError: ``name`` is not registered.
        ConfigError: The detector's package is not installed.
    """
    if name not in _REGISTRY:
        raise UnknownNameError("detector", name, _REGISTRY)
    try:
        return _REGISTRY[name]()
    except ImportError as exc:
        raise ConfigError(f"detector {name!r} needs a package that is not installed: {exc.name}") from exc


class RefusalDetector:
    """XSTest-style refusal labels from the deterministic pattern classifier."""

    name = "refusal"

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> list[dict[str, Any]]:
        """Label each response compliance / refusal / partial_refusal."""
        out = []
        for prompt, response in zip(prompts, responses, strict=True):
            verdict = classify_refusal(response, prompt)
            out.append(
                {"flagged": verdict.label != "compliance", "label": verdict.label, "ambiguous": verdict.ambiguous}
            )
        return out


@cache
def _sonar_session() -> Any:
    import hatesonar
    import onnx
    import onnxruntime as ort
    from onnx import helper

    model = onnx.load(str(Path(hatesonar.__file__).parent / "model" / "model.onnx"))
    # The ONNX StringNormalizer asks for en_US.UTF-8, which minimal images lack; C.UTF-8 is
    # always present and lower-cases ASCII the same way.
    for node in model.graph.node:
        if node.op_type == "StringNormalizer":
            kept = [a for a in node.attribute if a.name != "locale"]
            del node.attribute[:]
            node.attribute.extend([*kept, helper.make_attribute("locale", "C.UTF-8")])
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


class ToxicityDetector:
    """HateSonar (Davidson et al. classes: hate_speech, offensive_language, neither)."""

    name = "toxicity"
    classes = ("hate_speech", "offensive_language", "neither")

    def __init__(self) -> None:
        self._session = _sonar_session()

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> list[dict[str, Any]]:
        """Class probabilities per response; flagged when ``neither`` is below one half."""
        import numpy as np

        if not responses:
            return []
        _, probs = self._session.run(None, {"text": np.array(list(responses), dtype=object)})
        out = []
        for row in probs:
            p = {c: float(row[i]) for i, c in enumerate(self.classes)}
            out.append({"flagged": p["neither"] < 0.5, "score": 1.0 - p["neither"], **p})
        return out


class ProfanityDetector:
    """alt-profanity-check's linear model on TF-IDF features."""

    name = "profanity"

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict = predict_prob

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> list[dict[str, Any]]:
        """Probability of offensive language per response; flagged at 0.5 or more."""
        if not responses:
            return []
        return [{"flagged": float(p) >= 0.5, "score": float(p)} for p in self._predict(list(responses))]


register_detector("refusal", RefusalDetector)
register_detector("toxicity", ToxicityDetector)
register_detector("profanity", ProfanityDetector)
