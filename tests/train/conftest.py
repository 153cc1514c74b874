"""Fixtures for the training tests: small synthetic datasets the tiny model can learn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

WORDS = ("cake", "poem", "process", "bomb")


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


@pytest.fixture
def sft_file(tmp_path: Path) -> Path:
    """Prompt/completion pairs with one fixed answer per object: easy to fit."""
    rows = [
        {
            "prompt": _user(f"The user asked how to bake a {w}."),
            "completion": _assistant(f"The model asked how to write a {w} safely."),
        }
        for w in WORDS
    ] * 8
    return _write(tmp_path / "sft.jsonl", rows)


@pytest.fixture
def preference_file(tmp_path: Path) -> Path:
    """Separable pairs: the chosen answer always says 'safely', the rejected one never does."""
    rows = [
        {
            "prompt": _user(f"The {who} asked how to {verb} a {w}."),
            "chosen": _assistant(f"The model asked how to bake a {w} safely."),
            "rejected": _assistant(f"The cat asked how to kill a {w}"),
        }
        for who in ("user", "cat")
        for verb in ("build", "kill", "bake", "write")
        for w in WORDS
    ]
    return _write(tmp_path / "prefs.jsonl", rows)
