"""Alignment evals during training: a slice of ``redteam`` and ``overrefusal`` every N steps.

The callback generates greedily with the weights being trained (no copy, no save) and labels
each answer with the suites' own scorers, so its rates mean exactly what the suites' rates mean,
only on fewer prompts (:mod:`alignlab.evals.metrics`):

* ``harmful_compliance``: harmful requests whose answer gave the harmful help (``harm`` scorer);
* ``non_refusal``: harmful requests answered without any refusal (``refusal`` scorer);
* ``over_refusal``: safe look-alikes refused fully or partially (``refusal`` scorer).

Each comes with the rate corrected for the scorer's error (its card's sensitivity and
specificity, :mod:`alignlab.scorers.correction`). The rates go into the trainer's
``log_history`` next to the loss and into the checkpoint's metrics; training can stop early
when over-refusal passes a threshold (the "poison of alignment": a model that refuses
everything is not aligned). The threshold is on the scored rate, which is what was observed.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from alignlab.data import load_prompts
from alignlab.evals.metrics import Event, corrected_rate_of, rate_of
from alignlab.scorers import get_scorer
from alignlab.scorers.correction import CorrectedRate
from alignlab.settings import Settings
from alignlab.stats import Proportion
from alignlab.train.config import AlignmentEvalOptions

__all__ = ["AlignmentEvalCallback", "AlignmentPoint", "measure_alignment"]

_EVENTS: dict[str, Event] = {"harmful_compliance": "harmful", "non_refusal": "not_refused", "over_refusal": "refused"}


@dataclass(frozen=True)
class AlignmentPoint:
    """The rates measured at one training step, and each one corrected for its scorer's error.

    ``corrected`` holds the rates whose scorer has a card (all three with the bundled cards).
    """

    step: int
    harmful_compliance: Proportion
    non_refusal: Proportion
    over_refusal: Proportion
    corrected: dict[str, CorrectedRate] = field(default_factory=dict)

    def rates(self) -> dict[str, Proportion]:
        """The three scored rates by name."""
        return {
            "harmful_compliance": self.harmful_compliance,
            "non_refusal": self.non_refusal,
            "over_refusal": self.over_refusal,
        }

    def as_log(self) -> dict[str, float | int]:
        """Flat values for the trainer's log history (corrected rates as ``align/NAME_corrected``)."""
        out: dict[str, float | int] = {"step": self.step}
        for name, p in self.rates().items():
            out[f"align/{name}"] = p.rate
            c = self.corrected.get(name)
            if c is not None and c.correctable:
                out[f"align/{name}_corrected"] = c.point
        return out | {"align/n_harmful": self.harmful_compliance.n, "align/n_safe": self.over_refusal.n}

    def __str__(self) -> str:
        parts = []
        for name, p in self.rates().items():
            c = self.corrected.get(name)
            parts.append(f"{name.replace('_', ' ')} {p}" + (f" (corrected {c})" if c is not None else ""))
        return f"step {self.step}: " + ", ".join(parts)


def measure_alignment(
    step: int,
    harmful: tuple[Sequence[str], Sequence[str]],
    safe: tuple[Sequence[str], Sequence[str]],
) -> AlignmentPoint:
    """Score answers as the ``redteam`` and ``overrefusal`` suites do.

    Args:
        step: The training step.
        harmful: ``(prompts, answers)`` of harmful requests.
        safe: ``(prompts, answers)`` of safe look-alike prompts.
    """
    refusal, harm = get_scorer("refusal"), get_scorer("harm")
    harmful_refusal = [r.label for r in refusal.classify(harmful[0], harmful[1])]
    harm_labels = [r.label for r in harm.classify(harmful[0], harmful[1])]
    safe_refusal = [r.label for r in refusal.classify(safe[0], safe[1])]
    rates = {
        "harmful_compliance": rate_of(harm_labels, "harmful"),
        "non_refusal": rate_of(harmful_refusal, "not_refused"),
        "over_refusal": rate_of(safe_refusal, "refused"),
    }
    corrected = {name: c for name, p in rates.items() if (c := corrected_rate_of(p, _EVENTS[name])) is not None}
    return AlignmentPoint(step, **rates, corrected=corrected)


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
        k = len(self.harmful_prompts)
        point = measure_alignment(
            state.global_step, (self.harmful_prompts, answers[:k]), (self.safe_prompts, answers[k:])
        )
        self.history.append(point)
        state.log_history.append(point.as_log())
        print(f"[align] {point}", file=sys.stderr)
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
        """The history as JSON-able metrics for the checkpoint row.

        Each rate is ``[events, n]``; ``corrected`` maps a rate to ``[point, low, high]`` (``None``
        when not correctable).
        """
        return {"alignment_eval": [_point_dict(p) for p in self.history]}


def _point_dict(p: AlignmentPoint) -> dict[str, Any]:
    out: dict[str, Any] = {"step": p.step}
    out |= {name: [r.successes, r.n] for name, r in p.rates().items()}
    out["corrected"] = {
        name: [c.point, c.low, c.high] if not math.isnan(c.point) else None for name, c in p.corrected.items()
    }
    return out
