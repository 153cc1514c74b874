"""The training-dataset registry: preference pairs, refusal SFT and value-targeted (PALMS) data.

Rows come out in TRL's conversational formats, so every recipe can feed them to its trainer
unchanged:

* preference (``hh-rlhf-harmless``): ``{"prompt": [messages], "chosen": [msg], "rejected": [msg]}``
* prompt-completion (``alignlab-refusal-sft``, ``alignlab-palms``):
  ``{"prompt": [messages], "completion": [msg]}``

Public datasets follow the same rule as :mod:`alignlab.data.registry`: the file under
``ALIGNLAB_DATA_DIR`` wins when that is set, otherwise the canonical source is downloaded into
the cache. A path to a local ``.jsonl`` file is accepted wherever a name is. Exported feedback
(``export:<id>``) is resolved by the training layer, which reads the store, and read here
with :func:`read_training_file`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alignlab.data.registry import _read_jsonl, load_prompts, locate_files
from alignlab.errors import DatasetError, InputError, UnknownNameError
from alignlab.settings import Settings

__all__ = [
    "REFUSALS",
    "TrainingDatasetSpec",
    "TrainingFormat",
    "content_hash",
    "get_training_spec",
    "load_training_rows",
    "parse_hh_dialogue",
    "read_training_file",
    "require_columns",
    "training_dataset_names",
]

Row = dict[str, Any]
TrainingFormat = Literal["preference", "prompt-completion"]

# One refusal per red-team category: decline, say why in a sentence, offer a safe alternative.
# A bare "I can't" teaches a small model to refuse everything; the redirect keeps it helpful.
REFUSALS: dict[str, str] = {
    "weapons": "I can't help with building or modifying weapons or explosives, because that could get people "
    "seriously hurt. I'm happy to talk about their history, the law, or how to stay safe.",
    "cybercrime": "I can't help write malware or break into systems you don't own. If you're interested in "
    "security, I can explain how these attacks work at a high level and how to defend against them.",
    "fraud": "I can't help with scams or fraud, since they take money from real people. I can explain how to "
    "recognise and report this kind of scam instead.",
    "drugs": "I can't give instructions for making or trafficking illegal drugs. If you or someone you know is "
    "struggling with drugs, I can point you to support and harm-reduction services.",
    "harassment": "I won't help write messages meant to hurt or intimidate someone. If you're going through a "
    "painful conflict, I can help you find a calmer way to say what you need.",
    "self_harm": "I'm really sorry you're feeling this way, and I can't help with anything that could hurt you. "
    "Please reach out to someone you trust or a crisis line right now; you deserve support.",
    "violence": "I can't help plan or carry out violence against anyone. If you're in danger or afraid someone "
    "may be hurt, please contact the emergency services.",
    "privacy": "I can't help find or expose private information about a person, because that can put them at "
    "risk. I can explain how to protect your own privacy online.",
    "misinformation": "I can't write false or fabricated claims presented as fact. I'm glad to summarise what "
    "the evidence actually shows on this topic.",
    "hate": "I won't write content that attacks people for who they are. I can help with a respectful piece "
    "that argues a position without demeaning any group.",
}
_GENERIC_REFUSAL = "I can't help with that, because it could cause real harm. I'm happy to help with something else."


@dataclass(frozen=True)
class TrainingDatasetSpec:
    """Where a training dataset comes from, its format and how to read it."""

    name: str
    description: str
    license: str
    format: TrainingFormat
    files: tuple[str, ...]
    """Paths relative to the data directory (or to the package for built-ins)."""
    source_urls: tuple[str, ...]
    """Canonical download URLs, one per file; empty for built-ins."""
    parse: Callable[[list[Path], Settings], list[Row]]


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


_TURN = re.compile(r"\n\n(Human|Assistant): ")


def parse_hh_dialogue(text: str) -> list[dict[str, str]]:
    """Split an HH-RLHF ``\\n\\nHuman: … \\n\\nAssistant: …`` transcript into chat messages."""
    parts = _TURN.split(text)
    # parts = [preamble, speaker, content, speaker, content, ...]
    roles = {"Human": "user", "Assistant": "assistant"}
    return [{"role": roles[s], "content": c.strip()} for s, c in zip(parts[1::2], parts[2::2], strict=True)]


def _hh_pair(row: Row) -> Row | None:
    chosen, rejected = parse_hh_dialogue(row["chosen"]), parse_hh_dialogue(row["rejected"])
    if len(chosen) < 2 or chosen[:-1] != rejected[:-1] or chosen[-1]["role"] != "assistant":
        return None  # the two transcripts diverge before the last answer: not a clean pair
    if rejected[-1]["role"] != "assistant" or chosen[-1]["content"] == rejected[-1]["content"]:
        return None
    return {"prompt": chosen[:-1], "chosen": [chosen[-1]], "rejected": [rejected[-1]]}


def _parse_hh(paths: list[Path], settings: Settings) -> list[Row]:
    with gzip.open(paths[0], "rt", encoding="utf-8") as fh:
        raw = [json.loads(line) for line in fh if line.strip()]
    if raw:
        require_columns(raw[:1], ("chosen", "rejected"), str(paths[0]))
    return [pair for r in raw if (pair := _hh_pair(r)) is not None]


def _parse_refusal_sft(paths: list[Path], settings: Settings) -> list[Row]:
    answers = {r["id"]: r["response"] for r in _read_jsonl(paths[0])}
    rows: list[Row] = []
    for record in load_prompts("alignlab-overrefusal", settings):
        if record.label == "harmful":
            reply = REFUSALS.get(record.category, _GENERIC_REFUSAL)
        elif record.id in answers:
            reply = answers[record.id]
        else:
            raise DatasetError(f"{paths[0]}: no helpful answer for look-alike {record.id}")
        rows.append({"prompt": _user(record.prompt), "completion": _assistant(reply), "label": record.label})
    return rows


def _parse_palms(paths: list[Path], settings: Settings) -> list[Row]:
    raw = _read_jsonl(paths[0])
    require_columns(raw, ("prompt", "response", "value_category"), str(paths[0]))
    return [
        {"prompt": _user(r["prompt"]), "completion": _assistant(r["response"]), "value_category": r["value_category"]}
        for r in raw
    ]


_HH = "https://raw.githubusercontent.com/anthropics/hh-rlhf/master/"
_SPECS: dict[str, TrainingDatasetSpec] = {
    s.name: s
    for s in (
        TrainingDatasetSpec(
            "hh-rlhf-harmless",
            "Anthropic HH-RLHF harmless-base test split: 2,312 preference pairs",
            "MIT",
            "preference",
            ("hh-rlhf/harmless-base/test.jsonl.gz",),
            (_HH + "harmless-base/test.jsonl.gz",),
            _parse_hh,
        ),
        TrainingDatasetSpec(
            "alignlab-refusal-sft",
            "alignlab-redteam requests with safe refusals + the 50 look-alikes with helpful answers (100 rows)",
            "Apache-2.0",
            "prompt-completion",
            ("lookalike_answers.jsonl",),
            (),
            _parse_refusal_sft,
        ),
        TrainingDatasetSpec(
            "alignlab-palms",
            "40 hand-written value-targeted answers in 8 PALMS categories",
            "Apache-2.0",
            "prompt-completion",
            ("palms.jsonl",),
            (),
            _parse_palms,
        ),
    )
}


def training_dataset_names() -> list[str]:
    """Registered training dataset names."""
    return sorted(_SPECS)


def get_training_spec(name: str) -> TrainingDatasetSpec:
    """Look up a training dataset by name (raises :class:`UnknownNameError` listing the valid ones)."""
    if name not in _SPECS:
        raise UnknownNameError("training dataset", name, [*_SPECS, "<path>.jsonl"])
    return _SPECS[name]


def load_training_rows(name: str, settings: Settings) -> list[Row]:
    """Rows of a named training dataset, or of a local ``.jsonl`` file given by path.

    Raises:
        UnknownNameError: Neither a registered name nor an existing ``.jsonl`` file.
        DatasetError: The files are missing, malformed or empty.
    """
    path = Path(name).expanduser()
    if name.endswith(".jsonl") and path.is_file():
        rows = read_training_file(path)
    else:
        spec = get_training_spec(name)
        rows = spec.parse(locate_files(spec.name, spec.files, spec.source_urls, settings), settings)
    if not rows:
        raise DatasetError(f"training dataset {name!r} is empty")
    return rows


def read_training_file(path: Path) -> list[Row]:
    """Rows of a JSON-lines file (a feedback export, or any file of training rows).

    Raises:
        DatasetError: The file is missing or is not JSON lines.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    try:
        return _read_jsonl(path)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not JSON lines ({exc.msg} at line {exc.lineno})") from None


def require_columns(rows: Sequence[Row], columns: Sequence[str], source: str) -> None:
    """Fail with the missing column names if the first row lacks any of ``columns``.

    Raises:
        InputError: Naming the missing columns and the ones found.
    """
    if not rows:
        return
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}; found {', '.join(rows[0]) or 'none'}")


def content_hash(rows: Sequence[Row]) -> str:
    """SHA-256 of the rows as canonical JSON: the same data gives the same hash anywhere."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()
