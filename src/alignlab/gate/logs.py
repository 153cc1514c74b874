"""Find the eval logs of each suite and pair baseline with candidate sample by sample.

Logs may come from anywhere Inspect ran (a GPU cluster, another CI job): the gate reads
only what the log holds: sample ids, epochs, inputs, outputs and the refusal and harm
scorers' labels in each score's metadata.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log

from alignlab.errors import InputError
from alignlab.evals.metrics import ScorerName
from alignlab.evals.suites import get_suite, suite_for_task, suite_names
from alignlab.evals.summary import OutcomeMeasure, sample_label

__all__ = ["Outcome", "PairedSample", "Pairing", "find_suite_logs", "pair_logs", "suite_of"]


@dataclass(frozen=True)
class Outcome:
    """One run's result on one sample.

    Attributes:
        label: The refusal classifier's label, ``None`` when the sample errored or is unscored.
        answer: The model's answer text.
        unparsed: The sample errored, is unscored, or its judge reply could not be parsed.
        harm: The harm scorer's label, ``None`` when it did not score the sample.
        values: The suite's outcome measures (:class:`alignlab.evals.summary.OutcomeMeasure`) this
            sample belongs to, and what happened (``None``: errored, unscored, or a tie).
    """

    label: str | None
    answer: str
    unparsed: bool
    harm: str | None = None
    values: dict[str, bool | None] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        """A short description for reports: the refusal label, else the outcomes, else "unscored"."""
        if self.label is not None:
            return self.label
        parts = [f"{k}: {'—' if v is None else 'yes' if v else 'no'}" for k, v in self.values.items()]
        return ", ".join(parts) or "unscored"

    def label_of(self, scorer: ScorerName) -> str | None:
        """The label ``scorer`` gave this answer."""
        return self.harm if scorer == "harm" else self.label


@dataclass(frozen=True)
class PairedSample:
    """The same sample (id and epoch) under baseline and candidate."""

    id: str
    epoch: int
    prompt: str
    prompt_label: str | None
    category: str | None
    baseline: Outcome
    candidate: Outcome


@dataclass(frozen=True)
class Pairing:
    """The paired samples of one suite and what could not be paired."""

    suite: str
    baseline_log: str
    candidate_log: str
    samples: list[PairedSample]
    only_baseline: list[str]
    only_candidate: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        return len(self.only_baseline) + len(self.only_candidate)


def suite_of(log: EvalLog) -> str:
    """The suite a log belongs to."""
    return suite_for_task(log.eval.task)


def _read_log(path: str, *, header_only: bool = False) -> EvalLog:
    try:
        return read_eval_log(path, header_only=header_only)
    except Exception as exc:  # a truncated zip, a JSON file that is no eval log, ...
        first = (str(exc).splitlines() or [""])[0]
        raise InputError(f"{path} is not a readable Inspect eval log ({type(exc).__name__}: {first})") from exc


def _read(path: str) -> EvalLog:
    log = _read_log(path)
    if log.status != "success":
        raise InputError(
            f"{path} is a {log.status} run; finish it first (alignlab eval {suite_of(log)} --resume {path})"
        )
    return log


def find_suite_logs(source: Path, suites: Iterable[str]) -> dict[str, EvalLog]:
    """The log of each suite in ``source``: one ``.eval``/``.json`` log, or a directory of them.

    In a directory the newest log of each suite is used.

    Raises:
        InputError: ``source`` is missing, or holds no log of a suite the policy names.
    """
    wanted = list(suites)
    if source.is_file():
        header = _read_log(str(source), header_only=True)
        found = {suite_of(header): str(source)}
    elif source.is_dir():
        found = {}
        for info in list_eval_logs(str(source), descending=True):  # newest first
            header = _read_log(info.name, header_only=True)
            found.setdefault(suite_of(header), info.name)
    else:
        raise InputError(f"{source} is neither an eval log nor a directory of logs")
    missing = [s for s in wanted if s not in found]
    if missing:
        have = ", ".join(sorted(found)) or "none"
        raise InputError(f"no log of suite {missing[0]!r} in {source} (suites found: {have})")
    return {s: _read(found[s]) for s in wanted}


def _text(sample: EvalSample) -> str:
    if isinstance(sample.input, str):
        return sample.input
    return "\n".join(m.text for m in sample.input)


def _outcome(sample: EvalSample, outcomes: tuple[OutcomeMeasure, ...] = ()) -> Outcome:
    ok = sample.error is None
    label = sample_label(sample) if ok else None
    harm = sample_label(sample, "harm") if ok else None
    judge_unparsed = any((s.metadata or {}).get("judge_unparsed") for s in (sample.scores or {}).values())
    answer = sample.output.completion if sample.output else ""
    values = {o.name: o.happened(sample) if ok and sample.scores else None for o in outcomes if o.applies(sample)}
    return Outcome(label, answer, label is None or judge_unparsed, harm, values)


def _by_key(log: EvalLog) -> dict[tuple[str, int], EvalSample]:
    return {(str(s.id), s.epoch): s for s in log.samples or []}


def _key_name(key: tuple[str, int]) -> str:
    return key[0] if key[1] == 1 else f"{key[0]}#{key[1]}"


def pair_logs(baseline: EvalLog, candidate: EvalLog, *, allow_intersection: bool = False) -> Pairing:
    """Pair the samples of two logs of the same suite by sample id and epoch.

    Raises:
        InputError: The logs are of different suites or datasets, a shared id has a different
            prompt, or the sample sets differ and ``allow_intersection`` is off.
    """
    suite = suite_of(baseline)
    if suite_of(candidate) != suite:
        raise InputError(f"baseline is a {suite!r} log but candidate is {suite_of(candidate)!r}")
    datasets = (baseline.eval.dataset.name, candidate.eval.dataset.name)
    if datasets[0] != datasets[1]:
        raise InputError(f"{suite}: baseline ran on dataset {datasets[0]!r}, candidate on {datasets[1]!r}")
    base, cand = _by_key(baseline), _by_key(candidate)
    only_b = sorted(_key_name(k) for k in base.keys() - cand.keys())
    only_c = sorted(_key_name(k) for k in cand.keys() - base.keys())
    if (only_b or only_c) and not allow_intersection:
        example = (only_b or only_c)[0]
        raise InputError(
            f"{suite}: baseline and candidate ran on different samples ({len(only_b)} only in baseline, "
            f"{len(only_c)} only in candidate, e.g. {example!r}); rerun on the same samples or set "
            "allow_intersection: true in the policy"
        )
    outcomes = get_suite(suite).outcomes if suite in suite_names() else ()
    samples = []
    for key in sorted(base.keys() & cand.keys()):
        b, c = base[key], cand[key]
        prompt = _text(b)
        if _text(c) != prompt:
            raise InputError(f"{suite}: sample {_key_name(key)!r} has a different prompt in baseline and candidate")
        meta = b.metadata or {}
        samples.append(
            PairedSample(
                id=key[0],
                epoch=key[1],
                prompt=prompt,
                prompt_label=str(meta["label"]) if "label" in meta else None,
                category=str(meta["category"]) if "category" in meta else None,
                baseline=_outcome(b, outcomes),
                candidate=_outcome(c, outcomes),
            )
        )
    if not samples:
        raise InputError(f"{suite}: baseline and candidate share no samples")
    return Pairing(
        suite, baseline.location, candidate.location, samples, only_b, only_c, _differences(baseline, candidate)
    )


def _differences(baseline: EvalLog, candidate: EvalLog) -> list[str]:
    """Task settings that differ between the runs: the labels may not be comparable (a different judge)."""
    base, cand = baseline.eval.task_args or {}, candidate.eval.task_args or {}
    return [
        f"task argument {key!r} differs: baseline {base.get(key)!r}, candidate {cand.get(key)!r}"
        for key in sorted(base.keys() | cand.keys())
        if key != "dataset" and base.get(key) != cand.get(key)
    ]
