"""Token-by-token generation from a local model served through Inspect.

Inspect's ``generate`` returns a whole completion. To stream, this reuses the engine's own
model, tokenizer and chat rendering (so greedy decoding gives exactly the non-streamed text):

* the OpenVINO engine: the request joins the engine's continuous batch like any other, and its
  tokens are handed over after every step;
* transformers: ``model.generate`` on a thread with a ``TextIteratorStreamer``.

Text arrives as the tokenizer can decode it. :meth:`TokenStream.cancel` stops generation at the
next token (a client that hung up should not keep a CPU busy).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TokenStream", "can_stream", "stream_chat"]


def can_stream(api: Any) -> bool:
    """Whether ``api`` (an Inspect ``ModelAPI``) is a local model this module can stream."""
    from alignlab.models.engines.local import OpenVINOChatAPI

    if isinstance(api, OpenVINOChatAPI):
        return True
    return all(hasattr(api, a) for a in ("model", "tokenizer", "hf_chat", "tokenizer_call_args", "do_sample"))


@dataclass
class TokenStream:
    """Text pieces as they are generated; ``prompt_tokens``/``completion_tokens`` once it has ended."""

    pieces: Iterator[str]
    max_new_tokens: int
    prompt_tokens: int
    completion_tokens: int = 0
    error: BaseException | None = None
    finish: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def cancel(self) -> None:
        """Stop generating at the next token."""
        self._stop.set()

    def join(self) -> None:
        """Wait for the generation thread (after the pieces are exhausted or on cancel)."""
        if self._thread is not None:
            self._thread.join()

    @property
    def finish_reason(self) -> str:
        """``length`` when the token budget (or the context) ran out, else ``stop``."""
        if self.finish is not None:
            return self.finish
        return "length" if self.completion_tokens >= self.max_new_tokens else "stop"


def stream_chat(api: Any, messages: list[Any], *, max_new_tokens: int) -> TokenStream:
    """Start generating a reply to Inspect ``messages`` on a thread; iterate the result's ``pieces``.

    Args:
        api: A local Hugging Face ``ModelAPI`` (see :func:`can_stream`).
        messages: Inspect chat messages.
        max_new_tokens: Token budget of the reply.
    """
    from alignlab.models.engines.local import OpenVINOChatAPI

    if isinstance(api, OpenVINOChatAPI):
        return _stream_openvino(api, messages, max_new_tokens=max_new_tokens)
    return _stream_transformers(api, messages, max_new_tokens=max_new_tokens)


def _stream_openvino(api: Any, messages: list[Any], *, max_new_tokens: int) -> TokenStream:
    from alignlab.models.engines.openvino import Completion, SamplingParams

    ids: list[int] = api.prompt_ids(messages)
    arrived: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
    stream = TokenStream(iter(()), max_new_tokens=max_new_tokens, prompt_tokens=len(ids))
    stream.pieces = _decoded(arrived, api.decode)
    future = api.engine.submit(
        ids, SamplingParams(max_new_tokens=max_new_tokens), on_tokens=arrived.put, cancel=stream._stop
    )

    def ended(done: Any) -> None:  # on the engine's thread, before the pieces run out
        try:
            completion: Completion = done.result()
            stream.completion_tokens = len(completion.token_ids)
            stream.finish = completion.finish
        except BaseException as exc:  # surfaced to the caller after the pieces end
            stream.error = exc
        arrived.put(None)

    future.add_done_callback(ended)
    return stream


def _decoded(arrived: queue.SimpleQueue[list[int] | None], decode: Any) -> Iterator[str]:
    """Text pieces of the ids as they arrive (decoded on the reader's thread, not the engine's).

    Incremental, with two offsets (as vLLM detokenizes): each step decodes only the ids since the
    previous piece's start, ``ids[prefix:]``, and sends what it adds to ``ids[prefix:read]``, so
    a tokenizer that drops a leading space at the start of a decode still gets its context, and a
    long answer costs linear, not quadratic, decoding. A piece is held back while it ends in a
    partial UTF-8 character, so the pieces join to the non-streamed text.
    """
    ids: list[int] = []
    prefix = read = 0
    while (new := arrived.get()) is not None:
        ids += new
        if piece := _growth(decode, ids, prefix, read, final=False):
            yield piece
            prefix, read = read, len(ids)
    if piece := _growth(decode, ids, prefix, read, final=True):
        yield piece


def _growth(decode: Any, ids: list[int], prefix: int, read: int, *, final: bool) -> str:
    """What ``ids[prefix:]`` decodes to beyond ``ids[prefix:read]`` ('' while incomplete)."""
    before, text = decode(ids[prefix:read]), decode(ids[prefix:])
    if len(text) <= len(before) or not text.startswith(before) or (text.endswith("\ufffd") and not final):
        return ""
    return str(text[len(before) :])


def _stream_transformers(api: Any, messages: list[Any], *, max_new_tokens: int) -> TokenStream:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    chat = api.hf_chat(messages, [])  # the provider's own rendering: same prompt as generate()
    inputs = api.tokenizer(chat, return_tensors="pt", padding=True, **api.tokenizer_call_args).to(api.model.device)
    streamer = TextIteratorStreamer(
        api.tokenizer, skip_prompt=True, skip_special_tokens=True, clean_up_tokenization_spaces=False
    )
    prompt_tokens = int(inputs["input_ids"].shape[1])  # (1, T)
    stream = TokenStream(streamer, max_new_tokens=max_new_tokens, prompt_tokens=prompt_tokens)

    class _Cancelled(StoppingCriteria):  # type: ignore[misc]
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), stream._stop.is_set(), dtype=torch.bool)

    def run() -> None:
        try:
            with torch.inference_mode():
                out = api.model.generate(
                    **inputs,
                    do_sample=api.do_sample,
                    max_new_tokens=max_new_tokens,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_Cancelled()]),
                )
            sequences = getattr(out, "sequences", out)  # (1, T + new)
            stream.completion_tokens = int(sequences.shape[1]) - prompt_tokens
        except BaseException as exc:  # surfaced to the caller after the pieces end
            stream.error = exc
            streamer.end()  # type: ignore[no-untyped-call]

    stream._thread = threading.Thread(target=run, name="alignlab-stream", daemon=True)
    stream._thread.start()
    return stream
