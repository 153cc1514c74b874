"""Figures 8.17 and 8.18 of seed 3: human vs judge score histograms, and judge scores on human ties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from alignlab.evals.judges.qa import OrderJudgment
from alignlab.evals.judges.transform import label_from_score

__all__ = ["JudgePlots", "plot_judge_histograms"]

_BINS = [b + 0.5 for b in range(0, 10)]  # one bar per integer score 1..9


@dataclass(frozen=True)
class JudgePlots:
    """Where the two PNGs were written."""

    distributions: Path
    ties: Path


def plot_judge_histograms(judgments: Sequence[OrderJudgment], out_dir: Path, *, title: str = "") -> JudgePlots:
    """Write ``score_distributions.png`` (human | judge) and ``human_ties.png`` (judge on human ties)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    human = [j.human_score for j in judgments if j.human_score is not None]
    judge = [j.score for j in judgments if j.score is not None]
    tied = [
        j.score
        for j in judgments
        if j.score is not None and j.human_score is not None and label_from_score(j.human_score) == "tie"
    ]

    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=False)
    left.hist(human, bins=_BINS, color="#4c72b0", edgecolor="white")
    left.set_title(f"human score (n={len(human)})")
    right.hist(judge, bins=_BINS, color="#dd8452", edgecolor="white")
    right.set_title(f"judge score (n={len(judge)})")
    for ax in (left, right):
        ax.set_xticks(range(1, 10))
        ax.set_xlabel("1 = prefers the first shown answer … 9 = the second")
        ax.set_ylabel("judgments")
    fig.suptitle(title or "Human vs judge pairwise scores")
    dist = out_dir / "score_distributions.png"
    fig.savefig(dist, dpi=100, bbox_inches="tight")

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.hist(tied, bins=_BINS, color="#c44e52", edgecolor="white")
    ax.set_xticks(range(1, 10))
    ax.set_xlabel("judge score (1 = first shown, 9 = second shown)")
    ax.set_ylabel("judgments")
    ax.set_title(f"Judge scores where humans rated the pair equal (n={len(tied)})")
    ties = out_dir / "human_ties.png"
    fig.savefig(ties, dpi=100, bbox_inches="tight")
    return JudgePlots(dist, ties)
