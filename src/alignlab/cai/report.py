"""The Constitutional AI report: each step's effect, the AI feedback's quality, the cost, and chains to read.

Written as Markdown (``cai-report.md`` with ``cai-stages.png`` beside it), a self-contained
HTML page (plots embedded) and JSON (the numbers only). Model text is untrusted: every prompt,
critique, revision, principle and name goes through :func:`html.escape` before it reaches
Markdown (GitHub renders inline HTML) or HTML. A number the pipeline did not report renders
as "—".
"""

from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.cai.evaluate import METRICS, PairedComparison, StageEvaluation, StageResult
from alignlab.cai.plots import plot_preference_accuracy, plot_stage_metrics
from alignlab.errors import InputError
from alignlab.reporting import REPORT_CSS, clip_text
from alignlab.stats import two_proportion_test

__all__ = [
    "CaiReportFiles",
    "CaiReportInputs",
    "render_cai_html",
    "render_cai_markdown",
    "report_dict",
    "write_cai_report",
]

MISSING = "—"
CHAIN_SAMPLE = 5
_CHAIN_CHARS = 1500
_PHASES = ("critique", "sft", "label", "preference-model", "rlaif", "evaluate", "report")  # the pipeline's steps


@dataclass(frozen=True)
class CaiReportInputs:
    """Everything the report shows.

    Attributes:
        run_name: The pipeline run's name.
        config: The run's configuration (shown as JSON).
        evaluation: The stage evaluation (:func:`alignlab.cai.evaluate.evaluate_stages`).
        chains: Critique → revision chains: ``{"id", "prompt", "initial", "revisions": [{"principle",
            "critique_request", "critique", "revision_request", "revision"}], "final"}``.
        feedback: AI labelling accounting: ``n_pairs, unparsed, consistent, inconsistent,
            consistency {"rate","low","high","n"}, policy, kept``.
        preference_model: ``ai_heldout_accuracy`` and ``human_accuracy``, each ``{"rate","low","high","n"}``.
        calls: Model calls per phase, ``{"new": int, "cached": int}``.
        timings: Seconds per phase.
    """

    run_name: str
    config: dict[str, Any]
    evaluation: StageEvaluation
    chains: list[dict[str, Any]]
    feedback: dict[str, Any]
    preference_model: dict[str, Any]
    calls: dict[str, dict[str, int]]
    timings: dict[str, float]

    def __post_init__(self) -> None:
        _check_inputs(self)


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise InputError(f"CAI report input: {what}")


def _check_inputs(i: CaiReportInputs) -> None:
    _need(isinstance(i.run_name, str), "run_name must be a string")
    _need(isinstance(i.evaluation, StageEvaluation), "evaluation must be a StageEvaluation")
    for name in ("config", "feedback", "preference_model", "calls", "timings"):
        _need(isinstance(getattr(i, name), dict), f"{name} must be a mapping")
    _need(isinstance(i.chains, list), "chains must be a list")
    for n, chain in enumerate(i.chains):
        _need(isinstance(chain, dict), f"chain {n} must be a mapping")
        _need(isinstance(chain.get("revisions", []), list), f"chain {n}: revisions must be a list")
        _need(
            all(isinstance(r, dict) for r in chain.get("revisions", [])), f"chain {n}: each revision must be a mapping"
        )
    for phase, counts in i.calls.items():
        _need(isinstance(counts, dict), f"calls[{phase!r}] must be a mapping of new/cached counts")
        _need(all(isinstance(v, int) for v in counts.values()), f"calls[{phase!r}] counts must be integers")
    _need(all(isinstance(v, int | float) for v in i.timings.values()), "timings must be numbers of seconds")
    for key in ("ai_heldout_accuracy", "human_accuracy"):
        _need(isinstance(i.preference_model.get(key, {}), dict), f"preference_model[{key!r}] must be a mapping")
    _need(isinstance(i.feedback.get("consistency", {}), dict), "feedback['consistency'] must be a mapping")


# ---------------------------------------------------------------- formatting


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float) or math.isnan(x):
        return None
    return float(x)


def _pct(x: Any) -> str:
    v = _number(x)
    return MISSING if v is None else f"{v:.1%}"


def _count(x: Any) -> str:
    return str(x) if isinstance(x, int) and not isinstance(x, bool) else MISSING


def _interval(d: dict[str, Any]) -> str:
    """``{"rate","low","high","n"}`` as ``62.0% [48.1%, 74.2%] (n=50)``; missing parts as "—"."""
    if _number(d.get("rate")) is None:
        return MISSING
    ci = f" [{_pct(d.get('low'))}, {_pct(d.get('high'))}]" if _number(d.get("low")) is not None else ""
    n = f" (n={d['n']})" if _count(d.get("n")) != MISSING else ""
    return f"{_pct(d['rate'])}{ci}{n}"


def _rate_cell(s: StageResult, metric: str) -> str:
    """The rate with its interval and, where its scorer has a card, the rate corrected for the scorer's error."""
    p = s.rates.get(metric)
    if p is None or p.n == 0:
        return MISSING
    corrected = s.corrected.get(metric)
    return str(p) if corrected is None else f"{p}; corrected {corrected}"


def _helpfulness_cell(s: StageResult) -> str:
    h = s.helpfulness
    if h.n == 0:
        return f"{MISSING} (0 rated, {h.unparsed} unparsed)"
    return f"{h.mean:.2f} [{h.low:.2f}, {h.high:.2f}] (n={h.n}, {h.unparsed} unparsed)"


def _delta(c: PairedComparison) -> str:
    if c.n == 0 or math.isnan(c.estimate):
        return MISSING
    if c.metric == "helpfulness":
        return f"{c.estimate:+.2f} [{c.low:+.2f}, {c.high:+.2f}]"
    return f"{c.estimate * 100:+.1f} pts [{c.low * 100:+.1f}, {c.high * 100:+.1f}]"


def _side(c: PairedComparison, value: float) -> str:
    if c.n == 0 or math.isnan(value):
        return MISSING
    return f"{value:.2f}" if c.metric == "helpfulness" else f"{value:.1%}"


def _p(x: float) -> str:
    return MISSING if math.isnan(x) else f"{x:.3g}"


def _md(text: Any) -> str:
    """Untrusted text for a Markdown table cell."""
    return html.escape(str(text)).replace("|", "\\|").replace("\n", " ")


def _text(x: Any) -> str:
    return MISSING if x is None else str(x)


# ---------------------------------------------------------------- tables shared by Markdown and HTML


def _stage_rows(ev: StageEvaluation) -> tuple[list[str], list[list[str]]]:
    head = ["stage", "model", *(f"{m.name.replace('_', ' ')} {'↑' if m.higher_is_better else '↓'}" for m in METRICS)]
    rows = [
        [s.stage, s.model, *(_rate_cell(s, m.name) for m in METRICS if m.kind == "rate"), _helpfulness_cell(s)]
        for s in ev.stages
    ]
    return head, rows


def _comparison_rows(ev: StageEvaluation) -> tuple[list[str], list[list[str]]]:
    head = ["step", "measure", "n", "before", "after", "after − before [95% CI]", "p", "test"]
    rows = [
        [f"{c.baseline} → {c.candidate}", c.metric.replace("_", " "), str(c.n), _side(c, c.baseline_value),
         _side(c, c.candidate_value), _delta(c), _p(c.p_value), c.method]
        for c in ev.comparisons
    ]  # fmt: skip
    return head, rows


def _run_rows(ev: StageEvaluation) -> tuple[list[str], list[list[str]]]:
    rows = [
        [s.stage, suite, run_id[:8], s.logs.get(suite, MISSING), "reused" if suite in s.reused else "new"]
        for s in ev.stages
        for suite, run_id in s.runs.items()
    ]
    return ["stage", "suite", "run", "log", ""], rows


def _feedback_rows(fb: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [
        ["pairs judged (both orders)", _count(fb.get("n_pairs"))],
        ["unparsed replies (pair not labelled)", _count(fb.get("unparsed"))],
        ["consistent in both orders", _count(fb.get("consistent"))],
        ["inconsistent (verdict flips with order)", _count(fb.get("inconsistent"))],
        ["position consistency [95% CI]", _interval(fb.get("consistency", {}))],
        ["policy for inconsistent pairs", _text(fb.get("policy"))],
        ["pairs kept for the preference model", _count(fb.get("kept"))],
    ]
    return ["", "value"], rows + _other_rows(fb, _FEEDBACK_KEYS)


_FEEDBACK_KEYS = frozenset({"n_pairs", "unparsed", "consistent", "inconsistent", "consistency", "policy", "kept"})
_PM_KEYS = frozenset({"ai_heldout_accuracy", "human_accuracy"})


def _other_rows(d: dict[str, Any], known: frozenset[str]) -> list[list[str]]:
    """Any further numbers or words the pipeline reported (``ties``, ``unparsed_pairs``, ...), as they are."""
    rows = []
    for key, value in d.items():
        if key in known or value is None or isinstance(value, dict | list):
            continue
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        rows.append([str(key).replace("_", " "), shown])
    return rows


def _preference_rows(pm: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    ai, human = pm.get("ai_heldout_accuracy", {}), pm.get("human_accuracy", {})
    rows = [["held-out AI labels", _interval(ai)], ["human labels (HH-RLHF harmless)", _interval(human)]]
    gap = _accuracy_gap(ai, human)
    if gap is not None:
        rows.append(["human − AI (two-proportion test)", gap])
    return ["labels", "pairwise accuracy"], rows + _other_rows(pm, _PM_KEYS)


def _successes(d: dict[str, Any]) -> tuple[int, int] | None:
    rate, n, correct = _number(d.get("rate")), d.get("n"), d.get("correct")
    if rate is None or not isinstance(n, int) or n <= 0:
        return None
    return (correct if isinstance(correct, int) else round(rate * n)), n


def _accuracy_gap(ai: dict[str, Any], human: dict[str, Any]) -> str | None:
    a, h = _successes(ai), _successes(human)
    if a is None or h is None:
        return None
    t = two_proportion_test(a[0], a[1], h[0], h[1])
    return f"{t.difference * 100:+.1f} pts [{t.low * 100:+.1f}, {t.high * 100:+.1f}], p = {t.p_value:.3g} ({t.method})"


def _cost_rows(i: CaiReportInputs) -> tuple[list[str], list[list[str]]]:
    calls = dict(i.calls)
    if "evaluate" not in calls and i.evaluation.calls:
        calls["evaluate"] = dict(i.evaluation.calls)
    phases = [p for p in _PHASES if p in calls or p in i.timings]
    phases += sorted((calls.keys() | i.timings.keys()) - set(phases))
    rows = []
    for phase in phases:
        c = calls.get(phase, {})
        seconds = _number(i.timings.get(phase))
        rows.append(
            [phase, _count(c.get("new")), _count(c.get("cached")), MISSING if seconds is None else f"{seconds:.1f}"]
        )
    total_new = sum(c.get("new", 0) for c in calls.values())
    total_s = sum(float(t) for t in i.timings.values())
    rows.append(["total", str(total_new), str(sum(c.get("cached", 0) for c in calls.values())), f"{total_s:.1f}"])
    return ["phase", "model calls (new)", "cached", "seconds"], rows


def _intro(i: CaiReportInputs) -> list[str]:
    o = i.evaluation.options
    return [
        f"{len(i.evaluation.stages)} stages, each on the same {o.limit} harmful prompts of "
        f"`{_md(o.redteam_dataset)}` and {o.limit} safe look-alikes of `{_md(o.overrefusal_dataset)}` (spread over "
        f"their categories), {o.max_new_tokens} new tokens, greedy; helpfulness judged by "
        f"`{_md(o.helpfulness_judge)}` on the answers to the safe prompts of `{_md(o.helpfulness_dataset)}`.",
        "Rates have Wilson 95% intervals; helpfulness a t interval. Steps are paired (same prompts): exact McNemar "
        "with Newcombe's interval for rates, paired bootstrap and Wilcoxon for ratings. Evasiveness: harmful "
        "prompts met with a refusal that gives neither a reason nor a safer alternative.",
    ]


_WARNING = (
    "Where the two accuracies differ, the preference model learned what the AI feedback model prefers, "
    "not what people prefer: RLAIF optimises that difference too."
)


# ---------------------------------------------------------------- Markdown


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(_md(h) for h in head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(_md(c) for c in row) + " |" for row in rows),
    ]


def _md_chain(chain: dict[str, Any]) -> list[str]:
    pre = "<pre>{}</pre>"
    cells = [("prompt", chain.get("prompt")), ("initial answer", chain.get("initial"))]
    for k, r in enumerate(chain.get("revisions", []), 1):
        cells += [
            (f"critique {k} ({_text(r.get('principle'))})", r.get("critique")),
            (f"revision {k}", r.get("revision")),
        ]
    cells.append(("final", chain.get("final")))
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{pre.format(html.escape(clip_text(_text(text), _CHAIN_CHARS)))}</td></tr>"
        for name, text in cells
    )
    summary = (
        f"<code>{html.escape(_text(chain.get('id')))}</code>: {html.escape(clip_text(_text(chain.get('prompt')), 120))}"
    )
    return [f"<details><summary>{summary}</summary>\n\n<table>{rows}</table>\n</details>"]


def render_cai_markdown(inputs: CaiReportInputs, *, plot: str | None = "cai-stages.png") -> str:
    """The report as Markdown; ``plot`` is the stage plot's file name beside it (``None``: no image)."""
    lines = [f"# Constitutional AI report: {_md(inputs.run_name)}", "", *_intro(inputs), ""]
    lines += ["## Stages", "", *_md_table(*_stage_rows(inputs.evaluation)), ""]
    if plot:
        lines += [f"![each measure across the stages, with 95% intervals]({plot})", ""]
    lines += ["## Effect of each step (paired)", "", *_md_table(*_comparison_rows(inputs.evaluation)), ""]
    lines += ["## AI feedback: position consistency", "", *_md_table(*_feedback_rows(inputs.feedback)), ""]
    lines += [
        "## Preference model: AI labels vs human labels",
        "",
        *_md_table(*_preference_rows(inputs.preference_model)),
    ]
    lines += ["", _WARNING, ""]
    lines += ["## Cost: model calls and time per phase", "", *_md_table(*_cost_rows(inputs)), ""]
    shown = inputs.chains[:CHAIN_SAMPLE]
    lines += [f"## Critique → revision chains (first {len(shown)} of {len(inputs.chains)})", ""]
    lines += [line for chain in shown for line in _md_chain(chain)] or [MISSING]
    lines += ["", "<details><summary>evaluation runs and logs</summary>", ""]
    lines += [*_md_table(*_run_rows(inputs.evaluation)), "", "</details>"]
    config = html.escape(json.dumps(_jsonable(inputs.config), indent=2))
    lines += ["", "<details><summary>configuration</summary>", "", f"<pre>{config}</pre>", "</details>"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HTML

# The shared report page style, with room for longer chains and a warning box.
_CSS = REPORT_CSS + "pre{max-width:60em}.warn{background:#fff3e0;padding:.5em 1em;border-left:4px solid #ef6c00}"


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _accuracies(pm: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    out = {}
    for key, name in (("ai_heldout_accuracy", "AI held-out"), ("human_accuracy", "human")):
        d = pm.get(key, {})
        rate, low, high = (_number(d.get(k)) for k in ("rate", "low", "high"))
        if rate is not None:
            out[name] = (rate, rate if low is None else low, rate if high is None else high)
    return out


def render_cai_html(inputs: CaiReportInputs, *, stage_png: bytes | None = None) -> str:
    """A self-contained page: the same sections as the Markdown, with the plots embedded."""
    ev = inputs.evaluation
    png = stage_png if stage_png is not None else plot_stage_metrics(ev.stages)
    accuracies = _accuracies(inputs.preference_model)
    pm_plot = (
        _img(plot_preference_accuracy(accuracies), "preference model accuracy by label source") if accuracies else ""
    )
    intro = "".join(f"<p>{html.escape(line).replace('`', '')}</p>" for line in _intro(inputs))
    chains = "".join(line for chain in inputs.chains[:CHAIN_SAMPLE] for line in _md_chain(chain)) or MISSING
    config = html.escape(json.dumps(_jsonable(inputs.config), indent=2))
    title = html.escape(inputs.run_name)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>CAI report: {title}</title>
<style>{_CSS}</style></head><body>
<h1>Constitutional AI report: {title}</h1>
{intro}
<h2>Stages</h2>
{_html_table(*_stage_rows(ev))}
{_img(png, "each measure across the stages, with 95% intervals")}
<h2>Effect of each step (paired)</h2>
{_html_table(*_comparison_rows(ev))}
<h2>AI feedback: position consistency</h2>
{_html_table(*_feedback_rows(inputs.feedback))}
<h2>Preference model: AI labels vs human labels</h2>
{_html_table(*_preference_rows(inputs.preference_model))}
{pm_plot}
<p class="warn">{html.escape(_WARNING)}</p>
<h2>Cost: model calls and time per phase</h2>
{_html_table(*_cost_rows(inputs))}
<h2>Critique → revision chains (first {min(CHAIN_SAMPLE, len(inputs.chains))} of {len(inputs.chains)})</h2>
{chains}
<h2>Evaluation runs and logs</h2>
{_html_table(*_run_rows(ev))}
<h2>Configuration</h2><pre>{config}</pre>
</body></html>
"""


# ---------------------------------------------------------------- JSON and files


def _jsonable(x: Any) -> Any:
    """NaN → ``None``, tuples → lists, anything else unknown → its string (the JSON stays strict)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if x is None or isinstance(x, str | int | bool):
        return x
    return str(x)


def report_dict(inputs: CaiReportInputs) -> dict[str, Any]:
    """The report's numbers (no model text): evaluation, feedback, preference model, cost."""
    out: dict[str, Any] = _jsonable(
        {
            "run_name": inputs.run_name,
            "config": inputs.config,
            "evaluation": inputs.evaluation.to_dict(),
            "feedback": inputs.feedback,
            "preference_model": inputs.preference_model,
            "calls": inputs.calls,
            "timings": inputs.timings,
            "chains": {"n": len(inputs.chains), "shown": [_text(c.get("id")) for c in inputs.chains[:CHAIN_SAMPLE]]},
        }
    )
    return out


@dataclass(frozen=True)
class CaiReportFiles:
    """Where :func:`write_cai_report` put each file."""

    markdown: Path
    html: Path
    json: Path
    plot: Path


def write_cai_report(inputs: CaiReportInputs, out_dir: Path) -> CaiReportFiles:
    """Write ``cai-report.md`` (+ ``cai-stages.png``), ``cai-report.html`` and ``cai-report.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = CaiReportFiles(
        out_dir / "cai-report.md", out_dir / "cai-report.html", out_dir / "cai-report.json", out_dir / "cai-stages.png"
    )
    png = plot_stage_metrics(inputs.evaluation.stages)
    files.plot.write_bytes(png)
    files.markdown.write_text(render_cai_markdown(inputs, plot=files.plot.name), encoding="utf-8")
    files.html.write_text(render_cai_html(inputs, stage_png=png), encoding="utf-8")
    files.json.write_text(json.dumps(report_dict(inputs), indent=2, allow_nan=False), encoding="utf-8")
    return files
