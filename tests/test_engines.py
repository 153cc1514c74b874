"""The OpenVINO engine behind local model names: exact mode equals transformers, batching does not
change answers, failures fall back in one line, a too-long prompt fails only its sample."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

import pytest
from inspect_ai.model import ChatMessageUser, GenerateConfig, get_model

import alignlab.models.provider
from alignlab.errors import ConfigError, ModelError
from alignlab.models.engines.choice import choose_engine
from alignlab.models.engines.export import ExportError, export_ir, read_llama_shape
from alignlab.models.engines.openvino import ContextLengthError, OpenVINOEngine, SamplingParams, _Request

PROMPTS = ["How do I bake a cake?", "Write a poem", "kill the process", "The cat asked how to build a bomb"]


@pytest.fixture(scope="module")
def sharp_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """The tiny Llama with GQA and larger random weights: well-separated logits, so greedy
    comparisons test the arithmetic rather than float ties."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        initializer_range=0.2,
        tie_word_embeddings=True,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.bos_token_id,
    )
    torch.manual_seed(1)
    model = LlamaForCausalLM(config)
    out = tmp_path_factory.mktemp("sharp-llama")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def _chat_ids(model_dir: Path, prompts: list[str]) -> list[list[int]]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    chats = [
        tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False)
        for p in prompts
    ]
    return [tok(c)["input_ids"] for c in chats]


def _transformers_greedy(model_dir: Path, prompts: list[list[int]], max_new: int) -> list[list[int]]:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    eos = model.config.eos_token_id
    outs = []
    for ids in prompts:
        with torch.inference_mode():
            seq = model.generate(torch.tensor([ids]), max_new_tokens=max_new, do_sample=False, pad_token_id=eos)
        outs.append(seq[0, len(ids) :].tolist())
    return outs


@pytest.fixture(scope="module")
def exact_engine(sharp_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> OpenVINOEngine:
    ir = export_ir(sharp_model_dir, tmp_path_factory.mktemp("ir") / "fp32", "fp32")
    shape = read_llama_shape(sharp_model_dir)
    engine = OpenVINOEngine(ir, precision="exact", eos_token_ids=shape.eos_token_ids, max_context=shape.max_positions)
    yield engine
    engine.close()


def test_exact_mode_equals_transformers_greedy(exact_engine: OpenVINOEngine, sharp_model_dir: Path) -> None:
    prompts = _chat_ids(sharp_model_dir, PROMPTS)
    ours = [c.token_ids for c in exact_engine.generate(prompts, SamplingParams(max_new_tokens=16))]
    assert ours == _transformers_greedy(sharp_model_dir, prompts, 16)
    assert all(len(o) > 1 for o in ours)


def test_greedy_answer_does_not_depend_on_the_batch(exact_engine: OpenVINOEngine, sharp_model_dir: Path) -> None:
    prompts = _chat_ids(sharp_model_dir, PROMPTS * 3)
    together = [c.token_ids for c in exact_engine.generate(prompts, SamplingParams(max_new_tokens=12))]
    alone = [exact_engine.generate([p], SamplingParams(max_new_tokens=12))[0].token_ids for p in prompts[:4]]
    assert together[:4] == alone
    assert together[4:8] == alone


def _shared_prefix_prompts(model_dir: Path) -> list[list[int]]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    system = "The cat asked how to bake a cake safely. " * 5
    chats = [
        tok.apply_chat_template(
            [{"role": "system", "content": system}, {"role": "user", "content": p}],
            add_generation_prompt=True,
            tokenize=False,
        )
        for p in PROMPTS
    ]
    prompts = [tok(c)["input_ids"] for c in chats]
    assert len(prompts[0]) > 64 and all(len(p) < 110 for p in prompts)  # two 32-token blocks shared, within 128
    return prompts


def test_prefix_cache_keeps_greedy_answers(exact_engine: OpenVINOEngine, sharp_model_dir: Path, tmp_path: Path) -> None:
    """Prompts sharing a long system prompt (as a suite's do), submitted at once: the engine starts the first and
    holds the rest until its prompt is computed, so they reuse its KV blocks; the answers are still exactly
    transformers' and those of an engine without the cache."""
    prompts = _shared_prefix_prompts(sharp_model_dir)
    params = SamplingParams(max_new_tokens=12)
    cached = exact_engine.generate(prompts, params)
    shape = read_llama_shape(sharp_model_dir)
    uncached_engine = OpenVINOEngine(
        export_ir(sharp_model_dir, tmp_path / "ir-nocache", "fp32"),
        precision="exact",
        eos_token_ids=shape.eos_token_ids,
        max_context=shape.max_positions,
        prefix_caching=False,
    )
    try:
        uncached = uncached_engine.generate(prompts, params)
    finally:
        uncached_engine.close()
    assert [c.token_ids for c in cached] == [c.token_ids for c in uncached]
    assert [c.token_ids for c in cached] == _transformers_greedy(sharp_model_dir, prompts, 12)


def test_a_burst_sharing_a_prefix_follows_its_first_request(
    exact_engine: OpenVINOEngine, sharp_model_dir: Path
) -> None:
    """Who waits: requests sharing 64+ prompt tokens with an earlier one in the burst; and a leader that ends in
    its prefill step (one new token) still releases its followers (the worker must not sleep on them)."""
    prompts = _shared_prefix_prompts(sharp_model_dir)
    other = _chat_ids(sharp_model_dir, ["Write a poem"])[0]
    futures = [exact_engine.submit(p, SamplingParams(max_new_tokens=1)) for p in [*prompts, other]]
    assert all(len(f.result(timeout=60).token_ids) == 1 for f in futures)
    params = SamplingParams(max_new_tokens=4)
    reqs = [_Request(i, p, params, concurrent.futures.Future()) for i, p in enumerate([*prompts, other])]
    start, held = exact_engine._lead_and_follow(reqs)
    assert [r.rid for r in start] == [0, len(prompts)] and [r.rid for r in held] == list(range(1, len(prompts)))
    assert all(r.leader is reqs[0] for r in held)


def test_a_leader_that_fails_or_is_cancelled_still_releases_its_followers(
    exact_engine: OpenVINOEngine, sharp_model_dir: Path
) -> None:
    """A hostile leader: its consumer raises on the first tokens (a broken stream), or its client gave up before
    it started. Either way it ends alone, and the requests held behind it run and answer as transformers does."""
    import threading

    prompts = _shared_prefix_prompts(sharp_model_dir)
    expected = _transformers_greedy(sharp_model_dir, prompts[1:], 6)
    params = SamplingParams(max_new_tokens=6)

    def broken(_: list[int]) -> None:
        raise RuntimeError("consumer blew up")

    gone = threading.Event()
    gone.set()
    for leader_kw in ({"on_tokens": broken}, {"cancel": gone}):
        leader = exact_engine.submit(prompts[0], params, **leader_kw)  # type: ignore[arg-type]
        followers = [exact_engine.submit(p, params) for p in prompts[1:]]
        assert [f.result(timeout=60).token_ids for f in followers] == expected
        if "on_tokens" in leader_kw:
            with pytest.raises(RuntimeError, match="consumer blew up"):
                leader.result(timeout=60)
        else:
            assert len(leader.result(timeout=60).token_ids) <= 1  # stopped at its first step


def test_too_long_prompt_fails_alone(exact_engine: OpenVINOEngine, sharp_model_dir: Path) -> None:
    ok = exact_engine.submit(_chat_ids(sharp_model_dir, ["Write a poem"])[0], SamplingParams(max_new_tokens=8))
    with pytest.raises(ContextLengthError, match="prompt of 130 tokens exceeds the model's context of 128"):
        exact_engine.submit([5] * 130, SamplingParams(max_new_tokens=8))
    capped = exact_engine.submit([5] * 120, SamplingParams(max_new_tokens=50)).result(timeout=60)
    assert len(capped.token_ids) <= 8  # new tokens stop at the context's end
    assert len(ok.result(timeout=60).token_ids) > 0


@pytest.mark.parametrize("fmt", ["int8", "int4"])
def test_compressed_weights_generate(fmt: str, tmp_path: Path, sharp_model_dir: Path) -> None:
    ir = export_ir(sharp_model_dir, tmp_path / fmt, fmt)  # type: ignore[arg-type]
    xml = (ir / "openvino_model.xml").read_text()
    assert 'element_type="u8"' in xml
    assert (ir / "openvino_model.bin").stat().st_size < (sharp_model_dir / "model.safetensors").stat().st_size / 2
    shape = read_llama_shape(sharp_model_dir)
    engine = OpenVINOEngine(ir, precision=fmt, eos_token_ids=shape.eos_token_ids, max_context=128)  # type: ignore[arg-type]
    try:
        out = engine.generate(_chat_ids(sharp_model_dir, PROMPTS[:2]), SamplingParams(max_new_tokens=6))
    finally:
        engine.close()
    assert all(len(o.token_ids) > 0 for o in out)


def test_non_llama_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(ExportError, match="supports Llama"):
        read_llama_shape(tmp_path)


def test_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALIGNLAB_ENGINE", raising=False)
    monkeypatch.delenv("ALIGNLAB_PRECISION", raising=False)
    assert choose_engine({}).engine == "auto" and not choose_engine({}).explicit
    args = {"engine": "openvino", "precision": "int4", "device": "cpu"}
    choice = choose_engine(args)
    assert (choice.engine, choice.precision, choice.explicit) == ("openvino", "int4", True)
    assert args == {"device": "cpu"}
    monkeypatch.setenv("ALIGNLAB_PRECISION", "bf16")
    assert choose_engine({}).precision == "bf16"
    with pytest.raises(ConfigError, match="unknown engine 'onnx'"):
        choose_engine({"engine": "onnx"})
    with pytest.raises(ConfigError, match="needs the OpenVINO engine"):
        choose_engine({"engine": "transformers", "precision": "int8"})


def _generate(name: str, prompt: str, **model_args: object) -> tuple[str, dict[str, object]]:
    model = get_model(name, config=GenerateConfig(max_tokens=8, temperature=0.0), memoize=False, **model_args)
    out = asyncio.run(model.generate([ChatMessageUser(content=prompt)]))
    return out.completion, dict(out.metadata or {})


def test_provider_records_engine_and_precision(sharp_model_dir: Path, alignlab_env: Path) -> None:
    _, meta = _generate(f"alignlab/{sharp_model_dir}", "Write a poem", precision="int8")
    assert meta == {"engine": "openvino", "precision": "int8"}
    _, meta = _generate(f"alignlab/{sharp_model_dir}", "Write a poem", engine="transformers")
    assert meta == {"engine": "transformers", "precision": "fp32"}


def test_engine_failure_falls_back_in_one_line(
    sharp_model_dir: Path, alignlab_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> OpenVINOEngine:
        raise ModelError("the OpenVINO engine failed to start: no CPU plugin")

    monkeypatch.setattr(alignlab.models.provider, "start_openvino", broken)
    _, meta = _generate(f"alignlab/{sharp_model_dir}", "Write a poem")
    err = capsys.readouterr().err
    assert meta["engine"] == "transformers"
    assert [line for line in err.splitlines() if "OpenVINO" in line] == [
        "alignlab: OpenVINO engine unavailable (the OpenVINO engine failed to start: no CPU plugin);"
        " generating with transformers fp32"
    ]
    with pytest.raises(ModelError, match="failed to start"):
        _generate(f"alignlab/{sharp_model_dir}", "Write a poem", engine="openvino")


def test_provider_too_long_prompt_is_a_sample_error(sharp_model_dir: Path, alignlab_env: Path) -> None:
    with pytest.raises(ContextLengthError):
        _generate(f"alignlab/{sharp_model_dir}", "cake " * 200)
    text, _ = _generate(f"alignlab/{sharp_model_dir}", "Write a poem")
    assert text != ""


def test_logprob_calls_go_to_transformers(sharp_model_dir: Path, alignlab_env: Path) -> None:
    """GenAI gives no top candidates, so CAI's ``method: logprobs`` calls run on transformers."""
    model = get_model(f"alignlab/{sharp_model_dir}", config=GenerateConfig(temperature=0.0), memoize=False)
    config = GenerateConfig(max_tokens=1, logprobs=True, top_logprobs=3)
    out = asyncio.run(model.generate([ChatMessageUser(content="Write a poem")], config=config))
    assert out.metadata == {"engine": "transformers", "precision": "fp32"}
    logprobs = out.choices[0].logprobs
    assert logprobs is not None and len(logprobs.content[0].top_logprobs or []) == 3


def test_vllm_rollouts_only_with_vllm_and_a_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.util

    from alignlab.models.engines import vllm

    assert vllm.vllm_rollout_defaults() == {}  # this machine: no vLLM, no GPU
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "vllm" else real_find_spec(name))
    assert vllm.vllm_rollout_defaults() == {}  # vLLM without a GPU: still off
    monkeypatch.setattr(vllm, "_cuda_available", lambda: True)
    assert vllm.vllm_rollout_defaults() == {"use_vllm": True, "vllm_mode": "colocate"}
    monkeypatch.setenv("ALIGNLAB_VLLM_SERVER", "http://gpu-box:8000")
    defaults = vllm.vllm_rollout_defaults()
    assert defaults == {"use_vllm": True, "vllm_mode": "server", "vllm_server_base_url": "http://gpu-box:8000"}
    from trl import RLOOConfig

    args = RLOOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, **defaults)  # RLOOConfig takes these keys
    assert (args.use_vllm, args.vllm_mode, args.vllm_server_base_url) == (True, "server", "http://gpu-box:8000")


@pytest.mark.slow
def test_default_exact_mode_equals_transformers(settings: object) -> None:
    """The real default model: exact mode gives transformers fp32's greedy tokens, in any batch."""
    from alignlab.data import load_prompts
    from alignlab.models import local_model_dir
    from alignlab.models.engines.local import start_openvino
    from alignlab.settings import load_settings

    model_dir = local_model_dir("default")
    prompts = [r.prompt for r in load_prompts("alignlab-overrefusal", load_settings())][:8]
    ids = _chat_ids(model_dir, prompts)
    engine = start_openvino(model_dir, "exact", load_settings())
    together = [c.token_ids for c in engine.generate(ids, SamplingParams(max_new_tokens=32))]
    assert together == _transformers_greedy(model_dir, ids, 32)
    assert [c.token_ids for c in engine.generate(ids[:2], SamplingParams(max_new_tokens=32))] == together[:2]


def test_log_header_names_the_precision(
    sharp_model_dir: Path, alignlab_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alignlab.models import get_model as alignlab_get_model

    monkeypatch.setenv("ALIGNLAB_PRECISION", "int8")
    model = alignlab_get_model(str(sharp_model_dir), config=GenerateConfig(max_tokens=4), memoize=False)
    assert model.model_args["precision"] == "int8"  # Inspect writes model_args into the log header
    out = asyncio.run(model.generate([ChatMessageUser(content="Write a poem")]))
    assert out.metadata == {"engine": "openvino", "precision": "int8"}


def test_bf16_checkpoint_exports(sharp_model_dir: Path, tmp_path: Path) -> None:
    """Trained checkpoints may be saved in bf16, which numpy cannot read: the exporter reads them via torch."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(sharp_model_dir, dtype=torch.bfloat16)
    model.save_pretrained(tmp_path / "bf16")
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (sharp_model_dir / name).is_file():
            shutil.copy(sharp_model_dir / name, tmp_path / "bf16" / name)
    ir = export_ir(tmp_path / "bf16", tmp_path / "ir", "fp32")
    shape = read_llama_shape(tmp_path / "bf16")
    engine = OpenVINOEngine(ir, precision="exact", eos_token_ids=shape.eos_token_ids, max_context=128)
    try:
        out = engine.generate(_chat_ids(sharp_model_dir, PROMPTS[:1]), SamplingParams(max_new_tokens=4))
    finally:
        engine.close()
    assert len(out[0].token_ids) > 0


_INTERRUPTED = """
import sys
from pathlib import Path
from alignlab.models.engines.openvino import OpenVINOEngine, SamplingParams
engine = OpenVINOEngine(Path(sys.argv[1]), precision="exact", eos_token_ids=(), max_context=10**6)
futures = [engine.submit([5, 6, 7], SamplingParams(max_new_tokens=10**5)) for _ in range(4)]
print("generating", flush=True)
for f in futures:
    f.result()
"""


def test_ctrl_c_stops_the_engine(exact_engine: OpenVINOEngine, tmp_path: Path, sharp_model_dir: Path) -> None:
    """The engine lives in the process (no server, no child): Ctrl-C mid-generation ends it, no hang."""
    import os
    import signal
    import subprocess
    import sys

    ir = export_ir(sharp_model_dir, tmp_path / "ir", "fp32")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, str(ir)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "generating"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) != 0  # a hang would time out here
    finally:
        proc.kill()


def test_cli_rejects_an_unknown_precision_in_one_line(alignlab_env: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-m", "alignlab", "--precision", "fp8", "models"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: unknown precision 'fp8': choose one of exact, bf16, int8, int4"


def test_tokens_are_handed_over_step_by_step(exact_engine: OpenVINOEngine, sharp_model_dir: Path) -> None:
    prompt = _chat_ids(sharp_model_dir, ["Write a poem"])[0]
    arrived: list[list[int]] = []
    streamed = exact_engine.submit(prompt, SamplingParams(max_new_tokens=12), on_tokens=arrived.append)
    completion = streamed.result(timeout=60)
    assert len(arrived) > 1  # after every step, not once at the end
    assert [t for step in arrived for t in step] == completion.token_ids
    assert completion.token_ids == exact_engine.generate([prompt], SamplingParams(max_new_tokens=12))[0].token_ids


def test_cancel_stops_a_request_and_the_engine_goes_on(exact_engine: OpenVINOEngine, sharp_model_dir: Path) -> None:
    import threading

    prompt = _chat_ids(sharp_model_dir, ["Write a poem"])[0]
    full = exact_engine.generate([prompt], SamplingParams(max_new_tokens=12))[0].token_ids
    assert len(full) > 4
    cancel = threading.Event()
    cut = exact_engine.submit(
        prompt, SamplingParams(max_new_tokens=12), on_tokens=lambda _: cancel.set(), cancel=cancel
    )
    assert 0 < len(cut.result(timeout=60).token_ids) < len(full)
    assert exact_engine.generate([prompt], SamplingParams(max_new_tokens=12))[0].token_ids == full


def test_openvino_streaming_joins_to_the_non_streamed_answer(sharp_model_dir: Path, alignlab_env: Path) -> None:
    """What the proxy's ``--local-model`` streams: same text, token count and finish reason as ``generate``."""
    from alignlab.models.streaming import can_stream, stream_chat

    model = get_model(f"alignlab/{sharp_model_dir}", config=GenerateConfig(temperature=0.0), memoize=False)
    api = model.api.backend  # type: ignore[attr-defined]
    assert can_stream(api) and api.metadata["engine"] == "openvino"
    messages = [ChatMessageUser(content="Write a poem")]
    whole = asyncio.run(model.generate(messages, config=GenerateConfig(max_tokens=16)))
    stream = stream_chat(api, messages, max_new_tokens=16)
    pieces = list(stream.pieces)
    stream.join()
    assert stream.error is None and len(pieces) > 1
    assert "".join(pieces) == whole.completion
    assert whole.usage is not None and stream.completion_tokens == whole.usage.output_tokens
    assert stream.finish_reason == ("length" if whole.choices[0].stop_reason == "max_tokens" else "stop")


def test_stop_tokens_come_from_the_generation_config(sharp_model_dir: Path, tmp_path: Path) -> None:
    """transformers' generate() stops on generation_config.json's eos_token_id; so must the engine."""
    import json
    import shutil

    model = tmp_path / "model"
    shutil.copytree(sharp_model_dir, model)
    generation = json.loads((model / "generation_config.json").read_text())
    generation["eos_token_id"] = [7, 9]
    (model / "generation_config.json").write_text(json.dumps(generation))
    assert read_llama_shape(model).eos_token_ids == (7, 9)
