"""``alignlab serve``: the proxy, feedback API, monitor and pages."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from alignlab.cli.monitor import DetectorOpt, NoDriftOpt, RewardModelOpt, RewardThresholdOpt, WebhookOpt, monitor_config
from alignlab.settings import load_settings

__all__ = ["serve"]


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
    public_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="URL people reach the service at, e.g. https://alignlab.example.org (behind a TLS proxy)."),
    ] = None,
    secure_cookies: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Mark the page session cookie Secure (default: on when --public-url is https).",
        ),
    ] = None,
    session_hours: Annotated[float, typer.Option(help="How long a page login lasts.", min=0.01)] = 12.0,
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
        monitor=monitor_config(detector, reward_model, reward_threshold, drift=not no_drift),
        monitor_enabled=not no_monitor,
        monitor_mode="process" if monitor_process else "thread",
        webhook_url=webhook,
        max_body_bytes=max_body,
        require_key_for_proxy=not open_proxy,
        public_url=public_url,
        secure_cookies=secure_cookies,
        session_hours=session_hours,
    )
    uvicorn.run(create_app(load_settings(), config), host=host, port=port, log_level="info", access_log=access_log)
