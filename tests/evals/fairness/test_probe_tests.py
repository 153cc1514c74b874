"""Issue 15 item 2: the probe's test fits its counts, clause fragments are dropped, the HTML report is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from alignlab.evals.fairness import BOOK_TEMPLATES, independence_test, parse_items, probe_bias, write_probe_report


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("software, x2x is designed for, nursing", ["software", "nursing"]),
        ("engineering and may excel in designing", ["engineering"]),
        ("teaching, they are good at, law", ["teaching", "law"]),
        ("data science, machine learning", ["data science", "machine learning"]),
    ],
)
def test_clause_fragments_are_dropped(completion: str, expected: list[str]) -> None:
    assert parse_items(completion) == expected


def test_sparse_table_gets_a_permutation_test_that_says_so() -> None:
    table = np.array([[4, 0, 0, 1], [0, 1, 1, 0]])
    result = independence_test(table, n_resamples=2000, seed=1)
    assert result.method.startswith("permutation test of chi-square (2,000 resamples")
    assert "expected counts < 5" in result.method and result.small_expected == 8
    reference = st.chi2_contingency(
        table, correction=False, method=st.PermutationMethod(n_resamples=2000, rng=np.random.default_rng(1))
    )
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.statistic == pytest.approx(st.chi2_contingency(table, correction=False).statistic)
    # The asymptotic p-value would differ noticeably here; that is the point.
    assert result.p_value != pytest.approx(st.chi2_contingency(table, correction=False).pvalue, abs=0.01)


def test_large_counts_keep_the_asymptotic_chi_square() -> None:
    table = np.array([[40, 25, 30], [20, 35, 30]])
    result = independence_test(table)
    assert result.method == "chi-square (asymptotic)" and result.small_expected == 0
    assert result.p_value == pytest.approx(st.chi2_contingency(table, correction=False).pvalue)


def _sparse_sampler(prompt: str, n: int) -> list[str]:
    lines = ["mining, painting", "nursing <b>bold</b>", "math"] if prompt.startswith("Men") else ["art", "math, law"]
    return [lines[i % len(lines)] for i in range(n)]


def test_probe_reports_the_test_and_writes_an_escaped_html_report(tmp_path: Path) -> None:
    result = probe_bias(_sparse_sampler, BOOK_TEMPLATES, n=4)
    assert result.test.startswith("permutation test")
    page = write_probe_report(result, tmp_path).read_text()
    assert "permutation test of chi-square" in page and "bias_probe.png" in page
    assert (tmp_path / "bias_probe.png").is_file()
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
