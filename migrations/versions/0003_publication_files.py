"""Public files of a publication (the clean files and the renditions made from them),
and an index for walking live publications newest first.

Revision ID: 0003_publication_files
Revises: 0002_pipeline
Create Date: 2026-11-29 05:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_publication_files"
down_revision: str | Sequence[str] | None = "0002_pipeline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "publication_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "role IN ('file', 'image', 'page', 'poster')",
            name=op.f("ck_publication_files_file_role"),
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"],
            name=op.f("fk_publication_files_asset_id_assets"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"], ["publications.id"],
            name=op.f("fk_publication_files_publication_id_publications"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_files")),
        sa.UniqueConstraint("key", name=op.f("uq_publication_files_key")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_publication_files_publication_id"),
        "publication_files",
        ["publication_id"],
        unique=False,
    )
    op.create_index(
        "ix_publications_live_by_date",
        "publications",
        ["channel", "published_at", "id"],
        unique=False,
        sqlite_where=sa.text("withdrawn_at IS NULL"),
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_publications_live_by_date", table_name="publications")
    op.drop_index(op.f("ix_publication_files_publication_id"), table_name="publication_files")
    op.drop_table("publication_files")
