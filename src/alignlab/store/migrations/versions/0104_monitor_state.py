"""Create monitor_state: what a monitor worker last reported (rolling rates, drift, heartbeat).

The detectors may run in another process than the web app, so the dashboard reads the
monitor's state from the store instead of from the worker's memory.

Revision ID: 0104
Revises: 0103
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0104"
down_revision: str | None = "0103"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the table (one row per worker name)."""
    op.create_table(
        "monitor_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("monitor_state")
