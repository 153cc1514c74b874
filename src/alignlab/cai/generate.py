"""Batched generation through Inspect model providers, with a persistent call cache.

Every model call of a Constitutional AI run goes through :class:`Generator`. A call is keyed
by the model name, the messages and the generation parameters (including a sample index, so
two sampled answers to one prompt are two keys); its reply is appended to ``calls.jsonl`` in
the run directory as soon as it arrives. An interrupted run therefore redoes nothing that
finished: the rerun reads the file and only asks the model for the missing keys. Calls are
counted per phase, cached and new apart.

Local models (``default``, ``ckpt:<name>``, a directory) go through the ``alignlab/`` Inspect
provider, which batches concurrent requests into one forward pass; API models go through
their Inspect provider with its own retries and rate limits.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from alignlab.models import get_model

__all__ = ["CallCache", "CallCounts", "GenParams", "Generator", "Messages", "call_key"]

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class GenParams:
    """Generation parameters that are part of a call's cache key.

    Attributes:
        max_new_tokens: Reply budget.
        temperature: 0 is greedy; above 0 samples.
        seed: Sampling seed (given to the provider when the model is built).
        sample: Index of this sample among several drawn for the same messages.
        top_logprobs: When above 0, generate one token and reply with the JSON object
            ``{"top_logprobs": {token: logprob}}`` of its most likely candidates instead of text.
    """

    max_new_tokens: int = 96
    temperature: float = 0.0
    seed: int = 0
    sample: int = 0
    top_logprobs: int = 0


def call_key(model: str, messages: Messages, params: GenParams) -> str:
    """SHA-256 of the model name, the messages and the parameters (canonical JSON)."""
    blob = json.dumps({"model": model, "messages": messages, "params": asdict(params)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class CallCounts:
    """Model calls of one phase: answered from the cache, or made now."""

    cached: int = 0
    new: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "cached": self.cached}


class CallCache:
    """Replies by call key, persisted as JSON lines (append-only, flushed per reply)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._replies: dict[str, str] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short when the process was killed mid-write
                self._replies[row["key"]] = row["reply"]

    def __len__(self) -> int:
        return len(self._replies)

    def get(self, key: str) -> str | None:
        return self._replies.get(key)

    def put(self, key: str, reply: str, *, model: str, phase: str) -> None:
        self._replies[key] = reply
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"key": key, "model": model, "phase": phase, "reply": reply}) + "\n")


def _inspect_messages(messages: Messages) -> list[Any]:
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

    kinds: dict[str, Any] = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


class Generator:
    """Generates replies for many conversations at once, through the cache.

    Args:
        cache: The run's call cache.
        progress: Show a progress bar per batch of new calls.
        models: Ready-made Inspect models by name, used instead of building one (for example a
            scripted ``mockllm`` feedback model in tests, or a model with custom arguments).
    """

    def __init__(self, cache: CallCache, *, progress: bool = True, models: Mapping[str, Any] | None = None) -> None:
        self.cache = cache
        self.progress = progress
        self.models = dict(models or {})
        self.counts: dict[str, CallCounts] = {}

    def generate(
        self, model: str, conversations: Sequence[Messages], params: Sequence[GenParams], phase: str
    ) -> list[str]:
        """One reply per conversation (``params[i]`` for conversation ``i``), cached or new."""
        counts = self.counts.setdefault(phase, CallCounts())
        keys = [call_key(model, list(c), p) for c, p in zip(conversations, params, strict=True)]
        todo = [i for i, k in enumerate(keys) if self.cache.get(k) is None]
        counts.cached += len(keys) - len(todo)
        if todo:
            asyncio.run(self._generate_new(model, conversations, params, keys, todo, phase))
            counts.new += len(todo)
        return [self.cache.get(k) or "" for k in keys]

    async def _generate_new(
        self,
        model: str,
        conversations: Sequence[Messages],
        params: Sequence[GenParams],
        keys: list[str],
        todo: list[int],
        phase: str,
    ) -> None:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"cai {phase}", unit="call", disable=not self.progress, leave=False)

        async def one(i: int) -> None:
            reply = await _call(self.models.get(model) or model, conversations[i], params[i])
            self.cache.put(keys[i], reply, model=model, phase=phase)
            bar.update(1)

        try:
            # Concurrent requests are what lets the local provider batch them into one forward pass.
            await asyncio.gather(*(one(i) for i in todo))
        finally:
            bar.close()


async def _call(model: Any, messages: Messages, params: GenParams) -> str:
    from inspect_ai.model import GenerateConfig

    config = GenerateConfig(
        max_tokens=1 if params.top_logprobs else params.max_new_tokens,
        temperature=params.temperature,
        seed=params.seed if params.temperature > 0 else None,
        logprobs=True if params.top_logprobs else None,
        top_logprobs=params.top_logprobs or None,
    )
    built = _model(model, params.temperature > 0, params.seed) if isinstance(model, str) else model
    output = await built.generate(_inspect_messages(messages), config=config)
    if not params.top_logprobs:
        return str(output.completion).strip()
    logprobs = output.choices[0].logprobs if output.choices else None
    first = logprobs.content[0] if logprobs is not None and logprobs.content else None
    top: dict[str, float] = {}
    for candidate in (first.top_logprobs or []) if first is not None else []:
        top.setdefault(candidate.token, candidate.logprob)
    return json.dumps({"top_logprobs": top})


_MODELS: dict[tuple[str, bool, int], Any] = {}


def _model(name: str, sampling: bool, seed: int) -> Any:
    """An Inspect model, built once per (name, greedy or sampling, seed).

    Inspect's Hugging Face provider seeds its random generators only when it is built, so a
    seeded sampling run gets its own instance (greedy calls share one); a failure to build one
    is a one-line :class:`~alignlab.errors.ModelError`.
    """
    key = (name, sampling, seed if sampling else 0)
    if key not in _MODELS:
        from inspect_ai.model import GenerateConfig

        config = GenerateConfig(temperature=1.0 if sampling else 0.0, seed=seed if sampling else None)
        # memoize=False: a checkpoint name can be retrained; release_models() drops ours.
        _MODELS[key] = get_model(name, config=config, memoize=False)
    return _MODELS[key]


def release_models() -> None:
    """Forget the built models (a checkpoint trained later under the same name gets reloaded)."""
    _MODELS.clear()
