"""What every recipe shares: resolve the model, load and check the data, build TRL arguments,
save the result and record its lineage. The recipes themselves stay one readable file each.

Lineage: a dataset named ``export:<id>`` (or ``export:latest``) is a feedback export from the
store; its rows (and those of any file with a ``lineage`` block per row, as
``alignlab export preferences`` writes) carry the feedback ids that made them. The columns a
trainer sees are projected away from that block, but the ids travel with each row through the
shuffle and the train/test split, and the checkpoint records which events its training rows
(and its held-out rows) came from."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from alignlab.data.training_sets import content_hash, load_training_rows, read_training_file
from alignlab.errors import ConfigError, InputError, ModelError
from alignlab.models import CKPT_PREFIX, checkpoint_of, local_model_dir
from alignlab.settings import Settings
from alignlab.store import (
    CheckpointRecord,
    DatasetRef,
    FeedbackLink,
    Store,
    checkpoint_exists,
    find_export_by_hash,
    get_checkpoint,
    get_feedback_export,
    record_checkpoint,
)
from alignlab.train.config import LoraOptions, RecipeConfig

__all__ = [
    "EXPORT_PREFIX",
    "PREFERENCE_COLUMNS",
    "PROMPT_COLUMNS",
    "SFT_FORMATS",
    "PreparedRun",
    "TrainResult",
    "check_memory",
    "finish_run",
    "lora_config",
    "prepare_run",
    "trl_arguments",
]

Row = dict[str, Any]
SFT_FORMATS: tuple[tuple[str, ...], ...] = (("prompt", "completion"), ("messages",), ("text",))
PREFERENCE_COLUMNS: tuple[tuple[str, ...], ...] = (("prompt", "chosen", "rejected"),)
PROMPT_COLUMNS: tuple[tuple[str, ...], ...] = (("prompt",),)
EXPORT_PREFIX = "export"
# Bytes of training state per byte of fp32 weights: weights + gradients + two AdamW moments.
_FULL_FT_FACTOR = 4.0
_LORA_FACTOR = 1.3


@dataclass(frozen=True)
class PreparedRun:
    """A run ready to train: where the model and data come from and where results go."""

    config: RecipeConfig
    name: str
    model_path: str
    base_model: str
    parent: str | None
    output_dir: Path
    model_dir: Path
    train_rows: list[Row]
    test_rows: list[Row]
    dataset_refs: list[DatasetRef]
    resume_from: bool
    feedback: list[FeedbackLink] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class TrainResult:
    """A finished recipe: the stored checkpoint and its final metrics."""

    checkpoint: CheckpointRecord
    metrics: dict[str, Any]

    @property
    def model_name(self) -> str:
        """The model name that ``alignlab eval`` accepts."""
        return f"{CKPT_PREFIX}:{self.checkpoint.name}"


def _resolve_model(name: str, store: Store) -> tuple[str, str, str | None]:
    """(path or hub id, base model, parent checkpoint) for a model name.

    The models layer resolves the name to a directory (and says when a checkpoint's directory
    is gone); the store gives a checkpoint's lineage: its base model and its own name.
    """
    checkpoint = checkpoint_of(name)
    if checkpoint is not None:
        parent = get_checkpoint(store, checkpoint)
        return str(local_model_dir(name)), parent.base_model, parent.name
    try:
        return str(local_model_dir(name)), name, None
    except ModelError:
        if "/" in name and not Path(name).exists():
            return name, name, None  # a hub id: TRL loads it (needs the internet)
        raise


def _project(rows: list[Row], formats: Sequence[tuple[str, ...]], source: str) -> list[Row]:
    """Keep the columns of the first format the rows satisfy; fail naming what is missing."""
    found = set(rows[0])
    for columns in formats:
        if set(columns) <= found:
            return [{c: r[c] for c in columns} for r in rows]
    wanted = " or ".join("+".join(cols) for cols in formats)
    raise InputError(f"{source}: needs column(s) {wanted}; found {', '.join(sorted(found)) or 'none'}")


@dataclass(frozen=True)
class _Origin:
    """Where one training row came from: its dataset, export and feedback events."""

    dataset: str
    export_id: str | None
    feedback_ids: tuple[str, ...]


def _feedback_ids(row: Row) -> tuple[str, ...]:
    lineage = row.get("lineage")
    if not isinstance(lineage, dict):
        return ()
    return tuple(str(i) for i in lineage.get("feedback_ids", ()))


def _read_dataset(name: str, settings: Settings, store: Store) -> tuple[list[Row], DatasetRef]:
    """A dataset's raw rows and its reference; ``export:<id>`` must still hash as exported."""
    prefix, _, key = name.partition(":")
    if prefix == EXPORT_PREFIX and key:
        export = get_feedback_export(store, key)
        raw = read_training_file(Path(export.path))
        sha = content_hash(raw)
        if sha != export.sha256:
            raise InputError(f"dataset {name!r}: {export.path} changed since it was exported; export again")
        if not raw:
            raise InputError(f"dataset {name!r}: the export has no pairs; collect more feedback first")
        return raw, DatasetRef(name=name, sha256=sha, n_rows=len(raw), export_id=export.id)
    raw = load_training_rows(name, settings)
    sha = content_hash(raw)
    found = find_export_by_hash(store, sha) if any(_feedback_ids(r) for r in raw) else None
    return raw, DatasetRef(name=name, sha256=sha, n_rows=len(raw), export_id=found.id if found else None)


def _load_rows(
    config: RecipeConfig, settings: Settings, store: Store, formats: Sequence[tuple[str, ...]]
) -> tuple[list[tuple[Row, _Origin]], list[DatasetRef]]:
    rows: list[tuple[Row, _Origin]] = []
    refs: list[DatasetRef] = []
    for name in config.datasets:
        raw, ref = _read_dataset(name, settings, store)
        refs.append(ref)
        projected = _project(raw, formats, f"dataset {name!r}")
        if rows and set(projected[0]) != set(rows[0][0]):
            raise InputError(f"dataset {name!r} has columns {sorted(projected[0])}, the others {sorted(rows[0][0])}")
        rows += [(p, _Origin(name, ref.export_id, _feedback_ids(r))) for p, r in zip(projected, raw, strict=True)]
    return rows, refs


def _feedback_links(rows: list[tuple[Row, _Origin]], split: Literal["train", "test"]) -> list[FeedbackLink]:
    counts: Counter[tuple[str, str, str | None]] = Counter(
        (feedback_id, origin.dataset, origin.export_id) for _, origin in rows for feedback_id in origin.feedback_ids
    )
    return [
        FeedbackLink(feedback_id=f, dataset=d, split=split, export_id=e, n_rows=n)
        for (f, d, e), n in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def prepare_run(
    config: RecipeConfig, *, settings: Settings, store: Store, formats: Sequence[tuple[str, ...]]
) -> PreparedRun:
    """Resolve the model, load and split the data, and pick the output directories.

    Raises:
        InputError: The checkpoint name is taken, a dataset lacks the recipe's columns, or
            ``resume`` was asked for with nothing to resume.
    """
    name = config.name or f"{config.recipe}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    if checkpoint_exists(store, name):
        raise InputError(f"a checkpoint named {name!r} already exists; set another name in the config")
    model_path, base_model, parent = _resolve_model(config.model, store)
    rows, refs = _load_rows(config, settings, store, formats)
    random.Random(int(config.trl.get("seed", 42))).shuffle(rows)
    if config.max_samples is not None:
        rows = rows[: config.max_samples]
    n_test = round(len(rows) * config.test_fraction)
    root = Path(config.trl.get("output_dir") or settings.home / "checkpoints" / name)
    output_dir = root / "trainer"
    resume = config.resume
    if resume and not any(output_dir.glob("checkpoint-*")):
        raise InputError(f"resume: no trainer checkpoint under {output_dir} to resume from")
    return PreparedRun(
        config=config,
        name=name,
        model_path=model_path,
        base_model=base_model,
        parent=parent,
        output_dir=output_dir,
        model_dir=root / "model",
        train_rows=[row for row, _ in rows[n_test:]],
        test_rows=[row for row, _ in rows[:n_test]],
        dataset_refs=refs,
        resume_from=resume,
        feedback=_feedback_links(rows[n_test:], "train") + _feedback_links(rows[:n_test], "test"),
    )


def _available_bytes() -> int | None:
    try:
        import torch

        if torch.cuda.is_available():
            return int(torch.cuda.mem_get_info()[0])
    except Exception:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_memory(model_path: str, *, lora: bool, model_copies: int = 1) -> None:
    """Refuse, before loading, a model whose training state cannot fit in free memory.

    The estimate is the weight files' size in fp32 terms times the optimizer state factor
    (4x for a full fine-tune, 1.3x with LoRA), times the number of model copies (a reference
    model or a reward model). Activations come on top, so this only catches the clear cases.

    Raises:
        ModelError: The estimate exceeds the available memory.
    """
    path = Path(model_path)
    if not path.is_dir():
        return
    weights = sum(p.stat().st_size for p in path.glob("*.safetensors")) or sum(
        p.stat().st_size for p in path.glob("*.bin")
    )
    need = weights * (_LORA_FACTOR if lora else _FULL_FT_FACTOR) * model_copies
    free = _available_bytes()
    if free is not None and need > free:
        hint = "" if lora else "; try lora: {r: 8} in the config"
        raise ModelError(
            f"training {path.name} needs about {need / 2**30:.1f} GiB but only {free / 2**30:.1f} GiB is free{hint}"
        )


def lora_config(options: LoraOptions | None, task_type: str) -> Any:
    """A peft ``LoraConfig`` from our options (``None`` means a full fine-tune)."""
    if options is None:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=options.r,
        lora_alpha=options.alpha,
        lora_dropout=options.dropout,
        target_modules=options.target_modules,
        task_type=task_type,
        # A reward model's scalar head starts random, so it must train in full next to the adapters.
        modules_to_save=["score"] if task_type == "SEQ_CLS" else None,
    )


def cpu_safe_defaults() -> dict[str, Any]:
    """TRL/transformers defaults that fail or crawl on CPU, overridden (YAML still wins)."""
    import torch

    defaults: dict[str, Any] = {
        "activation_checkpointing": False,  # TRL turns it on; on small models it only costs time
        "report_to": "none",
        "logging_steps": 5,
        "save_strategy": "steps",
        "save_steps": 50,
        "save_total_limit": 1,
    }
    if not torch.cuda.is_available():
        defaults.update(use_cpu=True, bf16=False)  # TRL resolves bf16=None to True, which fails on CPU
    return defaults


def trl_arguments(run: PreparedRun, config_class: type[Any], **recipe_defaults: Any) -> Any:
    """Build the TRL config: our CPU-safe defaults < the recipe's defaults < the YAML.

    Raises:
        ConfigError: TRL rejects a value (its message, on one line).
    """
    values = {**cpu_safe_defaults(), **recipe_defaults, **run.config.trl, "output_dir": str(run.output_dir)}
    try:
        return config_class(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{config_class.__name__}: {str(exc).splitlines()[0]}") from None


def _loss_metrics(log_history: list[dict[str, Any]]) -> dict[str, Any]:
    losses = [entry["loss"] for entry in log_history if "loss" in entry]
    final = next((e for e in reversed(log_history) if "train_loss" in e), {})
    return {
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "train_loss": final.get("train_loss"),
        "train_runtime_s": final.get("train_runtime"),
        "steps": final.get("step"),
    }


def finish_run(run: PreparedRun, trainer: Any, *, store: Store, metrics: dict[str, Any] | None = None) -> TrainResult:
    """Save the trained model (LoRA merged in) and record the checkpoint with its lineage."""
    accelerator = trainer.accelerator
    accelerator.wait_for_everyone()
    model = accelerator.unwrap_model(trainer.model)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()  # a plain model directory that any loader (Inspect, vLLM) reads
    all_metrics = {**_loss_metrics(trainer.state.log_history), **(metrics or {})}
    wall = time.perf_counter() - run.started
    if not accelerator.is_main_process:
        return TrainResult(_placeholder(run, all_metrics, wall), all_metrics)
    model.save_pretrained(run.model_dir)
    trainer.processing_class.save_pretrained(run.model_dir)
    record = record_checkpoint(
        store,
        name=run.name,
        recipe=run.config.recipe,
        base_model=run.base_model,
        parent=run.parent,
        datasets=run.dataset_refs,
        config=run.config.to_dict(),
        metrics=all_metrics,
        wall_time_s=wall,
        path=str(run.model_dir.resolve()),
        feedback=run.feedback,
    )
    return TrainResult(record, all_metrics)


def _placeholder(run: PreparedRun, metrics: dict[str, Any], wall: float) -> CheckpointRecord:
    # Non-main processes under `accelerate launch` neither save nor write the store.
    return CheckpointRecord(
        id="",
        name=run.name,
        recipe=run.config.recipe,
        base_model=run.base_model,
        parent=run.parent,
        datasets=run.dataset_refs,
        config=run.config.to_dict(),
        metrics=metrics,
        wall_time_s=wall,
        path=str(run.model_dir),
        created_at=datetime.now(UTC),
    )


def world_size() -> int:
    """Processes in this launch (``accelerate launch`` sets WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1"))
