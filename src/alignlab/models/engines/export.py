"""Export a local Llama-family model directory to OpenVINO IR, without torch or optimum.

The graph is built with OpenVINO's own opset from the safetensors weights, in the form that
OpenVINO GenAI's continuous-batching pipeline expects (the same form its GGUF reader builds):
inputs ``input_ids``, ``attention_mask``, ``position_ids``, ``beam_idx``; output ``logits``; the
KV cache as ``ReadValue``/``Assign`` state per layer, gathered by ``beam_idx``; attention as one
``ScaledDotProductAttention`` op per layer, which GenAI rewrites to paged attention at load.

Why not ``optimum-cli export openvino``: optimum-intel pins ``transformers<5.6`` (the project pins
5.23) and pulls a torchvision that breaks the CPU torch, so it would need a second environment of
~1 GB at set-up. Building the graph here takes seconds, needs only ``openvino`` and ``numpy``,
and covers every model alignlab trains (``default`` and its ``ckpt:`` descendants are Llama).
Other architectures raise :class:`ExportError` and the caller falls back to transformers.

Weight formats: ``fp32`` keeps the weights as they are; ``int8`` stores per-output-channel
asymmetric u8 weights; ``int4`` stores u4 weights in groups of 64 with f16 scales and zero points
(the layout NNCF produces, which the CPU plugin decompresses inside its matmul kernels). The
embedding table (tied to the LM head) is int8 in both compressed formats.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from alignlab.errors import ModelError

__all__ = ["ExportError", "LlamaShape", "WeightFormat", "export_ir", "read_llama_shape"]

WeightFormat = Literal["fp32", "int8", "int4"]
IR_FILE = "openvino_model.xml"
_MARKER = ".alignlab-ir"
_INT4_GROUP = 64
_NEG = float(np.finfo(np.float32).min)


class ExportError(ModelError):
    """A model could not be exported to OpenVINO IR (unsupported architecture, missing weights)."""


@dataclass(frozen=True)
class LlamaShape:
    """The hyper-parameters the graph needs, read from ``config.json``."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    rms_eps: float
    rope_theta: float
    tied: bool
    eos_token_ids: tuple[int, ...]
    max_positions: int


def read_llama_shape(model_dir: Path) -> LlamaShape:
    """Read a Llama config; raise :class:`ExportError` for anything else."""
    config = json.loads((model_dir / "config.json").read_text())
    if config.get("model_type") != "llama":
        raise ExportError(f"OpenVINO export supports Llama models; {model_dir} is {config.get('model_type')!r}")
    rope = config.get("rope_parameters") or {}
    if rope.get("rope_type", "default") != "default" or config.get("rope_scaling"):
        raise ExportError(f"OpenVINO export supports plain RoPE; {model_dir} uses {rope.get('rope_type')!r}")
    if config.get("attention_bias") or config.get("mlp_bias"):
        raise ExportError(f"OpenVINO export does not support biased projections ({model_dir})")
    heads = int(config["num_attention_heads"])
    eos = config.get("eos_token_id", [])
    generation = model_dir / "generation_config.json"
    if generation.is_file():  # what transformers' generate() stops on, when the model has one
        eos = json.loads(generation.read_text()).get("eos_token_id", eos)
    return LlamaShape(
        layers=int(config["num_hidden_layers"]),
        hidden=int(config["hidden_size"]),
        heads=heads,
        kv_heads=int(config.get("num_key_value_heads", heads)),
        head_dim=int(config.get("head_dim") or config["hidden_size"] // heads),
        rms_eps=float(config["rms_norm_eps"]),
        rope_theta=float(rope.get("rope_theta", config.get("rope_theta", 10000.0))),
        tied=bool(config.get("tie_word_embeddings", False)),
        eos_token_ids=tuple(eos) if isinstance(eos, list) else () if eos is None else (int(eos),),
        max_positions=int(config.get("max_position_embeddings", 2048)),
    )


def _load_weights(model_dir: Path) -> dict[str, np.ndarray]:
    from safetensors import safe_open

    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise ExportError(f"no *.safetensors weights in {model_dir}")
    weights: dict[str, np.ndarray] = {}
    for file in files:
        with safe_open(str(file), "np") as fh:
            for key in fh.keys():  # noqa: SIM118 (safe_open is not a mapping)
                try:
                    weights[key] = np.asarray(fh.get_tensor(key), dtype=np.float32)
                except TypeError:  # bf16 has no numpy dtype: read it through torch
                    weights[key] = _read_with_torch(file, key)
    return weights


def _read_with_torch(file: Path, key: str) -> np.ndarray:
    from safetensors import safe_open

    with safe_open(str(file), "pt") as fh:
        return np.asarray(fh.get_tensor(key).float().numpy(), dtype=np.float32)


class _Graph:
    """Builds the Llama graph node by node (``ops`` is OpenVINO's opset 13)."""

    def __init__(self, shape: LlamaShape, weights: dict[str, np.ndarray], fmt: WeightFormat) -> None:
        import openvino.opset13 as ops

        self.ops: Any = ops
        self.shape = shape
        self.weights = weights
        self.fmt = fmt

    def const(self, value: Any, dtype: Any = np.int64) -> Any:
        return self.ops.constant(np.asarray(value, dtype=dtype))

    def weight(self, key: str, fmt: WeightFormat | None = None) -> Any:
        """A ``(out, in)`` f32 weight node, decompressed from its stored format."""
        w = self.weights.pop(key) if fmt is None else self.weights[key]
        fmt = fmt or self.fmt
        if fmt == "fp32":
            return self.ops.constant(np.ascontiguousarray(w))
        if fmt == "int8":
            return self._int8(w)
        return self._int4(w)

    def _int8(self, w: np.ndarray) -> Any:
        lo, hi = w.min(axis=1, keepdims=True), w.max(axis=1, keepdims=True)
        scale = np.maximum((hi - lo) / 255.0, 1e-5).astype(np.float16)
        zp = np.clip(np.round(-lo / scale.astype(np.float32)), 0, 255).astype(np.uint8)
        q = np.clip(np.round(w / scale.astype(np.float32)) + zp, 0, 255).astype(np.uint8)
        ops = self.ops
        deq = ops.multiply(
            ops.subtract(ops.convert(ops.constant(q), "f16"), ops.convert(ops.constant(zp), "f16")),
            ops.constant(scale),
        )
        return ops.convert(deq, "f32")

    def _int4(self, w: np.ndarray) -> Any:
        import openvino as ov

        out, inp = w.shape
        if inp % _INT4_GROUP:
            return self._int8(w)
        g = w.reshape(out, inp // _INT4_GROUP, _INT4_GROUP)
        lo, hi = g.min(axis=2, keepdims=True), g.max(axis=2, keepdims=True)
        scale = np.maximum((hi - lo) / 15.0, 1e-5).astype(np.float16)
        zp = np.clip(np.round(-lo / scale.astype(np.float32)), 0, 15).astype(np.uint8)
        q = np.clip(np.round(g / scale.astype(np.float32)) + zp, 0, 15).astype(np.uint8)
        ops = self.ops
        deq = ops.multiply(
            ops.subtract(ops.convert(_u4_const(ov, q), "f16"), ops.convert(_u4_const(ov, zp), "f16")),
            ops.constant(scale),
        )
        return ops.convert(ops.reshape(deq, self.const([out, inp]), special_zero=False), "f32")

    def linear(self, x: Any, key: str) -> Any:
        return self.ops.matmul(x, self.weight(key), transpose_a=False, transpose_b=True)

    def rms_norm(self, x: Any, key: str) -> Any:
        # transformers' LlamaRMSNorm in fp32: x * rsqrt(mean(x²) + eps), then weight * x.
        ops = self.ops
        var = ops.reduce_mean(ops.power(x, self.const(2.0, np.float32)), self.const([-1]), keep_dims=True)
        normed = ops.multiply(
            x,
            ops.divide(self.const(1.0, np.float32), ops.sqrt(ops.add(var, self.const(self.shape.rms_eps, np.float32)))),
        )
        return ops.multiply(self.ops.constant(self.weights.pop(key).reshape(1, 1, -1)), normed)


def _u4_const(ov: Any, values: np.ndarray) -> Any:
    flat = values.reshape(-1)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    packed = (flat[0::2] & 0x0F) | (flat[1::2] << 4)
    tensor = ov.Tensor(ov.Type.u4, ov.Shape(list(values.shape)))
    tensor.data[:] = packed.astype(np.uint8)[: tensor.data.size]
    return ov.op.Constant(tensor)


def _attention(g: _Graph, x: Any, i: int, io: dict[str, Any]) -> tuple[Any, list[Any]]:
    """Self-attention of layer ``i``: ``x`` is (B, T, C); returns (B, T, C) and the cache sinks."""
    import openvino as ov

    ops, s = g.ops, g.shape
    prefix = f"model.layers.{i}.self_attn"

    def heads(t: Any, n: int) -> Any:  # (B, T, n*D) -> (B, n, T, D)
        return ops.transpose(ops.reshape(t, g.const([0, 0, n, s.head_dim]), special_zero=True), g.const([0, 2, 1, 3]))

    q = heads(g.linear(x, f"{prefix}.q_proj.weight"), s.heads)
    k = heads(g.linear(x, f"{prefix}.k_proj.weight"), s.kv_heads)
    v = heads(g.linear(x, f"{prefix}.v_proj.weight"), s.kv_heads)
    cos, sin = io["cos"], io["sin"]
    q = ops.add(ops.multiply(q, cos), ops.multiply(_rotate_half(g, q), sin))
    k = ops.add(ops.multiply(k, cos), ops.multiply(_rotate_half(g, k), sin))
    sinks = []
    full = []
    for name, new in (("key", k), ("value", v)):
        info = ov.op.util.VariableInfo()
        info.variable_id = f"past_key_values.{i}.{name}present.{i}.{name}"
        info.data_type = ov.Type.f32
        info.data_shape = ov.PartialShape([-1, s.kv_heads, -1, s.head_dim])
        var = ov.op.util.Variable(info)
        empty = ops.broadcast(
            g.const(0.0, np.float32),
            ops.concat([io["batch"], g.const([s.kv_heads, 0, s.head_dim])], 0),
        )
        past = ops.gather(ov.op.read_value(empty, var), io["beam_idx"], g.const(0))
        cat = ops.concat([past, new], 2)  # (B, KVH, past+T, D)
        sinks.append(ov.op.assign(cat, var))
        full.append(cat)
    k_all, v_all = full
    if s.heads != s.kv_heads:
        rep = s.heads // s.kv_heads

        def repeat(t: Any) -> Any:  # (B, KVH, L, D) -> (B, H, L, D), like transformers' repeat_kv
            target = ops.concat([io["batch"], g.const([s.kv_heads, rep, 1, s.head_dim])], 0)
            wide = ops.broadcast(ops.unsqueeze(t, g.const(2)), target, broadcast_spec="BIDIRECTIONAL")
            return ops.reshape(wide, g.const([0, s.heads, -1, s.head_dim]), special_zero=True)

        k_all, v_all = repeat(k_all), repeat(v_all)
    if "mask" not in io:
        io["mask"] = _causal_mask(g, io, k_all)
    att = ops.scaled_dot_product_attention(q, k_all, v_all, io["mask"], causal=False)
    att = ops.reshape(ops.transpose(att, g.const([0, 2, 1, 3])), g.const([0, 0, -1]), special_zero=True)
    return g.linear(att, f"{prefix}.o_proj.weight"), sinks


def _rotate_half(g: _Graph, x: Any) -> Any:
    ops, half = g.ops, g.shape.head_dim // 2
    first = ops.slice(x, g.const([0]), g.const([half]), g.const([1]), g.const([3]))
    second = ops.slice(x, g.const([half]), g.const([g.shape.head_dim]), g.const([1]), g.const([3]))
    return ops.concat([ops.negative(second), first], -1)


def _causal_mask(g: _Graph, io: dict[str, Any], keys: Any) -> Any:
    """(B, 1, T, past+T) additive mask: a query sees earlier positions that are not padding."""
    ops = g.ops
    total = ops.gather(ops.shape_of(keys), g.const(2), g.const(0))  # past + T (scalar)
    new = ops.gather(ops.shape_of(io["input_ids"]), g.const(1), g.const(0))  # T
    q_pos = ops.unsqueeze(ops.range(ops.subtract(total, new), total, g.const(1), "i64"), g.const(1))  # (T, 1)
    k_pos = ops.range(g.const(0), total, g.const(1), "i64")  # (past+T,)
    causal = ops.less_equal(k_pos, q_pos)  # (T, past+T)
    padding = ops.not_equal(ops.unsqueeze(io["attention_mask"], g.const([1, 2])), g.const(0))  # (B, 1, 1, past+T)
    allowed = ops.logical_and(causal, padding)
    return ops.select(allowed, g.const(0.0, np.float32), g.const(_NEG, np.float32))


def _rope(g: _Graph, position_ids: Any, batch: Any) -> tuple[Any, Any]:
    """cos, sin of shape (B, 1, T, D), computed as transformers' LlamaRotaryEmbedding does in fp32."""
    ops, s = g.ops, g.shape
    exponent = np.arange(0, s.head_dim, 2, dtype=np.int64).astype(np.float32) / np.float32(s.head_dim)
    inv_freq = (np.float32(1.0) / (np.float32(s.rope_theta) ** exponent)).astype(np.float32)
    inv = ops.broadcast(
        g.const(inv_freq.reshape(1, -1, 1), np.float32),
        ops.concat([batch, g.const([1, 1])], 0),
        broadcast_spec="BIDIRECTIONAL",
    )
    pos = ops.convert(ops.unsqueeze(position_ids, g.const(1)), "f32")  # (B, 1, T)
    freqs = ops.transpose(ops.matmul(inv, pos, False, False), g.const([0, 2, 1]))  # (B, T, D/2)
    emb = ops.concat([freqs, freqs], -1)
    return ops.unsqueeze(ops.cos(emb), g.const(1)), ops.unsqueeze(ops.sin(emb), g.const(1))


def build_model(shape: LlamaShape, weights: dict[str, np.ndarray], fmt: WeightFormat) -> Any:
    """The ``ov.Model`` of a Llama checkpoint (weights are consumed from ``weights``)."""
    import openvino as ov

    g = _Graph(shape, weights, fmt)
    ops = g.ops
    params = {}
    for name, dtype, pshape in (
        ("input_ids", ov.Type.i64, [-1, -1]),
        ("attention_mask", ov.Type.i64, [-1, -1]),
        ("position_ids", ov.Type.i64, [-1, -1]),
        ("beam_idx", ov.Type.i32, [-1]),
    ):
        p = ops.parameter(ov.PartialShape(pshape), dtype, name=name)
        p.output(0).set_names({name})
        params[name] = p
    batch = ops.gather(ops.shape_of(params["input_ids"]), g.const([0]), g.const(0))
    embed_fmt: WeightFormat = "fp32" if fmt == "fp32" else "int8"
    table = g.weight("model.embed_tokens.weight", embed_fmt)
    x = ops.gather(table, ops.convert(params["input_ids"], "i32"), g.const(0))
    cos, sin = _rope(g, params["position_ids"], batch)
    io: dict[str, Any] = {**params, "batch": batch, "cos": cos, "sin": sin}
    sinks: list[Any] = []
    for i in range(shape.layers):
        h = g.rms_norm(x, f"model.layers.{i}.input_layernorm.weight")
        att, layer_sinks = _attention(g, h, i, io)
        sinks += layer_sinks
        x = ops.add(x, att)
        h = g.rms_norm(x, f"model.layers.{i}.post_attention_layernorm.weight")
        gate = ops.swish(g.linear(h, f"model.layers.{i}.mlp.gate_proj.weight"))
        x = ops.add(
            x,
            g.linear(
                ops.multiply(gate, g.linear(h, f"model.layers.{i}.mlp.up_proj.weight")),
                f"model.layers.{i}.mlp.down_proj.weight",
            ),
        )
    x = g.rms_norm(x, "model.norm.weight")
    head = table if shape.tied or "lm_head.weight" not in weights else g.weight("lm_head.weight", embed_fmt)
    logits = ops.matmul(x, head, False, True)
    result = ops.result(logits)
    result.output(0).set_names({"logits"})
    return ov.Model([result], sinks, list(params.values()), "alignlab-llama")


def ir_dir(cache_root: Path, model_dir: Path, fmt: WeightFormat) -> Path:
    """Where the IR of ``model_dir`` in format ``fmt`` is cached (keyed by the weights' identity)."""
    import hashlib

    stamp = [str(model_dir.resolve())]
    for file in sorted(model_dir.glob("*.safetensors")):
        st = file.stat()
        stamp.append(f"{file.name}:{st.st_size}:{st.st_mtime_ns}")
    digest = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:12]
    return cache_root / f"{model_dir.name}-{digest}" / fmt


def export_ir(model_dir: Path, out: Path, fmt: WeightFormat) -> Path:
    """Export ``model_dir`` to ``out`` (IR, tokenizer, configs) unless it is already there.

    Returns:
        ``out``, holding ``openvino_model.xml`` and the files GenAI reads beside it.

    Raises:
        ExportError: the model is not a supported Llama, or its weights are missing.
    """
    if (out / _MARKER).is_file():
        return out
    import openvino as ov

    shape = read_llama_shape(model_dir)
    weights = _load_weights(model_dir)
    model = build_model(shape, weights, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    try:
        ov.save_model(model, tmp / IR_FILE, compress_to_fp16=False)
        for name in ("config.json", "generation_config.json"):
            if (model_dir / name).is_file():
                shutil.copy(model_dir / name, tmp / name)
        (tmp / _MARKER).write_text(f"{model_dir} {fmt}\n")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
