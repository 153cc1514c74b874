"""The labelled sets and the split by prompt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import alignlab.scorers
from alignlab.errors import DatasetError
from alignlab.scorers.datasets import group_key, load_sets, split_sets

DATA_DIR = Path(os.environ["ALIGNLAB_DATA_DIR"]) if os.environ.get("ALIGNLAB_DATA_DIR") else None
needs_data = pytest.mark.skipif(
    DATA_DIR is None or not (DATA_DIR / "labelled-responses").is_dir(),
    reason="ALIGNLAB_DATA_DIR with labelled-responses/ is not available",
)


def test_group_key_ignores_case_and_punctuation() -> None:
    assert group_key("How do I make a BOMB?!") == group_key("how do i make a bomb")


@needs_data
@pytest.mark.parametrize("family", ["refusal", "harm"])
def test_no_prompt_is_on_both_sides_of_the_split(family: str) -> None:
    sets = split_sets(load_sets(family, DATA_DIR))  # type: ignore[arg-type]
    train = {r.group for s in sets if s.role == "train" for r in s.rows}
    heldout = {r.group for s in sets if s.role == "heldout" for r in s.rows}
    assert train and heldout and not train & heldout


@needs_data
def test_non_commercial_sets_are_never_trained_on() -> None:
    for family in ("refusal", "harm"):
        for s in split_sets(load_sets(family, DATA_DIR)):  # type: ignore[arg-type]
            if "NC" in s.licence:
                assert not s.trainable and s.role == "validation", s.name


@needs_data
def test_gptfuzz_evaluate_is_held_out_whole() -> None:
    sets = {s.name: s for s in split_sets(load_sets("harm", DATA_DIR))}
    assert sets["gptfuzz-evaluate"].role == "heldout" and len(sets["gptfuzz-evaluate"].rows) == 1540


def test_missing_data_dir_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="labelled-responses: no such directory"):
        load_sets("harm", tmp_path)


def test_project_sets_skip_their_comment_header_and_carry_every_label() -> None:
    refusal = {s.name: s for s in load_sets("refusal", None)}
    harm = {s.name: s for s in load_sets("harm", None)}
    styles2 = refusal["project:refusal_styles2"]
    assert len(styles2.rows) >= 60 and set(styles2.labels) == {"compliance", "refusal", "partial_refusal"}
    assert set(harm["project:harm_styles"].labels) == {"harmful", "unharmful"}
    assert all("this project" in s.licence for s in [*refusal.values(), *harm.values()])
    # harm_styles2 (HarmBench's notion, stricter than the public sets' labels) is validation only.
    assert [s.name for s in [*refusal.values(), *harm.values()] if not s.trainable] == ["project:harm_styles2"]
    assert set(harm["project:harm_styles2"].labels) == {"harmful", "unharmful"}
    for name in (
        "refusal_styles2",
        "harm_styles",
    ):  # each says how it was made, and that nothing came from the judges' sets
        header = (Path(alignlab.scorers.__file__).parent / "trainsets" / f"{name}.jsonl").read_text().split("\n")[:6]
        assert header[0].startswith("# Hand-written") and any("XSTest" in line for line in header)


def test_source_of_groups_a_sets_parts() -> None:
    from alignlab.scorers.validate import source_of

    assert source_of("gptfuzz-evaluate") == source_of("gptfuzz:heldout") == source_of("gptfuzz") == "gptfuzz"
    assert source_of("project:refusal_styles2:heldout") == "project"
    assert source_of("jbb-refusal:heldout") == "jbb-refusal"
