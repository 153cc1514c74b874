"""What every alignlab report shares: the HTML page style and the clipping of long model text.

It sits on the ground floor so that any report (the gate's, the CAI run's) can use it without
importing another report's package.
"""

from __future__ import annotations

__all__ = ["REPORT_CSS", "clip_text"]

REPORT_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}pre{white-space:pre-wrap;margin:0;
max-width:36em}.pass{color:#2e7d32}.fail{color:#c62828}.inconclusive{color:#ef6c00}"""


def clip_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more chars]"
