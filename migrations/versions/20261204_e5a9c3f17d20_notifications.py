"""notifications: the citizen's preferences and the messages with their delivery log

Revision ID: e5a9c3f17d20
Revises: 7b4e1d2c9a60
Create Date: 2026-12-04 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e5a9c3f17d20'
down_revision = '7b4e1d2c9a60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notification_preferences',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('email_enabled', sa.Boolean(), nullable=False),
        sa.Column('sms_enabled', sa.Boolean(), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_notification_preferences_account_id_accounts')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_notification_preferences')),
    )
    op.create_table(
        'notifications',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notifications_account_id_accounts')),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_notifications_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_inbox', ['account_id', 'channel', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_status'))
        batch_op.drop_index(batch_op.f('ix_notifications_dossier_id'))
        batch_op.drop_index('ix_notifications_inbox')
    op.drop_table('notifications')
    op.drop_table('notification_preferences')
