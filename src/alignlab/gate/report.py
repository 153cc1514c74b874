"""Reports of a gate decision: Markdown (a pull-request comment), HTML, JUnit XML and JSON.

Model text is untrusted. In the Markdown comment every prompt and answer sits in a fenced code
block whose fence no line of the text can close, and other untrusted strings are escaped for the
line they land on (HTML-escaped on raw-HTML lines, backslash-escaped on Markdown lines); in HTML
everything goes through :func:`html.escape`; JUnit text is escaped by the XML writer.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from alignlab.gate.compare import Check, Flip, GateResult, RuleResult
from alignlab.reporting import REPORT_CSS, clip_text
from alignlab.scorers.correction import CorrectedRate

__all__ = [
    "ReportFiles",
    "format_corrected",
    "format_estimate",
    "format_p",
    "format_rate",
    "format_sides",
    "render_html",
    "render_junit",
    "render_markdown",
    "result_dict",
    "write_reports",
]

_MD_FLIPS = 5  # per rule and direction in the PR comment; the HTML report lists them all
_MD_CHARS = 400
_HTML_CHARS = 4000


def format_rate(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.1%}"


def _pts(x: float) -> str:
    return f"{x * 100:+.1f}"


def format_estimate(c: Check) -> str:
    if c.kind == "judge_qa":
        return ""  # its two values are in the baseline and candidate columns
    if c.estimate is None:
        return "not reported"
    if c.low is None or c.high is None or math.isnan(c.estimate):
        return "n/a"
    if c.kind == "regression":
        return f"{_pts(c.estimate)} pts [{_pts(c.low)}, {_pts(c.high)}]"
    return f"{c.estimate:.1%} [{c.low:.1%}, {c.high:.1%}]"


def format_corrected(c: CorrectedRate | None) -> str:
    """A corrected rate as ``corrected 38.1% [30.2%, 46.0%]`` ("" when the scorer has no card)."""
    if c is None:
        return ""
    return f"corrected {c}"


def format_sides(r: RuleResult, c: Check) -> tuple[str, str]:
    """The baseline and candidate columns: the rule's rates (and corrected rates), or a judge-QA check's values."""
    if c.kind == "judge_qa":
        base, cand = ("not reported" if v is None else f"{v:.3g}" for v in (c.baseline_value, c.estimate))
        return base, cand
    sides = []
    for rate, corrected in ((r.baseline_rate, r.baseline_corrected), (r.candidate_rate, r.candidate_corrected)):
        extra = format_corrected(corrected)
        sides.append(f"{format_rate(rate)} ({extra})" if extra else format_rate(rate))
    return sides[0], sides[1]


def format_p(c: Check) -> str:
    return "" if c.p_adjusted is None else f"{c.p_adjusted:.3g}"


def _intro(result: GateResult) -> list[str]:
    lines = [
        f"α = {result.alpha} (Holm across {sum(c.p_worse is not None for r in result.rules for c in r.checks)} "
        f"tests); intervals are two-sided {1 - 2 * result.alpha:.0%}; unparsed/errored samples: {result.unparsed}.",
    ]
    for p in result.pairings:
        dropped = (
            f"; dropped {p.dropped} unpaired ({len(p.only_baseline)} baseline-only, "
            f"{len(p.only_candidate)} candidate-only)"
            if p.dropped
            else ""
        )
        lines.append(f"`{p.suite}`: {len(p.samples)} paired samples{dropped}.")
        lines += [f"`{p.suite}`: note: {note}." for note in p.notes]
    if any(r.candidate_corrected is not None for r in result.rules):
        decided = [r.name for r in result.rules if r.on_corrected]
        lines.append(
            "Corrected rates: Rogan–Gladen with the scorer card's sensitivity and specificity; the interval carries "
            "the card's uncertainty too (docs/corrected-rates.md)."
            + (f" Decided on corrected rates: {', '.join(f'`{n}`' for n in decided)}." if decided else "")
        )
    if result.verdict == "inconclusive" and result.outcome != "inconclusive":
        lines.append(f"Inconclusive rules count as **{result.outcome}** under this policy.")
    return lines


def _md_html(text: str) -> str:
    """Text for a raw-HTML line of the comment: escaped, and on one line (a blank line ends an HTML block)."""
    return html.escape(" ".join(text.split()))


_MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _md_inline(text: str) -> str:
    """Text for a Markdown line: one line, every ASCII punctuation mark backslash-escaped (no link,
    image, emphasis, HTML or heading can start)."""
    return _MD_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


def _md_code_block(text: str) -> list[str]:
    """``text`` verbatim in a fenced block no line of it can close: the fence is longer than any
    backtick run inside (CommonMark closes a fence only with at least as many backticks)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text.replace("\r\n", "\n").replace("\r", "\n"), fence]


def _md_flip(flip: Flip) -> str:
    # Model text (prompt, answers) goes into fenced code blocks; everything else model- or
    # dataset-controlled is escaped for the context it lands in. The old layout put answers in
    # an HTML <table><pre>, which a blank line in an answer ended (fake headings, remote images).
    s = flip.sample
    lines = [
        f"<details><summary><code>{_md_html(s.id)}</code> ({_md_html(s.category or '?')}): "
        f"{_md_html(s.baseline.shown)} → {_md_html(s.candidate.shown)}</summary>",
        "",
    ]
    for title, text in (("prompt", s.prompt), ("baseline", s.baseline.answer), ("candidate", s.candidate.answer)):
        lines += [f"**{title}**", "", *_md_code_block(clip_text(text, _MD_CHARS)), ""]
    return "\n".join([*lines, "</details>"])


def render_markdown(result: GateResult) -> str:
    """The pull-request comment: verdict, one row per check, and the flipped samples."""
    head = f"## alignlab gate: **{result.outcome.upper()}** (exit {result.exit_code})"
    lines = [head, "", *_intro(result), ""]
    lines += [
        "| rule | check | baseline | candidate | estimate [CI] | p (Holm) | verdict |",
        "|---|---|---:|---:|---|---:|---|",
    ]
    for r in result.rules:
        for c in r.checks:
            lines.append(
                f"| `{r.name}` | {c.name} | {' | '.join(format_sides(r, c))} "
                f"| {format_estimate(c)} | {format_p(c)} | **{c.verdict}** |"
            )
    lines += [
        "",
        "<sub>Rates over n paired samples: "
        + ", ".join(f"`{r.name}` n={r.n}" + (f" ({r.excluded} excluded)" if r.excluded else "") for r in result.rules)
        + "</sub>",
    ]
    for r in result.rules:
        if not r.flips:
            continue
        for direction in ("regressed", "improved"):
            flips = [f for f in r.flips if f.direction == direction]
            if not flips:
                continue
            by_category = Counter(f.sample.category or "?" for f in flips).most_common()
            categories = ", ".join(f"{_md_inline(c)} {k}" for c, k in by_category)
            lines += ["", f"#### `{r.name}`: {len(flips)} {direction} ({categories})"]
            lines += [_md_flip(f) for f in flips[:_MD_FLIPS]]
            if len(flips) > _MD_FLIPS:
                lines.append(f"… and {len(flips) - _MD_FLIPS} more (see the HTML report).")
    reasons = [f"- `{r.name}` {c.name}: {c.reason}" for r in result.rules for c in r.checks if c.verdict != "pass"]
    if reasons:
        lines += ["", "<details><summary>why not pass</summary>", "", *reasons, "", "</details>"]
    return "\n".join(lines) + "\n"


def _plot_png(result: GateResult) -> str:
    """Two panels: each regression Δ with its interval and tolerance; each rate vs its bound."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reg = [(r, c) for r in result.rules for c in r.checks if c.kind == "regression" and c.low is not None]
    thr = [(r, c) for r in result.rules for c in r.checks if c.kind in ("max", "min") and c.low is not None]
    colours = {"pass": "#2e7d32", "fail": "#c62828", "inconclusive": "#ef6c00"}
    rows = max(len(reg), len(thr), 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 1.2 + 0.6 * rows))
    for ax, items, title, scale in (
        (axes[0], reg, "candidate − baseline (pts)", 100),
        (axes[1], thr, "candidate rate (%)", 100),
    ):
        for y, (_, c) in enumerate(items):
            est = c.estimate if c.estimate is not None and not math.isnan(c.estimate) else 0.0
            low, high = c.low or 0.0, c.high or 0.0
            ax.errorbar(
                est * scale,
                y,
                xerr=[[max(0.0, est - low) * scale], [max(0.0, high - est) * scale]],
                fmt="o",
                color=colours[c.verdict],
                capsize=4,
            )
            ax.plot([c.limit * scale] * 2, [y - 0.35, y + 0.35], color="black", linestyle="--", linewidth=1)
        ax.set_yticks(range(len(items)), [f"{r.name}\n{c.name}" for r, c in items], fontsize=8)
        ax.set_ylim(-0.6, max(len(items), 1) - 0.4)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0].axvline(0, color="grey", linewidth=0.8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _html_flips(r: RuleResult) -> str:
    if not r.flips:
        return ""
    rows = "".join(
        f"<tr><td class='{'fail' if f.direction == 'regressed' else 'pass'}'>{f.direction}</td>"
        f"<td><code>{html.escape(f.sample.id)}</code><br>{html.escape(f.sample.category or '')}</td>"
        f"<td><pre>{html.escape(clip_text(f.sample.prompt, _HTML_CHARS))}</pre></td>"
        f"<td>{html.escape(f.sample.baseline.shown)}<pre>"
        f"{html.escape(clip_text(f.sample.baseline.answer, _HTML_CHARS))}</pre></td>"
        f"<td>{html.escape(f.sample.candidate.shown)}<pre>"
        f"{html.escape(clip_text(f.sample.candidate.answer, _HTML_CHARS))}</pre></td></tr>"
        for f in sorted(r.flips, key=lambda f: f.direction != "regressed")
    )
    return (
        f"<h3>{html.escape(r.name)}: flipped samples</h3><table><tr><th></th><th>sample</th><th>prompt</th>"
        f"<th>baseline</th><th>candidate</th></tr>{rows}</table>"
    )


def render_html(result: GateResult) -> str:
    """A self-contained page: verdict, the plot (embedded PNG), the checks and every flip side by side."""
    checks = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{html.escape(c.name)}</td>"
        f"<td>{'</td><td>'.join(format_sides(r, c))}</td>"
        f"<td>{html.escape(format_estimate(c))}</td><td>{format_p(c)}</td>"
        f"<td>{html.escape(c.method)}</td>"
        f"<td class='{c.verdict}'><b>{c.verdict}</b><br>{html.escape(c.reason)}</td></tr>"
        for r in result.rules
        for c in r.checks
    )
    intro = "".join(f"<p>{html.escape(line).replace('`', '')}</p>" for line in _intro(result))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>alignlab gate: {result.outcome}</title>
<style>{REPORT_CSS}</style></head><body>
<h1>alignlab gate: <span class="{result.outcome}">{result.outcome.upper()}</span> (exit {result.exit_code})</h1>
{intro}
<img alt="differences and rates with intervals; dashed lines are the policy limits"
 src="data:image/png;base64,{_plot_png(result)}">
<table><tr><th>rule</th><th>check</th><th>baseline</th><th>candidate</th><th>estimate [CI]</th><th>p (Holm)</th>
<th>method</th><th>verdict</th></tr>{checks}</table>
{"".join(_html_flips(r) for r in result.rules)}
</body></html>
"""


def render_junit(result: GateResult) -> str:
    """JUnit XML with one test case per rule; an inconclusive rule is ``skipped`` unless the policy maps it."""
    suite = ET.Element("testsuite", name="alignlab-gate", tests=str(len(result.rules)))
    failures = skipped = 0
    for r in result.rules:
        case = ET.SubElement(suite, "testcase", classname=f"alignlab.gate.{r.suite}", name=r.metric, time="0")
        detail = "\n".join(f"{c.name}: {c.verdict} ({format_estimate(c)}) {c.reason}".strip() for c in r.checks)
        verdict = r.verdict if r.verdict != "inconclusive" else result.inconclusive_as
        if verdict == "fail":
            failures += 1
            ET.SubElement(case, "failure", message=f"{r.name}: {r.verdict}", type=r.verdict).text = detail
        elif verdict == "inconclusive":
            skipped += 1
            ET.SubElement(case, "skipped", message=f"{r.name}: inconclusive").text = detail
        else:
            ET.SubElement(case, "system-out").text = detail
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suites = ET.Element("testsuites", name="alignlab gate", tests=str(len(result.rules)), failures=str(failures))
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _num(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else x


def _corrected_dict(c: CorrectedRate | None) -> dict[str, object] | None:
    if c is None:
        return None
    return {"rate": _num(c.point), "low": c.low, "high": c.high, "method": c.method, "note": c.note,
            "sensitivity": c.sensitivity, "specificity": c.specificity}  # fmt: skip


def result_dict(result: GateResult) -> dict[str, object]:
    """A JSON-able summary (no transcripts; flips by sample id)."""
    return {
        "verdict": result.verdict,
        "outcome": result.outcome,
        "exit_code": result.exit_code,
        "alpha": result.alpha,
        "pairings": [
            {
                "suite": p.suite,
                "paired": len(p.samples),
                "only_baseline": len(p.only_baseline),
                "only_candidate": len(p.only_candidate),
                "baseline_log": p.baseline_log,
                "candidate_log": p.candidate_log,
            }
            for p in result.pairings
        ],
        "rules": [
            {
                "rule": r.name,
                "verdict": r.verdict,
                "n": r.n,
                "excluded": r.excluded,
                "baseline_rate": _num(r.baseline_rate),
                "candidate_rate": _num(r.candidate_rate),
                "baseline_corrected": _corrected_dict(r.baseline_corrected),
                "candidate_corrected": _corrected_dict(r.candidate_corrected),
                "on_corrected": r.on_corrected,
                "regressed": [f.sample.id for f in r.flips if f.direction == "regressed"],
                "improved": [f.sample.id for f in r.flips if f.direction == "improved"],
                "checks": [
                    {
                        "kind": c.kind,
                        "name": c.name,
                        "limit": c.limit,
                        "estimate": _num(c.estimate),
                        "low": _num(c.low),
                        "high": _num(c.high),
                        "p_worse": c.p_worse,
                        "p_adjusted": c.p_adjusted,
                        "p_within": c.p_within,
                        "method": c.method,
                        "verdict": c.verdict,
                        "reason": c.reason,
                    }
                    for c in r.checks
                ],
            }
            for r in result.rules
        ],
    }


@dataclass(frozen=True)
class ReportFiles:
    """Where :func:`write_reports` put each report."""

    markdown: Path
    html: Path
    junit: Path
    json: Path


def write_reports(result: GateResult, out_dir: Path) -> ReportFiles:
    """Write ``gate.md``, ``gate.html``, ``junit.xml`` and ``gate.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out_dir / "gate.md", out_dir / "gate.html", out_dir / "junit.xml", out_dir / "gate.json")
    files.markdown.write_text(render_markdown(result), encoding="utf-8")
    files.html.write_text(render_html(result), encoding="utf-8")
    files.junit.write_text(render_junit(result), encoding="utf-8")
    files.json.write_text(json.dumps(result_dict(result), indent=2), encoding="utf-8")
    return files
