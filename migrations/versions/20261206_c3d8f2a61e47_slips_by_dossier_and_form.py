"""an index of slips by dossier and form: the dossier's answer lists its once-only slips without
reading every supplement slip of a long history

Revision ID: c3d8f2a61e47
Revises: a7c2e9d4f1b3
Create Date: 2026-12-06 09:00:00
"""
from __future__ import annotations

from alembic import op

revision = 'c3d8f2a61e47'
down_revision = 'a7c2e9d4f1b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_slips_dossier_form', 'slips', ['dossier_id', 'form'])


def downgrade() -> None:
    op.drop_index('ix_slips_dossier_form', table_name='slips')
