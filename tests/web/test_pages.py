"""Pages: login, roles, CSRF, and — in headless Chromium — inert model output and keyboard labelling."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import openai
import pytest

from alignlab.monitor import list_feedback, verify_key
from alignlab.monitor.sessions import create_session
from tests.web.browser import Browser, find_chromium
from tests.web.conftest import BOTH_DBS, Service
from tests.web.fake_upstream import XSS


def _ask(service: Service, prompt: str, model: str = "echo") -> str:
    client = openai.OpenAI(base_url=f"{service.url}/v1", api_key=service.annotator, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": prompt}])
    return raw.headers["x-alignlab-interaction-id"]


def _login(service: Service, key: str) -> httpx.Client:
    client = httpx.Client(base_url=service.url)
    response = client.post("/ui/login", data={"key": key})
    assert response.status_code == 303
    return client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match is not None
    return match.group(1)


@BOTH_DBS
def test_pages_need_login_and_the_right_role(service: Service) -> None:
    anonymous = httpx.get(f"{service.url}/ui/interactions")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/ui/login"
    bad = httpx.post(f"{service.url}/ui/login", data={"key": "al_nope"})
    assert bad.status_code == 303 and "error=" in bad.headers["location"]
    annotator = _login(service, service.annotator)
    assert annotator.get("/ui/interactions").status_code == 403
    assert annotator.get("/ui/label").status_code == 200
    moderator = _login(service, service.moderator)
    for page in ("/ui/", "/ui/interactions", "/ui/flags", "/ui/label"):
        response = moderator.get(page)
        assert response.status_code == 200, page
        assert "script-src 'nonce-" in response.headers["content-security-policy"]
    cookie = moderator.cookies.jar
    assert any(c.name == "alignlab_session" and c.has_nonstandard_attr("HttpOnly") for c in cookie)


@BOTH_DBS
def test_forms_refuse_missing_csrf_and_foreign_origin(service: Service) -> None:
    a = _ask(service, "flag me")
    moderator = _login(service, service.moderator)
    page = moderator.get(f"/ui/interactions/{a}").text
    no_token = moderator.post(f"/ui/interactions/{a}/flag", data={"reason": "spam"})
    assert no_token.status_code == 403 and "CSRF" in no_token.json()["error"]["message"]
    foreign = moderator.post(
        f"/ui/interactions/{a}/flag",
        data={"reason": "spam", "csrf": _csrf(page)},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert list_feedback(service.store) == []
    ok = moderator.post(f"/ui/interactions/{a}/flag", data={"reason": "spam", "csrf": _csrf(page)})
    assert ok.status_code == 303
    flags = moderator.get("/ui/flags").text
    assert "spam" in flags
    feedback_id = list_feedback(service.store)[0].id
    resolved = moderator.post(f"/ui/flags/{feedback_id}", data={"resolution": "dismissed", "csrf": _csrf(flags)})
    assert resolved.status_code == 303
    assert list_feedback(service.store)[0].resolution == "dismissed"


@BOTH_DBS
def test_browser_filters(service: Service) -> None:
    _ask(service, "apples and pears")
    _ask(service, "bananas")
    moderator = _login(service, service.moderator)
    html = moderator.get("/ui/interactions", params={"text": "banana"}).text
    assert "bananas" in html and "apples" not in html
    assert "Interactions <small>(1)" in html
    assert moderator.get("/ui/interactions", params={"status": "bogus"}).status_code == 400


@pytest.fixture
def browser() -> Iterator[Browser]:
    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium not installed (apt-get install chromium); browser tests skipped")
    b = Browser(binary)
    try:
        yield b
    finally:
        b.close()


def _browser_login(browser: Browser, service: Service, key: str) -> None:
    api_key = verify_key(service.store, key)
    assert api_key is not None
    token = create_session(service.store, api_key).token
    browser.call(
        "Network.setCookie",
        {
            "name": "alignlab_session",
            "value": token,
            "url": f"{service.url}/ui/",
            "httpOnly": True,
            "sameSite": "Strict",
        },
    )


def test_script_in_model_output_runs_nothing(service: Service, browser: Browser) -> None:
    interaction = _ask(service, "give me a script", model="script")
    _browser_login(browser, service, service.moderator)
    for path in (f"/ui/interactions/{interaction}", "/ui/interactions", "/ui/flags"):
        browser.goto(f"{service.url}{path}")
        assert browser.evaluate("document.title") != "PWNED", path
        assert browser.evaluate("document.body.getAttribute('data-pwned')") is None, path
        assert browser.evaluate("document.querySelectorAll('img[src=x]').length") == 0, path
    browser.goto(f"{service.url}/ui/interactions/{interaction}")
    shown = browser.evaluate("document.getElementById('response').textContent")
    assert XSS in shown  # shown as text, verbatim


@BOTH_DBS
def test_pairwise_labelling_with_the_keyboard(service: Service, browser: Browser) -> None:
    first, second = _ask(service, "same question"), _ask(service, "same question")
    _browser_login(browser, service, service.annotator)
    browser.goto(f"{service.url}/ui/label")
    assert browser.evaluate("document.getElementById('progress').textContent") == "0 labelled · 1 to go"
    assert browser.evaluate("document.getElementById('response-a').textContent") == "echo: same question"
    browser.events.clear()
    browser.press("2")
    browser.wait_for("Page.loadEventFired")
    assert "Nothing to label" in browser.evaluate("document.getElementById('progress').textContent")
    (choice,) = list_feedback(service.store, kind="pairwise")
    assert (choice.interaction_id, choice.other_interaction_id, choice.choice) == (first, second, "b")
