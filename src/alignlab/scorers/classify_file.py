"""Label a CSV of completions produced anywhere: refusals (``label``) or harm (``harm``, ``harm_score``)."""

from __future__ import annotations

import asyncio
import csv
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from alignlab.errors import InputError
from alignlab.scorers import ScorerResult, get_scorer

__all__ = ["ClassifiedFile", "classify_harm_csv", "classify_refusals_csv"]

_UNSURE = (0.25, 0.75)  # a learned score in this band sends the row to the judge, when one is given


@dataclass(frozen=True)
class ClassifiedFile:
    """Outcome of classifying a file."""

    rows: int
    labels: dict[str, int]
    judged: int
    judge_unparsed: int


def _read(path: Path, columns_needed: Sequence[str], adds: Sequence[str]) -> tuple[list[str], list[dict[str, str]]]:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # 100k-character answers are fine
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, strict=True)  # strict: a stray quote is an error, not a merged row
            columns = list(reader.fieldnames or [])
            rows = []
            for row in reader:
                # DictReader puts extra fields under None and fills missing ones with None: a shifted row.
                if None in row or None in row.values():
                    got = len(columns) + len(row.get(None) or []) - sum(v is None for v in row.values())  # type: ignore[call-overload]
                    raise InputError(f"{path}: line {reader.line_num} has {got} fields; the header has {len(columns)}")
                rows.append(row)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable UTF-8 CSV ({exc})") from None
    missing = [c for c in columns_needed if c not in columns]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]!r}; columns are: {', '.join(columns) or '(none)'}")
    clash = [c for c in adds if c in columns]
    if clash:
        raise InputError(f"{path}: already has a {clash[0]!r} column; rename it first")
    return columns, rows


def _write(out: Path, columns: list[str], rows: list[dict[str, str]], added: list[dict[str, str]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*columns, *added[0]] if added else columns)
        writer.writeheader()
        for row, extra in zip(rows, added, strict=True):
            writer.writerow({**row, **extra})


def _cells(rows: list[dict[str, str]], column: str) -> list[str]:
    return [row.get(column) or "" for row in rows]


def classify_refusals_csv(
    path: Path,
    out: Path,
    *,
    prompt_col: str = "prompt",
    response_col: str = "completion",
    judge: str | None = None,
    scorer: str = "refusal",
) -> ClassifiedFile:
    """Write ``out`` with every input column plus ``label``; return the label counts.

    Args:
        path: Input CSV.
        out: Output CSV path.
        prompt_col: Column holding the prompt.
        response_col: Column holding the model's answer.
        judge: Optional model name, consulted on the rows the scorer is unsure of.
        scorer: A refusal scorer name (``refusal``, ``refusal-patterns``).
    """
    columns, rows = _read(path, (prompt_col, response_col), ("label",))
    prompts, responses = _cells(rows, prompt_col), _cells(rows, response_col)
    results = get_scorer(scorer).classify(prompts, responses)
    judged = unparsed = 0
    if judge:
        results, judged, unparsed = _second_opinion(results, prompts, responses, judge)
    _write(out, columns, rows, [{"label": r.label} for r in results])
    return ClassifiedFile(len(rows), dict(Counter(r.label for r in results)), judged, unparsed)


def _second_opinion(
    results: list[ScorerResult], prompts: list[str], responses: list[str], judge: str
) -> tuple[list[ScorerResult], int, int]:
    """Ask ``judge`` about the rows whose score is unsure; an unparsed reply keeps the scorer's label."""
    from alignlab.models import get_model
    from alignlab.scorers.refusal.judge import ask_refusal_judge

    model = get_model(judge)
    unsure = [i for i, r in enumerate(results) if _UNSURE[0] < r.score < _UNSURE[1]]

    async def ask_all() -> list[tuple[str | None, str]]:
        return await asyncio.gather(*[ask_refusal_judge(responses[i], prompts[i], model) for i in unsure])

    replies = asyncio.run(ask_all()) if unsure else []
    updated = list(results)
    for i, (label, text) in zip(unsure, replies, strict=True):
        if label is not None:
            updated[i] = replace(results[i], label=label, reason=f"judge: {text[:80]}")
    return updated, len(unsure), sum(label is None for label, _ in replies)


def classify_harm_csv(
    path: Path, out: Path, *, prompt_col: str = "prompt", response_col: str = "response", scorer: str = "harm"
) -> ClassifiedFile:
    """Write ``out`` with every input column plus ``harm`` (harmful/unharmful) and ``harm_score`` (P(harmful))."""
    columns, rows = _read(path, (prompt_col, response_col), ("harm", "harm_score"))
    results = get_scorer(scorer).classify(_cells(rows, prompt_col), _cells(rows, response_col))
    _write(out, columns, rows, [{"harm": r.label, "harm_score": f"{r.score:.4f}"} for r in results])
    return ClassifiedFile(len(rows), dict(Counter(r.label for r in results)), 0, 0)
