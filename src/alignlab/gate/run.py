"""Run the gate end to end: get each side's logs (read them, or run the model), pair, decide, and
record the verdict in the store (with the evaluation runs it read) for ``alignlab lineage``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log

from alignlab.errors import InputError, ModelError
from alignlab.gate.compare import GateResult, decide
from alignlab.gate.logs import find_suite_logs, pair_logs
from alignlab.gate.policy import GatePolicy
from alignlab.settings import Settings

__all__ = ["collect_logs", "run_gate"]

GateSide = Literal["baseline", "candidate"]


def _run_model(
    model: str, policy: GatePolicy, *, settings: Settings, log_dir: Path, limit: int | None
) -> dict[str, EvalLog]:
    from alignlab.evals.runner import run_suite
    from alignlab.store import open_store

    store = open_store(settings.database_url)
    logs = {}
    for suite, spec in policy.suites.items():
        # Same dataset, limit and seed on both sides, so both runs see the same samples.
        run = run_suite(
            suite,
            model,
            settings=settings,
            store=store,
            dataset=spec.dataset,
            limit=limit or spec.limit,
            seed=policy.seed,
            judge=spec.judge,
            log_dir=log_dir,
            max_tokens=spec.max_tokens,
            display="none",
        )
        if run.failed:  # a verdict on samples that errored would be a verdict on nothing
            raise ModelError(f"{model}: the {suite} run failed: {run.record.error}")
        logs[suite] = read_eval_log(run.summary.log_location)
    return logs


def collect_logs(
    source: str, policy: GatePolicy, *, settings: Settings, log_dir: Path, limit: int | None = None
) -> dict[str, EvalLog]:
    """Each policy suite's log for one side of the comparison.

    Args:
        source: An existing ``.eval``/``.json`` log or directory of logs; anything else is taken
            as a model name and the policy's suites are run on it (logs go to ``log_dir``).
        policy: The policy naming the suites.
        settings: Paths and the store (model runs are recorded like ``alignlab eval``).
        log_dir: Where model runs write their logs.
        limit: Evaluate only the first N samples (overrides each suite's ``limit``).
    """
    if _is_logs(Path(source)):
        return find_suite_logs(Path(source), policy.suites)
    if _looks_like_path(source):
        raise InputError(f"{source}: no such eval log or directory (and not a model name)")
    return _run_model(source, policy, settings=settings, log_dir=log_dir, limit=limit)


def _looks_like_path(source: str) -> bool:
    """A missing path, not a model name: ``logs/typo`` is not provider ``logs``, model ``typo``."""
    from alignlab.models.registry import inspect_providers

    if Path(source).expanduser().exists():
        return False
    if source.endswith((".eval", ".json")) or source.startswith(("/", "./", "../", "~")):
        return True
    return "/" in source and source.split("/", 1)[0] not in inspect_providers()


def _is_logs(path: Path) -> bool:
    """A log file, or a directory of logs; a model directory (``config.json``) is a model."""
    if path.is_file():
        return path.suffix in (".eval", ".json")
    if path.is_dir():
        if list_eval_logs(str(path)):
            return True
        if not (path / "config.json").exists():
            raise InputError(f"{path} holds neither eval logs nor a model (no config.json)")
    return False


def run_gate(
    policy: GatePolicy,
    baseline: str,
    candidate: str,
    *,
    settings: Settings,
    out_dir: Path,
    limit: int | None = None,
) -> GateResult:
    """Compare ``candidate`` with ``baseline`` under ``policy``.

    Args:
        policy: A validated policy (:func:`alignlab.gate.policy.load_policy`).
        baseline: Logs (file or directory) or a model name.
        candidate: Logs (file or directory) or a model name.
        settings: Paths and the store.
        out_dir: Model runs write logs under ``out_dir/logs/{baseline,candidate}``.
        limit: Sample limit for model runs.
    """
    base = collect_logs(baseline, policy, settings=settings, log_dir=out_dir / "logs" / "baseline", limit=limit)
    cand = collect_logs(candidate, policy, settings=settings, log_dir=out_dir / "logs" / "candidate", limit=limit)
    pairings = {
        suite: pair_logs(base[suite], cand[suite], allow_intersection=policy.allow_intersection)
        for suite in policy.suites
    }
    result = decide(policy, pairings, {suite: (base[suite], cand[suite]) for suite in policy.suites})
    _record_verdict(
        settings, policy, result, baseline=baseline, candidate=candidate, logs={"baseline": base, "candidate": cand}
    )
    return result


def _record_verdict(
    settings: Settings,
    policy: GatePolicy,
    result: GateResult,
    *,
    baseline: str,
    candidate: str,
    logs: dict[GateSide, dict[str, EvalLog]],
) -> None:
    """Store the verdict and the run each side read, so a checkpoint's lineage reaches its verdicts."""
    from alignlab.store import GateSideRun, open_store, record_gate_verdict

    runs = [
        GateSideRun(
            side=side,
            suite=suite,
            run_id=(log.eval.metadata or {}).get("alignlab_run_id"),
            log_path=log.location or None,
        )
        for side, by_suite in logs.items()
        for suite, log in by_suite.items()
    ]
    store = open_store(settings.database_url)
    try:
        record_gate_verdict(
            store,
            baseline=baseline,
            candidate=candidate,
            verdict=result.verdict,
            outcome=result.outcome,
            policy_sha256=hashlib.sha256(policy.model_dump_json().encode()).hexdigest(),
            rules={r.name: r.verdict for r in result.rules},
            runs=runs,
        )
    finally:
        store.close()
