"""Token-by-token generation from a local Hugging Face model served through Inspect.

Inspect's ``generate`` returns a whole completion. To stream, this reuses the provider's own
model, tokenizer and chat rendering (so greedy decoding gives exactly the non-streamed text)
and runs ``model.generate`` on a thread with a ``TextIteratorStreamer``; text arrives as
the tokenizer can decode it. :meth:`TokenStream.cancel` stops generation at the next token
(a client that hung up should not keep a CPU busy).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TokenStream", "can_stream", "stream_chat"]


def can_stream(api: Any) -> bool:
    """Whether ``api`` (an Inspect ``ModelAPI``) is a local Hugging Face model this module can stream."""
    return all(hasattr(api, a) for a in ("model", "tokenizer", "hf_chat", "tokenizer_call_args", "do_sample"))


@dataclass
class TokenStream:
    """Text pieces as they are generated; ``prompt_tokens``/``completion_tokens`` once it has ended."""

    pieces: Iterator[str]
    max_new_tokens: int
    prompt_tokens: int
    completion_tokens: int = 0
    error: BaseException | None = None
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
        """``length`` when the token budget ran out, else ``stop``."""
        return "length" if self.completion_tokens >= self.max_new_tokens else "stop"


def stream_chat(api: Any, messages: list[Any], *, max_new_tokens: int) -> TokenStream:
    """Start generating a reply to Inspect ``messages`` on a thread; iterate the result's ``pieces``.

    Args:
        api: A local Hugging Face ``ModelAPI`` (see :func:`can_stream`).
        messages: Inspect chat messages.
        max_new_tokens: Token budget of the reply.
    """
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
