"""Simulated error rates of the gate's regression check (prints figures; asserts nothing).

For paired binary outcomes with discordant probabilities ``q_reg`` (event only under the
candidate) and ``q_imp`` (only under the baseline), the true difference is ``q_reg - q_imp``.
The check should *fail* at most ``alpha`` of the time when the true difference equals the
tolerance, and *pass* at most ``alpha`` of the time when it equals the tolerance as well
(the boundary is the hardest case for both one-sided tests).

    python benchmarks/gate_error_rates.py [reps]
"""

from __future__ import annotations

import sys

import numpy as np

from alignlab.stats import PairedTable, paired_proportion_test


def rates(
    n: int, q_both: float, q_reg: float, q_imp: float, margin: float, reps: int, seed: int
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, [q_both, q_reg, q_imp, 1 - q_both - q_reg - q_imp], size=reps)
    fail = passed = 0
    for both, reg, imp, neither in counts:
        t = paired_proportion_test(PairedTable(int(both), int(reg), int(imp), int(neither)), margin=margin, alpha=0.05)
        fail += t.p_worse < 0.05
        passed += t.p_within < 0.05
    return fail / reps, passed / reps


def main(reps: int) -> None:
    print(f"alpha = 0.05, {reps} simulated gates per row; fail/pass = share of runs with that check verdict")
    print(f"{'n':>5} {'margin':>6} {'true diff':>9} {'q_reg':>6} {'q_imp':>6} {'fail':>6} {'pass':>6}")
    scenarios = [
        (50, 0.0, 0.05, 0.05),
        (200, 0.0, 0.05, 0.05),
        (200, 0.0, 0.02, 0.02),  # no change, McNemar
        (100, 0.05, 0.10, 0.05),
        (400, 0.05, 0.10, 0.05),
        (400, 0.05, 0.06, 0.01),  # at the tolerance
        (400, 0.05, 0.02, 0.02),
        (400, 0.05, 0.15, 0.02),  # clearly within / clearly beyond
    ]
    for i, (n, margin, q_reg, q_imp) in enumerate(scenarios):
        fail, passed = rates(n, 0.05, q_reg, q_imp, margin, reps, seed=i)
        print(f"{n:>5} {margin:>6.2f} {q_reg - q_imp:>+9.2f} {q_reg:>6.2f} {q_imp:>6.2f} {fail:>6.3f} {passed:>6.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
