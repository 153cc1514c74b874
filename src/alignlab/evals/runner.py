"""Run a suite end to end: Inspect eval → log → summary → a row in the store.

A run interrupted with Ctrl-C leaves an Inspect log with every finished sample (samples
are flushed as they complete) and a ``cancelled`` row; :func:`resume_suite` finishes it
with ``eval_retry``, which skips the samples already in the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from inspect_ai import eval as inspect_eval
from inspect_ai import eval_retry
from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log

from alignlab.errors import InputError
from alignlab.evals.suites import get_suite, suite_for_task, summarize_log
from alignlab.evals.summary import SuiteSummary
from alignlab.models import get_model, resolve_model
from alignlab.settings import Settings
from alignlab.store import RunRecord, Store, finish_run, start_run

__all__ = ["SampleErrors", "SuiteRun", "resume_suite", "run_suite", "sample_errors"]

Display = Literal["full", "rich", "plain", "none", "conversation", "log"]
_STATUS = {"success": "success", "cancelled": "cancelled", "error": "error", "started": "cancelled"}


@dataclass(frozen=True)
class SuiteRun:
    """A finished (or interrupted) suite run.

    Attributes:
        record: The run as stored (``error`` status when too many samples errored).
        summary: Rates over the samples that were scored.
        errored: Samples that errored (not scored); ``record.error`` says why.
        n_total: Samples in the log, errored ones included.
    """

    record: RunRecord
    summary: SuiteSummary
    errored: int = 0
    n_total: int = 0

    @property
    def failed(self) -> bool:
        """The run did not produce results to trust: it errored, or too many samples did."""
        return self.record.status == "error"


@dataclass(frozen=True)
class SampleErrors:
    """Errored samples of a log, and the share of them a run may have and still succeed."""

    errored: int
    total: int
    first: str | None
    allowed_share: float

    @property
    def too_many(self) -> bool:
        return self.errored > 0 and (self.errored == self.total or self.errored / self.total > self.allowed_share)

    def message(self) -> str | None:
        if not self.errored:
            return None
        verdict = "more than allowed" if self.too_many else f"within --max-sample-errors {self.allowed_share:g}"
        return f"{self.errored} of {self.total} samples errored ({verdict}); first error: {self.first}"


# Errors whose cause is not in their text, with what to do about them.
_HINTS = {
    "openaipublic.blob.core.windows.net": (
        "Inspect's mockllm estimates tokens with tiktoken, which downloads its vocabulary; offline, use "
        "scripted/refuse, scripted/comply, scripted/mixed or scripted/faker"
    ),
}


def sample_errors(log: EvalLog, *, allowed_share: float = 0.0) -> SampleErrors:
    """Count the samples of ``log`` that errored and keep the first reason (one line)."""
    samples = log.samples or []
    failed = [s for s in samples if s.error is not None]
    first = None
    if failed and failed[0].error is not None:
        lines = [line.strip() for line in failed[0].error.message.splitlines() if line.strip()]
        first = (lines[-1] if lines else "unknown error")[:300]
        hints = [hint for needle, hint in _HINTS.items() if needle in failed[0].error.message]
        first += "".join(f" (hint: {hint})" for hint in hints)
    return SampleErrors(len(failed), len(samples), first, allowed_share)


def run_suite(
    suite: str,
    model: str,
    *,
    settings: Settings,
    store: Store,
    dataset: str | None = None,
    limit: int | None = None,
    seed: int | None = 0,
    judge: str | None = None,
    log_dir: Path | None = None,
    base_url: str | None = None,
    max_tokens: int | None = None,
    display: Display = "rich",
    sample_ids: list[str] | None = None,
    task_options: dict[str, Any] | None = None,
    max_sample_errors: float = 0.0,
) -> SuiteRun:
    """Evaluate ``model`` on ``suite`` and record the run.

    Args:
        suite: A registered suite name (``redteam``, ``overrefusal``).
        model: An alignlab model name (see :func:`alignlab.models.get_model`).
        settings: Paths and the store URL.
        store: Where the run summary is recorded.
        dataset: Dataset name; the suite's default when ``None``.
        limit: Evaluate only the first ``limit`` samples.
        seed: Generation seed (sampling is greedy by default, so this matters only
            for models sampled at a temperature).
        judge: Model name for the refusal classifier's second stage.
        log_dir: Where the Inspect log goes (``settings.log_dir`` by default).
        base_url: Base URL for OpenAI-compatible servers.
        max_tokens: Generation budget per answer.
        display: Inspect's display mode (progress bar).
        sample_ids: Evaluate only these sample ids (e.g. a stratified subset).
        task_options: Further arguments of the suite's task (``variant`` for
            ``compliance-gap`` ...); recorded in the run's config.
        max_sample_errors: Share of samples that may error (not be scored) with the run still a
            success; above it — and always when every sample errored — the run is stored as
            ``error`` with the first sample's error as the reason.
    """
    if not 0.0 <= max_sample_errors < 1.0:
        raise InputError(f"max_sample_errors must be in [0, 1), got {max_sample_errors}")
    spec = get_suite(suite)
    log_dir = _writable_dir(log_dir or settings.log_dir)
    options = dict(task_options or {})
    task_args: dict[str, Any] = {**options, "dataset": dataset or spec.default_dataset, "judge": judge}
    if max_tokens is not None:
        task_args["max_tokens"] = max_tokens
    task = spec.task(**task_args)
    local_args: dict[str, Any] = dict(spec.local_model_args) if resolve_model(model, base_url=base_url).local else {}
    llm = get_model(
        model, base_url=base_url, **local_args
    )  # a bad name or missing API key: one line, before any record
    record = start_run(
        store,
        suite=suite,
        model=model,
        dataset=task_args["dataset"],
        seed=seed,
        sample_limit=len(sample_ids) if sample_ids is not None else limit,
        config={
            "judge": judge,
            "inspect_model": str(llm),
            "base_url": base_url,
            "max_tokens": max_tokens,
            **options,
        },
    )
    logs = inspect_eval(
        task,
        model=llm,
        limit=limit,
        sample_id=sample_ids,
        seed=seed,
        log_dir=str(log_dir),
        display=display,
        log_buffer=4,
        fail_on_error=False,
        metadata={"alignlab_run_id": record.id},
    )
    # On Ctrl-C Inspect returns no log object, but the log file (with every flushed sample) is on disk.
    log = logs[0] if logs else _find_log(log_dir, record.id)
    if log is None:
        finish_run(store, record.id, status="cancelled", n_samples=0, metrics={}, error="interrupted before logging")
        raise InputError(f"run {record.id[:8]} was interrupted before its log was written; nothing to resume")
    return _record(store, record.id, log, suite, max_sample_errors)


def _writable_dir(path: Path) -> Path:
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"log directory {path}: cannot create it ({exc.strerror or exc})") from None
    return Path(path)


def _find_log(log_dir: Path, run_id: str) -> EvalLog | None:
    for info in list_eval_logs(str(log_dir)):
        header = read_eval_log(info, header_only=True)
        if header.eval.metadata and header.eval.metadata.get("alignlab_run_id") == run_id:
            log = read_eval_log(info)
            if log.status == "started":
                log.status = "cancelled"
            return log
    return None


def resume_suite(log_path: str, *, store: Store, display: Display = "rich", max_sample_errors: float = 0.0) -> SuiteRun:
    """Finish an interrupted run from its Inspect log without redoing finished samples."""
    if not Path(log_path).is_file():
        raise InputError(f"{log_path}: no such eval log")
    try:
        header = read_eval_log(log_path, header_only=True)
    except Exception as exc:  # a file that is not a log: the user's mistake, one line
        raise InputError(f"{log_path}: not a readable Inspect eval log ({type(exc).__name__}: {exc})") from None
    suite = suite_for_task(header.eval.task)
    get_suite(suite)
    if header.status == "success":
        raise InputError(f"{log_path} already finished successfully; nothing to resume")
    record = start_run(
        store,
        suite=suite,
        model=header.eval.model,
        dataset=header.eval.dataset.name or "",
        config={"resumed_from": log_path},
    )
    logs = eval_retry(log_path, log_dir=str(Path(log_path).parent), display=display, log_buffer=4)
    if not logs:
        finish_run(store, record.id, status="cancelled", n_samples=0, metrics={}, error="interrupted again")
        raise InputError(f"resume of {log_path} was interrupted; run the same command again")
    return _record(store, record.id, logs[0], suite, max_sample_errors)


def _record(store: Store, run_id: str, log: EvalLog, suite: str, max_sample_errors: float) -> SuiteRun:
    # A run whose samples errored is not a success: Inspect (fail_on_error=False) marks such a
    # log "success" and the rates are computed over whatever was scored — possibly nothing.
    summary = summarize_log(log, suite)
    errors = sample_errors(log, allowed_share=max_sample_errors)
    status = _STATUS.get(log.status, "error")
    if status == "success" and errors.too_many:
        status = "error"
    error = " ".join(log.error.message.split())[:500] if log.error else errors.message()
    record = finish_run(
        store,
        run_id,
        status=status,  # type: ignore[arg-type]
        n_samples=summary.n_samples,
        metrics=summary.metrics_dict(),
        log_path=log.location,
        error=error,
    )
    return SuiteRun(record, summary, errors.errored, errors.total)
