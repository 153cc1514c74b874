"""Server-side page sessions: the cookie is a random id, logout and key revocation end it, it expires,
and it is Secure behind HTTPS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from alignlab.monitor import create_key, revoke_key, verify_key
from alignlab.monitor.sessions import create_session, find_session
from alignlab.settings import load_settings
from alignlab.store.service_tables import UiSessionRow
from alignlab.web import create_app, service_state
from tests.web.conftest import BOTH_DBS, Service, service_config
from tests.web.fake_upstream import serve_in_thread


def _login(url: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=url)
    response = client.post("/ui/login", data={"key": key})
    assert response.status_code == 303
    return client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match is not None
    return match.group(1)


@BOTH_DBS
def test_the_cookie_is_a_session_id_that_logout_ends(service: Service) -> None:
    browser = _login(service.url, service.moderator)
    cookie = browser.cookies["alignlab_session"]
    assert service.moderator not in cookie and cookie not in service.moderator
    with service.store.session() as session:
        stored = [row.id_hash for row in session.query(UiSessionRow).all()]
    assert len(stored) == 1 and cookie not in stored[0]  # the store keeps a hash, not the id
    page = browser.get("/ui/flags")
    assert page.status_code == 200
    assert browser.post("/ui/logout", data={"csrf": _csrf(page.text)}).status_code == 303
    # Replaying the old cookie (a copy taken before logout) gets the login page: the session is over.
    replay = httpx.get(f"{service.url}/ui/flags", cookies={"alignlab_session": cookie})
    assert replay.status_code == 303 and replay.headers["location"] == "/ui/login"


@BOTH_DBS
def test_revoking_the_key_ends_its_sessions(service: Service) -> None:
    browser = _login(service.url, service.moderator)
    assert browser.get("/ui/flags").status_code == 200
    revoke_key(service.store, service.moderator.split("_")[1])
    gone = browser.get("/ui/flags")
    assert gone.status_code == 303 and gone.headers["location"] == "/ui/login"
    with service.store.session() as session:
        assert all(row.ended_at is not None for row in session.query(UiSessionRow).all())


def test_a_session_expires(service: Service) -> None:
    key = verify_key(service.store, service.moderator)
    assert key is not None
    live = create_session(service.store, key)
    expired = create_session(service.store, key, ttl=timedelta(seconds=-1))
    assert find_session(service.store, live.token) is not None
    assert find_session(service.store, expired.token) is None
    assert find_session(service.store, "not-a-session") is None
    page = httpx.get(f"{service.url}/ui/flags", cookies={"alignlab_session": expired.token})
    assert page.status_code == 303


def test_the_csrf_token_belongs_to_the_session(service: Service) -> None:
    first, second = _login(service.url, service.moderator), _login(service.url, service.moderator)
    token = _csrf(first.get("/ui/flags").text)
    assert token != _csrf(second.get("/ui/flags").text)
    refused = second.post("/ui/logout", data={"csrf": token})
    assert refused.status_code == 403


@pytest.fixture
def https_app(upstream_url: str, tmp_path: Path, alignlab_env: Path) -> Iterator[tuple[str, FastAPI]]:
    config = service_config(upstream_url, f"sqlite:///{tmp_path / 's.db'}", public_url="https://alignlab.example.org")
    app = create_app(load_settings(), config)
    with serve_in_thread(app) as url:
        yield url, app


def test_cookies_are_secure_when_the_public_url_is_https(https_app: tuple[str, FastAPI]) -> None:
    url, app = https_app
    key = create_key(service_state(app).store, role="moderator").token
    response = httpx.post(f"{url}/ui/login", data={"key": key})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    # The public origin is this service's too: a form posted from it is not cross-origin.
    from_public = httpx.post(f"{url}/ui/login", data={"key": key}, headers={"Origin": "https://alignlab.example.org"})
    assert from_public.status_code == 303
    assert (
        httpx.post(f"{url}/ui/login", data={"key": key}, headers={"Origin": "https://evil.example"}).status_code == 403
    )
