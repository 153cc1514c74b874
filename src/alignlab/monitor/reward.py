"""The ``reward`` detector: a reward or preference model scores each exchange, off the request path.

The model is a Hugging Face ``AutoModelForSequenceClassification`` directory: a ``ckpt:<name>``
from ``alignlab train reward`` (one scalar head) or any sequence classifier (name the class to
read with ``label``; its softmax probability is the score). It is loaded once when the monitor
starts and scores the monitor's batches on its worker thread, so the proxy never waits for it.

The exchange is rendered the way the reward recipe trains: the tokenizer's chat template over
``[user prompt, assistant response]`` (plain ``prompt + response`` without a template), cut
from the left to ``max_length`` tokens, since the head reads the last token.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from alignlab.errors import ConfigError
from alignlab.models import local_model_dir

__all__ = ["RewardDetector"]


class RewardDetector:
    """Scores (prompt, response) pairs with a sequence-classification model; flagged below ``threshold``.

    Args:
        model: ``ckpt:<name>``, a model alias, or a model directory.
        threshold: Scores below this are flagged (the reward model's scale: compare with the
            scores of answers you accept).
        label: For a classifier with several classes, the class (name or index) whose
            probability is the score; a one-output reward model needs none.
        batch_size: Exchanges per forward pass.
        max_length: Tokens kept per exchange (from the end).

    Raises:
        ConfigError: The directory is not a sequence-classification model, or ``label`` is
            missing or unknown for a multi-class model.
    """

    name = "reward"

    def __init__(
        self,
        model: str,
        *,
        threshold: float = 0.0,
        label: int | str | None = None,
        batch_size: int = 16,
        max_length: int = 512,
    ) -> None:
        path = local_model_dir(model)
        architectures = json.loads((path / "config.json").read_text()).get("architectures") or []
        if not any(str(a).endswith("ForSequenceClassification") for a in architectures):
            raise ConfigError(
                f"reward model {model!r} is not a sequence-classification model (architectures: {architectures}); "
                "train one with `alignlab train reward`"
            )
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForSequenceClassification.from_pretrained(path).eval()
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if self.model.config.pad_token_id is None:  # the head finds the last token by the pad id
            self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.tokenizer.truncation_side = "left"
        self.threshold, self.batch_size, self.max_length = threshold, batch_size, max_length
        self.column = _class_index(self.model.config, label, model)

    def render(self, prompt: str, response: str) -> str:
        """The text the model scores for one exchange."""
        if self.tokenizer.chat_template:
            conversation = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
            return str(self.tokenizer.apply_chat_template(conversation, tokenize=False))
        return f"{prompt}{response}"

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> list[dict[str, Any]]:
        """The model's score per exchange; flagged when below the threshold."""
        import torch

        texts = [self.render(p, r) for p, r in zip(prompts, responses, strict=True)]
        scores: list[float] = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(
                    texts[start : start + self.batch_size],
                    return_tensors="pt",
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    add_special_tokens=False,
                )
                logits = self.model(**batch).logits  # (B, num_labels)
                if self.column is None:
                    scores += logits[:, 0].float().tolist()
                else:
                    scores += logits.float().softmax(-1)[:, self.column].tolist()
        return [{"flagged": s < self.threshold, "score": s, "threshold": self.threshold} for s in scores]


def _class_index(config: Any, label: int | str | None, model: str) -> int | None:
    """``None`` for a one-output reward model, else the column of ``label``."""
    if config.num_labels == 1:
        return None
    names = {str(k): int(v) for k, v in (config.label2id or {}).items()}
    if label is None:
        raise ConfigError(
            f"reward model {model!r} has {config.num_labels} classes; choose the one to score with label "
            f"(one of {sorted(names) or list(range(config.num_labels))})"
        )
    if isinstance(label, int) and 0 <= label < config.num_labels:
        return label
    if str(label) in names:
        return names[str(label)]
    raise ConfigError(f"reward model {model!r} has no class {label!r}; classes: {sorted(names)}")
