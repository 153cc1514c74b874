"""The monitor in its own process: it polls the store, so the detectors never hold the web app's GIL.

The detectors (an ONNX model, scikit-learn, regexes, optionally a reward model) are CPU work
in Python; on a thread of the web app they compete with the event loop for the interpreter
and add to the proxy's tail latency. Here they run in another process that reads unscored
interactions from the store and writes the scores, alerts and rolling rates back to it, so
the web app and the worker share nothing but the store. (Measured on two shared cores with
SQLite, that did not shorten the proxy's tail — probably the two processes contending for SQLite's
write lock and for the cores; see docs/service.md before choosing it.)

* :func:`run_worker` opens the store and runs the polling loop, :func:`poll_and_score`
  (``alignlab monitor run`` runs it in the foreground).
* :class:`MonitorProcess` spawns it as a child of ``alignlab serve``, restarts it when it dies
  and stops it with the server.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Protocol

from alignlab.monitor.alerts import AlertSink
from alignlab.monitor.metrics import ServiceMetrics
from alignlab.monitor.worker import Monitor, MonitorConfig, check_detectors
from alignlab.store import open_store

__all__ = ["MonitorProcess", "SignalStop", "poll_and_score", "run_worker"]

log = logging.getLogger("alignlab.monitor")
_MAX_RESTART_DELAY_S = 60.0
# Few, large batches: on SQLite every commit takes the one write lock the proxy also needs,
# and a writer that finds it taken backs off in sleeps of 1, 2, 5, 10, 15, 20 … ms.
POLL_S = 0.5
BATCH = 256


class _Stop(Protocol):
    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class SignalStop:
    """A stop flag a signal handler may set (``threading.Event.set`` may deadlock in a handler:
    the signal can arrive while the same thread holds the event's lock inside ``wait``)."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        """Ask the worker to stop (safe in a signal handler)."""
        self._set = True

    def is_set(self) -> bool:
        """Whether a stop was asked for."""
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to ``timeout`` seconds, returning early once set."""
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while not self._set and time.monotonic() < deadline:
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
        return self._set


def poll_and_score(
    monitor: Monitor, stop: _Stop, *, poll_s: float = POLL_S, alive: Callable[[], bool] = lambda: True
) -> int:
    """Load the detectors, then score unscored interactions from the store until ``stop`` is set.

    A worker that restarts picks up where the last one stopped: an interaction counts as
    scored once its batch is committed, and only unscored ones are read.

    Args:
        monitor: The monitor (its store, detectors and alert sink).
        stop: Set it to finish the current batch and return.
        poll_s: Pause between two reads of the store when there was less than a batch to do.
        alive: Polled between batches; the worker returns when it says False (its parent died).

    Returns:
        How many interactions this worker scored.
    """
    monitor.load()
    try:
        monitor.seed_drift()
    except Exception:  # drift is optional; scoring must go on
        log.exception("could not seed the drift reference from the store")
    scored, failed = 0, frozenset[str]()
    while not stop.is_set() and alive():
        ids: list[str] = []
        try:
            ids = monitor.pending_ids(limit=BATCH, skip=failed)
            if ids:
                scored += monitor.score(ids)
        except Exception:  # a bad batch, or the store briefly away: keep the worker up
            log.exception("monitor failed on %d interactions; they stay unscored until a restart", len(ids))
            failed |= frozenset(ids)
        if len(ids) < BATCH:
            stop.wait(poll_s)
    return scored


def run_worker(
    database_url: str,
    config: MonitorConfig,
    stop: _Stop,
    *,
    webhook_url: str | None = None,
    poll_s: float = POLL_S,
    alive: Callable[[], bool] = lambda: True,
    metrics: ServiceMetrics | None = None,
    migrate: bool = True,
) -> int:
    """Open the store and score its interactions until ``stop`` is set; how many it scored.

    Raises:
        StoreError: The store cannot be opened.
        ConfigError: A detector name or option is wrong.
    """
    store = open_store(database_url, migrate=migrate)
    metrics = metrics or ServiceMetrics()
    monitor = Monitor(store, config, AlertSink(store, webhook_url=webhook_url, metrics=metrics), metrics)
    try:
        return poll_and_score(monitor, stop, poll_s=poll_s, alive=alive)
    finally:
        store.close()


def _child(database_url: str, config: MonitorConfig, webhook_url: str | None, poll_s: float) -> None:
    # Ctrl-C reaches the whole process group; the server stops this child itself, with SIGTERM.
    # (Not a multiprocessing.Event: a child killed while waiting on one leaves its lock held,
    # and the server's set() would then block for ever.)
    stop = SignalStop()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: monitor process: %(message)s")
    parent = multiprocessing.parent_process()
    scored = run_worker(
        database_url,
        config,
        stop,
        webhook_url=webhook_url,
        poll_s=poll_s,
        alive=lambda: parent is None or parent.is_alive(),
        migrate=False,  # the server migrated the store before spawning this child
    )
    log.info("stopped after scoring %d interactions", scored)


class MonitorProcess:
    """Runs :func:`run_worker` in a child process and restarts it when it dies.

    A crash of the child is logged and the child restarted (after 2 s, doubling up to a
    minute while it keeps crashing at once); the web app goes on serving meanwhile, and
    the interactions it records are scored when the child is back.
    """

    def __init__(
        self,
        database_url: str,
        config: MonitorConfig,
        *,
        webhook_url: str | None = None,
        poll_s: float = POLL_S,
        restart_after_s: float = 2.0,
    ) -> None:
        self.database_url, self.config, self.webhook_url = database_url, config, webhook_url
        self.poll_s, self.restart_after_s = poll_s, restart_after_s
        # spawn, not fork: the parent runs threads and an event loop that a fork would copy mid-flight.
        self._ctx = multiprocessing.get_context("spawn")
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._closing = False
        self.process: BaseProcess | None = None
        self.restarts = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Check the detector names, then spawn the child and supervise it from a thread.

        Raises:
            ConfigError: A detector name or option is wrong (checked here, so that a typo
                fails the server's start instead of crash-looping the child).
        """
        check_detectors(self.config)
        self._thread = threading.Thread(target=self._supervise, name="alignlab-monitor-supervisor", daemon=True)
        self._thread.start()
        while self.process is None and self._thread.is_alive():
            time.sleep(0.01)

    def _supervise(self) -> None:
        delay = self.restart_after_s
        while True:
            with self._lock:
                if self._closing:
                    return
                args = (self.database_url, self.config, self.webhook_url, self.poll_s)
                process = self._ctx.Process(target=_child, args=args, name="alignlab-monitor", daemon=True)
                process.start()
                self.process = process
            started = time.monotonic()
            process.join()
            if self._closing:
                return
            delay = self.restart_after_s if time.monotonic() - started > _MAX_RESTART_DELAY_S else delay
            log.error(
                "monitor process %s exited with code %s; restarting it in %.0f s", process.pid, process.exitcode, delay
            )
            self._wake.wait(delay)
            delay = min(2 * delay, _MAX_RESTART_DELAY_S)
            self.restarts += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Let the child finish its batch and exit (terminate it after ``timeout``); stop supervising."""
        with self._lock:
            self._closing = True
            process = self.process
        self._wake.set()
        if process is not None and process.is_alive():
            process.terminate()  # SIGTERM: the child finishes its batch and returns
            process.join(timeout)
            if process.is_alive():
                log.warning("monitor process %s did not stop in %.0f s; killing it", process.pid, timeout)
                process.kill()
                process.join(5)
        if self._thread is not None:
            self._thread.join(timeout)
