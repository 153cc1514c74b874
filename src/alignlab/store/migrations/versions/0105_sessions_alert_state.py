"""Server-side UI sessions, and a state (firing/resolved) on alerts.

``ui_sessions`` replaces a cookie that held the raw API key: the cookie now holds a random
id, the table its SHA-256, its key, expiry and end (logout or key revocation). Alerts get
``state`` because an alert is now a state change (``firing`` or ``resolved``), not a repeat.

Revision ID: 0105
Revises: 0104
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0105"
down_revision: str | None = "0104"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ui_sessions; add alerts.state (existing alerts were firing)."""
    op.create_table(
        "ui_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_ui_sessions_key_id", "ui_sessions", ["key_id"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="firing"))


def downgrade() -> None:
    """Drop alerts.state and ui_sessions."""
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("state")
    op.drop_index("ix_ui_sessions_key_id", table_name="ui_sessions")
    op.drop_table("ui_sessions")
