"""``alignlab scorers train NAME``: fit a learned scorer's head and write its weights.

Deterministic: the same data gives byte-identical weights (fixed set order, lbfgs, one BLAS thread, no
random state). Only trainable sets (MIT and the project's own) are used; see
:mod:`alignlab.scorers.datasets` for the list and the split by prompt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from alignlab.errors import ConfigError, UnknownNameError
from alignlab.scorers.datasets import ScorerName, load_sets, split_sets
from alignlab.scorers.learned import HeadConfig, save_weights, train_weights, weights_path
from alignlab.settings import load_settings

__all__ = ["DEFAULT_CONFIGS", "TrainResult", "train_scorer"]

# Chosen on the held-out parts of the permitted sets and on leave-one-source-out (mean accuracy, each
# part or source counting once), never on the validation-only sets; the figures are in docs/scorers.md.
# PyRIT refusal is not trained on (see datasets._pyrit_refusal); refusal C 0.3 and 1 then tie.
DEFAULT_CONFIGS: dict[ScorerName, HeadConfig] = {
    "refusal": HeadConfig(scorer="refusal", c=1.0),
    "harm": HeadConfig(scorer="harm", c=4.0, harm_cues=True, context_cues=True, score_voices=True),
}


@dataclass(frozen=True)
class TrainResult:
    """Where the weights went and what they were trained on."""

    path: Path
    sha256: str
    size_bytes: int
    training_sets: tuple[str, ...]


def train_scorer(name: str, out: Path | None = None, data_dir: Path | None = None) -> TrainResult:
    """Train ``name`` (``refusal`` or ``harm``) and write its weights to ``out`` (default: the bundled file).

    Raises:
        UnknownNameError: ``name`` is not a learned scorer.
        ConfigError: no data directory is configured.
        DatasetError: the labelled sets are missing.
    """
    if name not in DEFAULT_CONFIGS:
        raise UnknownNameError("learned scorer", name, DEFAULT_CONFIGS)
    scorer: ScorerName = name  # type: ignore[assignment]
    data_dir = data_dir or load_settings().data_dir
    if data_dir is None:
        # Without the public sets the weights would silently differ from the bundled ones.
        raise ConfigError("training needs the labelled sets: set ALIGNLAB_DATA_DIR (it holds labelled-responses/)")
    sets = split_sets(load_sets(scorer, data_dir))
    weights = train_weights(sets, DEFAULT_CONFIGS[scorer])
    path = out or weights_path(scorer)
    save_weights(weights, path)
    data = path.read_bytes()
    return TrainResult(path, hashlib.sha256(data).hexdigest(), len(data), weights.training_sets)
