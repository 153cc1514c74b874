"""Evaluations: the suites (Inspect tasks), the refusal classifier and run summaries."""
