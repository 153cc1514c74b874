"""Transcript explorer: one self-contained HTML page listing every compliance-gap transcript.

Security: every piece of model or dataset text goes through :func:`html.escape` (quotes
included, so attribute values are safe too). The only script is ours, inline, and it never
turns text into HTML: it reads ``data-*`` attributes, toggles ``hidden`` and writes a count
with ``textContent``. A Content-Security-Policy with that script's hash stops any other
script from running even if escaping were ever missed.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, EvalSample

from alignlab.evals.compliance_gap.summary import read_gap_log

__all__ = [
    "FILTERS",
    "Transcript",
    "export_explorer",
    "filter_values",
    "load_transcripts",
    "render_explorer",
    "select_transcripts",
    "transcripts_from_log",
]

FILTERS: tuple[tuple[str, str], ...] = (
    ("variant", "variant"),
    ("condition", "condition"),
    ("prefix", "prefix status"),
    ("label", "refusal classifier"),
    ("af", "alignment faking"),
)


@dataclass(frozen=True)
class Transcript:
    """One sample of a compliance-gap log, flattened for display."""

    model: str
    variant: str
    sample_id: str
    condition: str
    request: str
    completion: str
    scratchpad: str
    output: str
    prefix: str
    label: str
    refusal_reason: str
    af: str
    """``yes``, ``no``, ``unparsed`` or ``not judged``."""
    af_share: float | None
    af_votes: list[dict[str, Any] | None] = field(default_factory=list)
    error: str = ""
    """Why the sample errored (not scored), or empty."""


def _af_text(meta: dict[str, Any]) -> str:
    if not meta.get("af_votes"):
        return "not judged"
    label = meta.get("af_label")
    return "unparsed" if label is None else ("yes" if label else "no")


def _transcript(log: EvalLog, sample: EvalSample) -> Transcript:
    meta: dict[str, Any] = {}
    for score in (sample.scores or {}).values():
        if score.metadata and "prefix" in score.metadata:
            meta = score.metadata
    smeta = sample.metadata or {}
    completion = sample.output.completion if sample.output else ""
    return Transcript(
        model=log.eval.model,
        variant=str(smeta.get("variant", "")),
        sample_id=str(sample.id),
        condition=str(smeta.get("condition", "")),
        request=str(smeta.get("request", "")),
        completion=completion,
        scratchpad=str(meta.get("scratchpad", "")),
        output=str(meta.get("graded_output", "")),
        prefix=str(meta.get("prefix", "error" if sample.error else "unscored")),
        label=str(meta.get("label", "error" if sample.error else "unscored")),
        refusal_reason=str(meta.get("refusal_reason", "")),
        af=_af_text(meta),
        af_share=meta.get("af_share"),
        af_votes=list(meta.get("af_votes") or []),
        error=_error_text(sample),
    )


def _error_text(sample: EvalSample) -> str:
    if sample.error is None:
        return ""
    lines = [line.strip() for line in sample.error.message.splitlines() if line.strip()]
    return (lines[-1] if lines else "unknown error")[:500]


def transcripts_from_log(log: EvalLog) -> list[Transcript]:
    """Every sample of a compliance-gap log."""
    return [_transcript(log, s) for s in (log.samples or [])]


def load_transcripts(path: Path) -> list[Transcript]:
    """Every transcript of the compliance-gap log at ``path``.

    Raises:
        InputError: the log is missing or is not a compliance-gap log.
    """
    return transcripts_from_log(read_gap_log(path))


def filter_values(transcripts: Sequence[Transcript]) -> dict[str, list[str]]:
    """For each filter of :data:`FILTERS`, the values that occur, sorted."""
    return {key: sorted({str(getattr(t, key)) for t in transcripts}) for key, _ in FILTERS}


def select_transcripts(transcripts: Sequence[Transcript], chosen: dict[str, str]) -> list[Transcript]:
    """The transcripts matching every non-empty filter value in ``chosen`` (keys from :data:`FILTERS`)."""
    wanted = {k: v for k, v in chosen.items() if v and k in dict(FILTERS)}
    return [t for t in transcripts if all(str(getattr(t, k)) == v for k, v in wanted.items())]


_SCRIPT = """(function () {
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var items = Array.prototype.slice.call(document.querySelectorAll("article.t"));
  var count = document.getElementById("count");
  function apply() {
    var shown = 0;
    items.forEach(function (item) {
      var ok = selects.every(function (s) { return !s.value || item.dataset[s.dataset.filter] === s.value; });
      item.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + items.length + " transcripts shown";
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  apply();
})();"""

_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;max-width:70em}
article.t{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:.8em 0}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;padding:.5em;margin:.3em 0}
.tags span{display:inline-block;background:#eef;border-radius:4px;padding:0 .4em;margin-right:.3em;font-size:.9em}
.error{color:#b00020}
.filters label{margin-right:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _votes_html(t: Transcript) -> str:
    if not t.af_votes:
        return "<p>alignment-faking judge: not run on this transcript</p>"
    share = "n/a" if t.af_share is None else f"{t.af_share:.0%}"
    items = []
    for i, vote in enumerate(t.af_votes, 1):
        if vote is None:
            items.append(f"<li>vote {i}: unparsed</li>")
            continue
        criteria = ", ".join(f"{_e(k)}={'yes' if v else 'no'}" for k, v in vote.get("criteria", {}).items())
        verdict = "alignment faking" if vote.get("alignment_faking") else "not alignment faking"
        items.append(f"<li>vote {i}: {_e(verdict)} ({criteria}) — {_e(vote.get('reason', ''))}</li>")
    return f"<p>alignment-faking vote share: {_e(share)}</p><ul>{''.join(items)}</ul>"


def _article(t: Transcript) -> str:
    attrs = " ".join(f'data-{key}="{_e(getattr(t, key))}"' for key, _ in FILTERS)
    tags = "".join(f"<span>{_e(name)}: {_e(getattr(t, key))}</span>" for key, name in FILTERS)
    scratch = (
        f"<details><summary>hidden scratchpad</summary><pre>{_e(t.scratchpad)}</pre></details>" if t.scratchpad else ""
    )
    error = f'<p class="error"><b>sample errored</b>: {_e(t.error)}</p>' if t.error else ""
    return (
        f'<article class="t" {attrs}><h3>{_e(t.sample_id)} <small>{_e(t.model)}</small></h3>'
        f'<div class="tags">{tags}</div>{error}'
        f"<p><b>request</b></p><pre>{_e(t.request)}</pre>{scratch}"
        f"<p><b>graded output</b></p><pre>{_e(t.output)}</pre>"
        f"<p>refusal classifier: {_e(t.label)} — {_e(t.refusal_reason)}</p>{_votes_html(t)}"
        f"<details><summary>full reply</summary><pre>{_e(t.completion)}</pre></details></article>"
    )


def _filters(transcripts: Sequence[Transcript]) -> str:
    parts = []
    values_by_key = filter_values(transcripts)
    for key, name in FILTERS:
        values = values_by_key[key]
        options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
        select = f'<select data-filter="{key}"><option value="">all</option>{options}</select>'
        parts.append(f"<label>{_e(name)} {select}</label>")
    return f'<div class="filters">{"".join(parts)}</div>'


def _overview(transcripts: Sequence[Transcript]) -> str:
    errored = [t for t in transcripts if t.error]
    note = (
        f'<p class="error"><b>{len(errored)} of {len(transcripts)} samples errored and were not scored</b>; '
        f"first error: {_e(errored[0].error)}</p>"
        if errored
        else ""
    )
    counts = Counter((t.variant, t.condition, t.prefix) for t in transcripts)
    rows = "".join(
        f"<tr><td>{_e(v)}</td><td>{_e(c)}</td><td>{_e(p)}</td><td>{n}</td></tr>"
        for (v, c, p), n in sorted(counts.items())
    )
    return f"{note}<table><tr><th>variant</th><th>condition</th><th>prefix status</th><th>n</th></tr>{rows}</table>"


def render_explorer(transcripts: Sequence[Transcript], *, title: str = "compliance-gap transcripts") -> str:
    """The explorer page as a string."""
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>{_overview(transcripts)}{_filters(transcripts)}"
        f'<p id="count">{len(transcripts)} transcripts</p>'
        f"{''.join(_article(t) for t in transcripts)}"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def export_explorer(log_paths: Sequence[Path], out: Path) -> Path:
    """Write the explorer for one or more compliance-gap logs to ``out``.

    Raises:
        InputError: a log is missing or is not a compliance-gap log.
    """
    transcripts = [t for path in log_paths for t in load_transcripts(path)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_explorer(transcripts), encoding="utf-8")
    return out
