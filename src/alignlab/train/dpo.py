"""Direct preference optimisation with TRL's ``DPOTrainer``.

Data: ``prompt``/``chosen``/``rejected`` pairs (``hh-rlhf-harmless``). The model is handed to
TRL as a local path, so TRL builds the frozen reference model itself from the same weights;
with LoRA the reference is the base model with the adapter switched off (no second copy).
"""

from __future__ import annotations

from datasets import Dataset
from transformers import AutoTokenizer
from trl import DPOConfig, DPOTrainer  # type: ignore[attr-defined]  # lazy module; mypy sees no exports

from alignlab.settings import Settings
from alignlab.store import Store
from alignlab.train.callbacks import AlignmentEvalCallback
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

__all__ = ["train_dpo"]


def train_dpo(config: RecipeConfig, *, settings: Settings, store: Store) -> TrainResult:
    """Align ``config.model`` to preference pairs with DPO and record the checkpoint."""
    run = prepare_run(config, settings=settings, store=store, formats=PREFERENCE_COLUMNS)
    check_memory(run.model_path, lora=config.lora is not None, model_copies=1 if config.lora else 2)
    args = trl_arguments(run, DPOConfig, max_length=512, beta=0.1, learning_rate=5e-5 if config.lora else 5e-7)
    tokenizer = AutoTokenizer.from_pretrained(run.model_path)
    watch = AlignmentEvalCallback(config.alignment_eval, tokenizer, settings) if config.alignment_eval else None
    trainer = DPOTrainer(
        model=run.model_path,
        ref_model=None,  # built by TRL from the same path (in-memory models fail offline: see docs/training.md)
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
