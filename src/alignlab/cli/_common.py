"""Options and formatting shared by the ``judge``, ``fairness`` and ``explain`` command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["ModelOpt", "OutOpt", "pct"]

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model name: default, ckpt:<name>, provider/model.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Directory for PNG/HTML/JSON outputs.")]


def pct(p: Any) -> str:
    """A proportion as ``rate [low, high] (k/n)``, or ``n/a`` when empty."""
    return f"{p.rate:.1%} [{p.low:.1%}, {p.high:.1%}] ({p.successes}/{p.n})" if p.n else "n/a (n=0)"
