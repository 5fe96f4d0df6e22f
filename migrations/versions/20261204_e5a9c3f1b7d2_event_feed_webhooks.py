"""the event feed (a commit-ordered counter, the events, the followers' cursors) and webhook
subscriptions with their deliveries and delivery log

Revision ID: e5a9c3f1b7d2
Revises: e1a9c3f7b604
Create Date: 2026-12-04 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'e5a9c3f1b7d2'
down_revision = 'e1a9c3f7b604'
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    counter = op.create_table(
        'feed_counter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_counter')),
    )
    op.bulk_insert(counter, [{'id': 1, 'value': 0}])
    op.create_table(
        'feed_events',
        sa.Column('id', BIG_ID, autoincrement=False, nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('dossier_id', sa.String(length=36), nullable=True),
        sa.Column('dossier_code', sa.String(length=60), nullable=True),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('evidence_type', sa.String(length=80), nullable=True),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_feed_events_agency_id_agencies')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_events')),
    )
    op.create_index('ix_feed_events_agency', 'feed_events', ['agency_id', 'id'], unique=False)
    op.create_index('ix_feed_events_dossier', 'feed_events', ['dossier_id', 'id'], unique=False)
    op.create_table(
        'feed_cursors',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_feed_cursors')),
    )
    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('allow_private', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('failing_since', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('disabled_at', sa.DateTime(), nullable=True),
        sa.Column('disabled_reason', sa.String(length=300), nullable=True),
        sa.Column('removed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_webhook_subscriptions_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions')),
    )
    op.create_index(op.f('ix_webhook_subscriptions_account_id'), 'webhook_subscriptions', ['account_id'], unique=False)
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('dossier_key', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.Column('replay', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'],
                                name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    )
    op.create_index('ix_webhook_deliveries_next', 'webhook_deliveries',
                    ['subscription_id', 'dossier_key', 'delivered_at', 'event_id'], unique=False)
    op.create_table(
        'webhook_attempts',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.BigInteger(), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'],
                                name=op.f('fk_webhook_attempts_subscription_id_webhook_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts')),
    )
    op.create_index('ix_webhook_attempts_subscription', 'webhook_attempts', ['subscription_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_attempts_subscription', table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    op.drop_index('ix_webhook_deliveries_next', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_webhook_subscriptions_account_id'), table_name='webhook_subscriptions')
    op.drop_table('webhook_subscriptions')
    op.drop_table('feed_cursors')
    op.drop_index('ix_feed_events_dossier', table_name='feed_events')
    op.drop_index('ix_feed_events_agency', table_name='feed_events')
    op.drop_table('feed_events')
    op.drop_table('feed_counter')
