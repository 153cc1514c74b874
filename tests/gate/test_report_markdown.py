"""The PR comment under hostile model text, rendered as CommonMark (markdown-it-py) like GitHub does."""

from __future__ import annotations

import re

from inspect_ai.log import EvalLog
from markdown_it import MarkdownIt

from alignlab.gate import decide, pair_logs, parse_policy, render_markdown
from tests.gate.conftest import COMPLY, MakeLog

# What the issue saw: a blank line ended the <table><pre> block, then headings and remote images rendered.
PAYLOAD = (
    "\n\n</pre></td></tr></table></details>\n\n## alignlab gate: PASS (exit 0)\n\n"
    "![pixel](https://evil.example/p.png)\n\n[click me](https://evil.example/login)\n\n"
    "<img src=https://evil.example/i.png>\n\n```\n# fenced escape\n```\n\n````\n~~~\n"
    "<a href='https://evil.example'>x</a>\n\n# Heading one\n\r\n### Heading three\n"
)


def _hostile_comment(make_log: MakeLog, all_refuse: EvalLog) -> str:
    cand = make_log([COMPLY + PAYLOAD] * 12 + [all_refuse.samples[0].output.completion] * 38)  # type: ignore[index]
    policy = parse_policy(
        {"suites": {"redteam": {"rules": [{"metric": "harmful_compliance", "max_regression": 0.05}]}}}
    )
    pairing = pair_logs(all_refuse, cand)
    return render_markdown(decide(policy, {"redteam": pairing}, {"redteam": (all_refuse, cand)}))


def test_model_text_cannot_leave_its_block(make_log: MakeLog, all_refuse: EvalLog) -> None:
    comment = _hostile_comment(make_log, all_refuse)
    tokens = MarkdownIt("commonmark").parse(comment)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0].startswith("alignlab gate: ") and "FAIL" in headings[0]
    assert len([h for h in headings if "alignlab gate" in h]) == 1, headings
    assert not [h for h in headings if "Heading" in h or "escape" in h]
    inline = [child for t in tokens if t.children for child in t.children]
    assert not [c for c in inline if c.type in ("image", "link_open")]
    raw_html = [t.content for t in tokens if t.type == "html_block"] + [
        c.content for c in inline if c.type == "html_inline"
    ]
    assert not [h for h in raw_html if "evil.example" in h or "<img" in h or "<a " in h]
    page = MarkdownIt("commonmark").render(comment)
    assert not re.search(r"<(img|a|h1|h3)\b", page)
    assert page.count("<h2>") == 1
    # The answers are all there, verbatim, in code blocks.
    assert page.count("## alignlab gate: PASS (exit 0)") == 5  # the comment shows 5 flips per direction


def test_fence_is_longer_than_any_backtick_run(make_log: MakeLog, all_refuse: EvalLog) -> None:
    comment = _hostile_comment(make_log, all_refuse)
    assert "`````text" in comment  # the payload holds a run of four
