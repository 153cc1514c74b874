"""Server-rendered pages: login, dashboard, interaction browser, pairwise labelling, flag queue,
compliance-gap runs and their transcripts.

Safety: templates autoescape everything (model output is text, never markup); a strict
Content-Security-Policy allows only the page's own nonce-tagged script; every form POST
carries the session's CSRF token and must come from this origin; the session cookie holds
a random session id (never the key), is HttpOnly, SameSite=Strict, and Secure behind HTTPS;
logout and key revocation end the session in the store.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from alignlab.errors import InputError
from alignlab.monitor import (
    FLAG_REASONS,
    RATE_METRICS,
    FlagFeedback,
    InteractionFilter,
    PairwiseFeedback,
    UiSession,
    create_session,
    end_session,
    get_interaction,
    harmful_is_stand_in,
    list_alerts,
    list_interactions,
    list_open_flags,
    next_pair_task,
    rate_series,
    read_monitor_state,
    record_feedback,
    resolve_flag,
    role_allows,
)
from alignlab.store import get_run, list_runs
from alignlab.web.auth import COOKIE, PageSessionDep
from alignlab.web.charts import rate_chart
from alignlab.web.config import ServiceConfig
from alignlab.web.deps import ConfigDep, KeysDep, StoreDep
from alignlab.web.rendering import render_page, require_role

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
_PAGE_SIZE = 50
MAX_PAGE = 100_000  # 50 rows a page: past every store this serves, and far from a 64-bit offset
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _form(request: Request, config: ServiceConfig, session: UiSession | None) -> dict[str, str]:
    """Parse an urlencoded form and check its origin and CSRF token."""
    origin = request.headers.get("origin")
    allowed = {_origin(str(request.url))} | ({_origin(config.public_url)} if config.public_url else set())
    if origin is not None and origin.lower() not in allowed:
        raise HTTPException(403, "cross-origin form submission refused")
    fields = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if session is not None and not hmac.compare_digest(fields.get("csrf", ""), session.csrf):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    return fields


@router.get("/login")
async def login_page(error: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """Ask for an API key."""
    return render_page("login.html", None, error=error)


@router.post("/login")
async def login(request: Request, store: StoreDep, keys: KeysDep, config: ConfigDep) -> Response:
    """Check the key and start a server-side session; the cookie holds only the session's random id."""
    fields = await _form(request, config, None)
    token = fields.get("key", "").strip()
    key = await keys.verify(token) if token else None
    if key is None:
        return RedirectResponse("/ui/login?" + urlencode({"error": "invalid or revoked API key"}), 303)
    ttl = timedelta(hours=config.session_hours)
    new = await run_in_threadpool(partial(create_session, store, key, ttl=ttl))
    response = RedirectResponse("/ui/" if role_allows(key.role, "moderator") else "/ui/label", 303)
    response.set_cookie(
        COOKIE,
        new.token,
        httponly=True,
        samesite="strict",
        path="/ui",
        secure=config.cookies_secure,
        max_age=int(ttl.total_seconds()),
    )
    return response


@router.post("/logout")
async def logout(request: Request, session: PageSessionDep, store: StoreDep, config: ConfigDep) -> Response:
    """End the session in the store and drop the cookie."""
    await _form(request, config, session)
    token = request.cookies.get(COOKIE)
    if token:
        await run_in_threadpool(end_session, store, token)
    response = RedirectResponse("/ui/login", 303)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict", secure=config.cookies_secure)
    return response


@router.get("/")
async def dashboard(
    session: PageSessionDep,
    store: StoreDep,
    config: ConfigDep,
    hours: Annotated[int, Query(ge=1, le=24 * 30)] = 24,
    bucket_minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
) -> HTMLResponse:
    """Rates over time, rolling rates, drift and recent alerts."""
    session = require_role(session, "moderator")
    since = datetime.now(UTC) - timedelta(hours=hours)
    series = await run_in_threadpool(rate_series, store, since=since, bucket=timedelta(minutes=bucket_minutes))
    alerts = await run_in_threadpool(list_alerts, store, limit=20)
    monitor = await run_in_threadpool(read_monitor_state, store)
    charts = {m: rate_chart(series[m]) for m in RATE_METRICS}
    totals = {m: (sum(b.k for b in series[m]), sum(b.n for b in series[m])) for m in RATE_METRICS}
    labels = {m: f"{m} rate" for m in RATE_METRICS}
    if harmful_is_stand_in(config.monitor.detectors):
        labels["harmful"] = "harmful rate (stand-in: toxicity or profanity; no harmful detector configured)"
    return render_page(
        "dashboard.html",
        session,
        charts=charts,
        totals=totals,
        labels=labels,
        alerts=alerts,
        monitor=monitor,
        monitor_enabled=config.monitor_enabled,
        hours=hours,
        bucket_minutes=bucket_minutes,
    )


@router.get("/interactions")
async def browser(
    session: PageSessionDep,
    store: StoreDep,
    model: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    refusal: Annotated[str, Query(max_length=32)] = "",
    toxic: Annotated[str, Query(max_length=8)] = "",
    flagged: Annotated[str, Query(max_length=8)] = "",
    text: Annotated[str, Query(max_length=200)] = "",
    page: Page = 1,
) -> HTMLResponse:
    """Browse logged traffic with filters (moderator or admin)."""
    session = require_role(session, "moderator")
    try:
        f = InteractionFilter.model_validate(
            {
                "model": model or None,
                "status": status or None,
                "refusal": refusal or None,
                "toxic": {"yes": True, "no": False}.get(toxic),
                "flagged": {"yes": True, "no": False}.get(flagged),
                "text": text or None,
                "limit": _PAGE_SIZE,
                "offset": _PAGE_SIZE * (page - 1),
            }
        )
    except ValidationError as exc:
        raise HTTPException(400, f"bad filter: {exc.errors()[0]['msg']}") from exc
    result = await run_in_threadpool(list_interactions, store, f)
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
    return render_page(
        "interactions.html",
        session,
        items=result.items,
        total=result.total,
        f=f,
        page=page,
        query=query,
        next_query=urlencode({**query, "page": page + 1}),
        prev_query=urlencode({**query, "page": page - 1}),
    )


@router.get("/interactions/{interaction_id}")
async def detail(session: PageSessionDep, store: StoreDep, interaction_id: str) -> HTMLResponse:
    """One interaction, its scores and a flag form."""
    session = require_role(session, "moderator")
    item = await run_in_threadpool(get_interaction, store, interaction_id)
    return render_page("interaction.html", session, item=item, reasons=FLAG_REASONS)


@router.post("/interactions/{interaction_id}/flag")
async def flag(
    request: Request, session: PageSessionDep, store: StoreDep, config: ConfigDep, interaction_id: str
) -> Response:
    """Flag an interaction from the browser."""
    session = require_role(session, "moderator")
    fields = await _form(request, config, session)
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
        raise HTTPException(400, f"bad flag: {exc.errors()[0]['msg']}") from exc
    await run_in_threadpool(record_feedback, store, item, api_key_id=session.key.id)
    return RedirectResponse(f"/ui/interactions/{interaction_id}", 303)


@router.get("/label")
async def label_page(session: PageSessionDep, store: StoreDep) -> HTMLResponse:
    """Two responses to the same prompt side by side; keys 1 / 2 / 0 (tie)."""
    session = require_role(session, "annotator")
    task = await run_in_threadpool(next_pair_task, store)
    a = b = None
    if task is not None:
        a = await run_in_threadpool(get_interaction, store, task.a)
        b = await run_in_threadpool(get_interaction, store, task.b)
    return render_page("label.html", session, task=task, a=a, b=b)


@router.post("/label")
async def label(request: Request, session: PageSessionDep, store: StoreDep, config: ConfigDep) -> Response:
    """Record one pairwise choice and show the next pair."""
    session = require_role(session, "annotator")
    fields = await _form(request, config, session)
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
        raise HTTPException(400, f"bad choice: {exc.errors()[0]['msg']}") from exc
    await run_in_threadpool(record_feedback, store, item, api_key_id=session.key.id)
    return RedirectResponse("/ui/label", 303)


@router.get("/flags")
async def flags_page(session: PageSessionDep, store: StoreDep) -> HTMLResponse:
    """Open moderator flags, oldest first."""
    session = require_role(session, "moderator")
    flags = await run_in_threadpool(list_open_flags, store)
    items = {f.interaction_id: await run_in_threadpool(get_interaction, store, f.interaction_id) for f in flags}
    return render_page("flags.html", session, flags=flags, items=items)


@router.post("/flags/{feedback_id}")
async def resolve(
    request: Request, session: PageSessionDep, store: StoreDep, config: ConfigDep, feedback_id: str
) -> Response:
    """Confirm or dismiss a flag."""
    session = require_role(session, "moderator")
    fields = await _form(request, config, session)
    resolutions: dict[str, Literal["confirmed", "dismissed"]] = {"confirmed": "confirmed", "dismissed": "dismissed"}
    resolution = resolutions.get(fields.get("resolution", ""))
    if resolution is None:
        raise HTTPException(400, "resolution must be confirmed or dismissed")
    await run_in_threadpool(resolve_flag, store, feedback_id, resolution)
    return RedirectResponse("/ui/flags", 303)


def _gap_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The free − paid gaps a compliance-gap run stored (what the runs table shows)."""
    return [d for d in metrics.get("differences", []) if str(d.get("measure", "")).startswith("gap_")]


@router.get("/compliance-gap")
async def cgap_runs(session: PageSessionDep, store: StoreDep) -> HTMLResponse:
    """Compliance-gap runs recorded in the store, newest first (moderator or admin)."""
    session = require_role(session, "moderator")
    runs = await run_in_threadpool(list_runs, store, suite="compliance-gap", limit=200)
    return render_page("cgap_runs.html", session, runs=runs, gaps={r.id: _gap_rows(r.metrics) for r in runs})


@router.get("/compliance-gap/{run_id}")
async def cgap_run(
    session: PageSessionDep,
    store: StoreDep,
    run_id: str,
    condition: Annotated[str, Query(max_length=200)] = "",
    label: Annotated[str, Query(max_length=200)] = "",
    prefix: Annotated[str, Query(max_length=200)] = "",
    af: Annotated[str, Query(max_length=200)] = "",
    page: Page = 1,
) -> HTMLResponse:
    """One run's transcripts from its Inspect log, filtered by condition and labels."""
    session = require_role(session, "moderator")
    from alignlab.evals.compliance_gap import filter_values, load_transcripts, select_transcripts

    try:
        run = await run_in_threadpool(get_run, store, run_id[:64])
        if run.suite != "compliance-gap" or not run.log_path:
            raise InputError(f"run {run.id[:8]} is not a compliance-gap run with a log")
        transcripts = await run_in_threadpool(load_transcripts, Path(run.log_path))
    except InputError as exc:
        raise HTTPException(404, str(exc)) from exc
    chosen = {"condition": condition, "label": label, "prefix": prefix, "af": af}
    shown = select_transcripts(transcripts, chosen)
    query = {k: v for k, v in chosen.items() if v}
    return render_page(
        "cgap_run.html",
        session,
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
