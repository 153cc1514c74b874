"""Create the service tables: interactions, feedback, api_keys, alerts.

Revision ID: 0103
Revises: 0102
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0103"
down_revision: str | None = "0102"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("prompt_text", sa.Text(), nullable=False),
        sa.Column("response_text", sa.Text(), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.String(32), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("scored_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_interactions"),
    )
    for col in ("created_at", "model", "status", "prompt_hash", "scored_at"):
        op.create_index(f"ix_interactions_{col}", "interactions", [col])
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("interaction_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("thumbs", sa.String(8), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("other_interaction_id", sa.String(32), nullable=True),
        sa.Column("choice", sa.String(8), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("event", sa.String(16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("api_key_id", sa.String(32), nullable=True),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(
            ["interaction_id"], ["interactions.id"], name="fk_feedback_interaction_id_interactions"
        ),
        sa.ForeignKeyConstraint(
            ["other_interaction_id"], ["interactions.id"], name="fk_feedback_other_interaction_id_interactions"
        ),
    )
    for col in ("created_at", "interaction_id", "kind"):
        op.create_index(f"ix_feedback_{col}", "feedback", [col])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("webhook_status", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"])
    op.create_index("ix_alerts_kind", "alerts", ["kind"])


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_table("alerts")
    op.drop_table("api_keys")
    op.drop_table("feedback")
    op.drop_table("interactions")
