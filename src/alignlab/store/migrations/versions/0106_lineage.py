"""Create the loop's lineage tables: feedback exports, checkpoint ← feedback links, gate verdicts.

Revision ID: 0106
Revises: 0105
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0106"
down_revision: str | None = "0105"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``feedback_exports``, ``checkpoint_feedback``, ``gate_verdicts`` and ``gate_verdict_runs``."""
    op.create_table(
        "feedback_exports",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("n_pairs", sa.Integer(), nullable=False),
        sa.Column("by_source", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback_exports"),
    )
    op.create_index("ix_feedback_exports_created_at", "feedback_exports", ["created_at"])
    op.create_index("ix_feedback_exports_sha256", "feedback_exports", ["sha256"])
    op.create_table(
        "checkpoint_feedback",
        sa.Column("checkpoint_id", sa.String(32), nullable=False),
        sa.Column("feedback_id", sa.String(32), nullable=False),
        sa.Column("dataset", sa.String(500), nullable=False),
        sa.Column("split", sa.String(8), nullable=False),
        sa.Column("export_id", sa.String(32), nullable=True),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoints.id"],
            name="fk_checkpoint_feedback_checkpoint_id_checkpoints",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("checkpoint_id", "feedback_id", "dataset", "split", name="pk_checkpoint_feedback"),
    )
    op.create_index("ix_checkpoint_feedback_feedback_id", "checkpoint_feedback", ["feedback_id"])
    op.create_index("ix_checkpoint_feedback_export_id", "checkpoint_feedback", ["export_id"])
    op.create_table(
        "gate_verdicts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("baseline", sa.Text(), nullable=False),
        sa.Column("candidate", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_verdicts"),
    )
    op.create_index("ix_gate_verdicts_created_at", "gate_verdicts", ["created_at"])
    op.create_table(
        "gate_verdict_runs",
        sa.Column("verdict_id", sa.String(32), nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("suite", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("log_path", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["verdict_id"],
            ["gate_verdicts.id"],
            name="fk_gate_verdict_runs_verdict_id_gate_verdicts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("verdict_id", "side", "suite", name="pk_gate_verdict_runs"),
    )
    op.create_index("ix_gate_verdict_runs_run_id", "gate_verdict_runs", ["run_id"])


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_index("ix_gate_verdict_runs_run_id", table_name="gate_verdict_runs")
    op.drop_table("gate_verdict_runs")
    op.drop_index("ix_gate_verdicts_created_at", table_name="gate_verdicts")
    op.drop_table("gate_verdicts")
    op.drop_index("ix_checkpoint_feedback_export_id", table_name="checkpoint_feedback")
    op.drop_index("ix_checkpoint_feedback_feedback_id", table_name="checkpoint_feedback")
    op.drop_table("checkpoint_feedback")
    op.drop_index("ix_feedback_exports_sha256", table_name="feedback_exports")
    op.drop_index("ix_feedback_exports_created_at", table_name="feedback_exports")
    op.drop_table("feedback_exports")
