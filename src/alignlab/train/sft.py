"""Supervised fine-tuning with TRL's ``SFTTrainer``.

Data: prompt/completion pairs (``alignlab-refusal-sft``, ``alignlab-palms``), chat ``messages``
or plain ``text``; conversational rows go through the model's chat template and, for
prompt/completion rows, the loss covers the completion only (TRL's default).
"""

from __future__ import annotations

from datasets import Dataset
from transformers import AutoTokenizer
from trl import SFTConfig, SFTTrainer  # type: ignore[attr-defined]  # lazy module; mypy sees no exports

from alignlab.settings import Settings
from alignlab.store import Store
from alignlab.train.callbacks import AlignmentEvalCallback
from alignlab.train.common import (
    SFT_FORMATS,
    TrainResult,
    check_memory,
    finish_run,
    lora_config,
    prepare_run,
    trl_arguments,
)
from alignlab.train.config import RecipeConfig

__all__ = ["train_sft"]


def train_sft(config: RecipeConfig, *, settings: Settings, store: Store) -> TrainResult:
    """Fine-tune ``config.model`` on ``config.datasets`` and record the checkpoint."""
    run = prepare_run(config, settings=settings, store=store, formats=SFT_FORMATS)
    check_memory(run.model_path, lora=config.lora is not None)
    args = trl_arguments(run, SFTConfig, max_length=512, learning_rate=2e-4 if config.lora else 2e-5)
    tokenizer = AutoTokenizer.from_pretrained(run.model_path)
    watch = AlignmentEvalCallback(config.alignment_eval, tokenizer, settings) if config.alignment_eval else None
    trainer = SFTTrainer(
        model=run.model_path,
        args=args,
        train_dataset=Dataset.from_list(run.train_rows),
        eval_dataset=Dataset.from_list(run.test_rows) if run.test_rows else None,
        processing_class=tokenizer,
        peft_config=lora_config(config.lora, "CAUSAL_LM"),
        callbacks=[watch] if watch else None,
    )
    trainer.train(resume_from_checkpoint=run.resume_from or None)
    metrics = trainer.evaluate() if run.test_rows else {}
    if watch:
        metrics |= watch.summary()
    return finish_run(run, trainer, store=store, metrics=metrics)
