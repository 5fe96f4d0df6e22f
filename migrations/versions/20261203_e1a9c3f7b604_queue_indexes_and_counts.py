"""the work queue's keyset indexes, the live-dossier index and the settled dossiers' counts

Revision ID: e1a9c3f7b604
Revises: e5a9c3f17d20
Create Date: 2026-12-03 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'e1a9c3f7b604'
down_revision = 'e5a9c3f17d20'
branch_labels = None
depends_on = None

NOT_DRAFT = sa.text("state <> 'draft'")
LIVE = sa.text("closed_at IS NULL AND decided_at IS NULL AND state <> 'draft'")


def upgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_queue')
        batch_op.drop_index('ix_dossiers_applicant')
        batch_op.create_index('ix_dossiers_queue', ['agency_id', 'state', 'due_at', 'id'], unique=False)
        batch_op.create_index('ix_dossiers_applicant', ['applicant_account_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_dossiers_agency_due', ['agency_id', 'due_at', 'id'], unique=False,
                              postgresql_where=NOT_DRAFT, sqlite_where=NOT_DRAFT)
        batch_op.create_index('ix_dossiers_live', ['agency_id', 'due_at', 'id', 'state', 'procedure_id',
                                                   'procedure_version', 'overdue'], unique=False,
                              postgresql_where=LIVE, sqlite_where=LIVE)
    op.create_table(
        'dossier_counts',
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('procedure_id', sa.String(length=80), nullable=False),
        sa.Column('state', sa.String(length=60), nullable=False),
        sa.Column('timeliness', sa.String(length=10), nullable=False),
        sa.Column('n', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.PrimaryKeyConstraint('agency_id', 'procedure_id', 'state', 'timeliness', name=op.f('pk_dossier_counts')),
    )
    # the dossiers settled before this revision (engine.adapters.queries.SETTLED_COUNTS holds the same query)
    op.execute(
        "INSERT INTO dossier_counts (agency_id, procedure_id, state, timeliness, n) "
        "SELECT agency_id, procedure_id, state, "
        "CASE WHEN due_at IS NULL THEN 'none' WHEN overdue THEN 'overdue' ELSE 'on_time' END, count(*) "
        "FROM dossiers WHERE closed_at IS NOT NULL OR decided_at IS NOT NULL "
        "GROUP BY agency_id, procedure_id, state, "
        "CASE WHEN due_at IS NULL THEN 'none' WHEN overdue THEN 'overdue' ELSE 'on_time' END"
    )


def downgrade() -> None:
    op.drop_table('dossier_counts')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_live', postgresql_where=LIVE, sqlite_where=LIVE)
        batch_op.drop_index('ix_dossiers_agency_due', postgresql_where=NOT_DRAFT, sqlite_where=NOT_DRAFT)
        batch_op.drop_index('ix_dossiers_applicant')
        batch_op.drop_index('ix_dossiers_queue')
        batch_op.create_index('ix_dossiers_applicant', ['applicant_account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_dossiers_queue', ['agency_id', 'state', 'due_at'], unique=False)
