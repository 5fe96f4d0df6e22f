"""the stored verdicts of the signed files this system issued, keyed by the file's SHA-256

Revision ID: a7c2e9d4f1b3
Revises: e5a9c3f1b7d2
Create Date: 2026-12-05 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'a7c2e9d4f1b3'
down_revision = 'e5a9c3f1b7d2'
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'signed_verdicts',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('verdict', JSON, nullable=False),
        sa.Column('verified_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_signed_verdicts')),
    )


def downgrade() -> None:
    op.drop_table('signed_verdicts')
