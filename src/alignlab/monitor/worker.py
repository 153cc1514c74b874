"""The monitor: scores interactions, raises alerts and publishes its rolling rates.

Two ways to feed it. In a thread of the web app, the proxy hands it interaction ids after
the row is committed; on start it re-queues every interaction not yet scored, so a crash
loses no work. In its own process (:mod:`alignlab.monitor.process`) it polls the store for
unscored interactions with :meth:`Monitor.score_pending`. Either way a batch's scores are
committed in one transaction, so an interaction is scored once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select

from alignlab.errors import ConfigError, UnknownNameError
from alignlab.monitor.alerts import AlertSink, AlertState
from alignlab.monitor.detectors import Combiner, Detector, detector_names, get_detector
from alignlab.monitor.drift import DriftTracker, Embedder, minilm_embedder
from alignlab.monitor.metrics import ServiceMetrics
from alignlab.monitor.rates import RollingRate, is_flagged
from alignlab.monitor.sequential import CusumAlarm
from alignlab.monitor.state import RateNow, state_row
from alignlab.store import Store
from alignlab.store.service_tables import InteractionRow, MonitorStateRow

__all__ = ["Monitor", "MonitorConfig", "check_detectors"]

log = logging.getLogger("alignlab.monitor")
BATCH = 32
_SEED = "\0seed-drift"  # a queue item that is not an interaction id


@dataclass(frozen=True)
class MonitorConfig:
    """What the monitor runs and when it alerts.

    Attributes:
        detectors: Registered detector names to run on every response, in order (a combiner
            such as ``harmful`` after the detectors it reads).
        detector_options: Detector name → keyword options for its factory (e.g.
            ``{"reward": {"model": "ckpt:rm", "threshold": 0.0}}``).
        window: Outcomes in each rolling rate.
        min_events: No threshold alert before the window holds this many outcomes.
        thresholds: Metric → rolling rate above which a threshold alert fires (once: it
            stays firing until the rate falls ``threshold_hysteresis`` below the threshold,
            then resolves).
        threshold_hysteresis: Relative margin under the threshold that resolves a threshold
            alert (0.2: a 20 % threshold resolves at 16 %), so a rate hovering at the
            threshold does not flap.
        cusum: Metric → (p0, p1) of a Bernoulli CUSUM; its alarm fires a sequential alert,
            which resolves when a downward CUSUM (p1 → p0) alarms (see ``CusumAlarm``).
        cusum_h: The CUSUM decision threshold.
        drift: Test prompt drift with MiniLM embeddings.
        drift_window: Prompts in the reference and in the current window.
        drift_every: Prompts between two drift tests.
        drift_alpha: p-value below which a drift alert fires (it resolves at the next test
            with a p-value at or above it).
        batch_linger_s: After the first queued interaction, wait this long for more before
            scoring. Scoring is not latency-critical, and per-call costs dominate batches of
            one (alt-profanity-check: 2.5 ms for one response, 0.08 ms each in 32; one commit
            per batch); they also compete with the proxy for the interpreter.
    """

    detectors: tuple[str, ...] = ("refusal", "toxicity", "profanity")
    detector_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    window: int = 200
    min_events: int = 30
    thresholds: dict[str, float] = field(
        default_factory=lambda: {"harmful": 0.2, "refusal": 0.5, "toxicity": 0.2, "profanity": 0.2}
    )
    cusum: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {"harmful": (0.05, 0.2), "refusal": (0.1, 0.3)}
    )
    threshold_hysteresis: float = 0.2
    cusum_h: float = 5.0
    drift: bool = True
    drift_window: int = 100
    drift_every: int = 50
    drift_alpha: float = 0.01
    batch_linger_s: float = 0.1


class Monitor:
    """Scores interactions on a worker thread; :meth:`submit` never blocks."""

    def __init__(
        self,
        store: Store,
        config: MonitorConfig,
        alerts: AlertSink,
        metrics: ServiceMetrics,
        *,
        embedder: Embedder | None = None,
        detectors: Sequence[Detector | Combiner] | None = None,
    ) -> None:
        self.store, self.config, self.alerts, self.metrics = store, config, alerts, metrics
        self._detectors: list[Detector | Combiner] | None = list(detectors) if detectors is not None else None
        self._embedder = embedder or minilm_embedder
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.rates = {m: RollingRate(config.window) for m in (*config.thresholds, *config.cusum)}
        self._cusums = {m: CusumAlarm(p0, p1, config.cusum_h) for m, (p0, p1) in config.cusum.items()}
        self.drift: DriftTracker | None = None
        self.last_drift: dict[str, Any] | None = None

    def load(self) -> None:
        """Load the detectors and the drift tracker, and publish an empty state.

        Raises:
            ConfigError: Options name a detector that does not run, or a combiner runs
                before the detectors it reads.
        """
        if self._detectors is None:
            check_detectors(self.config)
            options = self.config.detector_options
            self._detectors = [get_detector(name, **options.get(name, {})) for name in self.config.detectors]
        for i, detector in enumerate(self._detectors):
            if isinstance(detector, Combiner):
                detector.check([d.name for d in self._detectors[:i]])
        if self.config.drift:
            self.drift = DriftTracker(self._embedder, window=self.config.drift_window, every=self.config.drift_every)
        self._publish()

    def start(self) -> None:
        """Load the detectors, re-queue unscored interactions, start the thread."""
        self.load()
        with self.store.session() as session:
            self._queue.put(_SEED)  # first in line, so drain() waits for it too
            pending = session.scalars(_unscored()).all()
        for interaction_id in pending:
            self._queue.put(interaction_id)
        self._thread = threading.Thread(target=self._run, name="alignlab-monitor", daemon=True)
        self._thread.start()

    def pending_ids(self, *, limit: int = BATCH, skip: frozenset[str] = frozenset()) -> list[str]:
        """The oldest unscored interactions in the store, at most ``limit``.

        Args:
            limit: The most ids to return.
            skip: Ids not to return (a batch that failed, so that it cannot block the rest).
        """
        query = _unscored().limit(limit)
        if skip:
            query = query.where(InteractionRow.id.not_in(skip))
        with self.store.session() as session:
            return list(session.scalars(query).all())

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, interaction_id: str) -> None:
        """Queue one committed interaction for scoring."""
        self._queue.put(interaction_id)
        self.metrics.queue.set(self._queue.qsize())

    def drain(self) -> None:
        """Block until everything queued so far is scored (for tests and shutdown)."""
        self._queue.join()

    def seed_drift(self) -> None:
        """Fill the drift reference with the latest prompts scored before this start.

        Without this every restart would start a fresh reference from whatever traffic comes
        next, and a drift already under way would become the new normal.
        """
        if self.drift is None:
            return
        with self.store.session() as session:
            rows: Sequence[dict[str, Any]] = session.scalars(
                select(InteractionRow.request)
                .where(InteractionRow.scored_at.is_not(None), InteractionRow.status == "ok")
                .order_by(InteractionRow.created_at.desc())
                .limit(self.config.drift_window)
            ).all()
        prompts = [_last_user(r) for r in reversed(rows)]
        if prompts:
            self.drift.add([p or " " for p in prompts])

    def _next_batch(self) -> list[str | None]:
        """Block for one item, then gather more for up to ``batch_linger_s`` (or until a stop)."""
        batch = [self._queue.get()]
        deadline = time.monotonic() + self.config.batch_linger_s
        while len(batch) < BATCH and batch[-1] is not None:
            try:
                remaining = deadline - time.monotonic()
                batch.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            ids = [i for i in batch if i is not None and i != _SEED]
            try:
                if _SEED in batch:
                    self.seed_drift()
            except Exception:  # drift is optional; scoring must go on
                log.exception("could not seed the drift reference from the store")
            try:
                if ids:
                    self.score(ids)
            except Exception:  # a bad batch must not kill the monitor
                log.exception("monitor failed on %d interactions", len(ids))
            finally:
                for _ in batch:
                    self._queue.task_done()
                self.metrics.queue.set(self._queue.qsize())
            if None in batch:
                return

    def score(self, ids: list[str]) -> int:
        """Score these interactions (those still unscored), update the rates, alert; how many it scored."""
        with self.store.session() as session:
            # SKIP LOCKED (PostgreSQL; SQLite serialises writers anyway): two workers on one
            # store never score the same row twice.
            rows = session.scalars(
                select(InteractionRow).where(InteractionRow.id.in_(ids)).with_for_update(skip_locked=True)
            ).all()
            rows = sorted((r for r in rows if r.status == "ok" and r.scored_at is None), key=lambda r: r.created_at)
            # The prompt a detector sees is the last user message: what the response answers.
            prompts = [_last_user(r.request) or r.prompt_text for r in rows]
            responses = [r.response_text or "" for r in rows]
            results: list[dict[str, Any]] = [{} for _ in rows]
            for detector in self._detectors or []:
                if isinstance(detector, Combiner):
                    found = detector.combine(results)
                else:
                    found = detector.score(prompts, responses)
                for i, result in enumerate(found):
                    results[i][detector.name] = result
                    if result.get("flagged"):
                        self.metrics.flags.labels(self.metrics.names(detector.name)).inc()
            # Rates, alerts (their own transactions) and drift before this session writes
            # anything: on SQLite a write holds the one write lock, which the proxy needs too.
            for scores in results:
                self._update_rates(scores)
            if self.drift is not None and rows:
                self._check_drift(prompts)
            if rows:  # the scores and the state they lead to, in one commit
                session.merge(self._state_row())  # its SELECT before the first write: a short lock
            now = datetime.now(UTC)
            for row, scores in zip(rows, results, strict=True):
                row.scores, row.scored_at = scores, now
            session.commit()
        self.metrics.scored.inc(len(rows))
        return len(rows)

    def _state_row(self) -> MonitorStateRow:
        rates = {m: RateNow(rate=r.rate, n=r.n) for m, r in self.rates.items()}
        return state_row(rates, self.last_drift, self.drift.state() if self.drift else None)

    def _publish(self) -> None:
        with self.store.session() as session:
            session.merge(self._state_row())
            session.commit()

    def _update_rates(self, scores: dict[str, Any]) -> None:
        for metric, rolling in self.rates.items():
            hit = is_flagged(scores, metric)
            if hit is None:
                continue
            rolling.add(hit)
            self.metrics.rate.labels(self.metrics.names(metric)).set(rolling.rate)
            self._check_threshold(metric, rolling)
            alarm = self._cusums.get(metric)
            changed = alarm.update(hit) if alarm is not None else None
            if alarm is not None and changed is not None:
                if changed:
                    message = (
                        f"CUSUM: {metric} rate shifted from {alarm.p0:.0%} towards {alarm.p1:.0%} "
                        f"(after {alarm.n} responses)"
                    )
                else:
                    message = f"CUSUM: {metric} rate back towards {alarm.p0:.0%} (after {alarm.n} responses)"
                self.alerts.update(
                    "sequential",
                    metric,
                    "firing" if changed else "resolved",
                    message,
                    value=rolling.rate,
                    threshold=alarm.h,
                    details={"p0": alarm.p0, "p1": alarm.p1, "n": alarm.n},
                )

    def _check_threshold(self, metric: str, rolling: RollingRate) -> None:
        """Fire above the threshold; resolve only once the rate is ``threshold_hysteresis`` below it."""
        threshold = self.config.thresholds.get(metric)
        if threshold is None or rolling.n < self.config.min_events:
            return
        firing = self.alerts.state("threshold", metric) == "firing"
        if not firing and rolling.rate > threshold:
            state: AlertState = "firing"
            message = f"{metric} rate {rolling.rate:.1%} over the last {rolling.n} responses exceeds {threshold:.1%}"
        elif firing and rolling.rate <= threshold * (1.0 - self.config.threshold_hysteresis):
            state = "resolved"
            message = (
                f"{metric} rate {rolling.rate:.1%} over the last {rolling.n} responses is back under {threshold:.1%}"
            )
        else:
            return
        self.alerts.update(
            "threshold", metric, state, message, value=rolling.rate, threshold=threshold, details={"n": rolling.n}
        )

    def _check_drift(self, prompts: list[str]) -> None:
        assert self.drift is not None
        result = self.drift.add(prompts)
        if result is None:
            return
        self.last_drift = {"p_value": result.p_value, "mmd2": result.mmd2, "at": datetime.now(UTC).isoformat()}
        self.metrics.drift_p.set(result.p_value)
        drifted = result.p_value < self.config.drift_alpha
        verdict = "drifted" if drifted else "no longer differs from the reference"
        self.alerts.update(
            "drift",
            "prompts",
            "firing" if drifted else "resolved",
            f"prompt distribution {verdict}: MMD² {result.mmd2:.4f}, permutation p = {result.p_value:.4f}",
            value=result.p_value,
            threshold=self.config.drift_alpha,
            details=self.last_drift,
        )


def check_detectors(config: MonitorConfig) -> None:
    """Check the detector names and options without loading any model.

    Raises:
        UnknownNameError: A detector name is not registered.
        ConfigError: Options are given for a detector that does not run.
    """
    unknown = set(config.detector_options) - set(config.detectors)
    if unknown:
        raise ConfigError(f"options given for detectors that do not run: {sorted(unknown)}")
    known = detector_names()
    for name in config.detectors:
        if name not in known:
            raise UnknownNameError("detector", name, known)


def _unscored() -> Select[str]:
    return (
        select(InteractionRow.id)
        .where(InteractionRow.scored_at.is_(None), InteractionRow.status == "ok")
        .order_by(InteractionRow.created_at)
    )


def _last_user(request: dict[str, Any]) -> str:
    messages = request.get("messages") or []
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
            return str(m["content"])
    return ""
