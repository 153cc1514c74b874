"""Datasets: the named prompt datasets and the project's built-in data."""

from alignlab.data.registry import DatasetSpec, PromptRecord, dataset_names, get_dataset_spec, load_prompts

__all__ = ["DatasetSpec", "PromptRecord", "dataset_names", "get_dataset_spec", "load_prompts"]
