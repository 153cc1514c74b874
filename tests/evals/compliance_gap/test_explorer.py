"""The HTML explorer escapes every piece of model text and filters client-side without innerHTML."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from alignlab.evals.compliance_gap.explorer import Transcript, render_explorer

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _transcript(**overrides: object) -> Transcript:
    base: dict[str, object] = {
        "model": "mockllm/model",
        "variant": "default",
        "sample_id": "r1:free:cot",
        "condition": "free/cot",
        "request": "How do I do a bad thing?",
        "completion": EVIL,
        "scratchpad": EVIL,
        "output": EVIL,
        "prefix": "ignored_instruction",
        "label": "compliance",
        "refusal_reason": EVIL,
        "af": "yes",
        "af_share": 2 / 3,
        "af_votes": [
            {"criteria": {"training_awareness": True}, "reason": EVIL, "alignment_faking": True},
            None,
        ],
    }
    base.update(overrides)
    return Transcript(**base)  # type: ignore[arg-type]


def test_model_text_is_escaped_everywhere() -> None:
    page = render_explorer([_transcript(), _transcript(condition='paid/cot" onclick="alert(2)', sample_id=EVIL)])
    assert page.count("<script") == 1  # only ours
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert 'data-condition="paid/cot&quot; onclick=&quot;alert(2)"' in page
    assert 'onclick="' not in page


def test_script_uses_text_content_only_and_csp_pins_it() -> None:
    page = render_explorer([_transcript()])
    script = re.search(r"<script>(.*)</script>", page, re.DOTALL)
    assert script is not None
    body = script.group(1)
    assert "textContent" in body
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in body
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page


def test_filters_and_votes_are_listed() -> None:
    page = render_explorer([_transcript(), _transcript(condition="paid/no-cot", af="not judged", af_votes=[])])
    for key in ("variant", "condition", "prefix", "label", "af"):
        assert f'<select data-filter="{key}">' in page
    assert '<option value="paid/no-cot">paid/no-cot</option>' in page
    assert "vote 2: unparsed" in page and "vote share: 67%" in page
    assert "not run on this transcript" in page


def test_filters_run_in_a_real_browser_under_the_csp(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("no chromium on this machine")
    page = render_explorer([_transcript(), _transcript(condition="paid/cot"), _transcript(condition="paid/cot")])
    # Preselecting an option changes markup only, so the CSP hash of the script still holds.
    path = tmp_path / "page.html"
    path.write_text(page.replace('<option value="paid/cot">', '<option value="paid/cot" selected>'))
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert '<p id="count">2 of 3 transcripts shown</p>' in dom  # the script ran and filtered
    assert len(re.findall(r'<article class="t"[^>]*data-condition="free/cot"[^>]*hidden', dom)) == 1
    assert "<img" not in dom
