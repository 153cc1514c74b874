"""Named prompt datasets.

Each dataset knows its canonical public source (used on machines with the internet) and
where its files sit under a local data directory (``ALIGNLAB_DATA_DIR``), which always
wins when it is set. The built-in ``alignlab-*`` datasets were written by this project and
ship inside the package, so the main job runs with no data directory at all.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from alignlab.errors import DatasetError, UnknownNameError
from alignlab.settings import Settings

__all__ = ["DatasetSpec", "PromptRecord", "dataset_names", "get_dataset_spec", "load_prompts"]

BUILTIN_DIR = Path(__file__).parent / "builtin"
PromptLabel = Literal["harmful", "safe"]


@dataclass(frozen=True)
class PromptRecord:
    """One prompt of a red-team or over-refusal dataset."""

    id: str
    prompt: str
    label: PromptLabel
    category: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from and how to read it."""

    name: str
    description: str
    license: str
    files: tuple[str, ...]
    """Paths relative to the data directory (or to the package for built-ins)."""
    source_urls: tuple[str, ...]
    """Canonical download URLs, one per file; empty for built-ins."""
    parse: Callable[[list[Path]], list[PromptRecord]]

    @property
    def builtin(self) -> bool:
        return not self.source_urls


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _need(row: dict[str, Any], path: Path, *cols: str) -> None:
    missing = [c for c in cols if c not in row]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(row)}")


def _parse_harmbench(paths: list[Path]) -> list[PromptRecord]:
    records = []
    for row in _read_csv(paths[0]):
        _need(row, paths[0], "Behavior", "FunctionalCategory", "SemanticCategory", "BehaviorID")
        # Copyright behaviours measure reproduction of text, not harmful compliance.
        if row["FunctionalCategory"] not in ("standard", "contextual"):
            continue
        context = (row.get("ContextString") or "").strip()
        prompt = f"{context}\n\n---\n\n{row['Behavior']}" if context else row["Behavior"]
        meta = {"functional_category": row["FunctionalCategory"]}
        records.append(PromptRecord(row["BehaviorID"], prompt, "harmful", row["SemanticCategory"], meta))
    return records


def _parse_strongreject(paths: list[Path]) -> list[PromptRecord]:
    rows = _read_csv(paths[0])
    if rows:
        _need(rows[0], paths[0], "category", "forbidden_prompt")
    return [
        PromptRecord(f"sr-{i:03d}", r["forbidden_prompt"], "harmful", r["category"], {"source": r.get("source", "")})
        for i, r in enumerate(rows, 1)
    ]


def _parse_xstest(paths: list[Path]) -> list[PromptRecord]:
    records = []
    for row in _read_csv(paths[0]):
        _need(row, paths[0], "id", "prompt", "type", "label")
        label: PromptLabel = "safe" if row["label"] == "safe" else "harmful"
        records.append(
            PromptRecord(f"xs-{row['id']}", row["prompt"], label, row["type"], {"focus": row.get("focus", "")})
        )
    return records


def _parse_builtin_redteam(paths: list[Path]) -> list[PromptRecord]:
    return [PromptRecord(r["id"], r["prompt"], "harmful", r["category"]) for r in _read_jsonl(paths[0])]


def _parse_builtin_overrefusal(paths: list[Path]) -> list[PromptRecord]:
    safe = [PromptRecord(r["id"], r["prompt"], "safe", r["type"]) for r in _read_jsonl(paths[0])]
    return safe + (_parse_builtin_redteam(paths[1:]) if len(paths) > 1 else [])


_HB = "https://raw.githubusercontent.com/centerforaisafety/HarmBench/main/data/behavior_datasets/"
_SR = "https://raw.githubusercontent.com/alexandrasouly/strongreject/main/strongreject_dataset/"
_SPECS: dict[str, DatasetSpec] = {
    s.name: s
    for s in (
        DatasetSpec(
            "alignlab-redteam",
            "50 harmful requests in 10 categories, written by alignlab",
            "Apache-2.0",
            ("redteam.jsonl",),
            (),
            _parse_builtin_redteam,
        ),
        DatasetSpec(
            "alignlab-overrefusal",
            "50 safe look-alike prompts + the 50 alignlab-redteam requests as unsafe contrasts",
            "Apache-2.0",
            ("lookalikes.jsonl", "redteam.jsonl"),
            (),
            _parse_builtin_overrefusal,
        ),
        DatasetSpec(
            "alignlab-lookalikes",
            "the 50 safe look-alike prompts of alignlab-overrefusal alone",
            "Apache-2.0",
            ("lookalikes.jsonl",),
            (),
            _parse_builtin_overrefusal,
        ),
        DatasetSpec(
            "harmbench",
            "HarmBench text behaviours, test split (standard + contextual)",
            "MIT",
            ("harmbench/harmbench_behaviors_text_test.csv",),
            (_HB + "harmbench_behaviors_text_test.csv",),
            _parse_harmbench,
        ),
        DatasetSpec(
            "strongreject",
            "StrongREJECT forbidden prompts (313)",
            "MIT",
            ("strongreject/strongreject_dataset.csv",),
            (_SR + "strongreject_dataset.csv",),
            _parse_strongreject,
        ),
        DatasetSpec(
            "strongreject-small",
            "StrongREJECT small set (60)",
            "MIT",
            ("strongreject/strongreject_small_dataset.csv",),
            (_SR + "strongreject_small_dataset.csv",),
            _parse_strongreject,
        ),
        DatasetSpec(
            "xstest",
            "XSTest v2: 250 safe prompts that look unsafe + 200 unsafe contrasts",
            "CC-BY-4.0",
            ("xstest/xstest_prompts.csv",),
            ("https://raw.githubusercontent.com/paul-rottger/exaggerated-safety/main/xstest_prompts.csv",),
            _parse_xstest,
        ),
    )
}


def dataset_names() -> list[str]:
    """Registered dataset names."""
    return sorted(_SPECS)


def get_dataset_spec(name: str) -> DatasetSpec:
    """Look up a dataset by name.

    Raises:
        UnknownNameError: listing the valid names.
    """
    if name not in _SPECS:
        raise UnknownNameError("dataset", name, _SPECS)
    return _SPECS[name]


def locate_files(name: str, files: Sequence[str], source_urls: Sequence[str], settings: Settings) -> list[Path]:
    """Paths of a dataset's files: built in, under the local data directory, or downloaded once into the cache.

    Args:
        name: Dataset name (for messages).
        files: Paths relative to the data directory (or to the package's built-in folder).
        source_urls: Canonical download URLs, one per file; empty for built-ins.
        settings: Supplies ``data_dir`` and ``cache_dir``.
    """
    if not source_urls:
        return [BUILTIN_DIR / f for f in files]
    if settings.data_dir is not None:
        paths = [settings.data_dir / f for f in files]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise DatasetError(
                f"dataset {name!r}: {missing[0]} not found; put the file there "
                f"(source: {source_urls[0]}) or unset ALIGNLAB_DATA_DIR to download it"
            )
        return paths
    cache = settings.cache_dir / "datasets"
    return [_download(url, cache / f) for url, f in zip(source_urls, files, strict=True)]


def _download(url: str, dest: Path) -> Path:
    if dest.is_file():
        return dest
    try:
        response = httpx.get(url, follow_redirects=True, timeout=60)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise DatasetError(
            f"cannot download {url} ({exc.__class__.__name__}); download it yourself and set "
            f"ALIGNLAB_DATA_DIR to the folder that holds {dest.parent.name}/{dest.name}"
        ) from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(response.content)
    return dest


def load_prompts(name: str, settings: Settings) -> list[PromptRecord]:
    """Load a named prompt dataset, from the data directory, the cache or its source."""
    spec = get_dataset_spec(name)
    records = spec.parse(locate_files(spec.name, spec.files, spec.source_urls, settings))
    if not records:
        raise DatasetError(f"dataset {name!r} is empty")
    return records
