"""A Constitutional AI run's state: its steps, what a step produced, where the run stands.

Shared by the pipeline (which orders and records the steps) and the steps themselves, so that
neither imports the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.cai.config import CaiConfig
from alignlab.cai.constitution import Constitution
from alignlab.cai.generate import Generator
from alignlab.settings import Settings
from alignlab.store import Store

__all__ = ["MANIFEST", "STAGES", "CaiRun", "RunState", "StageResult", "checkpoint_name", "stage_model"]

STAGES = ("critique", "sft", "label", "preference-model", "rlaif", "evaluate", "report")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class StageResult:
    """What a step produced: files (relative to the run directory), checkpoints and figures."""

    files: dict[str, str] = field(default_factory=dict)
    checkpoints: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    """Model calls made outside the run's generator (the evaluation's), per phase."""


@dataclass
class CaiRun:
    """Everything a step needs: the config, where things go, the call cache."""

    config: CaiConfig
    settings: Settings
    store: Store
    run_dir: Path
    constitution: Constitution
    generator: Generator
    manifest: dict[str, Any]

    def path(self, name: str) -> Path:
        return self.run_dir / name

    def save_manifest(self) -> None:
        tmp = self.run_dir / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(self.manifest, indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.run_dir / MANIFEST)


@dataclass(frozen=True)
class RunState:
    """Where a run stands: per step ``done``/``pending``/``failed``, from its manifest."""

    run_dir: Path
    manifest: dict[str, Any]

    def status(self, stage: str) -> str:
        return str(self.manifest.get("stages", {}).get(stage, {}).get("status", "pending"))


def checkpoint_name(config: CaiConfig, stage: str) -> str:
    """``<run>-sft``, ``<run>-pm`` or ``<run>-rlaif``."""
    return f"{config.name}-{ {'sft': 'sft', 'preference-model': 'pm', 'rlaif': 'rlaif'}[stage] }"


def stage_model(config: CaiConfig, stage: str) -> str:
    """The model a step works on (the store row's ``model``)."""
    sft = f"ckpt:{checkpoint_name(config, 'sft')}"
    models = {"label": sft, "rlaif": sft, "preference-model": config.train.pm_model or config.model}
    return models.get(stage, config.model)
