"""Configuration of one ``alignlab serve`` instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from alignlab.monitor import MonitorConfig, ProxyConfig

__all__ = ["ServiceConfig"]


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the app factory needs besides :class:`~alignlab.settings.Settings`.

    Attributes:
        proxy: Upstream URL and local model names.
        monitor: Detectors, windows, thresholds and drift settings.
        monitor_enabled: Run the detectors at all (off for pure proxy benchmarks).
        monitor_mode: ``thread``: the detectors run on a thread of the web app (simple, for
            tests and small setups); ``process``: in a child process that polls the store, off
            the server's interpreter (on a 2-core machine with SQLite it did not shorten the
            proxy's tail; see docs/service.md). With ``process`` the monitor's Prometheus
            counters live in the child, not in this app's ``/metrics``.
        webhook_url: Alerts are POSTed here as JSON.
        max_body_bytes: Requests with a larger body get 413.
        require_key_for_proxy: Chat completions need an API key (any role), since they write a row.
        database_url: Overrides the settings' store URL.
        public_url: The URL people reach the service at (e.g. ``https://alignlab.example.org``)
            when it sits behind a TLS-terminating proxy; forms from that origin are accepted.
        secure_cookies: Mark the UI session cookie ``Secure``; ``None``: when ``public_url``
            is https.
        session_hours: How long a page session lasts after login.
    """

    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    monitor_enabled: bool = True
    monitor_mode: Literal["thread", "process"] = "thread"
    webhook_url: str | None = None
    max_body_bytes: int = 1_000_000
    require_key_for_proxy: bool = True
    database_url: str | None = None
    public_url: str | None = None
    secure_cookies: bool | None = None
    session_hours: float = 12.0

    @property
    def cookies_secure(self) -> bool:
        """Whether the session cookie is ``Secure``: as set, else when the public URL is https."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return (self.public_url or "").lower().startswith("https://")
