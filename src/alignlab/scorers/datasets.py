"""Labelled response sets for training and validating the scorers, and the split by prompt.

Every set becomes rows of (prompt, response, label) in the scorer's own labels. Sets come
from ``$ALIGNLAB_DATA_DIR/labelled-responses`` (see its README for sources and licences) and
from the project's hand-labelled refusal sets in ``alignlab/data/builtin``.

Only ``trainable`` sets (MIT, or the project's own) may train weights that ship; the
non-commercial sets (Do-Not-Answer, BeaverTails, PKU-SafeRLHF) are validation only.
Trainable sets are split by prompt, never by row: a prompt's group key (its normalised
words) lands in ``heldout`` when its hash says so, when GPTFuzz's own evaluate split holds
it, or when any other set already holds it out, so no prompt is on both sides.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import alignlab
from alignlab.errors import DatasetError

__all__ = [
    "HARM_SETS",
    "REFUSAL_SETS",
    "LabelledResponse",
    "LabelledSet",
    "Role",
    "ScorerName",
    "group_key",
    "load_sets",
    "split_sets",
]

ScorerName = Literal["refusal", "harm"]
Role = Literal["train", "heldout", "validation"]
_HELDOUT_BUCKETS = 5  # one prompt group in five is held out
_BUILTIN = Path(alignlab.__file__).parent / "data" / "builtin"
_PROJECT_REFUSAL_SETS = (
    "refusal_labelled",
    "refusal_heldout",
    "refusal_blind2",
    "refusal_default_outputs",
    "refusal_default_outputs2",
)
# Hand-written answers in the refusal styles of common chat models (apologetic declines,
# "As a responsible AI, I must point out", "It is not appropriate to", lecture-only answers),
# with contrasting compliant answers; written for this project, not from any model's outputs.
# refusal_styles2 and refusal_styles3 add more styles (see their headers for how they were made).
_STYLES = tuple(
    Path(__file__).parent / "trainsets" / f"{name}.jsonl"
    for name in ("refusal_styles", "refusal_styles2", "refusal_styles3")
)
# Hand-written harm examples, mostly answers that do not refuse yet give no harmful help; harm_styles2 adds
# jailbreak-answer styles (dual personas, template echo, partial answers, fiction with and without detail) by
# HarmBench's notion of an instance. harm_styles2 is validation only: trained on, it lowered every left-out
# public source's agreement (docs/scorers.md), whose labels are more lenient ("jailbroken", "achieved").
_HARM_STYLES = tuple(Path(__file__).parent / "trainsets" / f"{name}.jsonl" for name in ("harm_styles", "harm_styles2"))
_VALIDATION_ONLY = frozenset({"harm_styles2"})
_JBB = "jailbreakbench-artifacts/jbb_artifacts_flat.jsonl"
_PYRIT = "pyrit-scorer-evals/pyrit_human_labeled_all.jsonl"


@dataclass(frozen=True)
class LabelledResponse:
    """One labelled answer."""

    prompt: str
    response: str
    label: str
    group: str
    model: str = ""  # the model that wrote the answer, where the set says (Do-Not-Answer)


@dataclass(frozen=True)
class LabelledSet:
    """A labelled set in one scorer's labels.

    Attributes:
        name: Short name used in cards and benchmarks.
        scorer: Which scorer's labels it carries.
        licence: The set's licence.
        who: Who labelled it (human annotators, an LLM judge, ...).
        trainable: Whether shipped weights are trained on it: its licence allows it and its labels
            follow the scorer's definitions.
        rows: The labelled answers.
        role: ``train`` / ``heldout`` after :func:`split_sets`; ``validation`` for sets never trained on.
    """

    name: str
    scorer: ScorerName
    licence: str
    who: str
    trainable: bool
    rows: tuple[LabelledResponse, ...]
    role: Role = "validation"

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels present, in the scorer's order."""
        order = _ORDER[self.scorer]
        return tuple(label for label in order if any(r.label == label for r in self.rows))


_ORDER: dict[ScorerName, tuple[str, ...]] = {
    "refusal": ("compliance", "refusal", "partial_refusal"),
    "harm": ("harmful", "unharmful"),
}


def group_key(prompt: str) -> str:
    """The normalised words of a prompt: rows whose keys match share a split."""
    return " ".join(re.findall(r"[a-z0-9]+", prompt.lower()))[:300]


def _row(prompt: Any, response: Any, label: str, model: str = "") -> LabelledResponse:
    prompt_text = str(prompt or "")
    return LabelledResponse(prompt_text, str(response or ""), label, group_key(prompt_text), model)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):  # project files open with a '#' header
                yield json.loads(line)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _project_sets(scorer: ScorerName) -> list[LabelledSet]:
    sets = []
    if scorer == "refusal":
        paths = [_BUILTIN / f"{name}.jsonl" for name in _PROJECT_REFUSAL_SETS] + list(_STYLES)
    else:
        paths = list(_HARM_STYLES)
    for path in paths:
        name = path.stem
        rows = tuple(_row(r["prompt"], r["response"], r["label"]) for r in _jsonl(path))
        trainable = name not in _VALIDATION_ONLY
        sets.append(LabelledSet(f"project:{name}", scorer, "Apache-2.0 (this project)", "hand", trainable, rows))
    return sets


def _pyrit_refusal(root: Path) -> LabelledSet:
    """Validation only, though MIT: PyRIT counts off-topic answers as refusals, XSTest as compliance.

    Trained on, it taught the head "off-topic or lecture = refusal": a head trained without the
    project's hand-labelled answers then scored them 0.840 against the pattern stage's 0.875
    (0.875 without PyRIT); see docs/scorers.md.
    """
    rows = tuple(
        _row(r["objective"], r["response"], "refusal" if float(r["human_score"]) >= 0.5 else "compliance")
        for r in _jsonl(root / _PYRIT)
        if r["kind"] in ("refusal_scorer", "sample")
    )
    who = "human (Microsoft AI red team); off-topic answers count as refusals (so: validation only)"
    return LabelledSet("pyrit-refusal", "refusal", "MIT", who, False, rows)


def _jbb_refusal(root: Path) -> LabelledSet:
    """Jailbroken answers complied; Llama-2's unjailbroken answers are (nearly all) explicit refusals.

    Other models' unjailbroken answers are left out: many comply with a sanitised version of
    the request, which the LLM judge calls "not jailbroken" but XSTest calls compliance.
    """
    rows = tuple(
        _row(r["goal"], r["response"], "compliance" if r["jailbroken"] else "refusal")
        for r in _jsonl(root / _JBB)
        if r["jailbroken"] or r["model"].startswith("llama-2")
    )
    return LabelledSet("jbb-refusal", "refusal", "MIT", "LLM judge (JailbreakBench)", True, rows)


def _dna_rows(root: Path) -> list[dict[str, str]]:
    return _csv(root / "do-not-answer/data_en.csv")


_DNA_MODELS = ("GPT4", "ChatGPT", "Claude", "ChatGLM2", "llama2-7b-chat", "vicuna-7b")
# Do-Not-Answer's action categories, read as XSTest labels: 0 (refuses, cannot assist) is a
# refusal; 3 (answers with a disclaimer) and 5 (follows the instruction) are compliance.
# 4 ("cannot answer for lack of knowledge or capability") is left out: it mixes bare "I don't
# have access to that" (a refusal) with "As an AI I lack real-time data, but as of 2021 ..."
# (an answer). 1 (refutes the premise) and 2 (balanced perspectives) have no XSTest counterpart.
_DNA_ACTION: dict[str, str] = {"0": "refusal", "3": "compliance", "5": "compliance"}


def _dna_columns(row: dict[str, str]) -> Iterator[tuple[str, str, str, str]]:
    """(response, harmful, action, model) per model; the column prefixes vary in case between releases."""
    lower = {k.lower(): v for k, v in row.items()}
    for model in _DNA_MODELS:
        key = model.lower()
        if f"{key}_response" in lower:
            yield lower[f"{key}_response"], lower[f"{key}_harmful"], lower[f"{key}_action"], model


def _dna_refusal(root: Path) -> LabelledSet:
    rows = tuple(
        _row(r["question"], response, _DNA_ACTION[action.strip()], model)
        for r in _dna_rows(root)
        for response, _, action, model in _dna_columns(r)
        if action.strip() in _DNA_ACTION
    )
    return LabelledSet("do-not-answer", "refusal", "CC BY-NC-SA 4.0", "human (authors)", False, rows)


def _dna_harm(root: Path) -> LabelledSet:
    rows = tuple(
        _row(r["question"], response, "harmful" if harmful.strip() == "1" else "unharmful", model)
        for r in _dna_rows(root)
        for response, harmful, _, model in _dna_columns(r)
        if harmful.strip() in ("0", "1")
    )
    return LabelledSet("do-not-answer", "harm", "CC BY-NC-SA 4.0", "human (authors)", False, rows)


def _gptfuzz(root: Path, split: str) -> LabelledSet:
    questions = {r["index"]: r["text"] for r in _csv(root / "gptfuzz/question_list.csv")}
    rows = tuple(
        _row(
            questions.get(r["question"], r["question"]), r["Response"], "harmful" if r["label"] == "1" else "unharmful"
        )
        for r in _csv(root / f"gptfuzz/{split}.csv")
    )
    name = "gptfuzz" if split == "train" else "gptfuzz-evaluate"
    return LabelledSet(name, "harm", "MIT", "human (authors)", True, rows)


def _jbb_harm(root: Path) -> LabelledSet:
    rows = tuple(
        _row(r["goal"], r["response"], "harmful" if r["jailbroken"] else "unharmful") for r in _jsonl(root / _JBB)
    )
    return LabelledSet("jbb", "harm", "MIT", "LLM judge (JailbreakBench)", True, rows)


def _pyrit_harm(root: Path) -> LabelledSet:
    """PyRIT's objective-achieved labels, and its harm-severity labels read as harmful at mean >= 0.5."""
    rows = []
    for r in _jsonl(root / _PYRIT):
        if r["kind"] == "objective":
            rows.append(_row(r["objective"], r["response"], "harmful" if r["human_score"] >= 0.5 else "unharmful"))
        elif r["kind"] == "harm":
            scores = [float(v) for k, v in r.items() if k.startswith("human_score") and v is not None]
            mean = sum(scores) / len(scores)
            rows.append(_row(r["objective"], r["response"], "harmful" if mean >= 0.5 else "unharmful"))
    who = "human (Microsoft AI red team): objective achieved, or harm severity >= 0.5"
    return LabelledSet("pyrit-harm", "harm", "MIT", who, True, tuple(rows))


def _pku(root: Path, name: str) -> LabelledSet:
    rows = tuple(
        _row(r["prompt"], r["response"], "harmful" if r["response_harm_label"] == "harmful" else "unharmful")
        for r in _jsonl(root / f"pku-saferlhf-beavertails/{name}.jsonl")
    )
    return LabelledSet(name.replace("_", "-"), "harm", "CC BY-NC 4.0", "human (PKU-Alignment)", False, rows)


REFUSAL_SETS: tuple[Callable[[Path], LabelledSet], ...] = (_pyrit_refusal, _jbb_refusal, _dna_refusal)
HARM_SETS: tuple[Callable[[Path], LabelledSet], ...] = (
    lambda root: _gptfuzz(root, "train"),
    lambda root: _gptfuzz(root, "evaluate"),
    _jbb_harm,
    _pyrit_harm,
    _dna_harm,
    lambda root: _pku(root, "beavertails"),
    lambda root: _pku(root, "safe_rlhf"),
)


def load_sets(scorer: ScorerName, data_dir: Path | None) -> list[LabelledSet]:
    """Every labelled set for ``scorer``: the project's own, plus the public ones under ``data_dir``.

    Raises:
        DatasetError: ``data_dir`` is set but lacks ``labelled-responses``.
    """
    sets = _project_sets(scorer)
    if data_dir is None:
        return sets
    root = data_dir / "labelled-responses"
    if not root.is_dir():
        raise DatasetError(f"{root}: no such directory (set ALIGNLAB_DATA_DIR to the shared data folder)")
    loaders = REFUSAL_SETS if scorer == "refusal" else HARM_SETS
    try:
        return sets + [loader(root) for loader in loaders]
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{root}: a labelled set is missing or malformed ({exc!r})") from None


def _bucket(key: str) -> int:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % _HELDOUT_BUCKETS


def split_sets(sets: list[LabelledSet]) -> list[LabelledSet]:
    """Split every trainable set by prompt group into ``train`` and ``heldout`` parts.

    Returns:
        ``<name>`` (role ``train``) and ``<name>:heldout`` (role ``heldout``) for each trainable
        set; validation sets unchanged. GPTFuzz's evaluate split is held out whole.
    """
    held = {r.group for s in sets if s.trainable and s.name == "gptfuzz-evaluate" for r in s.rows}
    held |= {r.group for s in sets if s.trainable for r in s.rows if _bucket(r.group) == 0}
    out: list[LabelledSet] = []
    for s in sets:
        if not s.trainable:
            out.append(s)
            continue
        train = tuple(r for r in s.rows if r.group not in held)
        heldout = tuple(r for r in s.rows if r.group in held)
        if train:
            out.append(replace(s, rows=train, role="train"))
        if heldout:
            name = s.name if s.name.endswith("evaluate") else f"{s.name}:heldout"
            out.append(replace(s, name=name, rows=heldout, role="heldout"))
    return out
