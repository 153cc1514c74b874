"""Feedback API, roles, and the preference export, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import openai
import pytest
from typer.testing import CliRunner

from alignlab.monitor import export_preferences, get_interaction, list_feedback, revoke_key
from tests.web.conftest import BOTH_DBS, Service


def _ask(service: Service, prompt: str, model: str = "echo") -> str:
    client = openai.OpenAI(base_url=f"{service.url}/v1", api_key=service.annotator, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": prompt}])
    return raw.headers["x-alignlab-interaction-id"]


def _post(service: Service, key: str | None, body: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{service.url}/v1/feedback", json=body, headers=headers)


@BOTH_DBS
def test_every_kind_of_feedback_is_stored(service: Service) -> None:
    a, b = _ask(service, "same prompt"), _ask(service, "same prompt")
    bodies = [
        {"kind": "thumbs", "interaction_id": a, "value": "up"},
        {"kind": "score", "interaction_id": a, "score": 9, "comment": "great"},
        {"kind": "pairwise", "interaction_id": a, "other_interaction_id": b, "choice": "a"},
        {"kind": "implicit", "interaction_id": b, "event": "regenerated"},
        {"kind": "implicit", "interaction_id": a, "event": "copied"},
    ]
    for body in bodies:
        response = _post(service, service.annotator, body)
        assert response.status_code == 201, response.text
        assert response.json()["interaction_id"] == body["interaction_id"]
    flag = _post(service, service.moderator, {"kind": "flag", "interaction_id": b, "reason": "toxic"})
    assert flag.status_code == 201
    stored = list_feedback(service.store)
    assert [f.kind for f in stored] == ["thumbs", "score", "pairwise", "implicit", "implicit", "flag"]
    assert stored[1].score == 9 and stored[2].choice == "a" and stored[5].reason == "toxic"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"kind": "thumbs", "interaction_id": "nope", "value": "up"}, 404, "no interaction with id 'nope'"),
        ({"kind": "score", "interaction_id": "{a}", "score": 11}, 400, "less than or equal to 10"),
        ({"kind": "thumbs", "interaction_id": "{a}", "value": "sideways"}, 400, "value"),
        ({"kind": "laugh", "interaction_id": "{a}"}, 400, "kind"),
        ({"kind": "flag", "interaction_id": "{a}", "reason": "boring"}, 400, "reason"),
        (
            {"kind": "pairwise", "interaction_id": "{a}", "other_interaction_id": "{other}", "choice": "a"},
            400,
            "same prompt",
        ),
        (
            {"kind": "pairwise", "interaction_id": "{a}", "other_interaction_id": "{a}", "choice": "b"},
            400,
            "two different",
        ),
        ({"kind": "thumbs", "interaction_id": "{a}", "value": "up", "extra": 1}, 400, "extra"),
    ],
)
def test_bad_feedback_is_4xx_with_a_message(
    service: Service, body: dict[str, object], status: int, needle: str
) -> None:
    ids = {"a": _ask(service, "p1"), "other": _ask(service, "p2")}
    body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
    response = _post(service, service.annotator, body)
    assert response.status_code == status, response.text
    assert needle in response.json()["error"]["message"]


def test_roles_and_keys(service: Service) -> None:
    a = _ask(service, "x")
    assert _post(service, None, {"kind": "thumbs", "interaction_id": a, "value": "up"}).status_code == 401
    flag = {"kind": "flag", "interaction_id": a, "reason": "spam"}
    denied = _post(service, service.annotator, flag)
    assert denied.status_code == 403 and "moderator" in denied.json()["error"]["message"]
    assert _post(service, service.admin, flag).status_code == 201
    traffic = f"{service.url}/v1/interactions"
    assert httpx.get(traffic).status_code == 401
    assert httpx.get(traffic, headers={"Authorization": f"Bearer {service.annotator}"}).status_code == 403
    listed = httpx.get(traffic, headers={"Authorization": f"Bearer {service.moderator}"})
    assert listed.status_code == 200 and listed.json()["total"] == 1
    one = httpx.get(f"{traffic}/{a}", headers={"Authorization": f"Bearer {service.moderator}"})
    assert one.json()["response_text"] == "echo: x"
    missing = httpx.get(f"{traffic}/unknown", headers={"Authorization": f"Bearer {service.moderator}"})
    assert missing.status_code == 404


def test_keys_are_hashed_at_rest(service: Service) -> None:
    from sqlalchemy import text

    with service.store.engine.connect() as conn:
        rows = conn.execute(text("select id, salt, secret_hash from api_keys")).all()
    dump = json.dumps([list(r) for r in rows])
    for token in (service.annotator, service.moderator, service.admin):
        assert token.split("_", 2)[2] not in dump


def _thumbs(service: Service, key: str) -> int:
    return _post(service, key, {"kind": "thumbs", "interaction_id": "x", "value": "up"}).status_code


def test_revocation_is_immediate_here_and_within_a_second_elsewhere(service: Service) -> None:
    from alignlab.web.keycache import REVOCATION_POLL_S

    annotator_id, moderator_id = (t.split("_")[1] for t in (service.annotator, service.moderator))
    assert _thumbs(service, service.annotator) == 404  # authenticated (and now cached)
    url = f"{service.url}/v1/keys/{annotator_id}/revoke"
    assert httpx.post(url, headers={"Authorization": f"Bearer {service.moderator}"}).status_code == 403
    revoked = httpx.post(url, headers={"Authorization": f"Bearer {service.admin}"})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert _thumbs(service, service.annotator) == 401  # no cache window in the revoking process
    unknown = httpx.post(
        f"{service.url}/v1/keys/{'0' * 16}/revoke", headers={"Authorization": f"Bearer {service.admin}"}
    )
    assert unknown.status_code == 404
    # Another process (here: the store directly, like `alignlab keys revoke`) revokes the moderator.
    assert _thumbs(service, service.moderator) == 404
    revoke_key(service.store, moderator_id)
    start = time.monotonic()
    while _thumbs(service, service.moderator) != 401:
        assert time.monotonic() - start < REVOCATION_POLL_S + 1.0, "revocation not seen within the bound"
        time.sleep(0.05)


def test_openapi_documents_the_feedback_schema(service: Service) -> None:
    schema = httpx.get(f"{service.url}/openapi.json").json()
    assert "/v1/feedback" in schema["paths"]
    names = set(schema["components"]["schemas"])
    assert {"ThumbsFeedback", "ScoreFeedback", "PairwiseFeedback", "FlagFeedback", "ImplicitFeedback"} <= names


@BOTH_DBS
def test_export_preferences_with_lineage(service: Service, tmp_path: Path) -> None:
    a1, a2, a3 = (_ask(service, "compare me", "numbered") for _ in range(3))
    t1, t2 = (_ask(service, "thumbs prompt", "numbered") for _ in range(2))
    s1, s2 = (_ask(service, "score prompt", "numbered") for _ in range(2))
    same1, same2 = _ask(service, "same answers"), _ask(service, "same answers")
    ann, mod = service.annotator, service.moderator
    votes = [(a1, a2, "b"), (a1, a2, "b"), (a2, a1, "b"), (a1, a3, "tie")]
    pairwise_ids = [
        _post(service, ann, {"kind": "pairwise", "interaction_id": x, "other_interaction_id": y, "choice": c}).json()[
            "id"
        ]
        for x, y, c in votes
    ]
    up = _post(service, ann, {"kind": "thumbs", "interaction_id": t1, "value": "up"}).json()["id"]
    down = _post(service, ann, {"kind": "thumbs", "interaction_id": t2, "value": "down"}).json()["id"]
    _post(service, ann, {"kind": "score", "interaction_id": s1, "score": 3})
    _post(service, ann, {"kind": "score", "interaction_id": s2, "score": 8})
    _post(service, ann, {"kind": "pairwise", "interaction_id": same1, "other_interaction_id": same2, "choice": "a"})
    summary = export_preferences(service.store, tmp_path / "prefs.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "prefs.jsonl").read_text().splitlines()]
    assert summary.pairs == 3 and summary.by_source == {"pairwise": 1, "thumbs": 1, "score": 1}
    by_source = {r["lineage"]["source"]: r for r in rows}
    pw = by_source["pairwise"]
    # votes: b (a2) twice, then b with the order swapped (a1): a2 wins 2–1.
    assert pw["lineage"]["chosen_interaction_id"] == a2 and pw["lineage"]["rejected_interaction_id"] == a1
    assert sorted(pw["lineage"]["feedback_ids"]) == sorted(pairwise_ids[:3])
    assert pw["prompt"] == [{"role": "user", "content": "compare me"}]
    assert pw["chosen"] == [{"role": "assistant", "content": get_interaction(service.store, a2).response_text}]
    assert pw["rejected"][0]["content"].endswith(": compare me") and pw["rejected"] != pw["chosen"]
    assert by_source["thumbs"]["lineage"]["feedback_ids"] == [up, down]
    assert by_source["score"]["lineage"]["chosen_interaction_id"] == s2
    # A moderator-confirmed flag keeps a response out of `chosen`.
    flag = _post(service, mod, {"kind": "flag", "interaction_id": s2, "reason": "harmful"}).json()["id"]
    from alignlab.monitor import resolve_flag

    resolve_flag(service.store, flag, "confirmed")
    assert export_preferences(service.store, tmp_path / "again.jsonl").by_source == {"pairwise": 1, "thumbs": 1}
    i1, i2 = (_ask(service, "implicit prompt", "numbered") for _ in range(2))
    copied = _post(service, ann, {"kind": "implicit", "interaction_id": i2, "event": "copied"}).json()["id"]
    regen = _post(service, ann, {"kind": "implicit", "interaction_id": i1, "event": "regenerated"}).json()["id"]
    assert "implicit" not in export_preferences(service.store, tmp_path / "no.jsonl").by_source
    with_implicit = export_preferences(service.store, tmp_path / "imp.jsonl", include_implicit=True)
    assert with_implicit.by_source == {"pairwise": 1, "thumbs": 1, "implicit": 1}
    rows = [json.loads(line) for line in (tmp_path / "imp.jsonl").read_text().splitlines()]
    (imp,) = [r for r in rows if r["lineage"]["source"] == "implicit"]
    assert imp["lineage"]["chosen_interaction_id"] == i2 and imp["lineage"]["feedback_ids"] == [copied, regen]


def test_cli_keys_and_export(alignlab_env: Path, tmp_path: Path) -> None:
    from alignlab.cli.main import app

    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--role", "moderator", "--name", "ops"])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("al_")
    listed = runner.invoke(app, ["keys", "list"])
    assert "moderator" in listed.output and token.split("_", 2)[2] not in listed.output
    bad = runner.invoke(app, ["keys", "create", "--role", "boss"])
    assert bad.exit_code != 0 and "unknown role 'boss'" in str(bad.exception)
    out = tmp_path / "prefs.jsonl"
    exported = runner.invoke(app, ["export", "preferences", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "0 pairs" in exported.output and out.read_text() == ""


def test_batch_feedback_items_succeed_or_fail_alone(service: Service) -> None:
    a = _ask(service, "batch")
    items = [{"kind": "implicit", "interaction_id": a, "event": "copied"}] * 3 + [
        {"kind": "thumbs", "interaction_id": "missing", "value": "down"}
    ]
    response = httpx.post(
        f"{service.url}/v1/feedback/batch",
        json={"items": items},
        headers={"Authorization": f"Bearer {service.annotator}"},
    )
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()] == [201, 201, 201, 404]
    assert "no interaction with id 'missing'" in response.json()[3]["error"]
    assert len(list_feedback(service.store, kind="implicit")) == 3
    too_many = httpx.post(
        f"{service.url}/v1/feedback/batch",
        json={"items": items * 300},
        headers={"Authorization": f"Bearer {service.annotator}"},
    )
    assert too_many.status_code == 400
