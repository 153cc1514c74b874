"""``alignlab serve``, ``alignlab monitor run``, ``alignlab keys …`` and ``alignlab export preferences``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from alignlab.settings import load_settings

if TYPE_CHECKING:
    from alignlab.monitor import MonitorConfig
    from alignlab.store import Store

__all__ = ["register"]

console = Console()
keys_app = typer.Typer(no_args_is_help=True, help="API keys of the service (hashed at rest, shown once).")
export_app = typer.Typer(no_args_is_help=True, help="Export data from the store.")
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


def _store() -> Store:
    from alignlab.store import open_store

    return open_store(load_settings().database_url)


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    upstream: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL, e.g. http://host:8080/v1.")] = None,
    upstream_key_env: Annotated[
        str, typer.Option(help="Env var holding the upstream API key.")
    ] = "ALIGNLAB_UPSTREAM_API_KEY",
    local_model: Annotated[
        list[str] | None, typer.Option("--local-model", help="Serve this model name in-process (repeatable).")
    ] = None,
    webhook: WebhookOpt = None,
    timeout: Annotated[float, typer.Option(help="Upstream timeout (s) before a 504.")] = 60.0,
    max_body: Annotated[int, typer.Option(help="Largest request body in bytes.")] = 1_000_000,
    no_drift: NoDriftOpt = False,
    no_monitor: Annotated[bool, typer.Option("--no-monitor", help="Proxy and log only; no detectors.")] = False,
    monitor_process: Annotated[
        bool,
        typer.Option(
            "--monitor-process/--monitor-thread",
            help="Run the detectors in a child process that polls the store, or on a thread of the server.",
        ),
    ] = False,
    open_proxy: Annotated[
        bool, typer.Option("--open-proxy", help="Let chat completions through without a key.")
    ] = False,
    detector: DetectorOpt = None,
    reward_model: RewardModelOpt = None,
    reward_threshold: RewardThresholdOpt = 0.0,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every HTTP request (each interaction is in the store anyway).")
    ] = False,
) -> None:
    """Run the proxy, feedback API, monitor and pages (http://HOST:PORT/ui/)."""
    import os

    import uvicorn

    from alignlab.monitor import ProxyConfig
    from alignlab.web import ServiceConfig, create_app

    config = ServiceConfig(
        proxy=ProxyConfig(
            upstream_base_url=upstream,
            upstream_api_key=os.environ.get(upstream_key_env),
            upstream_timeout_s=timeout,
            local_models=tuple(local_model or ()),
        ),
        monitor=_monitor_config(detector, reward_model, reward_threshold, drift=not no_drift),
        monitor_enabled=not no_monitor,
        monitor_mode="process" if monitor_process else "thread",
        webhook_url=webhook,
        max_body_bytes=max_body,
        require_key_for_proxy=not open_proxy,
    )
    uvicorn.run(create_app(load_settings(), config), host=host, port=port, log_level="info", access_log=access_log)


def _monitor_config(
    detectors: list[str] | None, reward_model: str | None, threshold: float, *, drift: bool
) -> MonitorConfig:
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

    from alignlab.monitor.metrics import ServiceMetrics
    from alignlab.monitor.process import SignalStop, run_worker

    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    config = _monitor_config(detector, reward_model, reward_threshold, drift=not no_drift)
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


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="annotator, moderator or admin.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
) -> None:
    """Create a key; its secret is printed once and never stored."""
    from alignlab.monitor import create_key

    created = create_key(_store(), role=role, name=name)
    console.print(f"key id {created.key.id} ({created.key.role}); copy the secret now, it is not shown again:")
    typer.echo(created.token)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (ids, names, roles; never secrets)."""
    from alignlab.monitor import list_keys

    table = Table(title="API keys")
    for col in ("id", "name", "role", "created", "revoked"):
        table.add_column(col)
    for k in list_keys(_store()):
        table.add_row(
            k.id,
            k.name,
            k.role,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id from `alignlab keys list`.")]) -> None:
    """Revoke a key."""
    from alignlab.monitor import revoke_key

    console.print(f"revoked {revoke_key(_store(), key_id).id}")


@export_app.command("preferences")
def export_prefs(
    out: Annotated[Path, typer.Option(help="Output JSONL (TRL prompt/chosen/rejected + lineage).")],
    min_score_gap: Annotated[float, typer.Option(help="Score difference that makes a pair.")] = 2.0,
    implicit: Annotated[bool, typer.Option("--implicit", help="Also pair copied over regenerated answers.")] = False,
) -> None:
    """Turn pairwise, thumbs, score and flag feedback into preference pairs (a dataset: export:<id>)."""
    from alignlab.monitor import export_preferences

    summary = export_preferences(_store(), out, min_score_gap=min_score_gap, include_implicit=implicit)
    detail = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_source.items())) or "no feedback yet"
    console.print(f"{summary.pairs} pairs → {summary.path} ({detail}); train on it as export:{summary.export_id[:12]}")


def register(app: typer.Typer) -> None:
    """Add the service commands to the main app."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
    app.add_typer(export_app, name="export")
    app.add_typer(monitor_app, name="monitor")
