"""The seven steps of a Constitutional AI run, one function each (the pipeline orders and records them).

Training steps import TRL (seconds), so they import the recipes when they run.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlab.cai.feedback import label_pairs, sample_pairs
from alignlab.cai.generate import release_models
from alignlab.cai.run import CaiRun, StageResult, checkpoint_name
from alignlab.cai.supervised import build_chains, helpful_rows, load_redteam_prompts, sft_rows, split_prompts
from alignlab.data.training_sets import load_training_rows
from alignlab.errors import AlignlabError, InputError
from alignlab.scorers.refusal import classify_refusal
from alignlab.stats import Proportion

if TYPE_CHECKING:
    from alignlab.cai.evaluate import StageEvaluation

__all__ = ["ARTEFACTS", "NEEDS", "STEP_FUNCTIONS", "preference_training_rows"]

Row = dict[str, Any]
CHAINS = "chains.jsonl"
PREFERENCES = "ai_preferences.jsonl"
PM_METRICS = "pm_metrics.json"
ARTEFACTS = {
    "critique": CHAINS,
    "sft": "the checkpoint <run>-sft",
    "label": PREFERENCES,
    "preference-model": f"the checkpoint <run>-pm and {PM_METRICS}",
    "rlaif": "the checkpoint <run>-rlaif",
    "evaluate": "the evaluation logs (eval/)",
    "report": "the report (report/)",
}
NEEDS: dict[str, tuple[str, ...]] = {
    "critique": (),
    "sft": ("critique",),
    "label": ("sft",),
    "preference-model": ("label",),
    "rlaif": ("sft", "preference-model"),
    "evaluate": ("sft", "rlaif"),
    "report": ("critique", "label", "preference-model", "evaluate"),
}


def _write_jsonl(path: Path, rows: list[Row]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)  # a step's artefact appears whole or not at all


def _read_jsonl(path: Path) -> list[Row]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _prompts(run: CaiRun) -> tuple[list[Any], list[Any]]:
    prompts = load_redteam_prompts(run.config.redteam, run.settings, seed=run.config.seed)
    sl, rl = split_prompts(prompts, run.config.redteam)
    return sl, rl


def _recipe(recipe: str, values: dict[str, Any], fixed: dict[str, Any]) -> Any:
    from alignlab.train.config import config_from_dict

    return config_from_dict(recipe, {**values, **fixed})


def critique_step(run: CaiRun) -> StageResult:
    """Initial answers and K critique-revision rounds → ``chains.jsonl``."""
    sl, _ = _prompts(run)
    chains = build_chains(
        run.generator, run.config.model, sl, run.constitution, run.config.critique, seed=run.config.seed
    )
    _write_jsonl(run.path(CHAINS), chains)
    changed = sum(c["final"].strip() != c["initial"].strip() for c in chains)
    # What revising did, as the pattern stage of the refusal classifier sees it (no model call).
    labels = {
        key: dict(Counter(classify_refusal(c[key], c["prompt"]).label for c in chains)) for key in ("initial", "final")
    }
    return StageResult(
        files={"chains": CHAINS},
        metrics={
            "n": len(chains),
            "revisions": run.config.critique.revisions,
            "final_differs_from_initial": changed,
            "refusal_labels": labels,
        },
    )


# logging_steps 1: the first and last loss (reward) in the step's metrics are real first and last steps.
_SFT_DEFAULTS: dict[str, Any] = {
    "max_steps": 10,
    "per_device_train_batch_size": 4,
    "max_length": 384,
    "logging_steps": 1,
}


def sft_step(run: CaiRun) -> StageResult:
    """SFT of the base model on the final revisions plus the helpful mix → ``ckpt:<run>-sft``."""
    from alignlab.train.sft import train_sft

    chains = _read_jsonl(run.path(CHAINS))
    revised = sft_rows(chains)
    helpful = helpful_rows(run.config.helpful, len(revised), run.settings, seed=run.config.seed)
    rows = revised + helpful
    if not rows:
        raise InputError(f"{run.path(CHAINS)} has no non-empty final revision to train on")
    _write_jsonl(run.path("sft_data.jsonl"), rows)
    name = checkpoint_name(run.config, "sft")
    values = {**_SFT_DEFAULTS, "save_strategy": "no", "seed": run.config.seed}
    fixed = {"model": run.config.model, "datasets": [str(run.path("sft_data.jsonl"))], "name": name}
    result = train_sft(
        _recipe("sft", {**values, **run.config.train.sft}, fixed), settings=run.settings, store=run.store
    )
    release_models()
    return StageResult(
        files={"sft_data": "sft_data.jsonl"},
        checkpoints={"sft": name},
        metrics={"n": len(rows), "revised_rows": len(revised), "helpful_rows": len(helpful), **_losses(result.metrics)},
    )


def _losses(metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        k: metrics.get(k)
        for k in ("first_loss", "last_loss", "train_runtime_s", "steps", "first_reward", "last_reward")
    }


def label_step(run: CaiRun) -> StageResult:
    """Two SFT answers per new prompt, judged by the feedback model in both orders → ``ai_preferences.jsonl``."""
    _, rl = _prompts(run)
    sft = f"ckpt:{checkpoint_name(run.config, 'sft')}"
    options = run.config.feedback
    pairs = sample_pairs(run.generator, sft, [(p.id, p.prompt) for p in rl], options, seed=run.config.seed)
    result = label_pairs(run.generator, pairs, run.constitution, options, seed=run.config.seed)
    _write_jsonl(run.path(PREFERENCES), result.rows)
    return StageResult(files={"preferences": PREFERENCES}, metrics={"n": len(result.rows), **result.stats})


def preference_training_rows(rows: list[Row], heldout_fraction: float, *, seed: int) -> tuple[list[Row], list[Row]]:
    """(training rows, held-out rows) for the preference model.

    TRL's ``RewardTrainer`` takes no per-pair weight, so weights become copies: a weight-1
    pair appears twice, a weight-0.5 pair once, a weight-0 pair not at all. Held-out rows are
    consistent pairs only (an inconsistent label is not a label to score against), drawn
    with ``seed`` and kept out of training.
    """
    consistent = [r for r in rows if r["status"] == "consistent"]
    rng = random.Random(f"{seed}:heldout")
    n_heldout = round(len(consistent) * heldout_fraction) if len(consistent) > 1 else 0
    heldout_ids = {r["id"] for r in rng.sample(consistent, n_heldout)}
    train: list[Row] = []
    for r in rows:
        if r["id"] in heldout_ids or r["weight"] <= 0:
            continue
        pair = {"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]}
        train += [pair] * round(2 * r["weight"])
    heldout = [
        {"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]}
        for r in rows
        if r["id"] in heldout_ids
    ]
    return train, heldout


def _human_rows(run: CaiRun, exclude: set[str]) -> list[Row]:
    rows = [
        r
        for r in load_training_rows("hh-rlhf-harmless", run.settings)
        if r["prompt"][0]["content"] not in exclude and len(json.dumps(r)) <= 1500
    ]
    rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
    return random.Random(f"{run.config.seed}:human").sample(rows, min(len(rows), run.config.feedback.human_pairs))


def _proportion(p: Proportion | None) -> dict[str, Any]:
    if p is None or not p.n:
        return {"rate": None, "low": None, "high": None, "n": 0}
    return {"rate": p.rate, "low": p.low, "high": p.high, "n": p.n, "correct": p.successes}


def _pm_accuracies(run: CaiRun, model_path: str, heldout: list[Row], max_length: int) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from alignlab.train.reward import pairwise_accuracy

    torch.manual_seed(run.config.seed)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1)
    ai = pairwise_accuracy(model, tokenizer, heldout, max_length=max_length) if heldout else None
    exclude = {r["prompt"] for r in _read_jsonl(run.path(CHAINS))}
    note = None
    try:
        human_rows = _human_rows(run, exclude)
        human = pairwise_accuracy(model, tokenizer, human_rows, max_length=max_length) if human_rows else None
    except AlignlabError as exc:  # no HH-RLHF copy here: report it, keep the AI-label figure
        human, note = None, str(exc)
    return {"ai_heldout_accuracy": _proportion(ai), "human_accuracy": _proportion(human), "human_note": note}


_PM_DEFAULTS: dict[str, Any] = {
    "max_steps": 10,
    "per_device_train_batch_size": 4,
    "max_length": 384,
    "logging_steps": 1,
}


def preference_model_step(run: CaiRun) -> StageResult:
    """A preference model on the AI labels → ``ckpt:<run>-pm``, tested on held-out AI and human labels."""
    rows = _read_jsonl(run.path(PREFERENCES))
    train, heldout = preference_training_rows(rows, run.config.feedback.heldout_fraction, seed=run.config.seed)
    if not train:
        stats = run.manifest["stages"].get("label", {}).get("metrics", {})
        raise InputError(
            f"no usable AI label to train a preference model on: {stats.get('inconsistent', '?')} of "
            f"{stats.get('n_pairs', len(rows))} pairs inconsistent (policy {run.config.feedback.inconsistent}), "
            f"{stats.get('unparsed', '?')} replies unparsed; set feedback.inconsistent: downweight or use a stronger "
            "feedback model"
        )
    _write_jsonl(run.path("pm_train.jsonl"), train)
    _write_jsonl(run.path("pm_heldout.jsonl"), heldout)
    name = checkpoint_name(run.config, "preference-model")
    values = {**_PM_DEFAULTS, "save_strategy": "no", "seed": run.config.seed, **run.config.train.pm}
    from alignlab.store import checkpoint_exists, get_checkpoint

    if not checkpoint_exists(run.store, name):  # trained before the accuracies were computed: keep it
        from alignlab.train.reward import train_reward

        fixed = {
            "model": run.config.train.pm_model or run.config.model,
            "datasets": [str(run.path("pm_train.jsonl"))],
            "name": name,
            "test_fraction": 0.0,
        }
        train_reward(_recipe("reward", values, fixed), settings=run.settings, store=run.store)
    accuracies = _pm_accuracies(run, get_checkpoint(run.store, name).path, heldout, int(values["max_length"]))
    run.path(PM_METRICS).write_text(json.dumps(accuracies, indent=2) + "\n", encoding="utf-8")
    return StageResult(
        files={"pm_train": "pm_train.jsonl", "pm_heldout": "pm_heldout.jsonl", "pm_metrics": PM_METRICS},
        checkpoints={"pm": name},
        metrics={"n": len(train), "train_rows": len(train), "heldout_pairs": len(heldout), **accuracies},
    )


_RL_DEFAULTS: dict[str, Any] = {
    "max_steps": 5,
    "per_device_train_batch_size": 4,
    "max_completion_length": 48,
    "logging_steps": 1,
}


def rlaif_step(run: CaiRun) -> StageResult:
    """RLOO from the SFT checkpoint with the preference model as reward → ``ckpt:<run>-rlaif``."""
    from alignlab.train.rl import train_rl

    sl, rl = _prompts(run)
    prompts = [{"prompt": [{"role": "user", "content": p.prompt}]} for p in sl + rl]
    helpful = helpful_rows(run.config.helpful, len(prompts), run.settings, seed=run.config.seed + 1)
    rows = prompts + [{"prompt": r["prompt"]} for r in helpful]
    _write_jsonl(run.path("rl_prompts.jsonl"), rows)
    name = checkpoint_name(run.config, "rlaif")
    values = {**_RL_DEFAULTS, "save_strategy": "no", "seed": run.config.seed, **run.config.train.rl}
    fixed = {
        "model": f"ckpt:{checkpoint_name(run.config, 'sft')}",
        "reward_model": f"ckpt:{checkpoint_name(run.config, 'preference-model')}",
        "datasets": [str(run.path("rl_prompts.jsonl"))],
        "name": name,
    }
    result = train_rl(_recipe("rl", values, fixed), settings=run.settings, store=run.store)
    release_models()
    return StageResult(
        files={"rl_prompts": "rl_prompts.jsonl"},
        checkpoints={"rlaif": name},
        metrics={
            "n": len(rows),
            "redteam_prompts": len(prompts),
            "helpful_prompts": len(helpful),
            **_losses(result.metrics),
        },
    )


def _evaluation(run: CaiRun) -> StageEvaluation:
    from alignlab.cai.evaluate import StageModel, evaluate_stages

    stages = [
        StageModel("base", run.config.model),
        StageModel("sft", f"ckpt:{checkpoint_name(run.config, 'sft')}"),
        StageModel("rlaif", f"ckpt:{checkpoint_name(run.config, 'rlaif')}"),
    ]
    return evaluate_stages(stages, run.config.eval, settings=run.settings, store=run.store, log_dir=run.path("eval"))


def evaluate_step(run: CaiRun) -> StageResult:
    """Base, SFT and RLAIF on the redteam and overrefusal suites and a helpfulness judge (``eval/``)."""
    evaluation = _evaluation(run)
    to_dict = getattr(evaluation, "to_dict", None)
    metrics = to_dict() if callable(to_dict) else {}
    counts = getattr(evaluation, "calls", None) or {}
    calls = {"evaluate": {"new": int(counts.get("new", 0)), "cached": int(counts.get("cached", 0))}}
    return StageResult(files={"eval": "eval"}, metrics=metrics if isinstance(metrics, dict) else {}, calls=calls)


def report_step(run: CaiRun) -> StageResult:
    """The Markdown + HTML report (``report/``); the evaluation is re-read from its logs."""
    from alignlab.cai.report import CaiReportInputs, write_cai_report

    stages = run.manifest["stages"]
    label = stages["label"]["metrics"]
    feedback_keys = ("n_pairs", "unparsed", "consistent", "inconsistent", "consistency", "policy", "kept")
    inputs = CaiReportInputs(
        run_name=run.config.name,
        config=run.config.to_dict(),
        evaluation=_evaluation(run),
        chains=_read_jsonl(run.path(CHAINS)),
        feedback={
            **{k: label[k] for k in feedback_keys},
            "unparsed_pairs": label.get("unparsed_pairs"),
            "ties": label.get("ties"),
            "position_bias": label.get("position_bias"),
            "mean_p_chosen": label.get("mean_p_chosen"),
        },
        preference_model=json.loads(run.path(PM_METRICS).read_text(encoding="utf-8")),
        calls=run.manifest.get("calls", {}),
        timings=run.manifest.get("timings", {}),
    )
    written = write_cai_report(inputs, run.path("report"))
    return StageResult(
        files={"report": "report"}, metrics={"markdown": str(written.markdown), "html": str(written.html)}
    )


STEP_FUNCTIONS: dict[str, Callable[[CaiRun], StageResult]] = {
    "critique": critique_step,
    "sft": sft_step,
    "label": label_step,
    "preference-model": preference_model_step,
    "rlaif": rlaif_step,
    "evaluate": evaluate_step,
    "report": report_step,
}
