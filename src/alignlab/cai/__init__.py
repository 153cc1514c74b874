"""Constitutional AI end to end: critique → revise → SFT → AI preferences → preference model → RLAIF → evaluate."""

from __future__ import annotations

__all__: list[str] = []
