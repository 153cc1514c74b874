"""The monitor's published state: rolling rates and the last drift test, read back from the store.

The worker may run in another process than the web app (``alignlab monitor run``,
``alignlab serve --monitor-process``), so the pages never read the worker's memory: after every
batch the worker rewrites one ``monitor_state`` row, and the pages read that row.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from alignlab.store import Store
from alignlab.store.service_tables import MonitorStateRow

__all__ = ["MonitorState", "RateNow", "read_monitor_state", "state_row"]

STATE_NAME = "monitor"


class RateNow(BaseModel):
    """One rolling rate: the share of flagged outcomes among the last ``n``."""

    model_config = ConfigDict(frozen=True)

    rate: float
    n: int


class MonitorState(BaseModel):
    """What the monitor worker last reported.

    Attributes:
        updated_at: When the worker wrote it (after its last batch, or when it started).
        pid: The worker's process id.
        rates: Metric → rolling rate since the worker started.
        drift: The last drift test (``p_value``, ``mmd2``, ``at``), if any ran.
        drift_windows: Fill levels of the drift windows; ``None`` without drift.
    """

    model_config = ConfigDict(frozen=True)

    updated_at: datetime
    pid: int
    rates: dict[str, RateNow]
    drift: dict[str, Any] | None = None
    drift_windows: dict[str, Any] | None = None


def state_row(
    rates: dict[str, RateNow], drift: dict[str, Any] | None, drift_windows: dict[str, Any] | None
) -> MonitorStateRow:
    """The worker's row for this state; ``session.merge`` it to replace the previous one."""
    state = MonitorState(
        updated_at=datetime.now(UTC), pid=os.getpid(), rates=rates, drift=drift, drift_windows=drift_windows
    )
    body = state.model_dump(mode="json", exclude={"updated_at", "pid"})
    return MonitorStateRow(name=STATE_NAME, updated_at=state.updated_at, pid=state.pid, state=body)


def read_monitor_state(store: Store) -> MonitorState | None:
    """The state the worker last published; ``None`` before any worker ran on this store."""
    with store.session() as session:
        row = session.get(MonitorStateRow, STATE_NAME)
    if row is None:
        return None
    return MonitorState.model_validate({**row.state, "updated_at": row.updated_at, "pid": row.pid})
