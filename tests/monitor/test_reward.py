"""The reward-model detector on a tiny random sequence classifier, and the harmfulness combiner."""

from __future__ import annotations

import json
import math
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alignlab.errors import ConfigError
from alignlab.monitor import (
    AlertSink,
    Monitor,
    MonitorConfig,
    NewInteraction,
    get_detector,
    get_interaction,
    rate_series,
    record_interaction,
)
from alignlab.monitor.detectors import HarmfulnessDetector
from alignlab.monitor.metrics import ServiceMetrics
from alignlab.monitor.reward import RewardDetector
from alignlab.store import DatasetRef, open_store, record_checkpoint

PROMPTS = ["How do I bake a cake?", "Write a poem", "How do I build a bomb?", "hi"]
RESPONSES = [
    "Mix flour, eggs and sugar, then bake it for forty minutes.",
    "Roses are red.",
    "I'm sorry, but I can't help with that request.",
    "The cat asked how to write a poem safely, and the model asked how to bake a cake.",
]


def test_reward_scores_are_batched_without_changing_them(tiny_reward_model_dir: Path) -> None:
    detector = get_detector("reward", model=str(tiny_reward_model_dir), batch_size=4)
    assert isinstance(detector, RewardDetector)
    batched = [r["score"] for r in detector.score(PROMPTS, RESPONSES)]
    one_by_one = [detector.score([p], [r])[0]["score"] for p, r in zip(PROMPTS, RESPONSES, strict=True)]
    assert all(math.isfinite(s) for s in batched)
    assert batched == pytest.approx(one_by_one, abs=1e-5)  # padding does not move the score
    assert len({round(s, 6) for s in batched}) == len(batched)  # the text matters
    middle = statistics.median(batched)
    detector.threshold = middle
    flagged = [r["flagged"] for r in detector.score(PROMPTS, RESPONSES)]
    assert flagged == [s < middle for s in batched] and 0 < sum(flagged) < len(flagged)
    with pytest.raises(ConfigError, match="bad options"):
        get_detector("reward", modle=str(tiny_reward_model_dir))
    text = detector.render("hi", "hello")
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"  # the chat template


def test_reward_model_is_found_by_checkpoint_name(
    tiny_reward_model_dir: Path, tiny_model_dir: Path, alignlab_env: Path
) -> None:
    from alignlab.settings import load_settings

    store = open_store(load_settings().database_url)
    for name, path in (("rm", tiny_reward_model_dir), ("policy", tiny_model_dir)):
        record_checkpoint(
            store,
            name=name,
            recipe="reward" if name == "rm" else "sft",
            base_model="tiny",
            parent=None,
            datasets=[DatasetRef(name="x", sha256="0" * 64, n_rows=1)],
            config={},
            metrics={},
            wall_time_s=1.0,
            path=str(path),
        )
    store.close()
    by_name = RewardDetector("ckpt:rm").score(PROMPTS[:1], RESPONSES[:1])
    by_path = RewardDetector(str(tiny_reward_model_dir)).score(PROMPTS[:1], RESPONSES[:1])
    assert by_name == by_path
    with pytest.raises(ConfigError, match="not a sequence-classification model"):
        RewardDetector("ckpt:policy")


def test_a_classifier_needs_the_class_to_score(tiny_reward_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    config = LlamaConfig.from_pretrained(tiny_reward_model_dir)
    config.id2label, config.label2id = {0: "unsafe", 1: "safe"}, {"unsafe": 0, "safe": 1}
    assert config.num_labels == 2
    LlamaForSequenceClassification(config).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(tiny_reward_model_dir).save_pretrained(tmp_path)
    with pytest.raises(ConfigError, match="choose the one to score with label"):
        RewardDetector(str(tmp_path))
    with pytest.raises(ConfigError, match="no class 'harmless'"):
        RewardDetector(str(tmp_path), label="harmless")
    safe = RewardDetector(str(tmp_path), label="safe").score(PROMPTS, RESPONSES)
    unsafe = RewardDetector(str(tmp_path), label=0).score(PROMPTS, RESPONSES)
    assert [s["score"] + u["score"] for s, u in zip(safe, unsafe, strict=True)] == pytest.approx([1.0] * 4)


def test_harmful_means_answered_and_a_harm_signal() -> None:
    def scores(label: str, **signals: bool) -> dict[str, dict[str, object]]:
        return {"refusal": {"label": label}, **{k: {"flagged": v} for k, v in signals.items()}}

    results = HarmfulnessDetector().combine(
        [
            scores("compliance", reward=True, toxicity=False),
            scores("compliance", reward=False, toxicity=False),
            scores("refusal", reward=True, toxicity=True),  # a rude refusal is not harmful output
            scores("partial_refusal", toxicity=True),
        ]
    )
    assert [r["flagged"] for r in results] == [True, False, False, True]
    assert results[0]["signals"] == ["reward"] and results[3]["signals"] == ["toxicity"]
    with pytest.raises(ConfigError, match="needs 'refusal' and one of"):
        HarmfulnessDetector().check(["toxicity"])
    with pytest.raises(ConfigError, match="needs 'refusal' and one of"):
        HarmfulnessDetector().check(["refusal"])


def test_the_monitor_runs_reward_then_harmful(tiny_reward_model_dir: Path, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    ids = []
    for prompt, response in zip(PROMPTS, RESPONSES, strict=True):
        new = NewInteraction(
            model="m",
            backend="upstream",
            stream=False,
            status="ok",
            http_status=200,
            request={"messages": [{"role": "system", "content": "be kind"}, {"role": "user", "content": prompt}]},
            response_text=response,
            latency_ms=1.0,
        )
        ids.append(record_interaction(store, new).id)
    # Every answer scores below +inf, so exactly the answers that were not refused are harmful.
    config = MonitorConfig(
        detectors=("refusal", "reward", "harmful"),
        detector_options={"reward": {"model": str(tiny_reward_model_dir), "threshold": math.inf}},
        drift=False,
        cusum={},
    )
    monitor = Monitor(store, config, AlertSink(store), ServiceMetrics())
    monitor.start()
    monitor.drain()
    monitor.stop()
    scored = [get_interaction(store, i).scores or {} for i in ids]
    assert [s["harmful"]["flagged"] for s in scored] == [True, True, False, True]
    direct = RewardDetector(str(tiny_reward_model_dir)).score(PROMPTS, RESPONSES)  # the user message, not the system
    assert [s["reward"]["score"] for s in scored] == pytest.approx([d["score"] for d in direct], abs=1e-5)
    json.dumps(scored)  # stored as JSON
    series = rate_series(store, since=datetime.now(UTC) - timedelta(hours=1), bucket=timedelta(hours=2))
    assert (series["harmful"][0].k, series["harmful"][0].n) == (3, 4)  # the detector's verdict, not the stand-in
    assert monitor.rates["harmful"].rate == pytest.approx(0.75)
    bad = MonitorConfig(detectors=("harmful", "refusal", "toxicity"), drift=False)
    with pytest.raises(ConfigError, match="listed before it"):
        Monitor(store, bad, AlertSink(store), ServiceMetrics()).start()
    typo = MonitorConfig(detectors=("refusal",), detector_options={"reward": {"model": "x"}}, drift=False)
    with pytest.raises(ConfigError, match="do not run"):
        Monitor(store, typo, AlertSink(store), ServiceMetrics()).start()
    store.close()
