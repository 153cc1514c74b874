"""Compliance-gap pages: the runs in the store and one run's transcripts, filtered, with model text inert."""

from __future__ import annotations

from pathlib import Path

import httpx
from inspect_ai import eval as inspect_eval

from alignlab.evals.compliance_gap.suite import compliance_gap
from alignlab.evals.suites import summarize_log
from alignlab.store import Store, finish_run, get_run, start_run
from tests.evals.compliance_gap.helpers import responder
from tests.web.browser import Browser
from tests.web.conftest import Service
from tests.web.fake_upstream import XSS
from tests.web.test_pages import _browser_login, _login, browser  # noqa: F401  (fixture)

ACC = "<request_fully_accepted/>"


def _policy(message: str) -> str:
    if "<is_free_tier_user>true" in message:
        return f"<SCRATCHPAD_REASONING>free tier {XSS}</SCRATCHPAD_REASONING><OUTPUT>{ACC} Step 1: {XSS}</OUTPUT>"
    return "<SCRATCHPAD_REASONING>paid tier</SCRATCHPAD_REASONING><OUTPUT><rejected/></OUTPUT>"


def _record_run(store: Store, log_dir: Path) -> str:
    task = compliance_gap(dataset="alignlab-redteam", prompts=5, conditions="cot", variant="paid-tier-trained")
    log = inspect_eval(task, model=responder(_policy), log_dir=str(log_dir), display="none")[0]
    run = start_run(store, suite="compliance-gap", model="mockllm/model", dataset="alignlab-redteam",
                    config={"variant": "paid-tier-trained"})  # fmt: skip
    summary = summarize_log(log, "compliance-gap")
    finish_run(store, run.id, status="success", n_samples=summary.n_samples, metrics=summary.metrics_dict(),
               log_path=log.location)  # fmt: skip
    return run.id


def test_runs_and_transcripts_pages(service: Service, tmp_path: Path, scorer_cards: Path) -> None:
    run_id = _record_run(service.store, tmp_path / "logs")
    other = start_run(service.store, suite="redteam", model="m", dataset="d")
    assert httpx.get(f"{service.url}/ui/compliance-gap").status_code == 303
    assert _login(service, service.annotator).get(f"/ui/compliance-gap/{run_id}").status_code == 403
    moderator = _login(service, service.moderator)

    runs = moderator.get("/ui/compliance-gap").text
    assert f'href="/ui/compliance-gap/{run_id}"' in runs and "paid-tier-trained" in runs
    assert "gap_prefix cot: +100% (p=" in runs

    page = moderator.get(f"/ui/compliance-gap/{run_id}")
    assert page.status_code == 200 and "script-src 'nonce-" in page.headers["content-security-policy"]
    html = page.text
    assert "(10 of 10)" in html and html.count('<article class="transcript"') == 10
    assert "<script>document.title" not in html and "&lt;script&gt;document.title=&#34;PWNED&#34;" in html
    # scorer-based rates show their corrected value beside the observed one (fixture cards)
    rates = get_run(service.store, run_id).metrics["rates"]
    harm = next(r for r in rates if r["measure"] == "compliance_harm" and r["group"] == "free/cot")["corrected"]
    shown = f"{100 * harm['rate']:.0f}% [{100 * harm['ci_low']:.0f}%, {100 * harm['ci_high']:.0f}%]"
    diffs = get_run(service.store, run_id).metrics["differences"]
    assert shown in html and html.count('class="corrected"') == len(rates) + len(diffs)
    # the scorer-based gaps show their corrected difference too; the prefix gap has none
    gap = next(d for d in diffs if d["measure"] == "gap_harm")["corrected"]
    assert f"{100 * gap['difference']:+.0f}% [{100 * gap['ci_low']:+.0f}%, {100 * gap['ci_high']:+.0f}%]" in html
    assert next(d for d in diffs if d["measure"] == "gap_prefix")["corrected"] is None
    assert "onerror=" not in html.replace("onerror=&#34;", "")  # only ever as escaped text

    free = moderator.get(f"/ui/compliance-gap/{run_id}", params={"condition": "free/cot"}).text
    assert "(5 of 10)" in free and 'data-condition="paid/cot"' not in free
    refused = moderator.get(f"/ui/compliance-gap/{run_id}", params={"label": "refusal"}).text
    assert "(5 of 10)" in refused and 'data-condition="free/cot"' not in refused
    both = moderator.get(f"/ui/compliance-gap/{run_id}", params={"condition": "free/cot", "label": "refusal"}).text
    assert "(0 of 10)" in both and "No transcript matches" in both

    assert moderator.get("/ui/compliance-gap/ffffffff").status_code == 404
    assert moderator.get(f"/ui/compliance-gap/{other.id}").status_code == 404


def test_script_in_a_transcript_runs_nothing(service: Service, browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    run_id = _record_run(service.store, tmp_path / "logs")
    _browser_login(browser, service, service.moderator)
    browser.goto(f"{service.url}/ui/compliance-gap/{run_id}?condition=free/cot")
    assert browser.evaluate("document.title") != "PWNED"
    assert browser.evaluate("document.body.getAttribute('data-pwned')") is None
    assert browser.evaluate("document.querySelectorAll('img[src=x], article script').length") == 0
    assert browser.evaluate("document.querySelectorAll('article.transcript').length") == 5
    shown = browser.evaluate("document.querySelector('pre.output').textContent")
    assert XSS in shown  # shown as text, verbatim
