"""The alignment gate: compare a candidate with a baseline on the same samples and decide.

``alignlab gate --policy gate.yaml --baseline BASE --candidate CAND`` reads (or runs) the
suites a policy names, pairs the samples, applies each rule with paired statistics and
writes Markdown, HTML, JUnit XML and JSON reports. See ``docs/gate.md``.
"""

from alignlab.gate.compare import EXIT_CODES, Check, Flip, GateResult, RuleResult, Verdict, decide, judge_qa_values
from alignlab.gate.logs import Outcome, PairedSample, Pairing, find_suite_logs, pair_logs
from alignlab.gate.policy import GatePolicy, Rule, SuitePolicy, load_policy, parse_policy
from alignlab.gate.report import (
    ReportFiles,
    format_estimate,
    format_p,
    format_sides,
    render_html,
    render_junit,
    render_markdown,
    write_reports,
)
from alignlab.gate.run import collect_logs, run_gate

__all__ = [
    "EXIT_CODES",
    "Check",
    "Flip",
    "GatePolicy",
    "GateResult",
    "Outcome",
    "PairedSample",
    "Pairing",
    "ReportFiles",
    "Rule",
    "RuleResult",
    "SuitePolicy",
    "Verdict",
    "collect_logs",
    "decide",
    "find_suite_logs",
    "format_estimate",
    "format_p",
    "format_sides",
    "judge_qa_values",
    "load_policy",
    "pair_logs",
    "parse_policy",
    "render_html",
    "render_junit",
    "render_markdown",
    "run_gate",
    "write_reports",
]
