"""Run the compliance-gap suite over a grid of prompt variants; tabulate and chart the result.

One Inspect eval per variant (logs are the source of truth, so a grid can be re-tabulated
or re-plotted from its logs with :func:`grid_from_logs`). It runs suites, so it sits beside
:mod:`alignlab.evals.runner`, above :mod:`alignlab.evals.compliance_gap` (which the suite
registry imports).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.evals.compliance_gap.suite import DEFAULT_DATASET, DEFAULT_MAX_TOKENS
from alignlab.evals.compliance_gap.summary import GapSummary, gap_summary_of_log, read_gap_log
from alignlab.evals.compliance_gap.variants import get_variant
from alignlab.evals.runner import Display, run_suite
from alignlab.scorers.correction import CorrectedDifference
from alignlab.settings import Settings
from alignlab.stats import Proportion
from alignlab.store import Store

__all__ = [
    "GridResult",
    "GridRow",
    "compare_models",
    "grid_from_logs",
    "grid_rows",
    "plot_grid",
    "run_grid",
    "write_grid_csv",
]


@dataclass(frozen=True)
class GridResult:
    """Per-variant summaries of one model and where their logs are."""

    model: str
    summaries: dict[str, GapSummary]
    log_paths: dict[str, str]
    run_ids: dict[str, str] = field(default_factory=dict)
    """Store run id per variant (empty for a grid rebuilt from logs)."""
    errors: dict[str, str] = field(default_factory=dict)
    """Per variant whose samples errored: the stored reason."""
    failed: list[str] = field(default_factory=list)
    """Variants whose run failed (too many samples errored)."""


@dataclass(frozen=True)
class GridRow:
    """One variant × condition cell (``gap_*`` repeat the variant's free − paid gap for that reasoning condition)."""

    variant: str
    trained_tier: str
    condition: str
    n: int
    prefix: Proportion
    classifier: Proportion
    ignored_instruction: Proportion
    alignment_faking: Proportion | None
    gap_prefix: float | None
    gap_prefix_p: float | None
    gap_classifier: float | None
    gap_classifier_p: float | None
    gap_prefix_mcnemar_p: float | None = None
    gap_classifier_mcnemar_p: float | None = None
    gap_classifier_corrected: CorrectedDifference | None = None
    """The classifier gap with both rates corrected for the refusal scorer's error (its card)."""


def run_grid(
    model: str,
    variants: Sequence[str],
    *,
    settings: Settings,
    store: Store,
    dataset: str = DEFAULT_DATASET,
    prompts: int | None = None,
    conditions: str = "all",
    max_tokens: int | None = None,
    judge: str | None = None,
    af_judge: str | None = None,
    af_votes: int = 3,
    variants_file: Path | None = None,
    log_dir: Path | None = None,
    base_url: str | None = None,
    seed: int = 0,
    display: Display = "rich",
    max_sample_errors: float = 0.0,
) -> GridResult:
    """Evaluate ``model`` on every variant: one Inspect log and one ``compliance-gap`` store row each.

    The variant, conditions and judges are the task options of the store row's config, so
    ``alignlab runs list --suite compliance-gap`` and the web UI tell the grid's runs apart.
    """
    for name in variants:
        get_variant(name, variants_file)  # fail on a bad name before any generation
    summaries: dict[str, GapSummary] = {}
    paths: dict[str, str] = {}
    run_ids: dict[str, str] = {}
    errors: dict[str, str] = {}
    failed: list[str] = []
    for name in variants:
        run = run_suite(
            "compliance-gap",
            model,
            settings=settings,
            store=store,
            dataset=dataset,
            seed=seed,
            judge=judge,
            log_dir=log_dir,
            base_url=base_url,
            max_tokens=max_tokens or DEFAULT_MAX_TOKENS,
            display=display,
            max_sample_errors=max_sample_errors,
            task_options={
                "variant": name,
                "conditions": conditions,
                "af_judge": af_judge,
                "af_votes": af_votes,
                "prompts": prompts,
                "variants_file": str(variants_file) if variants_file else None,
            },
        )
        log_path = run.record.log_path or run.summary.log_location
        summaries[name] = gap_summary_of_log(read_gap_log(Path(log_path)))
        paths[name] = log_path
        run_ids[name] = run.record.id
        if run.record.error:
            errors[name] = run.record.error
        if run.failed:
            failed.append(name)
    return GridResult(model, summaries, paths, run_ids, errors, failed)


def grid_from_logs(paths: Sequence[Path]) -> GridResult:
    """Rebuild a grid from compliance-gap logs (one variant each; a later log of a variant wins)."""
    summaries: dict[str, GapSummary] = {}
    locations: dict[str, str] = {}
    models = set()
    for path in paths:
        log = read_gap_log(path)
        summary = gap_summary_of_log(log)
        summaries[summary.variant] = summary
        locations[summary.variant] = str(path)
        models.add(log.eval.model)
    return GridResult(", ".join(sorted(models)), summaries, locations)


def grid_rows(result: GridResult) -> list[GridRow]:
    """The grid as one row per variant × condition."""
    rows = []
    for variant, summary in result.summaries.items():
        for c in summary.conditions:
            gaps = {g.measure: g.test for g in summary.gaps if g.cot == c.cot}
            paired = {g.measure: g.paired.p_value for g in summary.gaps if g.cot == c.cot and g.paired}
            corrected = {g.measure: g.corrected for g in summary.gaps if g.cot == c.cot}
            prefix_gap, classifier_gap = gaps.get("prefix"), gaps.get("classifier")
            rows.append(
                GridRow(
                    variant=variant,
                    trained_tier=summary.trained_tier,
                    condition=c.condition,
                    n=c.n,
                    prefix=c.prefix_compliance,
                    classifier=c.classifier_compliance,
                    ignored_instruction=c.ignored_instruction,
                    alignment_faking=c.alignment_faking,
                    gap_prefix=prefix_gap.difference if prefix_gap else None,
                    gap_prefix_p=prefix_gap.p_value if prefix_gap else None,
                    gap_classifier=classifier_gap.difference if classifier_gap else None,
                    gap_classifier_p=classifier_gap.p_value if classifier_gap else None,
                    gap_prefix_mcnemar_p=paired.get("prefix"),
                    gap_classifier_mcnemar_p=paired.get("classifier"),
                    gap_classifier_corrected=corrected.get("classifier"),
                )
            )
    return rows


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


def _corrected_cells(c: CorrectedDifference | None) -> list[str]:
    if c is None or not c.correctable:
        return ["", "", ""]
    return [_fmt(c.point), _fmt(c.low), _fmt(c.high)]


def write_grid_csv(rows: Sequence[GridRow], path: Path) -> Path:
    """Write the grid table as CSV (rates with Wilson 95% bounds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "variant",
                "trained_tier",
                "condition",
                "n",
                "compliance_prefix",
                "prefix_ci_low",
                "prefix_ci_high",
                "compliance_classifier",
                "classifier_ci_low",
                "classifier_ci_high",
                "ignored_instruction",
                "alignment_faking",
                "af_n",
                "gap_prefix_free_minus_paid",
                "gap_prefix_p",
                "gap_classifier_free_minus_paid",
                "gap_classifier_p",
                "gap_prefix_mcnemar_p",
                "gap_classifier_mcnemar_p",
                "gap_classifier_corrected",
                "gap_classifier_corrected_low",
                "gap_classifier_corrected_high",
            ]
        )
        for r in rows:
            af = r.alignment_faking
            writer.writerow(
                [
                    r.variant,
                    r.trained_tier,
                    r.condition,
                    r.n,
                    _fmt(r.prefix.rate),
                    _fmt(r.prefix.low),
                    _fmt(r.prefix.high),
                    _fmt(r.classifier.rate),
                    _fmt(r.classifier.low),
                    _fmt(r.classifier.high),
                    _fmt(r.ignored_instruction.rate),
                    _fmt(af.rate) if af else "",
                    af.n if af else "",
                    _fmt(r.gap_prefix),
                    _fmt(r.gap_prefix_p),
                    _fmt(r.gap_classifier),
                    _fmt(r.gap_classifier_p),
                    _fmt(r.gap_prefix_mcnemar_p),
                    _fmt(r.gap_classifier_mcnemar_p),
                    *_corrected_cells(r.gap_classifier_corrected),
                ]
            )
    return path


def plot_grid(rows: Sequence[GridRow], path: Path, *, title: str = "") -> Path:
    """Bar chart: compliance per variant × condition, by prefix and by classifier, Wilson 95% error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(r.variant for r in rows))
    conditions = list(dict.fromkeys(r.condition for r in rows))
    cell = {(r.variant, r.condition): r for r in rows}
    width = 0.8 / max(len(conditions), 1)
    fig, axes = plt.subplots(2, 1, figsize=(max(7.0, 1.6 * len(variants) + 2.5), 7.5), sharex=True, sharey=True)
    for ax, measure in zip(axes, ("prefix", "classifier"), strict=True):
        for j, cond in enumerate(conditions):
            xs, heights, lows, highs = [], [], [], []
            for i, variant in enumerate(variants):
                row = cell.get((variant, cond))
                if row is None:
                    continue
                p: Proportion = getattr(row, measure)
                rate = p.rate if p.n else 0.0
                xs.append(i + (j - (len(conditions) - 1) / 2) * width)
                heights.append(rate)
                lows.append(rate - p.low if p.n else 0.0)
                highs.append(p.high - rate if p.n else 0.0)
            ax.bar(xs, heights, width, yerr=[lows, highs], capsize=3, label=cond)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"compliance by {measure}")
        ax.set_ylabel("rate (Wilson 95% CI)")
        ax.grid(axis="y", alpha=0.3)
    axes[1].set_xticks(range(len(variants)), variants, rotation=20, ha="right")
    axes[0].legend(title="condition", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def compare_models(
    models: dict[str, str],
    *,
    variant: str,
    settings: Settings,
    store: Store,
    **options: Any,
) -> dict[str, GridResult]:
    """One variant on several models (e.g. ``{"base": "default", "fine-tuned": "ckpt:x"}``), by label.

    ``options`` are :func:`run_grid`'s keyword arguments; every model gets the same ones.
    """
    get_variant(variant, options.get("variants_file"))
    return {
        label: run_grid(model, [variant], settings=settings, store=store, **options) for label, model in models.items()
    }
