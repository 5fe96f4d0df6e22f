"""register write-back log and outbox; results deposited by outside issuers; what agency clients issue

Revision ID: 7b2e4c9d1f55
Revises: 6b0d4e2a9c11
Create Date: 2026-12-03 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '7b2e4c9d1f55'
down_revision = '6b0d4e2a9c11'
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issues_evidence', JSON, nullable=True))
        batch_op.add_column(sa.Column('signing_key', sa.Text(), nullable=True))
    op.create_table(
        'result_deposits',
        sa.Column('result_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('issuer_agency_id', sa.Integer(), nullable=False),
        sa.Column('evidence_type', sa.String(length=80), nullable=False),
        sa.Column('number', sa.String(length=80), nullable=False),
        sa.Column('body_sha256', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.Text(), nullable=False),
        sa.Column('algorithm', sa.String(length=20), nullable=False),
        sa.Column('key_fingerprint', sa.String(length=64), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_result_deposits_account_id_accounts')),
        sa.ForeignKeyConstraint(['issuer_agency_id'], ['agencies.id'],
                                name=op.f('fk_result_deposits_issuer_agency_id_agencies')),
        sa.ForeignKeyConstraint(['result_id'], ['results.id'], name=op.f('fk_result_deposits_result_id_results')),
        sa.PrimaryKeyConstraint('result_id', name=op.f('pk_result_deposits')),
        sa.UniqueConstraint('issuer_agency_id', 'evidence_type', 'number',
                            name=op.f('uq_result_deposits_issuer_agency_id_evidence_type_number')),
    )
    with op.batch_alter_table('result_deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_deposits_account_id'), ['account_id'], unique=False)
    op.create_table(
        'register_writes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('change_key', sa.String(length=36), nullable=False),
        sa.Column('dossier_id', sa.String(length=36), nullable=True),
        sa.Column('result_id', sa.String(length=36), nullable=True),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('personal_id', sa.String(length=12), nullable=False),
        sa.Column('change', JSON, nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_register_writes')),
    )
    with op.batch_alter_table('register_writes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_writes_change_key'), ['change_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_writes_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_writes_personal_id'), ['personal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_writes_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('register_writes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_writes_status'))
        batch_op.drop_index(batch_op.f('ix_register_writes_personal_id'))
        batch_op.drop_index(batch_op.f('ix_register_writes_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_register_writes_change_key'))
    op.drop_table('register_writes')
    with op.batch_alter_table('result_deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_deposits_account_id'))
    op.drop_table('result_deposits')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('signing_key')
        batch_op.drop_column('issues_evidence')
