"""Plots of a Constitutional AI report, as PNG bytes (embedded in the HTML, written beside the Markdown)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from alignlab.cai.evaluate import METRICS, StageResult

__all__ = ["plot_preference_accuracy", "plot_stage_metrics"]

_COLOURS = {
    "harmful_compliance": "#c62828",
    "non_refusal": "#ad1457",
    "over_refusal": "#ef6c00",
    "evasiveness": "#6a1b9a",
    "helpfulness": "#2e7d32",
}


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _stage_points(
    metric: str, stages: Sequence[StageResult], *, corrected: bool = False
) -> list[tuple[int, float, float, float]]:
    """``(x, value, low, high)`` per stage with a value; rates in percent (``corrected``: the corrected rates)."""
    points = []
    for x, s in enumerate(stages):
        if metric == "helpfulness":
            h = s.helpfulness
            value, low, high = h.mean, h.low, h.high
        elif corrected:
            c = s.corrected.get(metric)
            value, low, high = (c.point * 100, c.low * 100, c.high * 100) if c else (math.nan, math.nan, math.nan)
        else:
            p = s.rates[metric]
            value, low, high = (p.rate * 100, p.low * 100, p.high * 100) if p.n else (math.nan, math.nan, math.nan)
        if not math.isnan(value):
            points.append((x, value, low, high))
    return points


def _errorbar(ax: Any, points: list[tuple[int, float, float, float]], shift: float, **style: Any) -> None:
    xs, ys, lows, highs = zip(*points, strict=True)
    err = [[y - lo for y, lo in zip(ys, lows, strict=True)], [hi - y for y, hi in zip(ys, highs, strict=True)]]
    ax.errorbar([x + shift for x in xs], ys, yerr=err, capsize=4, **style)


def plot_stage_metrics(stages: Sequence[StageResult]) -> bytes:
    """One panel per measure: its value at each stage with the 95% interval as an error bar.

    Scorer-based rates also show the rate corrected for the scorer's error (hollow squares, dashed).
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(METRICS), figsize=(3.2 * len(METRICS), 3.0))
    names = [s.stage for s in stages]
    for ax, spec in zip(axes, METRICS, strict=True):
        points = _stage_points(spec.name, stages)
        colour = _COLOURS[spec.name]
        if points:
            _errorbar(ax, points, 0.0, fmt="o-", color=colour, label="scored")
            corrected = _stage_points(spec.name, stages, corrected=True) if spec.kind == "rate" else []
            if corrected:
                _errorbar(ax, corrected, 0.12, fmt="s--", color=colour, mfc="white", label="corrected")
                ax.legend(fontsize=7, loc="best")
        else:
            ax.text(0.5, 0.5, "nothing rated", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_xticks(range(len(names)), names)
        ax.set_xlim(-0.5, len(names) - 0.5)
        if spec.kind == "rate":
            ax.set_ylim(-3, 103)
            ax.set_ylabel("% of prompts")
        else:
            ax.set_ylim(0.5, 10.5)
            ax.set_ylabel("judge rating (1–10)")
        arrow = "↑" if spec.higher_is_better else "↓"
        ax.set_title(f"{spec.name.replace('_', ' ')} ({arrow} better)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def plot_preference_accuracy(accuracies: dict[str, tuple[float, float, float]]) -> bytes:
    """The preference model's pairwise accuracy per label source, with 95% intervals and chance at 50%."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    names = list(accuracies)
    for y, name in enumerate(names):
        rate, low, high = accuracies[name]
        ax.errorbar(
            rate * 100, y, xerr=[[(rate - low) * 100], [(high - rate) * 100]], fmt="o", capsize=4, color="#1565c0"
        )
    ax.axvline(50, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xlabel("pairwise accuracy (%)")
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)
