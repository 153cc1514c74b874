"""The proxy's streamed text: incremental decoding joins to the whole decode, in linear work."""

from __future__ import annotations

import queue
import random
from collections.abc import Callable

import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from alignlab.models.streaming import _decoded

TEXT = [
    "Sure, here is how to kill a Python process: run kill -9 PID. 日本語のテキスト 🙂🚀 naïve café",
    "Über straße — «quotes» and emoji 👩‍💻 in one line; 中文 also works.",
] * 30


def _byte_level() -> Tokenizer:
    tk = Tokenizer(models.BPE(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tk.train_from_iterator(TEXT, trainer)
    return tk


def _metaspace() -> Tokenizer:
    """SentencePiece style: its decoder drops the space at the start of a decode (Llama-2, Mistral)."""
    tk = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tk.normalizer = normalizers.Replace(" ", "▁")
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tk.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    bytes_ = [f"<0x{i:02X}>" for i in range(256)]
    tk.train_from_iterator(TEXT[:2], trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", *bytes_]))
    return tk


def _stream(ids: list[int], decode: Callable[[list[int]], str], chunks: list[int]) -> list[str]:
    arrived: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
    start = 0
    for size in chunks:
        arrived.put(ids[start : start + size])
        start += size
    arrived.put(ids[start:])
    arrived.put(None)
    return list(_decoded(arrived, decode))


@pytest.mark.parametrize("make", [_byte_level, _metaspace])
def test_pieces_join_to_the_whole_decode_one_token_or_many_at_a_time(make: Callable[[], Tokenizer]) -> None:
    tk = make()
    text = " ".join(TEXT[:2])
    ids = tk.encode(text).ids
    whole = tk.decode(ids)
    assert "🙂" in whole and "中文" in whole  # multi-byte characters span several tokens
    rng = random.Random(0)
    for chunks in ([1] * len(ids), [rng.randint(1, 5) for _ in range(len(ids) // 3)], [len(ids)]):
        pieces = _stream(ids, tk.decode, chunks)
        assert "".join(pieces) == whole
        assert all("\ufffd" not in p for p in pieces)


def test_a_long_answer_costs_linear_decoding() -> None:
    tk = _byte_level()
    ids = tk.encode(" ".join(TEXT)).ids
    assert len(ids) > 1000
    decoded = 0

    def counting(part: list[int]) -> str:
        nonlocal decoded
        decoded += len(part)
        return str(tk.decode(part))

    assert "".join(_stream(ids, counting, [1] * len(ids))) == tk.decode(ids)
    assert decoded < 20 * len(ids)  # re-decoding the whole answer each step: ~len(ids)² / 2
