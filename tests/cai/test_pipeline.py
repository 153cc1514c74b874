"""The whole chain on the tiny random model with a scripted feedback model.

critique → sft → label → preference-model → rlaif, with an injected failure half-way through
the critique step: the rerun takes every finished call from the cache and completes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from alignlab.cai.config import CaiConfig, RedteamOptions, load_cai_config
from alignlab.cai.generate import Generator
from alignlab.cai.pipeline import read_manifest, run_pipeline
from alignlab.errors import ConfigError, InputError
from alignlab.settings import Settings
from alignlab.store import Store, checkpoint_lineage, get_checkpoint, list_runs
from tests.cai.conftest import JUDGE, marker_of, scripted_judge

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cai" / "cai-tiny.yaml"
CHAIN_KEYS = {"id", "prompt", "initial", "revisions", "final"}
REVISION_KEYS = {"principle", "critique_request", "critique", "revision_request", "revision"}


def _config(tiny_model_dir: Path, prompt_file: Path, **feedback: Any) -> CaiConfig:
    config = load_cai_config(EXAMPLE)
    return replace(
        config,
        name="tinyrun",
        model=str(tiny_model_dir),
        redteam=RedteamOptions(sources=(str(prompt_file),), n_sl_prompts=3, n_rl_prompts=6),
        feedback=replace(config.feedback, model=JUDGE, **feedback),
    )


def _run(config: CaiConfig, settings: Settings, store: Store, **kwargs: Any) -> Any:
    return run_pipeline(
        config, settings=settings, store=store, progress=False, models={JUDGE: scripted_judge()}, **kwargs
    )


def test_step_out_of_order_names_missing_artefact(
    tiny_model_dir: Path, prompt_file: Path, settings: Settings, store: Store
) -> None:
    config = _config(tiny_model_dir, prompt_file)
    with pytest.raises(InputError, match=r"step 'sft' needs chains.jsonl in .*tinyrun, which step 'critique' makes"):
        _run(config, settings, store, step="sft")
    with pytest.raises(InputError, match=r"step 'rlaif' needs the checkpoint <run>-sft .* step 'sft' makes"):
        _run(config, settings, store, step="rlaif")


def _fail_on_third_call(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Generator.generate
    calls = {"n": 0}

    def flaky(self: Generator, *args: Any, **kwargs: Any) -> list[str]:
        calls["n"] += 1
        if calls["n"] == 3:  # initial answers and first critiques are done; the revisions are not
            raise RuntimeError("injected crash")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Generator, "generate", flaky)


def _check_chains(run_dir: Path) -> None:
    chains = [json.loads(x) for x in (run_dir / "chains.jsonl").read_text().splitlines()]
    assert len(chains) == 3
    for chain in chains:
        assert set(chain) == CHAIN_KEYS and len(chain["revisions"]) == 2
        assert all(set(r) == REVISION_KEYS for r in chain["revisions"])
        assert chain["final"] == chain["revisions"][-1]["revision"]
        assert chain["revisions"][0]["critique_request"] != ""


def _check_feedback(run_dir: Path, stats: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (run_dir / "ai_preferences.jsonl").read_text().splitlines()]
    kinds = [marker_of(r["prompt"][0]["content"]) for r in rows]
    n_consistent, n_flip, n_garbage = (kinds.count(m) for m in ("[consistent]", "[flip]", "[garbage]"))
    assert len(rows) == 6 and min(n_consistent, n_flip, n_garbage) >= 1, kinds
    assert stats["consistent"] == n_consistent and stats["inconsistent"] == n_flip
    assert stats["unparsed"] == 2 * n_garbage and stats["unparsed_pairs"] == n_garbage
    assert stats["consistency"]["n"] == n_consistent + n_flip
    assert stats["kept"] == n_consistent  # policy drop
    return rows


@pytest.mark.slow
def test_whole_chain_resumes_and_records_lineage(
    tiny_model_dir: Path, prompt_file: Path, settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tiny_model_dir, prompt_file)
    with monkeypatch.context() as patch:
        _fail_on_third_call(patch)
        with pytest.raises(RuntimeError, match="injected crash"):
            _run(config, settings, store, until="critique")
    state = read_manifest("tinyrun", settings)
    assert state.status("critique") == "failed" and "injected crash" in state.manifest["stages"]["critique"]["error"]
    assert len((state.run_dir / "calls.jsonl").read_text().splitlines()) == 6  # 3 answers + 3 critiques

    state = _run(config, settings, store, until="rlaif")
    stages = state.manifest["stages"]
    assert stages["critique"]["calls"] == {"critique": {"new": 9, "cached": 6}}  # 3 prompts x (1 + 2 x 2) calls
    _check_chains(state.run_dir)
    labels = stages["critique"]["metrics"]["refusal_labels"]
    assert sum(labels["initial"].values()) == sum(labels["final"].values()) == 3
    rows = _check_feedback(state.run_dir, stages["label"]["metrics"])
    assert stages["label"]["calls"] == {"sample": {"new": 12, "cached": 0}, "feedback": {"new": 12, "cached": 0}}

    # lineage: sft <- base, rlaif <- sft, and the rlaif checkpoint names its preference model
    sft, pm, rlaif = (get_checkpoint(store, f"tinyrun-{s}") for s in ("sft", "pm", "rlaif"))
    assert (sft.parent, sft.base_model) == (None, str(tiny_model_dir))
    assert [c.name for c in checkpoint_lineage(store, "tinyrun-rlaif")] == ["tinyrun-rlaif", "tinyrun-sft"]
    assert rlaif.config["reward_model"] == "ckpt:tinyrun-pm" and pm.recipe == "reward"
    assert sft.datasets[0].n_rows == 3 + 2  # three final revisions + round(0.5 x 3) helpful rows
    assert pm.datasets[0].n_rows == 2 * (
        len([r for r in rows if r["status"] == "consistent"])
        - len((state.run_dir / "pm_heldout.jsonl").read_text().splitlines())
    )

    pm_metrics = stages["preference-model"]["metrics"]
    assert pm_metrics["human_accuracy"]["n"] == 6 and 0 <= pm_metrics["human_accuracy"]["rate"] <= 1
    assert (
        pm_metrics["human_accuracy"]["low"]
        <= pm_metrics["human_accuracy"]["rate"]
        <= pm_metrics["human_accuracy"]["high"]
    )
    assert pm_metrics["ai_heldout_accuracy"]["n"] == len((state.run_dir / "pm_heldout.jsonl").read_text().splitlines())

    # every step is a store row pointing at the run
    suites = {r.suite: r for r in list_runs(store) if r.dataset == "tinyrun" and r.status == "success"}
    assert set(suites) == {"cai-critique", "cai-sft", "cai-label", "cai-preference-model", "cai-rlaif"}
    assert suites["cai-label"].metrics["metrics"]["consistent"] == stages["label"]["metrics"]["consistent"]
    manifest = json.loads((state.run_dir / "manifest.json").read_text())
    assert set(manifest["timings"]) == {s.removeprefix("cai-") for s in suites}
    assert manifest["calls"] == {"critique": {"new": 9, "cached": 6}, "label": {"new": 24, "cached": 0}}

    # a second run skips every finished step and makes no model call
    events: list[tuple[str, str]] = []
    _run(config, settings, store, until="rlaif", on_stage=lambda s, e: events.append((s, e)))
    assert {e for _, e in events} == {"skipped"} and len(events) == 5
    # ... and refuses to pass off old artefacts as the product of a changed config
    changed = replace(config, critique=replace(config.critique, revisions=3))
    with pytest.raises(ConfigError, match=r"step 'critique' of run 'tinyrun' was made with critique = .*revisions.: 2"):
        _run(changed, settings, store, until="rlaif")
    bigger_rl = replace(config, train=replace(config.train, rl={**config.train.rl, "max_steps": 2}))
    with pytest.raises(ConfigError, match=r"step 'rlaif' of run 'tinyrun' was made with train.rl = "):
        _run(bigger_rl, settings, store, until="rlaif")
    _run(bigger_rl, settings, store, until="preference-model")  # the earlier steps did not depend on train.rl
