"""register reads: every showing of a person's register data to someone else

Revision ID: 5c1e0f7b9d2a
Revises: a8d80a13e23c
Create Date: 2026-11-23 10:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '5c1e0f7b9d2a'
down_revision = 'a8d80a13e23c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('register_reads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('personal_id', sa.String(length=12), nullable=False),
    sa.Column('reader_account_id', sa.Integer(), nullable=True),
    sa.Column('reader_name', sa.String(length=160), nullable=False),
    sa.Column('reader_agency_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=300), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('procedure_id', sa.String(length=80), nullable=True),
    sa.Column('dossier_id', sa.String(length=36), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reader_account_id'], ['accounts.id'], name=op.f('fk_register_reads_reader_account_id_accounts')),
    sa.ForeignKeyConstraint(['reader_agency_id'], ['agencies.id'], name=op.f('fk_register_reads_reader_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_reads'))
    )
    with op.batch_alter_table('register_reads', schema=None) as batch_op:
        batch_op.create_index('ix_register_reads_subject', ['personal_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('register_reads', schema=None) as batch_op:
        batch_op.drop_index('ix_register_reads_subject')
    op.drop_table('register_reads')
