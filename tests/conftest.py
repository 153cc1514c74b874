"""Shared fixtures: isolated settings and a tiny random chat model built in the test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from alignlab.settings import Settings, load_settings
from alignlab.store import Store, open_store

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture
def alignlab_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every alignlab path at a temp dir (the data dir stays the shared one)."""
    monkeypatch.setenv("ALIGNLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ALIGNLAB_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("ALIGNLAB_DATABASE_URL", raising=False)
    if "ALIGNLAB_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
        monkeypatch.setenv("ALIGNLAB_DATA_DIR", str(SHARED_DATA))
    return tmp_path


@pytest.fixture
def settings(alignlab_env: Path) -> Settings:
    """Settings read from the isolated environment."""
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """A migrated store in the isolated environment."""
    s = open_store(settings.database_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer random Llama with a BPE tokenizer trained here and a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    lines = [
        f"The {w} asked how to {v} a {o} safely."
        for w in ("user", "model", "cat")
        for v in ("build", "kill", "bake", "write")
        for o in ("process", "cake", "poem", "bomb")
    ] * 20
    tk = Tokenizer(models.BPE(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<|im_end|>", "<unk>", "<|im_start|>"]
    tk.train_from_iterator(
        lines,
        trainers.BpeTrainer(
            vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, pad_token="<pad>", eos_token="<|im_end|>", bos_token="<|im_start|>", unk_token="<unk>"
    )
    tok.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.bos_token_id,
    )
    import torch

    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    out = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_reward_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama's architecture with a random one-output head: a reward model's format."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = LlamaConfig.from_pretrained(tiny_model_dir, num_labels=1)
    torch.manual_seed(0)
    model = LlamaForSequenceClassification(config)
    out = tmp_path_factory.mktemp("tiny-reward")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


FIXTURE_CARDS = Path(__file__).parent / "scorers" / "cards"


def use_cards(monkeypatch: pytest.MonkeyPatch, folder: Path | None) -> None:
    """Make every reader of scorer cards see the cards in ``folder`` (``None``: no cards at all)."""
    import json

    from alignlab.errors import UnknownNameError
    from alignlab.scorers import correction

    def load(name: str) -> dict[str, object]:
        path = None if folder is None else folder / f"{name}.json"
        if path is None or not path.is_file():
            raise UnknownNameError("scorer card", name, [])
        data: dict[str, object] = json.loads(path.read_text())
        return data

    correction.find_card.cache_clear()
    monkeypatch.setattr(correction, "load_card_json", load)


@pytest.fixture
def scorer_cards(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The rate correction reads the fixture cards in ``tests/scorers/cards`` instead of the bundled ones."""
    from alignlab.scorers import correction

    use_cards(monkeypatch, FIXTURE_CARDS)
    yield FIXTURE_CARDS
    correction.find_card.cache_clear()


@pytest.fixture
def no_scorer_cards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No scorer has a card (as before the scorers ship theirs)."""
    from alignlab.scorers import correction

    use_cards(monkeypatch, None)
    yield
    correction.find_card.cache_clear()
