"""The store: eval runs (and later feedback, preferences, checkpoints) in SQLite or PostgreSQL."""

from alignlab.store.checkpoint_tables import CheckpointRow
from alignlab.store.checkpoints import (
    CheckpointRecord,
    DatasetRef,
    checkpoint_exists,
    checkpoint_lineage,
    get_checkpoint,
    list_checkpoints,
    record_checkpoint,
)
from alignlab.store.db import Store, current_revision, open_store
from alignlab.store.runs import (
    FinishStatus,
    RunRecord,
    RunStatus,
    finish_run,
    get_run,
    list_runs,
    start_run,
)
from alignlab.store.tables import Base, RunRow

__all__ = [
    "Base",
    "CheckpointRecord",
    "CheckpointRow",
    "DatasetRef",
    "FinishStatus",
    "RunRecord",
    "RunRow",
    "RunStatus",
    "Store",
    "checkpoint_exists",
    "checkpoint_lineage",
    "current_revision",
    "finish_run",
    "get_checkpoint",
    "get_run",
    "list_checkpoints",
    "list_runs",
    "open_store",
    "record_checkpoint",
    "start_run",
]
