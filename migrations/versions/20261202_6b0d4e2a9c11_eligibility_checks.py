"""eligibility checks: the conditions' verdicts an action relied on

Revision ID: 6b0d4e2a9c11
Revises: 3f6a2b8c1d40
Create Date: 2026-12-02 13:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

revision = '6b0d4e2a9c11'
down_revision = '3f6a2b8c1d40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('eligibility_checks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dossier_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('verdicts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['actor_account_id'], ['accounts.id'], name=op.f('fk_eligibility_checks_actor_account_id_accounts')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_eligibility_checks_dossier_id_dossiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eligibility_checks'))
    )
    with op.batch_alter_table('eligibility_checks', schema=None) as batch_op:
        batch_op.create_index('ix_eligibility_checks_dossier', ['dossier_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('eligibility_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_eligibility_checks_dossier')
    op.drop_table('eligibility_checks')
