"""Service fixtures: a fake upstream, the app on SQLite and on PostgreSQL, keys of each role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from alignlab.monitor import MonitorConfig, ProxyConfig, create_key
from alignlab.settings import load_settings
from alignlab.store import Store
from alignlab.web import ServiceConfig, create_app, service_state
from tests.pg import postgres_db_url, postgres_url  # noqa: F401  (fixtures)
from tests.web.fake_upstream import fake_upstream_app, serve_in_thread


@pytest.fixture(scope="session")
def upstream_app() -> FastAPI:
    """The fake upstream app (its ``state.webhooks`` collects alert webhooks)."""
    return fake_upstream_app()


@pytest.fixture(scope="session")
def upstream_url(upstream_app: FastAPI) -> Iterator[str]:
    """Base URL (ending in /v1) of a fake OpenAI-compatible server."""
    with serve_in_thread(upstream_app) as url:
        yield f"{url}/v1"


BOTH_DBS = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: SQLite unless a test asks for both with ``@BOTH_DBS``."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    url: str = request.getfixturevalue("postgres_db_url")
    return url


@dataclass
class Service:
    """A running service and one key per role."""

    url: str
    store: Store
    app: object
    annotator: str
    moderator: str
    admin: str


def service_config(upstream_url: str, db_url: str, **kw: object) -> ServiceConfig:
    """Defaults for tests: small windows, no drift (MiniLM is tested on its own), a 1 s upstream timeout."""
    monitor = kw.pop("monitor", MonitorConfig(drift=False, min_events=5, window=20))
    return ServiceConfig(
        proxy=ProxyConfig(upstream_base_url=upstream_url, upstream_timeout_s=1.0),
        monitor=monitor,
        database_url=db_url,
        max_body_bytes=200_000,
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture
def service(upstream_url: str, db_url: str, alignlab_env: Path) -> Iterator[Service]:
    """The app under uvicorn on a free port."""
    app = create_app(load_settings(), service_config(upstream_url, db_url))
    with serve_in_thread(app) as url:
        store = service_state(app).store
        keys = {
            role: create_key(store, role=role, name=f"test {role}").token
            for role in ("annotator", "moderator", "admin")
        }
        yield Service(url, store, app, **keys)
