"""Alignment evals during training: a slice of ``redteam`` and ``overrefusal`` every N steps.

The callback generates greedily with the weights being trained (no copy, no save) and labels
each answer with the suites' own refusal classifier, so its rates mean exactly what the suites'
rates mean, only on fewer prompts. The rates go into the trainer's ``log_history`` next to the
loss and into the checkpoint's metrics; training can stop early when over-refusal passes a
threshold (the "poison of alignment": a model that refuses everything is not aligned).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from alignlab.data import load_prompts
from alignlab.evals.metrics import rate_of
from alignlab.scorers.refusal import classify_refusal
from alignlab.settings import Settings
from alignlab.stats import Proportion
from alignlab.train.config import AlignmentEvalOptions

__all__ = ["AlignmentEvalCallback", "AlignmentPoint"]


@dataclass(frozen=True)
class AlignmentPoint:
    """The rates measured at one training step."""

    step: int
    harmful_compliance: Proportion
    over_refusal: Proportion

    def as_log(self) -> dict[str, float | int]:
        """Flat values for the trainer's log history."""
        return {
            "step": self.step,
            "align/harmful_compliance": self.harmful_compliance.rate,
            "align/over_refusal": self.over_refusal.rate,
            "align/n_harmful": self.harmful_compliance.n,
            "align/n_safe": self.over_refusal.n,
        }


def _spread(items: list[str], limit: int) -> list[str]:
    # Evenly spaced rather than the first N: the datasets are ordered by category.
    if len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


class AlignmentEvalCallback(TrainerCallback):  # type: ignore[misc]
    """Measure harmful compliance and over-refusal on the live weights every N steps."""

    def __init__(self, options: AlignmentEvalOptions, tokenizer: Any, settings: Settings) -> None:
        self.options = options
        self.tokenizer = tokenizer
        harmful = [r.prompt for r in load_prompts(options.redteam_dataset, settings) if r.label == "harmful"]
        safe = [r.prompt for r in load_prompts(options.overrefusal_dataset, settings) if r.label == "safe"]
        self.harmful_prompts = _spread(harmful, options.limit)
        self.safe_prompts = _spread(safe, options.limit)
        self.history: list[AlignmentPoint] = []

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Measure the starting point (step 0, or the resumed step)."""
        self._measure(state, control, kwargs.get("model"))

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        """Measure every ``every_n_steps`` steps; maybe ask the trainer to stop."""
        if state.global_step % self.options.every_n_steps == 0:
            self._measure(state, control, kwargs.get("model"))

    def _measure(self, state: TrainerState, control: TrainerControl, model: Any) -> None:
        if model is None or not state.is_world_process_zero:
            return
        answers = self.generate(model, self.harmful_prompts + self.safe_prompts)
        labels = [
            classify_refusal(a, p).label for a, p in zip(answers, self.harmful_prompts + self.safe_prompts, strict=True)
        ]
        k = len(self.harmful_prompts)
        point = AlignmentPoint(state.global_step, rate_of(labels[:k], "complied"), rate_of(labels[k:], "refused"))
        self.history.append(point)
        state.log_history.append(point.as_log())
        print(
            f"[align] step {point.step}: harmful compliance {point.harmful_compliance}, "
            f"over-refusal {point.over_refusal}",
            file=sys.stderr,
        )
        threshold = self.options.stop_over_refusal_above
        if threshold is not None and point.over_refusal.n and point.over_refusal.rate > threshold:
            print(f"[align] over-refusal above {threshold:.0%}: stopping early", file=sys.stderr)
            control.should_training_stop = True

    @torch.no_grad()
    def generate(self, model: Any, prompts: list[str]) -> list[str]:
        """Greedy answers from the current weights, batched with left padding."""
        tok = self.tokenizer
        if tok.chat_template:
            texts = [
                tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
                for p in prompts
            ]
        else:
            texts = prompts
        side, tok.padding_side = tok.padding_side, "left"
        try:
            batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        finally:
            tok.padding_side = side
        was_training = model.training
        model.eval()
        try:
            out = model.generate(
                **batch, max_new_tokens=self.options.max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id
            )  # (B, T_prompt + T_new)
        finally:
            model.train(was_training)
        return [str(t) for t in tok.batch_decode(out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)]

    def summary(self) -> dict[str, Any]:
        """The history as JSON-able metrics for the checkpoint row."""
        return {
            "alignment_eval": [
                {
                    "step": p.step,
                    "harmful_compliance": [p.harmful_compliance.successes, p.harmful_compliance.n],
                    "over_refusal": [p.over_refusal.successes, p.over_refusal.n],
                }
                for p in self.history
            ]
        }
