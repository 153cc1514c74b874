"""Create the checkpoints table (training lineage).

Revision ID: 0102
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0102"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``checkpoints`` with a unique name and indexes on recipe and parent."""
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("recipe", sa.String(32), nullable=False),
        sa.Column("base_model", sa.String(500), nullable=False),
        sa.Column("parent", sa.String(200), nullable=True),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("wall_time_s", sa.Float(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checkpoints"),
        sa.UniqueConstraint("name", name="uq_checkpoints_name"),
    )
    op.create_index("ix_checkpoints_recipe", "checkpoints", ["recipe"])
    op.create_index("ix_checkpoints_parent", "checkpoints", ["parent"])


def downgrade() -> None:
    """Drop ``checkpoints``."""
    op.drop_index("ix_checkpoints_parent", table_name="checkpoints")
    op.drop_index("ix_checkpoints_recipe", table_name="checkpoints")
    op.drop_table("checkpoints")
