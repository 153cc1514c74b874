"""LIME on real small classifiers, the neutral-word probe, and Integrated Gradients on the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from alignlab.interpret import (
    callable_classifier,
    explain_text,
    get_classifier,
    hatesonar_classifier,
    ig_completion_logprob,
    ig_reward,
    neutral_word_probe,
    vader_compound_classifier,
    write_explanation,
    write_token_attributions,
)


def test_lime_on_vader_finds_sentiment_words(tmp_path: Path) -> None:
    text = "I love this wonderful film but the ending was boring"
    exp = explain_text(vader_compound_classifier(), text, label="positive", num_samples=400)
    assert exp.label == "positive"
    assert exp.weight("love") > 0.05 and exp.weight("wonderful") > 0.05 and exp.weight("boring") < -0.05
    assert abs(exp.weight("film")) < 0.02
    files = write_explanation(exp, tmp_path, stem="vader")
    assert files.png.read_bytes()[:4] == b"\x89PNG"
    assert "love" in files.html.read_text()


def test_lime_html_escapes_model_text(tmp_path: Path) -> None:
    clf = callable_classifier(lambda t: 0.9 if "good" in t else 0.1)
    exp = explain_text(clf, "good <script>alert(1)</script> day", num_samples=200)
    page = write_explanation(exp, tmp_path).html.read_text()
    assert "<script>" not in page and "</script>" not in page and "&lt;" in page


def test_hatesonar_loads_with_locale_patch() -> None:
    clf = get_classifier("hatesonar")
    probs = clf(["have a nice day", "you are a stupid idiot"])
    assert probs.shape == (2, 3) and probs.sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert probs[0].argmax() == 2 and probs[1][2] < probs[0][2]
    exp = explain_text(hatesonar_classifier(), "you are a stupid idiot", label="neither", num_samples=300)
    assert min(exp.weight("stupid"), exp.weight("idiot")) < 0


def test_neutral_word_probe_flags_a_new_old_bias_and_passes_vader() -> None:
    def biased(text: str) -> float:
        words = text.lower().split()
        return 0.5 + 0.3 * ("new" in words) - 0.3 * ("old" in words) + 0.1 * ("love" in words)

    findings = neutral_word_probe(callable_classifier(biased, class_names=("negative", "positive")), num_samples=300)
    signs = {(f.word, f.lime_weight > 0) for f in findings}
    assert ("new", True) in signs and ("old", False) in signs
    assert all(f.removal_effect == pytest.approx(0.3 if f.word == "new" else -0.3) for f in findings)
    # VADER's lexicon gives "new" and "old" no valence: its compound score flags nothing.
    assert neutral_word_probe(vader_compound_classifier(), num_samples=300) == []


def test_integrated_gradients_completion_logprob(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    attr = ig_completion_logprob(model, tok, "The user asked how to", " bake a cake", n_steps=256)
    assert len(attr.tokens) == len(attr.attributions) > 3
    assert attr.target < 0  # a log-probability
    # Completeness: attributions sum to f(x) - f(baseline) up to the reported delta.
    assert sum(attr.attributions) == pytest.approx(attr.target - attr.baseline_target, abs=abs(attr.delta) + 1e-4)
    assert abs(attr.delta) < 0.05 * max(1.0, abs(attr.target - attr.baseline_target))
    page = write_token_attributions(attr, tmp_path / "ig.html").read_text()
    assert "convergence delta" in page


def test_integrated_gradients_reward_model(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = LlamaConfig.from_pretrained(tiny_model_dir, num_labels=1)
    torch.manual_seed(0)
    rm = LlamaForSequenceClassification(config)
    attr = ig_reward(rm, tok, "The model asked how to write a poem safely.", n_steps=256)
    assert attr.what == "reward"
    assert sum(attr.attributions) == pytest.approx(attr.target - attr.baseline_target, abs=abs(attr.delta) + 1e-4)
    assert len(attr.top(3)) == 3


def test_lime_on_a_local_reward_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    config = LlamaConfig.from_pretrained(tiny_model_dir, num_labels=1)
    torch.manual_seed(0)
    LlamaForSequenceClassification(config).save_pretrained(tmp_path / "rm")
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path / "rm")
    clf = get_classifier(str(tmp_path / "rm"))
    assert clf.class_names == ("low reward", "high reward")
    probs = clf(["how to bake a cake", "the user asked"])
    assert probs.shape == (2, 2) and probs.sum(axis=1) == pytest.approx([1.0, 1.0])
    exp = explain_text(clf, "The cat asked how to bake a cake", num_samples=100)
    assert len(exp.weights) > 0
