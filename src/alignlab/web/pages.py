"""Server-rendered pages: login, dashboard, interaction browser, pairwise labelling, flag queue,
compliance-gap runs and their transcripts.

Safety: templates autoescape everything (model output is text, never markup); a strict
Content-Security-Policy allows only the page's own nonce-tagged script; every form POST
carries a per-key CSRF token and must come from this origin; the session cookie is
HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from alignlab.errors import InputError
from alignlab.monitor.alerts import list_alerts
from alignlab.monitor.feedback import (
    FLAG_REASONS,
    FlagFeedback,
    PairwiseFeedback,
    list_open_flags,
    next_pair_task,
    record_feedback,
    resolve_flag,
)
from alignlab.monitor.interactions import InteractionFilter, get_interaction, list_interactions
from alignlab.monitor.keys import ApiKey, Role, csrf_token, role_allows
from alignlab.monitor.rates import RATE_METRICS, harmful_is_stand_in, rate_series
from alignlab.monitor.state import read_monitor_state
from alignlab.store import get_run, list_runs
from alignlab.web.auth import COOKIE, page_key
from alignlab.web.charts import rate_chart

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
PageKey = Annotated[ApiKey | None, Depends(page_key)]


@cache
def _templates() -> Environment:
    return Environment(loader=PackageLoader("alignlab.web", "templates"), autoescape=select_autoescape(default=True))


class _Redirect(HTTPException):
    def __init__(self, to: str) -> None:
        super().__init__(303, headers={"Location": to})


def _need(key: ApiKey | None, role: Role) -> ApiKey:
    if key is None:
        raise _Redirect("/ui/login")
    if not role_allows(key.role, role):
        raise HTTPException(403, f"this page needs a {role} key; yours is {key.role}")
    return key


async def _render(request: Request, template: str, key: ApiKey | None, **context: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    csrf = await run_in_threadpool(csrf_token, request.app.state.store, key) if key else ""
    html = _templates().get_template(template).render(nonce=nonce, csrf=csrf, key=key, **context)
    response = HTMLResponse(html)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def _form(request: Request, key: ApiKey | None) -> dict[str, str]:
    """Parse an urlencoded form and check its origin and CSRF token."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise HTTPException(403, "cross-origin form submission refused")
    fields = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if key is not None:
        expected = await run_in_threadpool(csrf_token, request.app.state.store, key)
        if not hmac.compare_digest(fields.get("csrf", ""), expected):
            raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    return fields


@router.get("/login")
async def login_page(request: Request, error: str = "") -> HTMLResponse:
    """Ask for an API key."""
    return await _render(request, "login.html", None, error=error[:200])


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the key and keep it in an HttpOnly, SameSite=Strict cookie."""
    fields = await _form(request, None)
    token = fields.get("key", "").strip()
    key = await request.app.state.keys.verify(token) if token else None
    if key is None:
        return RedirectResponse("/ui/login?" + urlencode({"error": "invalid or revoked API key"}), 303)
    response = RedirectResponse("/ui/" if role_allows(key.role, "moderator") else "/ui/label", 303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/ui",
        secure=request.app.state.config.secure_cookies,
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
async def logout(request: Request, key: PageKey) -> Response:
    """Forget the session cookie."""
    await _form(request, key)
    response = RedirectResponse("/ui/login", 303)
    response.delete_cookie(COOKIE, path="/ui")
    return response


@router.get("/")
async def dashboard(request: Request, key: PageKey, hours: int = 24, bucket_minutes: int = 60) -> HTMLResponse:
    """Rates over time, rolling rates, drift and recent alerts."""
    key = _need(key, "moderator")
    hours, bucket_minutes = min(max(hours, 1), 24 * 30), min(max(bucket_minutes, 1), 24 * 60)
    since = datetime.now(UTC) - timedelta(hours=hours)
    store = request.app.state.store
    series = await run_in_threadpool(rate_series, store, since=since, bucket=timedelta(minutes=bucket_minutes))
    alerts = await run_in_threadpool(list_alerts, store, limit=20)
    monitor = await run_in_threadpool(read_monitor_state, store)
    charts = {m: rate_chart(series[m]) for m in RATE_METRICS}
    totals = {m: (sum(b.k for b in series[m]), sum(b.n for b in series[m])) for m in RATE_METRICS}
    labels = {m: f"{m} rate" for m in RATE_METRICS}
    if harmful_is_stand_in(request.app.state.config.monitor.detectors):
        labels["harmful"] = "harmful rate (stand-in: toxicity or profanity; no harmful detector configured)"
    return await _render(
        request,
        "dashboard.html",
        key,
        charts=charts,
        totals=totals,
        labels=labels,
        alerts=alerts,
        monitor=monitor,
        monitor_enabled=request.app.state.config.monitor_enabled,
        hours=hours,
        bucket_minutes=bucket_minutes,
    )


@router.get("/interactions")
async def browser(
    request: Request,
    key: PageKey,
    model: str = "",
    status: str = "",
    refusal: str = "",
    toxic: str = "",
    flagged: str = "",
    text: str = "",
    page: int = 1,
) -> HTMLResponse:
    """Browse logged traffic with filters (moderator or admin)."""
    key = _need(key, "moderator")
    try:
        f = InteractionFilter.model_validate(
            {
                "model": model or None,
                "status": status or None,
                "refusal": refusal or None,
                "toxic": {"yes": True, "no": False}.get(toxic),
                "flagged": {"yes": True, "no": False}.get(flagged),
                "text": text[:200] or None,
                "limit": 50,
                "offset": 50 * (max(page, 1) - 1),
            }
        )
    except ValidationError as exc:
        raise HTTPException(422, f"bad filter: {exc.errors()[0]['msg']}") from exc
    result = await run_in_threadpool(list_interactions, request.app.state.store, f)
    query = {
        k: v
        for k, v in {
            "model": model,
            "status": status,
            "refusal": refusal,
            "toxic": toxic,
            "flagged": flagged,
            "text": text,
        }.items()
        if v
    }
    return await _render(
        request,
        "interactions.html",
        key,
        items=result.items,
        total=result.total,
        f=f,
        page=page,
        query=query,
        next_query=urlencode({**query, "page": page + 1}),
        prev_query=urlencode({**query, "page": page - 1}),
    )


@router.get("/interactions/{interaction_id}")
async def detail(request: Request, key: PageKey, interaction_id: str) -> HTMLResponse:
    """One interaction, its scores and a flag form."""
    key = _need(key, "moderator")
    item = await run_in_threadpool(get_interaction, request.app.state.store, interaction_id)
    return await _render(request, "interaction.html", key, item=item, reasons=FLAG_REASONS)


@router.post("/interactions/{interaction_id}/flag")
async def flag(request: Request, key: PageKey, interaction_id: str) -> Response:
    """Flag an interaction from the browser."""
    key = _need(key, "moderator")
    fields = await _form(request, key)
    try:
        item = FlagFeedback.model_validate(
            {
                "kind": "flag",
                "interaction_id": interaction_id,
                "reason": fields.get("reason", ""),
                "comment": fields.get("comment") or None,
            }
        )
    except ValidationError as exc:
        raise HTTPException(422, f"bad flag: {exc.errors()[0]['msg']}") from exc
    await run_in_threadpool(record_feedback, request.app.state.store, item, api_key_id=key.id)
    return RedirectResponse(f"/ui/interactions/{interaction_id}", 303)


@router.get("/label")
async def label_page(request: Request, key: PageKey) -> HTMLResponse:
    """Two responses to the same prompt side by side; keys 1 / 2 / 0 (tie)."""
    key = _need(key, "annotator")
    store = request.app.state.store
    task = await run_in_threadpool(next_pair_task, store)
    a = b = None
    if task is not None:
        a = await run_in_threadpool(get_interaction, store, task.a)
        b = await run_in_threadpool(get_interaction, store, task.b)
    return await _render(request, "label.html", key, task=task, a=a, b=b)


@router.post("/label")
async def label(request: Request, key: PageKey) -> Response:
    """Record one pairwise choice and show the next pair."""
    key = _need(key, "annotator")
    fields = await _form(request, key)
    try:
        item = PairwiseFeedback.model_validate(
            {
                "kind": "pairwise",
                "interaction_id": fields.get("a", ""),
                "other_interaction_id": fields.get("b", ""),
                "choice": fields.get("choice", ""),
            }
        )
    except ValidationError as exc:
        raise HTTPException(422, f"bad choice: {exc.errors()[0]['msg']}") from exc
    await run_in_threadpool(record_feedback, request.app.state.store, item, api_key_id=key.id)
    return RedirectResponse("/ui/label", 303)


@router.get("/flags")
async def flags_page(request: Request, key: PageKey) -> HTMLResponse:
    """Open moderator flags, oldest first."""
    key = _need(key, "moderator")
    store = request.app.state.store
    flags = await run_in_threadpool(list_open_flags, store)
    items = {f.interaction_id: await run_in_threadpool(get_interaction, store, f.interaction_id) for f in flags}
    return await _render(request, "flags.html", key, flags=flags, items=items)


@router.post("/flags/{feedback_id}")
async def resolve(request: Request, key: PageKey, feedback_id: str) -> Response:
    """Confirm or dismiss a flag."""
    key = _need(key, "moderator")
    fields = await _form(request, key)
    resolutions: dict[str, Literal["confirmed", "dismissed"]] = {"confirmed": "confirmed", "dismissed": "dismissed"}
    resolution = resolutions.get(fields.get("resolution", ""))
    if resolution is None:
        raise HTTPException(422, "resolution must be confirmed or dismissed")
    await run_in_threadpool(resolve_flag, request.app.state.store, feedback_id, resolution)
    return RedirectResponse("/ui/flags", 303)


_PAGE_SIZE = 50


def _gap_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The free − paid gaps a compliance-gap run stored (what the runs table shows)."""
    return [d for d in metrics.get("differences", []) if str(d.get("measure", "")).startswith("gap_")]


@router.get("/compliance-gap")
async def cgap_runs(request: Request, key: PageKey) -> HTMLResponse:
    """Compliance-gap runs recorded in the store, newest first (moderator or admin)."""
    key = _need(key, "moderator")
    runs = await run_in_threadpool(list_runs, request.app.state.store, suite="compliance-gap", limit=200)
    return await _render(request, "cgap_runs.html", key, runs=runs, gaps={r.id: _gap_rows(r.metrics) for r in runs})


@router.get("/compliance-gap/{run_id}")
async def cgap_run(
    request: Request,
    key: PageKey,
    run_id: str,
    condition: str = "",
    label: str = "",
    prefix: str = "",
    af: str = "",
    page: int = 1,
) -> HTMLResponse:
    """One run's transcripts from its Inspect log, filtered by condition and labels."""
    key = _need(key, "moderator")
    from alignlab.evals.compliance_gap.explorer import filter_values, load_transcripts, select_transcripts

    try:
        run = await run_in_threadpool(get_run, request.app.state.store, run_id[:64])
        if run.suite != "compliance-gap" or not run.log_path:
            raise InputError(f"run {run.id[:8]} is not a compliance-gap run with a log")
        transcripts = await run_in_threadpool(load_transcripts, Path(run.log_path))
    except InputError as exc:
        raise HTTPException(404, str(exc)) from exc
    chosen = {"condition": condition, "label": label, "prefix": prefix, "af": af}
    shown = select_transcripts(transcripts, chosen)
    page = max(page, 1)
    query = {k: v for k, v in chosen.items() if v}
    return await _render(
        request,
        "cgap_run.html",
        key,
        run=run,
        gaps=_gap_rows(run.metrics),
        rates=run.metrics.get("rates", []),
        values=filter_values(transcripts),
        chosen=chosen,
        total=len(transcripts),
        matched=len(shown),
        items=shown[_PAGE_SIZE * (page - 1) : _PAGE_SIZE * page],
        page=page,
        more=_PAGE_SIZE * page < len(shown),
        next_query=urlencode({**query, "page": page + 1}),
        prev_query=urlencode({**query, "page": page - 1}),
    )
