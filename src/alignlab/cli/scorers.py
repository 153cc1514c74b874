"""``alignlab classify …`` and ``alignlab scorers …``: thin adapters over :mod:`alignlab.scorers`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from alignlab.scorers.classify_file import ClassifiedFile

classify_app = typer.Typer(no_args_is_help=True, help="Label completions produced anywhere.")
scorers_app = typer.Typer(no_args_is_help=True, help="The response scorers: train them, measure them (cards).")
console = Console()

PromptCol = Annotated[str, typer.Option(help="Prompt column.")]
JudgeOpt = Annotated[Optional[str], typer.Option(help="Model consulted on rows the scorer is unsure of.")]  # noqa: UP045


def _counts_table(result: ClassifiedFile, out: Path) -> Table:
    table = Table(title=f"{result.rows} rows → {out}")
    table.add_column("label")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    for label, count in sorted(result.labels.items()):
        table.add_row(label, str(count), f"{count / max(result.rows, 1):.1%}")
    return table


@classify_app.command("refusals")
def classify_refusals(
    file: Annotated[Path, typer.Argument(help="CSV with a prompt and a completion column.")],
    out: Annotated[Path, typer.Option(help="Output CSV: every input column plus `label`.")],
    prompt_col: PromptCol = "prompt",
    response_col: Annotated[str, typer.Option(help="Completion column.")] = "completion",
    judge: JudgeOpt = None,
    scorer: Annotated[str, typer.Option(help="Refusal scorer: refusal (learned) or refusal-patterns.")] = "refusal",
) -> None:
    """Label each completion compliance / refusal / partial_refusal."""
    from alignlab.scorers.classify_file import classify_refusals_csv

    result = classify_refusals_csv(
        file, out, prompt_col=prompt_col, response_col=response_col, judge=judge, scorer=scorer
    )
    console.print(_counts_table(result, out))
    if judge:
        console.print(f"judge consulted on {result.judged} rows; unparsed replies: {result.judge_unparsed}")


@classify_app.command("harm")
def classify_harm(
    file: Annotated[Path, typer.Argument(help="CSV with a prompt and a response column.")],
    out: Annotated[Path, typer.Option(help="Output CSV: every input column plus `harm` and `harm_score`.")],
    prompt_col: PromptCol = "prompt",
    response_col: Annotated[str, typer.Option(help="Response column.")] = "response",
    scorer: Annotated[str, typer.Option(help="Harm scorer: harm (learned) or harm-patterns.")] = "harm",
) -> None:
    """Label each response harmful / unharmful: did it actually give the harmful help asked for?"""
    from alignlab.scorers.classify_file import classify_harm_csv

    result = classify_harm_csv(file, out, prompt_col=prompt_col, response_col=response_col, scorer=scorer)
    console.print(_counts_table(result, out))


@scorers_app.command("list")
def list_scorers() -> None:
    """The registered scorers and their labels."""
    from alignlab.scorers import get_scorer, scorer_names

    table = Table(title="scorers")
    table.add_column("name")
    table.add_column("labels")
    for name in scorer_names():
        table.add_row(name, ", ".join(get_scorer(name).labels))
    console.print(table)


@scorers_app.command("train")
def train(
    name: Annotated[str, typer.Argument(help="refusal or harm.")],
    out: Annotated[Optional[Path], typer.Option(help="Weights file (default: the bundled one).")] = None,  # noqa: UP045
) -> None:
    """Train a learned scorer on the permissively licensed sets (deterministic) and write its weights."""
    from alignlab.scorers.training import train_scorer

    result = train_scorer(name, out)
    for line in result.training_sets:
        console.print(f"  trained on {line}")
    console.print(f"wrote {result.path} ({result.size_bytes / 1024:.0f} KiB, sha256 {result.sha256[:12]})")


def _fmt(interval: dict[str, float] | None) -> str:
    return (
        "undefined" if interval is None else f"{interval['value']:.3f} [{interval['low']:.3f}, {interval['high']:.3f}]"
    )


def _card_table(card: dict[str, Any]) -> Table:
    table = Table(title=f"scorer card: {card['scorer']} ({card['version']})")
    for column in ("set", "role", "n", "accuracy", "kappa", "sensitivity", "specificity", "unparsed"):
        table.add_column(column, justify="right" if column in ("n", "unparsed") else "left")
    for set_name, s in card["sets"].items():
        table.add_row(
            set_name,
            s["role"],
            str(s["n"]),
            _fmt(s["accuracy"]),
            _fmt(s["kappa"]),
            _fmt(s["sensitivity"]),
            _fmt(s["specificity"]),
            str(s["unparsed"]),
            style="bold" if set_name == card["correction"]["set"] else None,
        )
    return table


@scorers_app.command("card")
def card(
    name: Annotated[str, typer.Argument(help="Scorer name: refusal, harm, refusal-patterns, harm-patterns.")],
    judge: Annotated[Optional[str], typer.Option(help="Score this model as an LLM judge instead.")] = None,  # noqa: UP045
    limit: Annotated[Optional[int], typer.Option(help="At most N rows per set (seeded sample).", min=1)] = None,  # noqa: UP045
    out_dir: Annotated[Path, typer.Option(help="Where NAME.md and NAME.json go.")] = Path("scorer-cards"),
) -> None:
    """Measure a scorer (or a judge) on every labelled set; print and write its card (Markdown + JSON)."""
    from alignlab.scorers.validate import make_card, write_card
    from alignlab.settings import load_settings

    result = make_card(name, load_settings().data_dir, judge=judge, limit=limit)
    stem = name if judge is None else f"{name}-judge-{judge.replace('/', '_')}"
    write_card(result, md_path=out_dir / f"{stem}.md", json_path=out_dir / f"{stem}.json")
    console.print(_card_table(result.card))
    console.print(f"wrote {out_dir / stem}.md and .json")
