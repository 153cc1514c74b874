"""The sandbox options shared by the commands that run model-written code (``fairness mortgage|codegen``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from alignlab.evals.fairness import SandboxLimits

__all__ = ["UnsafeOpt", "sandbox_limits"]

UnsafeOpt = Annotated[
    bool,
    typer.Option(
        "--unsafe-no-sandbox",
        help="Run model code even where no kernel sandbox (bubblewrap) works: only rlimits and an audit hook.",
    ),
]


def sandbox_limits(unsafe: bool, console: Console) -> SandboxLimits:
    """The sandbox settings; prints the isolation layers that will apply.

    Raises:
        SandboxUnavailableError: No kernel sandbox and ``unsafe`` is off (one line, exit 2).
    """
    from alignlab.evals.fairness import SandboxLimits, isolation_layers

    limits = SandboxLimits(allow_unsafe=unsafe)
    layers = isolation_layers(limits)
    style = "bold red" if layers[0].startswith("NO KERNEL SANDBOX") else "dim"
    console.print(f"[{style}]sandbox: {', '.join(layers)}[/]", highlight=False)
    return limits
