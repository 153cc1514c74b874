"""Datasets: the named prompt datasets and the project's built-in data."""

from alignlab.data.registry import DatasetSpec, PromptRecord, dataset_names, get_dataset_spec, load_prompts
from alignlab.data.training_sets import get_training_spec, training_dataset_names

__all__ = [
    "DatasetSpec",
    "PromptRecord",
    "dataset_names",
    "get_dataset_spec",
    "get_training_spec",
    "load_prompts",
    "training_dataset_names",
]
