"""A pairwise-judge run's outputs: the QA table, per-pair verdicts in both orders, the two figures.

:func:`write_judge_report` writes, into one directory,

* ``judge_qa.json`` — the QA summary (:meth:`JudgeQASummary.to_dict`);
* ``judge_pairs.jsonl`` — one row per pair: the judge's score in each order (both in the
  pair's own orientation), the outcome, the human label and where it came from, and any
  injection evidence;
* ``score_distributions.png`` and ``human_ties.png`` — Figures 8.17 and 8.18;
* ``report.html`` — all of the above on one page. Every string that came from a model or a
  data file (pair ids, reasons, injection phrases, label sources) is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from alignlab.evals.judges.plots import plot_judge_histograms
from alignlab.evals.judges.qa import JudgeQASummary, OrderJudgment, PairOutcome, pair_outcomes
from alignlab.stats import Proportion

__all__ = ["JudgeReportFiles", "qa_rows", "write_judge_report"]


def _pct(p: Proportion) -> str:
    return f"{p.rate:.1%} [{p.low:.1%}, {p.high:.1%}] ({p.successes}/{p.n})" if p.n else "n/a (n=0)"


def qa_rows(s: JudgeQASummary) -> list[tuple[str, str]]:
    """The QA summary as ``(measure, value)`` rows (the CLI table and the HTML table)."""
    return [
        ("unparsed replies", f"{s.n_unparsed} ({s.unparsed_rate:.1%})" if s.n_judgments else "0"),
        ("position consistency", _pct(s.consistency)),
        ("… among pairs with a preference", _pct(s.decisive_consistency)),
        ("first-position rate on human ties", _pct(s.first_position)),
        ("second-position rate on human ties", _pct(s.second_position)),
        ("binomial p (first vs second)", "n/a" if s.first_position_p is None else f"{s.first_position_p:.3g}"),
        ("agreement with humans", _pct(s.agreement)),
        ("Cohen's κ", str(s.kappa) if s.kappa is not None else "n/a (no human labels)"),
        ("judge labels", ", ".join(f"{k}={v}" for k, v in sorted(s.judge_label_counts.items())) or "none"),
        ("judgments with verdict-like or grader-directed text", str(s.injection_flagged)),
    ]


@dataclass(frozen=True)
class JudgeReportFiles:
    """Where a judge report was written."""

    html: Path
    qa_json: Path
    pairs_jsonl: Path
    distributions: Path
    ties: Path


def _fmt(score: float | None) -> str:
    return "unparsed" if score is None else f"{score:g}"


def _pair_rows(outcomes: Sequence[PairOutcome]) -> str:
    e = html.escape
    rows = []
    for o in outcomes:
        agrees = "" if o.agrees_with_human is None else ("yes" if o.agrees_with_human else "no")
        style = " style='background:#fdecea'" if o.outcome in ("inconsistent", "unparsed") else ""
        rows.append(
            f"<tr{style}><td>{e(o.pair_id)}</td><td>{e(o.human_label)}</td><td>{e(o.human_source or '')}</td>"
            f"<td>{_fmt(o.score_12)}</td><td>{_fmt(o.score_21)}</td><td>{e(o.outcome)}</td><td>{agrees}</td>"
            f"<td>{e(o.injection or '')}</td><td>{e(o.reason_12[:300])}</td><td>{e(o.reason_21[:300])}</td></tr>"
        )
    head = (
        "<tr><th>pair</th><th>human</th><th>human label source</th><th>judge, 1 shown first</th>"
        "<th>judge, 2 shown first</th><th>outcome</th><th>agrees with human</th><th>injection</th>"
        "<th>reason (1 first)</th><th>reason (2 first)</th></tr>"
    )
    return f"<table border=1 cellpadding=3>{head}{''.join(rows)}</table>"


def _html(summary: JudgeQASummary, outcomes: Sequence[PairOutcome], title: str, failures: Sequence[str]) -> str:
    e = html.escape
    qa = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in qa_rows(summary))
    sources = Counter(o.human_source or "none" for o in outcomes)
    source_list = "".join(f"<li>{e(src)}: {n} pairs</li>" for src, n in sources.most_common())
    verdict = "pass" if not failures else "fail — " + "; ".join(failures)
    return (
        f"<!doctype html><meta charset='utf-8'><title>{e(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}td{vertical-align:top}</style>"
        f"<h1>{e(title)}</h1>"
        f"<p>judge {e(summary.judge)}, prompt {e(summary.prompt)}: {summary.n_pairs} pairs, "
        f"{summary.n_judgments} judgments (every pair in both orders). QA: <b>{e(verdict)}</b></p>"
        f"<h2>Quality assurance</h2><table border=1 cellpadding=4>{qa}</table>"
        "<h2>Human labels</h2><p>Scores are on the 1–9 scale, 1 = answer 1 better, 9 = answer 2 better, "
        "5 = equal; both judge columns are mapped back to the pair's own orientation.</p>"
        f"<ul>{source_list}</ul>"
        "<h2>Figures</h2><img src='score_distributions.png' alt='human vs judge scores' style='max-width:100%'>"
        "<img src='human_ties.png' alt='judge scores on human ties' style='max-width:60%'>"
        f"<h2>Per-pair verdicts</h2>{_pair_rows(outcomes)}"
    )


def write_judge_report(
    summary: JudgeQASummary,
    judgments: Sequence[OrderJudgment],
    out_dir: Path,
    *,
    title: str = "",
    failures: Sequence[str] = (),
) -> JudgeReportFiles:
    """Write the QA JSON, per-pair JSONL, both figures and an escaped HTML page into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    title = title or f"{summary.judge} judging with {summary.prompt}"
    plots = plot_judge_histograms(judgments, out_dir, title=title)
    outcomes = pair_outcomes(judgments)
    qa_json = out_dir / "judge_qa.json"
    qa_json.write_text(json.dumps(summary.to_dict(), indent=2), encoding="utf-8")
    pairs_jsonl = out_dir / "judge_pairs.jsonl"
    pairs_jsonl.write_text(
        "".join(json.dumps({**asdict(o), "human_label": o.human_label}) + "\n" for o in outcomes), encoding="utf-8"
    )
    page = out_dir / "report.html"
    page.write_text(_html(summary, outcomes, title, failures), encoding="utf-8")
    return JudgeReportFiles(page, qa_json, pairs_jsonl, plots.distributions, plots.ties)
