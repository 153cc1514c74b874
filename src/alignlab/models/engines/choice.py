"""Which local engine and precision a caller asked for (cheap to import: the CLI validates here).

``engine``: ``auto`` (OpenVINO when it starts, else transformers, said in one line),
``openvino`` (OpenVINO or a one-line error: the user asked for it) or ``transformers``.
``precision``: ``exact`` (greedy outputs equal transformers fp32), ``bf16``, ``int8``, ``int4``.
Both come from the model args (``-M engine=openvino``), else ``ALIGNLAB_ENGINE`` /
``ALIGNLAB_PRECISION`` (what ``alignlab --engine … --precision …`` sets), else the defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from alignlab.errors import ConfigError

__all__ = ["EngineChoice", "EngineName", "Precision", "choose_engine", "engine_model_args"]

Precision = Literal["exact", "bf16", "int8", "int4"]
EngineName = Literal["auto", "openvino", "transformers"]


@dataclass(frozen=True)
class EngineChoice:
    """The engine and precision asked for, and whether the user named the engine."""

    engine: EngineName
    precision: Precision
    explicit: bool


def choose_engine(model_args: dict[str, Any]) -> EngineChoice:
    """Pop ``engine``/``precision`` from ``model_args`` (falling back to the environment).

    Raises:
        ConfigError: an unknown engine or precision.
    """
    engine = model_args.pop("engine", None) or os.environ.get("ALIGNLAB_ENGINE") or None
    precision = model_args.pop("precision", None) or os.environ.get("ALIGNLAB_PRECISION") or "exact"
    if engine is not None and engine not in get_args(EngineName):
        raise ConfigError(f"unknown engine {engine!r}: choose one of {', '.join(get_args(EngineName))}")
    if precision not in get_args(Precision):
        raise ConfigError(f"unknown precision {precision!r}: choose one of {', '.join(get_args(Precision))}")
    if precision != "exact" and engine == "transformers":
        raise ConfigError(f"precision {precision!r} needs the OpenVINO engine (transformers runs fp32)")
    name = cast(EngineName, engine or "auto")
    return EngineChoice(name, cast(Precision, precision), explicit=engine not in (None, "auto"))


def engine_model_args() -> dict[str, str]:
    """The engine settings in force, as model args, so each Inspect log's header records them."""
    args = {"precision": os.environ.get("ALIGNLAB_PRECISION") or "exact"}
    if os.environ.get("ALIGNLAB_ENGINE"):
        args["engine"] = os.environ["ALIGNLAB_ENGINE"]
    return args
