"""Constitutional AI as named, resumable steps over one run directory.

``critique → sft → label → preference-model → rlaif → evaluate → report``. Each step reads
the artefacts of the steps before it, writes its own into the run directory
(``$ALIGNLAB_HOME/cai/<name>`` unless ``output_dir`` says otherwise), and is recorded twice:
in ``manifest.json`` (artefacts, model calls, seconds) and in the store, as a ``runs`` row
with suite ``cai-<step>`` whose config names the run and whose metrics hold the step's
figures (the trained steps also leave a checkpoint row with its lineage).

A step whose artefacts are complete is skipped, so running the same config again resumes
where it stopped; a step cut off half-way redoes no model call that had finished (the call
cache). A step whose input is missing fails naming the artefact and the step that makes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alignlab.cai.config import CaiConfig
from alignlab.cai.constitution import load_constitution
from alignlab.cai.generate import CallCache, Generator, release_models
from alignlab.cai.run import MANIFEST, STAGES, CaiRun, RunState, StageResult, stage_model
from alignlab.errors import ConfigError, InputError
from alignlab.settings import Settings
from alignlab.store import FinishStatus, Store, checkpoint_exists, finish_run, start_run

__all__ = [
    "open_run",
    "read_manifest",
    "run_dir_for",
    "run_pipeline",
]


def run_dir_for(config: CaiConfig, settings: Settings) -> Path:
    """The run directory of a config."""
    return Path(config.output_dir).expanduser() if config.output_dir else settings.home / "cai" / config.name


def read_manifest(run: str, settings: Settings) -> RunState:
    """A run's state by name (under ``$ALIGNLAB_HOME/cai``) or by directory.

    Raises:
        InputError: No manifest there.
    """
    path = Path(run).expanduser()
    run_dir = path if (path / MANIFEST).is_file() else settings.home / "cai" / run
    if not (run_dir / MANIFEST).is_file():
        raise InputError(f"no Constitutional AI run {run!r}: {run_dir / MANIFEST} not found")
    return RunState(run_dir, json.loads((run_dir / MANIFEST).read_text(encoding="utf-8")))


def open_run(
    config: CaiConfig,
    *,
    settings: Settings,
    store: Store,
    progress: bool = True,
    models: Mapping[str, Any] | None = None,
) -> CaiRun:
    """Create or reopen the run directory, its manifest and its call cache."""
    run_dir = run_dir_for(config, settings)
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"name": config.name, "stages": {}}
    if (run_dir / MANIFEST).is_file():
        manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    manifest["config"] = config.to_dict()
    constitution = load_constitution(config.constitution)
    manifest["constitution"] = {"name": constitution.name, "source": constitution.source}
    release_models()  # a model built for another run (or store) under the same ckpt: name is not this one
    generator = Generator(CallCache(run_dir / "calls.jsonl"), progress=progress, models=models)
    return CaiRun(config, settings, store, run_dir, constitution, generator, manifest)


# The config keys each step's artefacts depend on (cumulative: a step depends on those before it).
_INPUT_KEYS: dict[str, tuple[str, ...]] = {
    "critique": ("model", "constitution", "seed", "redteam", "critique"),
    "sft": ("helpful", "train.sft"),
    "label": ("feedback.model", "feedback.method", "feedback.temperature", "feedback.max_new_tokens"),
    "preference-model": ("feedback", "train.pm", "train.pm_model"),
    "rlaif": ("train.rl",),
    "evaluate": ("eval",),
    "report": (),
}


def _inputs(config: CaiConfig, stage: str) -> dict[str, Any]:
    """The config values a step's artefacts were made from."""
    from alignlab.cai.stages import NEEDS

    data = config.to_dict()
    keys = list(_INPUT_KEYS[stage])
    for need in NEEDS[stage]:
        keys += [k for k in _inputs(config, need) if k not in keys]
    values: dict[str, Any] = {}
    for key in keys:
        value: Any = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        values[key] = json.loads(json.dumps(value))  # tuples as lists, as they are stored
    return values


def _check_inputs(run: CaiRun, stage: str) -> None:
    stored = run.manifest["stages"][stage].get("inputs")
    if stored is None:
        return
    for key, value in _inputs(run.config, stage).items():
        if stored.get(key) != value:
            raise ConfigError(
                f"step {stage!r} of run {run.config.name!r} was made with {key} = {json.dumps(stored.get(key))}, "
                f"the config now says {json.dumps(value)}; give the run a new name to redo it"
            )


def _is_done(run: CaiRun, stage: str) -> bool:
    entry = run.manifest["stages"].get(stage, {})
    if entry.get("status") != "done":
        return False
    files_ok = all(run.path(f).exists() for f in entry.get("files", {}).values())
    ckpts_ok = all(checkpoint_exists(run.store, c) for c in entry.get("checkpoints", {}).values())
    if files_ok and ckpts_ok:
        _check_inputs(run, stage)
    return files_ok and ckpts_ok


def _artefact(stage: str) -> str:
    from alignlab.cai.stages import ARTEFACTS

    return ARTEFACTS[stage]


def _require(run: CaiRun, stage: str) -> None:
    from alignlab.cai.stages import NEEDS

    for need in NEEDS[stage]:
        if not _is_done(run, need):
            raise InputError(
                f"step {stage!r} needs {_artefact(need)} in {run.run_dir}, which step {need!r} makes; "
                f"run `alignlab cai run --config <cai.yaml> --until {need}` first"
            )


@contextmanager
def _recorded(run: CaiRun, stage: str) -> Iterator[dict[str, Any]]:
    """A store row and a manifest entry around one step; failures are recorded, then re-raised."""
    record = start_run(
        run.store,
        suite=f"cai-{stage}",
        model=stage_model(run.config, stage),
        dataset=run.config.name,
        seed=run.config.seed,
        config={"cai_run": run.config.name, "run_dir": str(run.run_dir.resolve()), "step": stage},
    )
    entry: dict[str, Any] = {"status": "running", "started_at": datetime.now(UTC).isoformat(), "store_run": record.id}
    run.manifest["stages"][stage] = entry
    run.save_manifest()
    try:
        yield entry
    except BaseException as exc:
        status: FinishStatus = "cancelled" if isinstance(exc, KeyboardInterrupt) else "error"
        entry.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
        run.save_manifest()
        finish_run(run.store, record.id, status=status, n_samples=0, metrics={}, error=entry["error"])
        raise
    finish_run(
        run.store,
        record.id,
        status="success",
        n_samples=int(entry.get("metrics", {}).get("n", 0)),
        metrics={k: entry[k] for k in ("files", "checkpoints", "metrics", "calls", "seconds")},
        log_path=str(run.run_dir.resolve()),
    )


def _run_stage(run: CaiRun, stage: str, step: Callable[[CaiRun], StageResult]) -> None:
    _require(run, stage)
    before = {phase: counts.as_dict() for phase, counts in run.generator.counts.items()}
    started = time.perf_counter()
    with _recorded(run, stage) as entry:
        result = step(run)
        calls = {
            phase: {k: v - before.get(phase, {}).get(k, 0) for k, v in counts.as_dict().items()}
            for phase, counts in run.generator.counts.items()
        } | result.calls
        entry.update(
            status="done",
            finished_at=datetime.now(UTC).isoformat(),
            seconds=round(time.perf_counter() - started, 2),
            files=result.files,
            checkpoints=result.checkpoints,
            metrics=result.metrics,
            calls={p: c for p, c in calls.items() if c["new"] or c["cached"]},
            inputs=_inputs(run.config, stage),
        )
        _summarise(run)
        run.save_manifest()


def _summarise(run: CaiRun) -> None:
    """Top-level ``calls`` and ``timings`` per step (each step's entry keeps its calls per phase)."""
    calls: dict[str, dict[str, int]] = {}
    timings: dict[str, float] = {}
    for stage, entry in run.manifest["stages"].items():
        if entry.get("status") == "done":
            timings[stage] = entry.get("seconds", 0.0)
            phases = entry.get("calls", {}).values()
            if phases:
                calls[stage] = {k: sum(c[k] for c in phases) for k in ("new", "cached")}
    run.manifest["calls"] = calls
    run.manifest["timings"] = timings


def _selected(until: str | None, step: str | None) -> list[str]:
    for value in (until, step):
        if value is not None and value not in STAGES:
            raise ConfigError(f"unknown step {value!r}; steps in order: {', '.join(STAGES)}")
    if step is not None:
        return [step]
    return list(STAGES[: STAGES.index(until) + 1]) if until else list(STAGES)


def run_pipeline(
    config: CaiConfig,
    *,
    settings: Settings,
    store: Store,
    until: str | None = None,
    step: str | None = None,
    progress: bool = True,
    on_stage: Callable[[str, str], None] | None = None,
    models: Mapping[str, Any] | None = None,
) -> RunState:
    """Run the steps (all, up to ``until``, or just ``step``), skipping those already done.

    Args:
        config: The run's configuration.
        settings: Paths.
        store: Where the steps' rows and checkpoints go.
        until: Stop after this step.
        step: Run only this step (its inputs must exist).
        progress: Progress bars for model calls.
        on_stage: Called with (step, "skipped" | "running" | "done") as the run proceeds.
        models: Ready-made Inspect models by name (see :class:`~alignlab.cai.generate.Generator`).

    Raises:
        InputError: A step's input artefact is missing (named, with the step that makes it).
        ConfigError: An unknown step name.
    """
    from alignlab.cai.stages import STEP_FUNCTIONS

    selected = _selected(until, step)
    run = open_run(config, settings=settings, store=store, progress=progress, models=models)
    run.save_manifest()
    notify = on_stage or (lambda _stage, _event: None)
    for stage in selected:
        if _is_done(run, stage):
            notify(stage, "skipped")
            continue
        notify(stage, "running")
        _run_stage(run, stage, STEP_FUNCTIONS[stage])
        notify(stage, "done")
    _summarise(run)
    run.save_manifest()
    return RunState(run.run_dir, run.manifest)
