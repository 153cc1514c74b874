"""The harm head on sources it was not trained on: leave-one-source-out floors (docs/scorers.md has the figures).

Floors are the measured agreement rounded down to the nearest 0.05; before the later-voice scoring
and the directive/speaker cues the same procedure measured GPTFuzz 0.814, JailbreakBench 0.875,
PyRIT 0.717, so the GPTFuzz floor fails on that head.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alignlab.scorers.validate import leave_one_source_out

DATA_DIR = Path(os.environ["ALIGNLAB_DATA_DIR"]) if os.environ.get("ALIGNLAB_DATA_DIR") else None


@pytest.mark.slow
@pytest.mark.skipif(
    DATA_DIR is None or not (DATA_DIR / "labelled-responses").is_dir(),
    reason="ALIGNLAB_DATA_DIR with labelled-responses/ is not available",
)
def test_harm_leave_one_source_out() -> None:
    results = {r.source: r for r in leave_one_source_out("harm", DATA_DIR, "harm-patterns")}
    assert set(results) == {"gptfuzz", "jbb", "project", "pyrit-harm"}
    floors = {"gptfuzz": 0.85, "jbb": 0.85, "pyrit-harm": 0.70}
    for source, floor in floors.items():
        assert results[source].learned >= floor, results[source]
        assert results[source].learned > results[source].baseline, results[source]
