"""A reward model with TRL's ``RewardTrainer``: the language model with a scalar head.

Data: ``prompt``/``chosen``/``rejected`` pairs. ``test_fraction`` (default 0.2) of the pairs is
held out, and the recipe reports the held-out pairwise accuracy — the share of pairs where the
chosen answer scores higher — with a Wilson 95% interval. The saved checkpoint is a plain
``AutoModelForSequenceClassification`` directory (``num_labels=1``), the format TRL's online
trainers and OpenRLHF take as a reward model.
"""

from __future__ import annotations

from typing import Any

import torch
from datasets import Dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from trl import RewardConfig, RewardTrainer  # type: ignore[attr-defined]  # lazy module; mypy sees no exports

from alignlab.settings import Settings
from alignlab.stats import Proportion, wilson_interval
from alignlab.store import Store
from alignlab.train.common import (
    PREFERENCE_COLUMNS,
    TrainResult,
    check_memory,
    finish_run,
    lora_config,
    prepare_run,
    trl_arguments,
)
from alignlab.train.config import RecipeConfig

__all__ = ["pairwise_accuracy", "score_texts", "train_reward"]


def train_reward(config: RecipeConfig, *, settings: Settings, store: Store) -> TrainResult:
    """Train a scalar reward model on preference pairs and record it with its held-out accuracy."""
    run = prepare_run(config, settings=settings, store=store, formats=PREFERENCE_COLUMNS)
    check_memory(run.model_path, lora=config.lora is not None)
    args = trl_arguments(run, RewardConfig, max_length=512, learning_rate=1e-4 if config.lora else 1e-5)
    tokenizer = AutoTokenizer.from_pretrained(run.model_path)
    model = AutoModelForSequenceClassification.from_pretrained(run.model_path, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id  # the head reads the last non-pad token
    trainer = RewardTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(run.train_rows),
        processing_class=tokenizer,
        peft_config=lora_config(config.lora, "SEQ_CLS"),
    )
    trainer.train(resume_from_checkpoint=run.resume_from or None)
    metrics: dict[str, Any] = {}
    if run.test_rows:
        accuracy = pairwise_accuracy(trainer.model, tokenizer, run.test_rows, max_length=args.max_length)
        metrics["pairwise_accuracy"] = {
            "correct": accuracy.successes,
            "n": accuracy.n,
            "rate": accuracy.rate,
            "ci_low": accuracy.low,
            "ci_high": accuracy.high,
        }
    return finish_run(run, trainer, store=store, metrics=metrics)


def _render(tokenizer: Any, prompt: Any, answer: Any) -> str:
    if isinstance(prompt, list):  # conversational: the same chat template TRL applies
        return str(tokenizer.apply_chat_template(prompt + answer, tokenize=False))
    return f"{prompt}{answer}"


@torch.no_grad()
def score_texts(
    model: Any, tokenizer: Any, texts: list[str], *, max_length: int | None, batch_size: int = 16
) -> list[float]:
    """The reward model's scalar score for each text."""
    was_training = model.training
    model.eval()
    scores: list[float] = []
    # Cut long dialogues from the left: the answers that differ are at the end, and the head reads
    # the last token. (TRL's RewardTrainer instead drops training pairs longer than max_length.)
    side, tokenizer.truncation_side = tokenizer.truncation_side, "left"
    try:
        for i in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[i : i + batch_size],
                return_tensors="pt",
                padding=True,
                truncation=max_length is not None,
                max_length=max_length,
                add_special_tokens=False,
            ).to(model.device)
            scores += model(**batch).logits[:, 0].float().tolist()  # (B, 1) -> (B,)
    finally:
        tokenizer.truncation_side = side
        model.train(was_training)
    return scores


def pairwise_accuracy(model: Any, tokenizer: Any, rows: list[dict[str, Any]], *, max_length: int | None) -> Proportion:
    """Share of pairs where ``chosen`` outscores ``rejected`` (ties count as wrong), Wilson 95% CI."""
    chosen = score_texts(
        model, tokenizer, [_render(tokenizer, r["prompt"], r["chosen"]) for r in rows], max_length=max_length
    )
    rejected = score_texts(
        model, tokenizer, [_render(tokenizer, r["prompt"], r["rejected"]) for r in rows], max_length=max_length
    )
    return wilson_interval(sum(c > r for c, r in zip(chosen, rejected, strict=True)), len(rows))
