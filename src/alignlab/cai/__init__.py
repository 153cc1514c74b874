"""Constitutional AI end to end: critique → revise → SFT → AI preferences → preference model → RLAIF → evaluate.

``run_pipeline(load_cai_config(path), settings=..., store=...)`` runs the steps in
:data:`STAGES` (see :mod:`alignlab.cai.pipeline` and :mod:`alignlab.cai.run`); training and evaluation
load on first use.
"""

from __future__ import annotations

from alignlab.cai.config import CaiConfig, cai_config_from_dict, load_cai_config
from alignlab.cai.constitution import Constitution, Principle, load_constitution, parse_constitution
from alignlab.cai.pipeline import read_manifest, run_pipeline
from alignlab.cai.run import STAGES, RunState

__all__ = [
    "STAGES",
    "CaiConfig",
    "Constitution",
    "Principle",
    "RunState",
    "cai_config_from_dict",
    "load_cai_config",
    "load_constitution",
    "parse_constitution",
    "read_manifest",
    "run_pipeline",
]
