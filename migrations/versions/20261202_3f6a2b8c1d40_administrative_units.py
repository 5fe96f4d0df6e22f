"""administrative units of agencies and residences; the agency's province code and place name

Revision ID: 3f6a2b8c1d40
Revises: 91dc1f8807eb
Create Date: 2026-12-02 13:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '3f6a2b8c1d40'
down_revision = '91dc1f8807eb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_code', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('province_code', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('place_name', sa.String(length=100), nullable=True))
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('permanent_unit', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('current_unit', sa.String(length=10), nullable=True))
        batch_op.create_index(batch_op.f('ix_people_current_unit'), ['current_unit'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_current_unit'))
        batch_op.drop_column('current_unit')
        batch_op.drop_column('permanent_unit')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('place_name')
        batch_op.drop_column('province_code')
        batch_op.drop_column('unit_code')
