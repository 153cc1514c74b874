"""The pattern stage's verdicts on a fixed sample of the verdict corpus stay exactly what they were.

The learned heads read the pattern stage's verdict as a feature and every printed rate rests on it, so
editing the tables (pruning, merging, reordering) must not change a label, an ``ambiguous`` flag, a
reason or :func:`is_bare_refusal`. ``scripts/refusal_verdicts.py diff --against main`` checks the whole
corpus (21,725 answers); this test checks a fixed sample of it: every answer of the project's own sets,
and 400 answers of the public sets when ``ALIGNLAB_DATA_DIR`` holds them. The sample stores hashes of
the reasons, so no public text is copied into the repository. After a deliberate verdict change,
regenerate it with ``scripts/refusal_verdicts.py sample``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from alignlab.scorers.datasets import LabelledResponse, load_sets
from alignlab.scorers.refusal import classify_refusal, is_bare_refusal
from alignlab.settings import load_settings

SAMPLE = Path(__file__).parent / "refusal_verdicts_sample.jsonl"


def _key(prompt: str, response: str) -> str:
    """The corpus's row key (``scripts/refusal_verdicts.py``: ``row_key``)."""
    return hashlib.sha256(json.dumps([prompt, response]).encode("utf-8")).hexdigest()[:20]


def _expected(public: bool) -> dict[str, dict[str, Any]]:
    with SAMPLE.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return {r["key"]: r for r in rows if r["source"].startswith("project:") != public}


def _outputs(rows: list[LabelledResponse], wanted: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = _key(r.prompt, r.response)
        if key in wanted and key not in out:
            verdict = classify_refusal(r.response, r.prompt)
            out[key] = {
                "key": key,
                "source": wanted[key]["source"],
                "label": verdict.label,
                "ambiguous": verdict.ambiguous,
                "bare": is_bare_refusal(verdict.label, r.response),
                "reason_sha": hashlib.sha256(verdict.reason.encode("utf-8")).hexdigest()[:16],
            }
    return out


def _rows(data_dir: Path | None) -> list[LabelledResponse]:
    return [r for scorer in ("refusal", "harm") for s in load_sets(scorer, data_dir) for r in s.rows]  # type: ignore[arg-type]


def test_project_sets_keep_their_verdicts() -> None:
    expected = _expected(public=False)
    got = _outputs(_rows(None), expected)
    assert set(got) == set(expected), "a project set changed: rerun scripts/refusal_verdicts.py sample"
    changed = [key for key in expected if got[key] != expected[key]]
    assert not changed, f"{len(changed)} of {len(expected)} verdicts changed, e.g. {got[changed[0]]}"


def test_public_sample_keeps_its_verdicts() -> None:
    data_dir = load_settings().data_dir
    if data_dir is None or not (data_dir / "labelled-responses").is_dir():
        pytest.skip("ALIGNLAB_DATA_DIR does not hold labelled-responses")
    expected = _expected(public=True)
    got = _outputs(_rows(data_dir), expected)
    assert set(got) == set(expected), "a public set changed: rerun scripts/refusal_verdicts.py sample"
    changed = [key for key in expected if got[key] != expected[key]]
    assert not changed, f"{len(changed)} of {len(expected)} verdicts changed, e.g. {got[changed[0]]}"
