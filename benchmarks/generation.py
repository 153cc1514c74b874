"""Generation throughput on the default model: batched vs one at a time vs llama.cpp.

Runs the same N prompts (the built-in red-team requests) through alignlab's local
Inspect provider twice — all requests at once (batched into forward passes of
``--batch-size``) and one request at a time — and, when ``llama-cpp-python`` is installed,
through llama.cpp single-stream on the same GGUF. Greedy decoding, fixed max tokens.
Prints tokens/s for each and the ratios. Not run in CI.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/generation.py --n 32 --max-tokens 64
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import time

from inspect_ai.model import ChatMessageUser, GenerateConfig, get_model

import alignlab.models.provider  # noqa: F401
from alignlab.data import load_prompts
from alignlab.models.default import find_default_gguf
from alignlab.settings import load_settings


def _prompts(n: int) -> list[str]:
    return [r.prompt for r in load_prompts("alignlab-overrefusal", load_settings())][:n]


async def _inspect_run(prompts: list[str], max_tokens: int, batch_size: int, batched: bool) -> tuple[int, float]:
    model = get_model(
        "alignlab/default",
        config=GenerateConfig(max_tokens=max_tokens, temperature=0.0, max_connections=batch_size),
        memoize=False,
    )
    await model.generate([ChatMessageUser(content="warm up")], config=GenerateConfig(max_tokens=4))
    start = time.perf_counter()
    if batched:
        outs = await asyncio.gather(*[model.generate([ChatMessageUser(content=p)]) for p in prompts])
    else:
        outs = [await model.generate([ChatMessageUser(content=p)]) for p in prompts]
    elapsed = time.perf_counter() - start
    return sum(o.usage.output_tokens if o.usage else 0 for o in outs), elapsed


def _llama_cpp_run(prompts: list[str], max_tokens: int, threads: int) -> tuple[int, float] | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return None
    from llama_cpp import Llama

    llm = Llama(model_path=str(find_default_gguf()), n_ctx=1024, n_threads=threads, verbose=False)
    tokens, start = 0, time.perf_counter()
    for p in prompts:
        out = llm.create_chat_completion([{"role": "user", "content": p}], max_tokens=max_tokens, temperature=0.0)
        tokens += out["usage"]["completion_tokens"]
    return tokens, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32, help="number of prompts")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    args = parser.parse_args()
    prompts = _prompts(args.n)
    rows: dict[str, float] = {}
    for name, batched in (("batched", True), ("one-at-a-time", False)):
        tokens, secs = asyncio.run(_inspect_run(prompts, args.max_tokens, args.batch_size, batched))
        rows[name] = tokens / secs
        print(f"{name:>22}: {tokens:6d} tokens in {secs:7.1f} s = {rows[name]:7.1f} tok/s")
    cpp = _llama_cpp_run(prompts, args.max_tokens, args.threads)
    if cpp is None:
        print(f"{'llama.cpp single':>22}: skipped (pip install llama-cpp-python to compare)")
    else:
        rows["llama.cpp"] = cpp[0] / cpp[1]
        print(f"{'llama.cpp single':>22}: {cpp[0]:6d} tokens in {cpp[1]:7.1f} s = {rows['llama.cpp']:7.1f} tok/s")
    print(f"batched / one-at-a-time: {rows['batched'] / rows['one-at-a-time']:.2f}x")
    if "llama.cpp" in rows:
        print(f"batched / llama.cpp single-stream: {rows['batched'] / rows['llama.cpp']:.2f}x (goal >= 2x)")


if __name__ == "__main__":
    main()
