"""The before/after demo: evaluate ``default`` → align it with LoRA SFT → evaluate again.

Training data is ``alignlab-refusal-sft`` (the built-in red-team requests with safe refusals
plus the built-in look-alikes with helpful answers). The evaluation uses *other* prompts —
StrongREJECT (small) for harmful compliance and XSTest for over-refusal — so the table
measures whether the behaviour generalises, not whether the model memorised its training
prompts. Both suites pick an evenly spaced subset so every category is represented.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from alignlab.data import load_prompts
from alignlab.evals.runner import Display, SuiteRun, run_suite
from alignlab.scorers.correction import CorrectedRate
from alignlab.settings import Settings
from alignlab.stats import TwoProportionTest, two_proportion_test
from alignlab.store import Store
from alignlab.train.common import TrainResult
from alignlab.train.config import config_from_dict
from alignlab.train.sft import train_sft

__all__ = ["DemoResult", "DemoRow", "run_align_demo", "spread_ids"]

REDTEAM_DATASET = "strongreject-small"
OVERREFUSAL_DATASET = "xstest"


@dataclass(frozen=True)
class DemoRow:
    """One measure before and after, with the two-proportion test (``b`` = after).

    ``before_corrected``/``after_corrected``: the two rates corrected for the scorer's error
    (``None`` when the measure's scorer has no card).
    """

    measure: str
    dataset: str
    test: TwoProportionTest
    before_corrected: CorrectedRate | None = None
    after_corrected: CorrectedRate | None = None


@dataclass(frozen=True)
class DemoResult:
    """Everything the demo produced."""

    baseline: list[SuiteRun]
    aligned: list[SuiteRun]
    checkpoint: TrainResult
    rows: list[DemoRow]
    wall_s: float


def spread_ids(dataset: str, n: int, settings: Settings) -> list[str]:
    """``n`` evenly spaced sample ids of a dataset (its files are ordered by category)."""
    ids = [r.id for r in load_prompts(dataset, settings)]
    if n >= len(ids):
        return ids
    return [ids[int(i * len(ids) / n)] for i in range(n)]


def _evaluate(
    model: str, *, settings: Settings, store: Store, ids: dict[str, list[str]], max_tokens: int, display: Display
) -> list[SuiteRun]:
    return [
        run_suite(
            suite,
            model,
            settings=settings,
            store=store,
            dataset=dataset,
            sample_ids=ids[suite],
            max_tokens=max_tokens,
            display=display,
        )
        for suite, dataset in (("redteam", REDTEAM_DATASET), ("overrefusal", OVERREFUSAL_DATASET))
    ]


def _compare(before: list[SuiteRun], after: list[SuiteRun]) -> list[DemoRow]:
    rows = []
    for b, a in zip(before, after, strict=True):
        for measure, p_before in b.summary.overall().items():
            p_after = a.summary.overall()[measure]
            test = two_proportion_test(p_before.successes, p_before.n, p_after.successes, p_after.n)
            corrected = (b.summary.corrected().get(measure), a.summary.corrected().get(measure))
            rows.append(DemoRow(measure, b.summary.dataset, test, *corrected))
    return rows


def run_align_demo(
    *,
    settings: Settings,
    store: Store,
    model: str = "default",
    steps: int = 30,
    n_redteam: int = 20,
    n_overrefusal: int = 30,
    max_tokens: int = 48,
    name: str | None = None,
    display: Display = "rich",
) -> DemoResult:
    """Run the whole loop and return the before/after comparison.

    Args:
        settings: Paths, data directory and store URL.
        store: Where the eval runs and the checkpoint are recorded.
        model: The model to align.
        steps: LoRA SFT optimizer steps (batch 4).
        n_redteam: Held-out harmful prompts (StrongREJECT small has 60).
        n_overrefusal: Held-out XSTest prompts, safe and unsafe (450 in all).
        max_tokens: Generation budget per answer.
        name: Checkpoint name (``align-demo-<time>`` by default).
        display: Inspect's progress display.
    """
    started = time.perf_counter()
    ids = {
        "redteam": spread_ids(REDTEAM_DATASET, n_redteam, settings),
        "overrefusal": spread_ids(OVERREFUSAL_DATASET, n_overrefusal, settings),
    }
    baseline = _evaluate(model, settings=settings, store=store, ids=ids, max_tokens=max_tokens, display=display)
    config = config_from_dict(
        "sft",
        {
            "model": model,
            "datasets": ["alignlab-refusal-sft"],
            "name": name or f"align-demo-{time.strftime('%Y%m%d-%H%M%S')}",
            "lora": {"r": 16, "alpha": 32},
            "max_steps": steps,
            "per_device_train_batch_size": 4,
            "learning_rate": 1e-3,
            "max_length": 256,
            "save_strategy": "no",
        },
    )
    trained = train_sft(config, settings=settings, store=store)
    aligned = _evaluate(
        trained.model_name, settings=settings, store=store, ids=ids, max_tokens=max_tokens, display=display
    )
    return DemoResult(baseline, aligned, trained, _compare(baseline, aligned), time.perf_counter() - started)
