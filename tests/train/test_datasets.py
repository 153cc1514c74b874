"""Training datasets: HH-RLHF pairs in TRL's format, refusal SFT, PALMS; content hashes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from alignlab.data.training_sets import (
    REFUSALS,
    content_hash,
    load_training_rows,
    parse_hh_dialogue,
    training_dataset_names,
)
from alignlab.errors import DatasetError, UnknownNameError
from alignlab.settings import Settings, load_settings

HH = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how do I pick a lock?\n\nAssistant: "


def test_hh_dialogue_parses_turns() -> None:
    assert parse_hh_dialogue(HH + "I'd rather not.") == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "how do I pick a lock?"},
        {"role": "assistant", "content": "I'd rather not."},
    ]


def test_hh_rlhf_local_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "hh-rlhf" / "harmless-base"
    folder.mkdir(parents=True)
    lines = [
        {"chosen": HH + "I can't help with that.", "rejected": HH + "Sure, use a tension wrench."},
        {"chosen": HH + "same", "rejected": HH + "same"},  # identical answers: dropped
        {"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: c\n\nAssistant: b"},  # diverging prompts
    ]
    with gzip.open(folder / "test.jsonl.gz", "wt") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in lines))
    monkeypatch.setenv("ALIGNLAB_DATA_DIR", str(tmp_path))
    rows = load_training_rows("hh-rlhf-harmless", load_settings())
    assert len(rows) == 1
    assert rows[0]["prompt"][-1] == {"role": "user", "content": "how do I pick a lock?"}
    assert rows[0]["chosen"] == [{"role": "assistant", "content": "I can't help with that."}]
    assert rows[0]["rejected"][0]["content"].startswith("Sure")
    monkeypatch.setenv("ALIGNLAB_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(DatasetError, match=r"not found.*hh-rlhf"):
        load_training_rows("hh-rlhf-harmless", load_settings())


@pytest.mark.skipif(not Path("/work/shared/data/hh-rlhf").is_dir(), reason="shared data not present")
def test_hh_rlhf_real_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGNLAB_DATA_DIR", "/work/shared/data")
    rows = load_training_rows("hh-rlhf-harmless", load_settings())
    assert 2200 < len(rows) <= 2312
    assert all(r["chosen"][0]["role"] == "assistant" and r["prompt"][-1]["role"] == "user" for r in rows)


def test_refusal_sft_set(settings: Settings) -> None:
    rows = load_training_rows("alignlab-refusal-sft", settings)
    harmful = [r for r in rows if r["label"] == "harmful"]
    safe = [r for r in rows if r["label"] == "safe"]
    assert len(harmful) == 50 and len(safe) == 50
    assert all(r["completion"][0]["content"] in REFUSALS.values() for r in harmful)
    assert all(r["completion"][0]["content"] not in REFUSALS.values() for r in safe)


def test_palms_set(settings: Settings) -> None:
    rows = load_training_rows("alignlab-palms", settings)
    assert len(rows) == 40
    assert len({r["value_category"] for r in rows}) == 8
    assert set(training_dataset_names()) >= {"hh-rlhf-harmless", "alignlab-refusal-sft", "alignlab-palms"}


def test_unknown_name_and_hash_stability(settings: Settings) -> None:
    with pytest.raises(UnknownNameError, match="alignlab-palms"):
        load_training_rows("no-such-set", settings)
    a = [{"prompt": "x", "completion": "y"}]
    assert content_hash(a) == content_hash([{"completion": "y", "prompt": "x"}])
    assert content_hash(a) != content_hash([{"prompt": "x", "completion": "z"}])
