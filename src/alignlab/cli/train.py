"""``alignlab train …``, ``alignlab checkpoints`` and ``alignlab align-demo``: thin adapters over
:mod:`alignlab.train`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from alignlab.settings import load_settings

__all__ = ["register"]

train_app = typer.Typer(no_args_is_help=True, help="Train with a TRL recipe; the result is the model ckpt:<name>.")
console = Console()

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Recipe YAML: our fields plus TRL config fields.")]
NameOpt = Annotated[Optional[str], typer.Option(help="Checkpoint name (overrides the config's).")]  # noqa: UP045
ResumeOpt = Annotated[bool, typer.Option(help="Resume from the last trainer checkpoint of this name.")]


def _train(recipe: str, config: Path, name: str | None, resume: bool) -> None:
    from alignlab.store import open_store
    from alignlab.train import load_recipe_config, run_recipe

    cfg = load_recipe_config(recipe, config)
    if name is not None or resume:
        from dataclasses import replace

        cfg = replace(cfg, name=name or cfg.name, resume=resume or cfg.resume)
    settings = load_settings()
    result = run_recipe(cfg, settings=settings, store=open_store(settings.database_url))
    if not result.checkpoint.id:
        return  # a non-main process under `accelerate launch`
    console.print(f"[bold]{result.model_name}[/] saved to {result.checkpoint.path}")
    console.print(_metrics_line(result.metrics))
    console.print(f"evaluate it: alignlab eval redteam --model {result.model_name}")


def _metrics_line(metrics: dict[str, Any]) -> str:
    parts = [f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float)]
    acc = metrics.get("pairwise_accuracy")
    if isinstance(acc, dict):
        parts.append(
            f"held-out pairwise accuracy {acc['rate']:.1%} [{acc['ci_low']:.1%}, {acc['ci_high']:.1%}] "
            f"({acc['correct']}/{acc['n']})"
        )
    return ", ".join(parts)


@train_app.command("sft")
def sft(config: ConfigOpt, name: NameOpt = None, resume: ResumeOpt = False) -> None:
    """Supervised fine-tuning (TRL SFTTrainer)."""
    _train("sft", config, name, resume)


@train_app.command("reward")
def reward(config: ConfigOpt, name: NameOpt = None, resume: ResumeOpt = False) -> None:
    """Reward model with a scalar head (TRL RewardTrainer); reports held-out pairwise accuracy."""
    _train("reward", config, name, resume)


@train_app.command("dpo")
def dpo(config: ConfigOpt, name: NameOpt = None, resume: ResumeOpt = False) -> None:
    """Direct preference optimisation (TRL DPOTrainer)."""
    _train("dpo", config, name, resume)


@train_app.command("rl")
def rl(config: ConfigOpt, name: NameOpt = None, resume: ResumeOpt = False) -> None:
    """Online RL against a trained reward model (TRL RLOOTrainer; PPO is no longer in TRL)."""
    _train("rl", config, name, resume)


@train_app.command("datasets")
def datasets() -> None:
    """List the training datasets."""
    from alignlab.data import get_training_spec, training_dataset_names

    for ds_name in training_dataset_names():
        spec = get_training_spec(ds_name)
        console.print(f"[bold]{ds_name}[/]  {spec.description} ({spec.format}, {spec.license})")


def checkpoints(
    name: Annotated[Optional[str], typer.Argument(help="Show this checkpoint and its lineage.")] = None,  # noqa: UP045
    recipe: Annotated[Optional[str], typer.Option(help="Only this recipe.")] = None,  # noqa: UP045
    limit: Annotated[int, typer.Option(help="How many.", min=1)] = 20,
) -> None:
    """List trained checkpoints (newest first), or show one with its lineage."""
    from alignlab.store import checkpoint_lineage, list_checkpoints, open_store

    store = open_store(load_settings().database_url)
    if name is not None:
        chain = checkpoint_lineage(store, name)
        console.print(" <- ".join([f"ckpt:{c.name}" for c in chain] + [chain[-1].base_model]))
        console.print_json(json.dumps(chain[0].model_dump(mode="json")))
        return
    table = Table(title="checkpoints")
    for col in ("name", "created", "recipe", "base", "parent", "datasets", "wall s", "metrics"):
        table.add_column(col)
    for c in list_checkpoints(store, recipe=recipe, limit=limit):
        data = ", ".join(f"{d.name}@{d.sha256[:8]}" for d in c.datasets)
        table.add_row(
            f"ckpt:{c.name}",
            f"{c.created_at:%Y-%m-%d %H:%M}",
            c.recipe,
            c.base_model,
            c.parent or "-",
            data,
            f"{c.wall_time_s:.0f}",
            _metrics_line(c.metrics),
        )
    console.print(table)


def align_demo(
    steps: Annotated[int, typer.Option(help="LoRA SFT steps.", min=1)] = 30,
    n_redteam: Annotated[int, typer.Option(help="Held-out harmful prompts (StrongREJECT small).", min=1)] = 20,
    n_overrefusal: Annotated[int, typer.Option(help="Held-out XSTest prompts (safe and unsafe).", min=2)] = 30,
    max_tokens: Annotated[int, typer.Option(help="Max new tokens per answer.", min=8)] = 48,
    name: NameOpt = None,
) -> None:
    """Before/after: evaluate default → LoRA SFT on refusal data → evaluate again, with tests."""
    from alignlab.store import open_store
    from alignlab.train import run_align_demo

    settings = load_settings()
    result = run_align_demo(
        settings=settings,
        store=open_store(settings.database_url),
        steps=steps,
        n_redteam=n_redteam,
        n_overrefusal=n_overrefusal,
        max_tokens=max_tokens,
        name=name,
    )
    table = Table(title=f"default → {result.checkpoint.model_name} (held-out prompts, Wilson 95% CI)")
    for col in ("measure", "dataset", "before", "after", "corrected before", "corrected after", "change [95% CI]", "p",
                "test"):  # fmt: skip
        table.add_column(col)
    for row in result.rows:
        t = row.test
        table.add_row(
            row.measure,
            row.dataset,
            str(t.a),
            str(t.b),
            str(row.before_corrected or ""),
            str(row.after_corrected or ""),
            f"{t.difference:+.1%} [{t.low:+.1%}, {t.high:+.1%}]",
            f"{t.p_value:.3g}",
            t.method,
        )
    console.print(table)
    console.print(f"wall time {result.wall_s:.0f} s (train {result.checkpoint.checkpoint.wall_time_s:.0f} s)")


def _rate(p: Any) -> str:
    return f"{p.rate:.0%} [{p.low:.0%}, {p.high:.0%}] ({p.successes}/{p.n})"


def register(app: typer.Typer) -> None:
    """Add ``train``, ``checkpoints`` and ``align-demo`` to the main app."""
    app.add_typer(train_app, name="train")
    app.command("checkpoints")(checkpoints)
    app.command("align-demo")(align_demo)
