"""alignlab: alignment engineering workbench.

Collect preference data, train, evaluate, monitor and gate language models, with
numbers you can trust (every rate has a confidence interval, every comparison a test).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
