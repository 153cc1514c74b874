"""Coverage of the corrected-rate interval with known truth (prints figures; asserts nothing).

Each repetition draws a scorer card (true positives of ``positives`` human-labelled events at
sensitivity ``Se``, true negatives of ``negatives`` non-events at specificity ``Sp``) and a
sample of ``n`` answers whose true event rate is ``truth``, lets the scorer label them, and
asks whether the 95% interval covers ``truth``. Beside it: how often the observed rate's Wilson
interval (what a table without correction shows) covers the true rate.

    python benchmarks/corrected_coverage.py [reps]
"""

from __future__ import annotations

import sys

import numpy as np

from alignlab.scorers.correction import BinaryAccuracy, correct_rate
from alignlab.stats import wilson_interval

# (true rate, Se, Sp, n, card positives, card negatives)
SCENARIOS = [
    (0.30, 0.90, 0.95, 50, 300, 300),
    (0.86, 0.70, 0.90, 50, 100, 100),
    (0.05, 0.85, 0.97, 100, 200, 400),
    (0.50, 0.80, 0.80, 30, 50, 50),
    (0.00, 0.90, 0.90, 50, 100, 100),
    (0.10, 0.95, 0.90, 20, 30, 300),
    (0.02, 0.90, 0.99, 200, 100, 500),
    (0.40, 0.93, 0.96, 400, 600, 1500),
]


def coverage(scenario: tuple[float, float, float, int, int, int], reps: int, seed: int) -> tuple[float, float, float]:
    truth, se, sp, n, positives, negatives = scenario
    rng = np.random.default_rng(seed)
    covered = observed_covered = 0
    width = 0.0
    for rep in range(reps):
        tp, tn = int(rng.binomial(positives, se)), int(rng.binomial(negatives, sp))
        event = rng.random(n) < truth
        flagged = int(np.where(event, rng.random(n) < se, rng.random(n) < 1 - sp).sum())
        c = correct_rate(flagged, n, BinaryAccuracy(tp, positives - tp, tn, negatives - tn), draws=4000, seed=rep)
        covered += c.low <= truth <= c.high
        width += c.high - c.low
        w = wilson_interval(flagged, n)
        observed_covered += w.low <= truth <= w.high
    return covered / reps, width / reps, observed_covered / reps


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"{reps} repetitions per row; 95% intervals")
    print(
        "| true rate | Se | Sp | n | card events / non-events | corrected covers | mean width "
        "| observed (Wilson) covers |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, sc in enumerate(SCENARIOS):
        cov, width, observed = coverage(sc, reps, seed=1000 + i)
        truth, se, sp, n, pos, neg = sc
        print(f"| {truth:.2f} | {se:.2f} | {sp:.2f} | {n} | {pos} / {neg} | {cov:.3f} | {width:.3f} | {observed:.3f} |")


if __name__ == "__main__":
    main()
