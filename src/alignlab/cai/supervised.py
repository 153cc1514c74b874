"""The supervised phase: red-team prompts, initial answers, K rounds of critique and revision.

For each prompt the base model answers; then, K times, a principle is drawn at random
(seeded by the run seed, the prompt id and the round, so a resumed run draws the same ones),
the model is asked that principle's critique request about its last answer, and then its
revision request. The conversation grows round by round, as in the CAI paper. Each round is
one batch of calls for all prompts, through the run's call cache.

Every step is kept: ``chains.jsonl`` rows are ``{"id", "prompt", "initial", "revisions":
[{"principle", "critique_request", "critique", "revision_request", "revision"}], "final"}``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.cai.config import CritiqueOptions, HelpfulMix, RedteamOptions
from alignlab.cai.constitution import Constitution, Principle
from alignlab.cai.generate import Generator, GenParams, Messages
from alignlab.data import load_prompts
from alignlab.data.training_sets import load_training_rows
from alignlab.errors import DatasetError, InputError
from alignlab.settings import Settings

__all__ = ["RedteamPrompt", "build_chains", "helpful_rows", "load_redteam_prompts", "sft_rows", "split_prompts"]

Row = dict[str, Any]
HH_SOURCE = "hh-rlhf-harmless"


@dataclass(frozen=True)
class RedteamPrompt:
    """One red-team prompt with a stable id (``<source>:<id>``)."""

    id: str
    prompt: str


def _from_jsonl(path: Path) -> list[RedteamPrompt]:
    if not path.is_file():
        raise InputError(f"red-team prompt file {path} not found")
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON lines ({exc.msg} at line {exc.lineno})") from None
    out = []
    for i, row in enumerate(rows):
        prompt = row.get("prompt")
        if isinstance(prompt, list):  # conversational: the first user turn
            prompt = next((m.get("content") for m in prompt if m.get("role") == "user"), None)
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputError(f"{path}: row {i + 1} needs a 'prompt' string (or chat messages)")
        out.append(RedteamPrompt(f"{path.name}:{row.get('id', i)}", prompt.strip()))
    return out


def _from_source(source: str, settings: Settings) -> list[RedteamPrompt]:
    if source.endswith(".jsonl"):
        return _from_jsonl(Path(source).expanduser())
    if source == HH_SOURCE:
        rows = load_training_rows(HH_SOURCE, settings)
        return [RedteamPrompt(f"{HH_SOURCE}:{i}", r["prompt"][0]["content"]) for i, r in enumerate(rows)]
    return [RedteamPrompt(f"{source}:{r.id}", r.prompt) for r in load_prompts(source, settings) if r.label == "harmful"]


def load_redteam_prompts(options: RedteamOptions, settings: Settings, *, seed: int) -> list[RedteamPrompt]:
    """All prompts of the configured sources, de-duplicated by text and shuffled with ``seed``.

    Raises:
        DatasetError: Fewer prompts than the two phases need together.
    """
    seen: set[str] = set()
    prompts = []
    for source in options.sources:
        for p in _from_source(source, settings):
            if p.prompt not in seen:
                seen.add(p.prompt)
                prompts.append(p)
    prompts.sort(key=lambda p: p.id)
    random.Random(seed).shuffle(prompts)
    need = options.n_sl_prompts + options.n_rl_prompts
    if len(prompts) < need:
        raise DatasetError(
            f"redteam.sources give {len(prompts)} distinct prompts; n_sl_prompts + n_rl_prompts need {need}"
        )
    return prompts


def split_prompts(prompts: list[RedteamPrompt], options: RedteamOptions) -> tuple[list[RedteamPrompt], ...]:
    """(critique-phase prompts, feedback-phase prompts): disjoint, the first ones for the first phase."""
    return prompts[: options.n_sl_prompts], prompts[options.n_sl_prompts : options.n_sl_prompts + options.n_rl_prompts]


def _principle(constitution: Constitution, seed: int, prompt_id: str, round_: int) -> Principle:
    return constitution.draw(random.Random(f"{seed}:critique:{prompt_id}:{round_}"))


def build_chains(
    generator: Generator,
    model: str,
    prompts: list[RedteamPrompt],
    constitution: Constitution,
    options: CritiqueOptions,
    *,
    seed: int,
) -> list[Row]:
    """Initial answer, then ``options.revisions`` critique-revision rounds, for every prompt."""
    params = GenParams(options.max_new_tokens, options.temperature, seed)
    talks: list[Messages] = [[{"role": "user", "content": p.prompt}] for p in prompts]
    initial = generator.generate(model, talks, [params] * len(talks), "critique")
    for talk, answer in zip(talks, initial, strict=True):
        talk.append({"role": "assistant", "content": answer})
    chains: list[Row] = [
        {"id": p.id, "prompt": p.prompt, "initial": a, "revisions": [], "final": a}
        for p, a in zip(prompts, initial, strict=True)
    ]
    for round_ in range(options.revisions):
        drawn = [_principle(constitution, seed, p.id, round_) for p in prompts]
        for talk, principle in zip(talks, drawn, strict=True):
            talk.append({"role": "user", "content": principle.critique_request})
        critiques = generator.generate(model, talks, [params] * len(talks), "critique")
        for talk, critique, principle in zip(talks, critiques, drawn, strict=True):
            talk += [
                {"role": "assistant", "content": critique},
                {"role": "user", "content": principle.revision_request},
            ]
        revisions = generator.generate(model, talks, [params] * len(talks), "critique")
        for talk, chain, principle, critique, revision in zip(talks, chains, drawn, critiques, revisions, strict=True):
            talk.append({"role": "assistant", "content": revision})
            chain["revisions"].append(
                {
                    "principle": principle.name,
                    "critique_request": principle.critique_request,
                    "critique": critique,
                    "revision_request": principle.revision_request,
                    "revision": revision,
                }
            )
            chain["final"] = revision
    return chains


def helpful_rows(mix: HelpfulMix | None, n_chains: int, settings: Settings, *, seed: int) -> list[Row]:
    """``round(ratio × n_chains)`` prompt/completion rows from the helpful dataset (safe rows when labelled)."""
    if mix is None or mix.ratio == 0 or n_chains == 0:
        return []
    rows = load_training_rows(mix.dataset, settings)
    if rows and "label" in rows[0]:
        rows = [r for r in rows if r["label"] == "safe"]
    if not rows or not {"prompt", "completion"} <= set(rows[0]):
        raise DatasetError(f"helpful.dataset {mix.dataset!r} needs prompt/completion rows")
    rng = random.Random(f"{seed}:helpful")
    picked = rng.sample(rows, min(len(rows), round(mix.ratio * n_chains)))
    return [{"prompt": r["prompt"], "completion": r["completion"]} for r in picked]


def sft_rows(chains: list[Row]) -> list[Row]:
    """TRL conversational prompt/completion rows: each red-team prompt with its final revision."""
    return [
        {
            "prompt": [{"role": "user", "content": c["prompt"]}],
            "completion": [{"role": "assistant", "content": c["final"]}],
        }
        for c in chains
        if c["final"].strip()
    ]
