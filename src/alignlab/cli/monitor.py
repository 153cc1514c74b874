"""``alignlab monitor run``: the monitor (detectors, rolling rates, alerts) on its own; and the monitor
options ``alignlab serve`` shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from alignlab.settings import load_settings

if TYPE_CHECKING:
    from alignlab.monitor import MonitorConfig

__all__ = [
    "DetectorOpt",
    "NoDriftOpt",
    "RewardModelOpt",
    "RewardThresholdOpt",
    "WebhookOpt",
    "monitor_app",
    "monitor_config",
]

console = Console()
monitor_app = typer.Typer(no_args_is_help=True, help="The monitor (detectors, rolling rates, alerts) on its own.")

# Options shared by `serve` and `monitor run`.
DetectorOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--detector",
        help="Detector to run, in order (repeatable); default refusal, toxicity, profanity "
        "(then reward, harmful with --reward-model).",
    ),
]
RewardModelOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Reward model for the reward detector: ckpt:<name> or a sequence-classification directory."),
]
RewardThresholdOpt = Annotated[float, typer.Option(help="Reward scores below this count as a harm signal.")]
NoDriftOpt = Annotated[bool, typer.Option("--no-drift", help="Skip the MiniLM prompt-drift test.")]
WebhookOpt = Annotated[Optional[str], typer.Option(help="POST alerts to this URL.")]  # noqa: UP045


def monitor_config(
    detectors: list[str] | None, reward_model: str | None, threshold: float, *, drift: bool
) -> MonitorConfig:
    """The monitor's configuration from the CLI options (a reward model adds the reward and harmful detectors)."""
    from alignlab.monitor import MonitorConfig

    names = tuple(detectors or MonitorConfig().detectors)
    if reward_model is None:
        return MonitorConfig(detectors=names, drift=drift)
    if not detectors:
        names = (*names, "reward", "harmful")
    options = {"reward": {"model": reward_model, "threshold": threshold}}
    return MonitorConfig(detectors=names, detector_options=options, drift=drift)


@monitor_app.command("run")
def monitor_run(
    detector: DetectorOpt = None,
    reward_model: RewardModelOpt = None,
    reward_threshold: RewardThresholdOpt = 0.0,
    no_drift: NoDriftOpt = False,
    webhook: WebhookOpt = None,
    poll_interval: Annotated[float, typer.Option(help="Seconds between two reads of the store when idle.")] = 0.5,
    metrics_port: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Serve the monitor's Prometheus metrics on this port."),
    ] = None,
) -> None:
    """Score the store's unscored interactions in this process until Ctrl-C (one worker per store).

    For servers started with --no-monitor, e.g. several replicas on one PostgreSQL store.
    """
    import logging
    import signal

    from alignlab.monitor import ServiceMetrics, SignalStop, run_worker

    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    config = monitor_config(detector, reward_model, reward_threshold, drift=not no_drift)
    metrics = ServiceMetrics()
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, registry=metrics.registry)
    stop = SignalStop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"monitor: {', '.join(config.detectors)} on the store's unscored interactions; Ctrl-C stops")
    url = load_settings().database_url
    scored = run_worker(url, config, stop, webhook_url=webhook, poll_s=poll_interval, metrics=metrics)
    console.print(f"monitor: stopped after scoring {scored} interactions")
