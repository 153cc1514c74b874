"""The lineage page: the chain around a checkpoint, and the checkpoints behind a flag, escaped."""

from __future__ import annotations

import httpx
from markupsafe import escape

from alignlab.monitor import NewInteraction, record_feedback, record_interaction
from alignlab.monitor.feedback import FlagFeedback
from alignlab.store import DatasetRef, FeedbackLink, finish_run, record_checkpoint, start_run
from tests.web.conftest import Service
from tests.web.fake_upstream import XSS


def _login(service: Service, key: str) -> httpx.Client:
    client = httpx.Client(base_url=service.url)
    assert client.post("/ui/login", data={"key": key}).status_code == 303
    return client


def test_lineage_page_shows_the_chain_escaped(service: Service) -> None:
    store = service.store
    new = NewInteraction(
        model="m",
        backend="upstream",
        stream=False,
        status="ok",
        http_status=200,
        request={"messages": [{"role": "user", "content": "p"}]},
        response_text=XSS,
        latency_ms=1.0,
    )
    interaction = record_interaction(store, new).id
    flag = record_feedback(store, FlagFeedback(kind="flag", interaction_id=interaction, reason="harmful")).id
    record_checkpoint(
        store,
        name="ckpt-1",
        recipe="dpo",
        base_model=XSS,
        parent=None,
        datasets=[DatasetRef(name=XSS, sha256="ab" * 32, n_rows=1)],
        config={},
        metrics={},
        wall_time_s=1.0,
        path="/x",
        feedback=[FeedbackLink(feedback_id=flag, dataset=XSS, split="train")],
    )
    run = start_run(store, suite="redteam", model="ckpt:ckpt-1", dataset="alignlab-redteam")
    finish_run(store, run.id, status="success", n_samples=1, metrics={})

    moderator = _login(service, service.moderator)
    page = moderator.get("/ui/lineage", params={"subject": "ckpt:ckpt-1"})
    assert page.status_code == 200
    assert "<script>" not in page.text and "<img" not in page.text
    assert str(escape(XSS)) in page.text  # base model and dataset name, as text
    assert flag[:8] in page.text and run.id[:8] in page.text and "harmful, open" in page.text
    back = moderator.get("/ui/lineage", params={"subject": f"feedback:{flag}"})
    assert back.status_code == 200 and "ckpt:ckpt-1" in back.text and "train" in back.text
    missing = moderator.get("/ui/lineage", params={"subject": "ckpt:<b>nope</b>"})
    assert missing.status_code == 404 and "&lt;b&gt;nope&lt;/b&gt;" in missing.text and "<b>nope" not in missing.text
    assert _login(service, service.annotator).get("/ui/lineage").status_code == 403
    anonymous = httpx.get(f"{service.url}/ui/lineage", follow_redirects=False)
    assert anonymous.status_code == 303
