"""the time-limit case applied to a dossier

Revision ID: c4e7a1d95b32
Revises: 7b2e4c9d1f55
Create Date: 2026-12-03 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'c4e7a1d95b32'
down_revision = '7b2e4c9d1f55'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_limit_case', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('time_limit_case')
