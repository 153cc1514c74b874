"""Model names resolve one way everywhere; local generation is batched and padding-correct."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.model import ChatMessageUser, GenerateConfig

from alignlab.errors import ModelError, UnknownNameError
from alignlab.models import get_model, list_models, resolve_model


def test_resolve_names() -> None:
    assert resolve_model("default").inspect_name == "alignlab/default"
    assert resolve_model("openai/gpt-4o-mini").inspect_name == "openai/gpt-4o-mini"
    r = resolve_model("openai/my-model", base_url="http://127.0.0.1:8000/v1")
    assert r.base_url == "http://127.0.0.1:8000/v1"
    assert "default" in list_models()


def test_local_dir_resolves_to_provider(tiny_model_dir: Path) -> None:
    assert resolve_model(str(tiny_model_dir)).inspect_name == f"alignlab/{tiny_model_dir.resolve()}"


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        resolve_model("defualt")
    msg = str(info.value)
    assert "default" in msg and "openai/<model>" in msg and "\n" not in msg


PROMPTS = ["How do I bake a cake?", "Write a poem", "kill the process now please, quickly and safely", "Hi"]


def test_batched_generation_equals_one_at_a_time(tiny_model_dir: Path) -> None:
    """Left padding and attention masks: a prompt's greedy answer must not depend on its batch."""
    model = get_model(str(tiny_model_dir), config=GenerateConfig(max_tokens=12, temperature=0.0), memoize=False)

    async def run() -> tuple[list[str], list[str]]:
        batched = await asyncio.gather(*[model.generate([ChatMessageUser(content=p)]) for p in PROMPTS])
        single = [await model.generate([ChatMessageUser(content=p)]) for p in PROMPTS]
        return [o.completion for o in batched], [o.completion for o in single]

    batched, single = asyncio.run(run())
    assert batched == single
    assert any(len(b) > 0 for b in batched)


def test_get_model_builds_every_name_form(tiny_model_dir: Path) -> None:
    local = get_model(str(tiny_model_dir), memoize=False)
    assert str(local) == f"alignlab/{tiny_model_dir.resolve()}"
    assert str(get_model("mockllm/model")) == "mockllm/model"


def test_unusable_model_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ModelError) as info:
        get_model("anthropic/some-model")
    message = str(info.value)
    assert message.startswith("cannot use model 'anthropic/some-model':") and "\n" not in message
    assert "[bold]" not in message and "ERROR" not in message
    with pytest.raises(UnknownNameError):
        get_model("defualt")


def test_checkpoint_names_resolve_without_importing_training() -> None:
    """``ckpt:`` is built into alignlab.models; it used to need an import side effect of alignlab.train."""
    code = (
        "import sys; from alignlab.models import list_models, resolve_model; "
        "assert resolve_model('ckpt:x').inspect_name == 'alignlab/ckpt:x'; "
        "assert 'ckpt:<name>' in list_models(); "
        "assert not any(m.startswith(('alignlab.train', 'torch')) for m in sys.modules), 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_missing_model_dir_and_unknown_provider() -> None:
    with pytest.raises(ModelError, match="no Hugging Face model directory at /nonexistent/model"):
        resolve_model("/nonexistent/model")
    with pytest.raises(UnknownNameError, match=r"unknown model provider .opneai.*openai"):
        resolve_model("opneai/gpt-4o")


def test_temperature_is_decided_per_call(tiny_model_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A model built greedy samples when a call asks for a temperature, and stays greedy otherwise."""
    model = get_model(str(tiny_model_dir), config=GenerateConfig(max_tokens=12), memoize=False)
    prompt = [ChatMessageUser(content=PROMPTS[0])]

    async def run(temperature: float) -> list[str]:
        config = GenerateConfig(temperature=temperature)
        return [(await model.generate(prompt, config=config)).completion for _ in range(6)]

    with caplog.at_level(logging.WARNING):
        greedy = asyncio.run(run(0.0))
    assert len(set(greedy)) == 1
    assert "not valid" not in caplog.text  # transformers' "generation flags are not valid: ['temperature']"
    sampled = asyncio.run(run(1.5))
    assert len(set(sampled)) > 1
