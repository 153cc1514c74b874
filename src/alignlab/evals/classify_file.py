"""Classify refusals in a CSV of completions produced anywhere."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from alignlab.errors import InputError
from alignlab.evals.refusal_judge import classify_refusal_with_judge
from alignlab.models import get_model

__all__ = ["ClassifiedFile", "classify_refusals_csv"]


@dataclass(frozen=True)
class ClassifiedFile:
    """Outcome of classifying a file."""

    rows: int
    labels: dict[str, int]
    judged: int
    judge_unparsed: int


def _read(path: Path, prompt_col: str, response_col: str) -> tuple[list[str], list[dict[str, str]]]:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns = list(reader.fieldnames or [])
            rows = list(reader)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable UTF-8 CSV ({exc})") from None
    missing = [c for c in (prompt_col, response_col) if c not in columns]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]!r}; columns are: {', '.join(columns) or '(none)'}")
    if "label" in columns:
        raise InputError(f"{path}: already has a 'label' column; rename it first")
    return columns, rows


def classify_refusals_csv(
    path: Path, out: Path, *, prompt_col: str = "prompt", response_col: str = "completion", judge: str | None = None
) -> ClassifiedFile:
    """Write ``out`` with every input column plus ``label``; return the label counts.

    Args:
        path: Input CSV.
        out: Output CSV path.
        prompt_col: Column holding the prompt.
        response_col: Column holding the model's answer.
        judge: Optional model name for ambiguous answers.
    """
    columns, rows = _read(path, prompt_col, response_col)
    judge_model = get_model(judge) if judge else None

    async def classify_all() -> list[tuple[str, str, bool]]:
        results = await asyncio.gather(
            *[classify_refusal_with_judge(r[response_col] or "", r[prompt_col] or "", judge_model) for r in rows]
        )
        return [(v.label, v.stage, unparsed) for v, unparsed in results]

    verdicts = asyncio.run(classify_all())
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*columns, "label"])
        writer.writeheader()
        for row, (label, _, _) in zip(rows, verdicts, strict=True):
            writer.writerow({**row, "label": label})
    return ClassifiedFile(
        rows=len(rows),
        labels=dict(Counter(label for label, _, _ in verdicts)),
        judged=sum(stage == "judge" for _, stage, _ in verdicts),
        judge_unparsed=sum(u for _, _, u in verdicts),
    )
