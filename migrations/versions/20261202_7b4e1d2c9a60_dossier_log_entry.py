"""dossier log entry: the entry number in the agency's yearly log book (form 07)

Revision ID: 7b4e1d2c9a60
Revises: b7d41e9a2c55
Create Date: 2026-12-02 13:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7b4e1d2c9a60'
down_revision = 'b7d41e9a2c55'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('log_entry', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dossiers_log_book'), ['agency_id', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_log_book'))
        batch_op.drop_column('log_entry')
