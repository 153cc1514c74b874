"""The lineage page: ``/ui/lineage?subject=ckpt:NAME`` (or ``feedback:<id>``, ``export:<id>``).

The same chain as ``alignlab lineage``, read by :mod:`alignlab.store.lineage`; the template
autoescapes every value (feedback details, model names and paths come from users).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from alignlab.errors import InputError
from alignlab.store import CheckpointLineage, FeedbackLineage, Store, checkpoint_lineage_report, feedback_lineage_report
from alignlab.web.auth import PageSessionDep
from alignlab.web.deps import StoreDep
from alignlab.web.rendering import render_page, require_role

__all__ = ["lineage_report", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False)


def lineage_report(store: Store, subject: str) -> CheckpointLineage | FeedbackLineage:
    """The report for ``ckpt:<name>``, ``feedback:<id>`` or ``export:<id>``."""
    if subject.startswith("ckpt:"):
        return checkpoint_lineage_report(store, subject.removeprefix("ckpt:"))
    return feedback_lineage_report(store, subject)


@router.get("/lineage")
async def lineage_page(
    session: PageSessionDep, store: StoreDep, subject: Annotated[str, Query(max_length=300)] = ""
) -> HTMLResponse:
    """Feedback → export → dataset → checkpoint → runs → gate verdicts (moderator or admin)."""
    session = require_role(session, "moderator")
    report, error = None, ""
    if subject.strip():
        try:
            report = await run_in_threadpool(lineage_report, store, subject.strip())
        except InputError as exc:
            error = str(exc)
    response = render_page("lineage.html", session, subject=subject, report=report, error=error)
    if error:
        response.status_code = 404
    return response
