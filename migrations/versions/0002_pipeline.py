"""Review pipeline: the rejected state, anonymisation choices, processing leases,
captions and the sanitized file's type.

Revision ID: 0002_pipeline
Revises: 0001_initial
Create Date: 2026-11-29 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_pipeline"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = (
    "draft",
    "submitted",
    "processing",
    "in_review",
    "changes_requested",
    "approved",
    "published",
    "withdrawn",
    "blocked",
    "failed",
)


def _state_check(states: Sequence[str]) -> str:
    return "state IN (" + ", ".join(f"'{state}'" for state in states) + ")"


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_constraint(op.f("ck_versions_version_state"), type_="check")
        batch.create_check_constraint("version_state", _state_check((*STATES, "rejected")))
        batch.add_column(
            sa.Column("mask_faces", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("alter_voice", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("works") as batch:
        batch.add_column(sa.Column("captions", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("original_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("sanitized_type", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE versions SET state = 'withdrawn' WHERE state = 'rejected'")
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("sanitized_type")
        batch.drop_column("original_size")
    with op.batch_alter_table("works") as batch:
        batch.drop_column("captions")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("alter_voice")
        batch.drop_column("mask_faces")
        batch.drop_constraint(op.f("ck_versions_version_state"), type_="check")
        batch.create_check_constraint("version_state", _state_check(STATES))
