"""Statistics shared by every layer: intervals, paired tests, multiple comparisons, bootstrap, κ.

The ground floor of alignlab: nothing here imports another alignlab package. Where scipy,
statsmodels or scikit-learn already compute a statistic they do (Wilson intervals, Newcombe's
interval for two independent rates, Holm, κ); what is written here is what they lack (the
gate's paired tolerance test, Newcombe's interval for paired rates, the paired bootstrap's
one-sided p-values).

* :mod:`.proportions`: a rate with its Wilson interval, two independent rates, a rate against a bound;
* :mod:`.paired`: McNemar, Newcombe's paired interval and tolerance test, Wilcoxon, Friedman;
* :mod:`.bootstrap`: the paired bootstrap;
* :mod:`.multiple`: Holm's adjustment;
* :mod:`.agreement`: Cohen's κ.
"""

from alignlab.stats.agreement import KappaResult, cohen_kappa
from alignlab.stats.bootstrap import BootstrapResult, paired_bootstrap
from alignlab.stats.multiple import holm
from alignlab.stats.paired import (
    HypothesisTest,
    McNemarResult,
    PairedTable,
    PairedTest,
    friedman_test,
    mcnemar_exact,
    mcnemar_test,
    paired_difference_ci,
    paired_proportion_test,
    wilcoxon_signed_rank,
)
from alignlab.stats.proportions import (
    Proportion,
    ThresholdTest,
    TwoProportionTest,
    threshold_test,
    two_proportion_test,
    wilson_interval,
)

__all__ = [
    "BootstrapResult",
    "HypothesisTest",
    "KappaResult",
    "McNemarResult",
    "PairedTable",
    "PairedTest",
    "Proportion",
    "ThresholdTest",
    "TwoProportionTest",
    "cohen_kappa",
    "friedman_test",
    "holm",
    "mcnemar_exact",
    "mcnemar_test",
    "paired_bootstrap",
    "paired_difference_ci",
    "paired_proportion_test",
    "threshold_test",
    "two_proportion_test",
    "wilcoxon_signed_rank",
    "wilson_interval",
]
