"""Online RL against a trained reward model with TRL's ``RLOOTrainer``.

Seed 1 names PPO; TRL removed ``PPOTrainer`` (there is none in TRL 1.16). RLOO (REINFORCE
leave-one-out) is its replacement in TRL: it samples ``num_generations`` answers per prompt,
scores them with the reward model, and uses the other samples' mean reward as each one's
baseline, so it needs no value model. A KL penalty (``beta``) to a frozen copy of the starting
policy keeps the policy close to it. For PPO at multi-GPU scale, see docs/training.md
(OpenRLHF takes our reward checkpoints as they are).

Data: any dataset with a ``prompt`` column (other columns are dropped).
"""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset
from transformers import AutoTokenizer
from trl import RLOOConfig, RLOOTrainer  # type: ignore[attr-defined]  # lazy module; mypy sees no exports

from alignlab.errors import ConfigError
from alignlab.models import checkpoint_of, local_model_dir
from alignlab.models.engines.vllm import vllm_rollout_defaults
from alignlab.settings import Settings
from alignlab.store import Store, get_checkpoint
from alignlab.train.callbacks import AlignmentEvalCallback
from alignlab.train.common import (
    PROMPT_COLUMNS,
    TrainResult,
    check_memory,
    finish_run,
    lora_config,
    prepare_run,
    trl_arguments,
)
from alignlab.train.config import RecipeConfig

__all__ = ["train_rl"]


def _reward_model_dir(name: str, store: Store) -> str:
    checkpoint = checkpoint_of(name)
    if checkpoint is not None:
        record = get_checkpoint(store, checkpoint)
        if record.recipe != "reward":
            raise ConfigError(f"reward_model {name!r} is a {record.recipe} checkpoint, not a reward model")
        return str(local_model_dir(name))
    if not (Path(name) / "config.json").is_file():
        raise ConfigError(f"reward_model {name!r} is neither ckpt:<name> nor a model directory")
    return name


def train_rl(config: RecipeConfig, *, settings: Settings, store: Store) -> TrainResult:
    """Optimise ``config.model`` against ``config.reward_model`` with RLOO and record the checkpoint."""
    assert config.reward_model is not None  # checked when the config was read
    reward_dir = _reward_model_dir(config.reward_model, store)
    run = prepare_run(config, settings=settings, store=store, formats=PROMPT_COLUMNS)
    # policy + frozen reference + reward model
    check_memory(run.model_path, lora=config.lora is not None, model_copies=2 if config.lora else 3)
    args = trl_arguments(
        run,
        RLOOConfig,
        max_completion_length=64,
        num_generations=2,
        per_device_train_batch_size=4,
        learning_rate=1e-5 if config.lora else 1e-6,
        **vllm_rollout_defaults(),  # rollouts on vLLM where it and a GPU are present
    )
    tokenizer = AutoTokenizer.from_pretrained(run.model_path)
    watch = AlignmentEvalCallback(config.alignment_eval, tokenizer, settings) if config.alignment_eval else None
    trainer = RLOOTrainer(
        model=run.model_path,  # a path: TRL rebuilds the KL reference from it (offline-safe)
        reward_funcs=[reward_dir],
        args=args,
        train_dataset=Dataset.from_list(run.train_rows),
        processing_class=tokenizer,
        # Without it TRL looks the reward tokenizer up by the model's name on the hub.
        reward_processing_classes=[AutoTokenizer.from_pretrained(reward_dir)],
        peft_config=lora_config(config.lora, "CAUSAL_LM"),
        callbacks=[watch] if watch else None,
    )
    trainer.train(resume_from_checkpoint=run.resume_from or None)
    metrics: dict[str, object] = {"reward_model_path": reward_dir}
    rewards = [e["reward"] for e in trainer.state.log_history if "reward" in e]
    if rewards:
        metrics |= {"first_reward": rewards[0], "last_reward": rewards[-1]}
    if watch:
        metrics |= watch.summary()
    return finish_run(run, trainer, store=store, metrics=metrics)
