"""Training throughput per recipe on the default model: step time and tokens/s, full vs LoRA,
and our SFT recipe against the bare TRL trainer on the same config.

    OMP_NUM_THREADS=1 python benchmarks/training.py --steps 4
    python benchmarks/training.py --model /path/to/hf-dir --recipes sft,dpo --no-full

Prints a table; asserts nothing. Each configuration runs in this process one after another, so
run it on an otherwise idle machine. Tokens/s counts the tokens of the rows the trainer saw
(prompt + completion; both answers of a preference pair; prompt + generated tokens for RL),
measured with the model's tokenizer and capped at ``max_length``; step time is TRL's
``train_runtime`` divided by the steps (model loading and saving excluded).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from alignlab.settings import load_settings
from alignlab.store import open_store
from alignlab.train import config_from_dict
from alignlab.train.recipes import run_recipe

DATASETS = {
    "sft": "alignlab-refusal-sft",
    "reward": "hh-rlhf-harmless",
    "dpo": "hh-rlhf-harmless",
    "rl": "alignlab-refusal-sft",
}
BATCH = 4
MAX_LENGTH = 256
RL_NEW_TOKENS = 32


@dataclass(frozen=True)
class Row:
    label: str
    steps: int
    train_s: float
    wall_s: float
    tokens: int

    @property
    def step_s(self) -> float:
        return self.train_s / self.steps

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.train_s


def _tokens_per_row(recipe: str, model_dir: str, settings: Any) -> float:
    from transformers import AutoTokenizer

    from alignlab.data.training_sets import load_training_rows

    tok = AutoTokenizer.from_pretrained(model_dir)
    rows = load_training_rows(DATASETS[recipe], settings)[:64]

    def n(messages: list[dict[str, str]]) -> int:
        text = tok.apply_chat_template(messages, tokenize=False)
        return min(MAX_LENGTH, len(tok(text, add_special_tokens=False)["input_ids"]))

    if recipe in ("reward", "dpo"):
        return sum(n(r["prompt"] + r["chosen"]) + n(r["prompt"] + r["rejected"]) for r in rows) / len(rows)
    if recipe == "rl":
        return sum(n(r["prompt"]) + RL_NEW_TOKENS for r in rows) / len(rows)
    return sum(n(r["prompt"] + r["completion"]) for r in rows) / len(rows)


def _config(recipe: str, model: str, steps: int, lora: bool, name: str, reward_model: str | None) -> Any:
    values: dict[str, Any] = {
        "model": model,
        "datasets": [DATASETS[recipe]],
        "name": name,
        "max_steps": steps,
        "per_device_train_batch_size": BATCH,
        "save_strategy": "no",
        "logging_steps": 1,
        "test_fraction": 0.0,
        "max_samples": 256,
    }
    if lora:
        values["lora"] = {"r": 16, "alpha": 32}
    if recipe == "rl":
        values |= {"reward_model": reward_model, "max_completion_length": RL_NEW_TOKENS, "num_generations": 2}
    else:
        values["max_length"] = MAX_LENGTH
    return config_from_dict(recipe, values)


def bench_recipe(recipe: str, model: str, steps: int, lora: bool, reward_model: str | None, tag: str) -> Row:
    settings = load_settings()
    store = open_store(settings.database_url)
    name = f"bench-{recipe}-{'lora' if lora else 'full'}-{tag}"
    started = time.perf_counter()
    result = run_recipe(_config(recipe, model, steps, lora, name, reward_model), settings=settings, store=store)
    wall = time.perf_counter() - started
    per_row = _tokens_per_row(recipe, result.checkpoint.path, settings)
    per_step = BATCH * (2 if recipe == "rl" else 1)  # RLOO: num_generations completions per prompt
    label = f"{recipe} {'LoRA r16' if lora else 'full'}"
    return Row(label, steps, result.metrics["train_runtime_s"], wall, int(per_row * per_step * steps))


def bench_bare_sft(model: str, steps: int, tag: str) -> Row:
    """The same SFT configuration straight through TRL, without alignlab around it."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer  # type: ignore[attr-defined]

    from alignlab.data.training_sets import load_training_rows
    from alignlab.models import local_model_dir

    settings = load_settings()
    path = str(local_model_dir(model))
    started = time.perf_counter()
    rows = [
        {"prompt": r["prompt"], "completion": r["completion"]} for r in load_training_rows(DATASETS["sft"], settings)
    ]
    random.Random(42).shuffle(rows)  # the order prepare_run gives the recipe (TRL's seed), so batches match
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(
            output_dir=out,
            max_steps=steps,
            per_device_train_batch_size=BATCH,
            max_length=MAX_LENGTH,
            learning_rate=2e-5,
            use_cpu=True,
            bf16=False,
            activation_checkpointing=False,
            report_to="none",
            save_strategy="no",
            logging_steps=1,
        )
        trainer = SFTTrainer(
            model=path,
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=AutoTokenizer.from_pretrained(path),
        )
        train = trainer.train()
        trainer.save_model(str(Path(out) / "model"))
    wall = time.perf_counter() - started
    per_row = _tokens_per_row("sft", path, settings)
    return Row("sft full, bare TRL", steps, float(train.metrics["train_runtime"]), wall, int(per_row * BATCH * steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--recipes", default="sft,reward,dpo,rl")
    parser.add_argument("--no-full", action="store_true", help="LoRA only (full fine-tunes need ~4x weights RAM)")
    parser.add_argument(
        "--overhead",
        type=int,
        default=0,
        metavar="N",
        help="only compare our SFT recipe with the bare SFTTrainer, alternating, N times each",
    )
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="alignlab-bench-")
    os.environ["ALIGNLAB_HOME"] = home  # a scratch store: benchmark checkpoints are not kept
    tag = time.strftime("%H%M%S")
    rows: list[Row] = []
    reward_model: str | None = None
    for i in range(args.overhead):
        rows.append(bench_bare_sft(args.model, args.steps, tag))
        rows.append(bench_recipe("sft", args.model, args.steps, False, None, f"{tag}-{i}"))
    for recipe in args.recipes.split(",") if not args.overhead else []:
        for lora in (False, True) if not args.no_full else (True,):
            if recipe == "rl" and reward_model is None:
                bench_recipe("reward", args.model, 1, True, None, f"{tag}-rm")  # a reward model to optimise against
                reward_model = f"ckpt:bench-reward-lora-{tag}-rm"
            rows.append(bench_recipe(recipe, args.model, args.steps, lora, reward_model, tag))
            print(f"{rows[-1].label:>22}: {rows[-1].step_s:6.2f} s/step", flush=True)
        if recipe == "sft" and not args.no_full:
            rows.append(bench_bare_sft(args.model, args.steps, tag))
    print(
        f"\nmodel={args.model} batch={BATCH} max_length={MAX_LENGTH} steps={args.steps} "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(f"| {'configuration':<22} | step s | tokens/s | train s | wall s (incl. load/save) |")
    print(f"|{'-' * 24}|--------|----------|---------|--------------------------|")
    for r in rows:
        print(f"| {r.label:<22} | {r.step_s:6.2f} | {r.tokens_per_s:8.1f} | {r.train_s:7.1f} | {r.wall_s:24.1f} |")


if __name__ == "__main__":
    main()
