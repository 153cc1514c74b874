"""Interpretability: LIME for any text classifier, the "new"/"old" neutral-word probe, and
Captum Integrated Gradients for local transformers (seed 3, "Sentiment classification with BERT")."""

from alignlab.interpret.classifiers import (
    CLASSIFIERS,
    TextClassifier,
    callable_classifier,
    get_classifier,
    hatesonar_classifier,
    hf_sequence_classifier,
    profanity_classifier,
    vader_classifier,
    vader_compound_classifier,
)
from alignlab.interpret.gradients import (
    DEFAULT_TOLERANCE,
    IGConvergenceWarning,
    StepTry,
    TokenAttributions,
    ig_completion_logprob,
    ig_reward,
    integrated_gradients,
    plot_token_attributions,
    write_token_attributions,
)
from alignlab.interpret.lime_text import (
    DEFAULT_NEUTRAL_SENTENCES,
    ExplanationFiles,
    NeutralWordFinding,
    TextExplanation,
    explain_text,
    neutral_word_probe,
    neutral_word_weights,
    write_explanation,
)

__all__ = [
    "CLASSIFIERS",
    "DEFAULT_NEUTRAL_SENTENCES",
    "DEFAULT_TOLERANCE",
    "ExplanationFiles",
    "IGConvergenceWarning",
    "NeutralWordFinding",
    "StepTry",
    "TextClassifier",
    "TextExplanation",
    "TokenAttributions",
    "callable_classifier",
    "explain_text",
    "get_classifier",
    "hatesonar_classifier",
    "hf_sequence_classifier",
    "ig_completion_logprob",
    "ig_reward",
    "integrated_gradients",
    "neutral_word_probe",
    "neutral_word_weights",
    "plot_token_attributions",
    "profanity_classifier",
    "vader_classifier",
    "vader_compound_classifier",
    "write_explanation",
    "write_token_attributions",
]
