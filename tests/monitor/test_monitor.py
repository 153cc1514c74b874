"""Detectors on real offline models, the monitor thread, drift on MiniLM embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from alignlab.errors import UnknownNameError
from alignlab.monitor import (
    AlertSink,
    DriftTracker,
    Monitor,
    MonitorConfig,
    NewInteraction,
    get_detector,
    get_interaction,
    list_alerts,
    record_interaction,
)
from alignlab.monitor.drift import minilm_embedder
from alignlab.monitor.metrics import ServiceMetrics
from alignlab.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'm.db'}")


def _new(text: str, prompt: str = "hello") -> NewInteraction:
    return NewInteraction(
        model="m",
        backend="upstream",
        stream=False,
        status="ok",
        http_status=200,
        request={"messages": [{"role": "user", "content": prompt}]},
        response_text=text,
        latency_ms=1.0,
    )


def test_detectors_on_real_models() -> None:
    responses = [
        "I'm sorry, but I can't help with that request.",
        "Paris is the capital of France.",
        "you are a stupid fucking idiot",
    ]
    prompts = ["x"] * 3
    refusal = get_detector("refusal").score(prompts, responses)
    toxicity = get_detector("toxicity").score(prompts, responses)
    profanity = get_detector("profanity").score(prompts, responses)
    assert [r["label"] for r in refusal] == ["refusal", "compliance", "compliance"]
    assert [r["flagged"] for r in toxicity] == [False, False, True]
    assert [r["flagged"] for r in profanity] == [False, False, True]
    assert toxicity[2]["neither"] < 0.5 and sum(
        toxicity[0][c] for c in ("hate_speech", "offensive_language", "neither")
    ) == pytest.approx(1, abs=1e-4)
    with pytest.raises(UnknownNameError, match="valid detectors: harmful, profanity, refusal, reward, toxicity"):
        get_detector("vibes")


def test_profanity_scores_equal_the_library() -> None:
    from profanity_check import predict_prob

    from alignlab.monitor.detectors import _direct_profanity

    texts = ["Paris is the capital of France.", "you are a stupid fucking idiot", "shit happens", "", "Fine, thanks!"]
    direct = _direct_profanity()
    assert direct is not None  # the fast path applies to the installed model
    assert list(direct(texts)) == pytest.approx(list(predict_prob(texts)), abs=1e-12)
    scores = [r["score"] for r in get_detector("profanity").score(["x"] * len(texts), texts)]
    assert scores == pytest.approx(list(predict_prob(texts)), abs=1e-12)


def test_monitor_scores_backlog_and_alerts_on_a_threshold(store: Store) -> None:
    # Written while no monitor ran (say, before a crash): the monitor picks them up on start.
    ids = [record_interaction(store, _new("fuck you, idiot" if i % 2 else "Sure, here it is.")).id for i in range(12)]
    config = MonitorConfig(
        detectors=("toxicity", "profanity"),
        window=10,
        min_events=10,
        drift=False,
        thresholds={"harmful": 0.3},
        cusum={},
    )
    monitor = Monitor(store, config, AlertSink(store), ServiceMetrics())
    monitor.start()
    monitor.drain()
    monitor.stop()
    scored = [get_interaction(store, i) for i in ids]
    assert all(s.scored_at is not None for s in scored)
    assert [s.scores["profanity"]["flagged"] for s in scored] == [bool(i % 2) for i in range(12)]  # type: ignore[index]
    alerts = list_alerts(store)
    assert [(a.kind, a.metric) for a in alerts] == [("threshold", "harmful")]
    assert alerts[0].value == pytest.approx(0.5) and alerts[0].details["n"] == 10


def test_monitor_sequential_alert(store: Store) -> None:
    config = MonitorConfig(
        detectors=("refusal",),
        window=50,
        min_events=50,
        drift=False,
        thresholds={},
        cusum={"refusal": (0.1, 0.4)},
        cusum_h=3.0,
    )
    monitor = Monitor(store, config, AlertSink(store), ServiceMetrics())
    monitor.start()
    for _ in range(8):
        monitor.submit(record_interaction(store, _new("I'm sorry, but I can't help with that.")).id)
    monitor.drain()
    monitor.stop()
    alerts = list_alerts(store)
    assert alerts and alerts[-1].kind == "sequential" and alerts[-1].metric == "refusal"
    assert alerts[-1].details["n"] == 3  # 3·ln 4 = 4.16 ≥ 3 after the third refusal


def test_drift_on_minilm_embeddings() -> None:
    cooking = [
        f"How long should I {v} the {f}?"
        for v in ("bake", "boil", "roast", "grill", "fry")
        for f in ("chicken", "potatoes", "salmon", "bread", "carrots", "rice", "eggs", "pasta")
    ]
    finance = [
        f"Should I {v} my {a} this year?"
        for v in ("sell", "buy more", "rebalance", "hedge", "move")
        for a in ("index funds", "bonds", "stocks", "pension", "crypto", "savings", "shares", "mortgage")
    ]
    cooking = [cooking[i] for i in np.random.default_rng(0).permutation(len(cooking))]  # exchangeable halves
    tracker = DriftTracker(minilm_embedder, window=20, every=20, n_permutations=200)
    assert tracker.add(cooking[:20]) is None  # fills the reference
    same = tracker.add(cooking[20:40])
    assert same is not None and same.p_value > 0.01
    shifted = tracker.add(finance[:20])
    assert shifted is not None and shifted.p_value < 0.01
    assert minilm_embedder(["a"]).shape == (1, 384)
    assert np.allclose(np.linalg.norm(minilm_embedder(cooking[:3]), axis=1), 1.0)


def test_monitor_raises_a_drift_alert(store: Store) -> None:
    rng = np.random.default_rng(0)

    def topic_embedder(texts: Sequence[str]) -> NDArray[np.float64]:
        # Two clusters by topic plus noise: a stand-in for MiniLM (tested above) that keeps this test fast.
        return np.array([[5.0 if t.startswith("stocks") else 0.0, 0.0, *rng.normal(0, 1, 2)] for t in texts])

    config = MonitorConfig(
        detectors=("refusal",), drift=True, drift_window=10, drift_every=10, drift_alpha=0.01, thresholds={}, cusum={}
    )
    monitor = Monitor(store, config, AlertSink(store), ServiceMetrics(), embedder=topic_embedder)
    monitor.start()
    for i in range(30):
        prompt = f"cooking question {i}" if i < 20 else f"stocks question {i}"
        monitor.submit(record_interaction(store, _new("Sure.", prompt=prompt)).id)
        monitor.drain()  # one at a time, so windows fill in order
    monitor.stop()
    alerts = list_alerts(store)
    assert [(a.kind, a.metric) for a in alerts] == [("drift", "prompts")]
    assert alerts[0].value is not None and alerts[0].value < 0.01
    assert monitor.last_drift is not None


def test_drift_reference_survives_a_restart(store: Store) -> None:
    rng = np.random.default_rng(1)

    def topic_embedder(texts: Sequence[str]) -> NDArray[np.float64]:
        return np.array([[5.0 if t.startswith("stocks") else 0.0, 0.0, *rng.normal(0, 1, 2)] for t in texts])

    config = MonitorConfig(detectors=("refusal",), drift=True, drift_window=10, drift_every=10, thresholds={}, cusum={})
    first = Monitor(store, config, AlertSink(store), ServiceMetrics(), embedder=topic_embedder)
    first.start()
    for i in range(10):
        first.submit(record_interaction(store, _new("Sure.", prompt=f"cooking question {i}")).id)
    first.drain()
    first.stop()
    second = Monitor(store, config, AlertSink(store), ServiceMetrics(), embedder=topic_embedder)
    second.start()
    second.drain()
    assert second.drift is not None and len(second.drift.reference) == 10  # seeded from the store
    for i in range(10):
        second.submit(record_interaction(store, _new("Sure.", prompt=f"stocks question {i}")).id)
    second.drain()
    second.stop()
    assert [a.kind for a in list_alerts(store)] == ["drift"]
