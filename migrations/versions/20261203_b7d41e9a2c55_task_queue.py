"""the task queue: outbox rows carry jobs on the embedded database (task, lock key, run after, lease,
failure); on PostgreSQL, procrastinate's schema (its jobs table lives beside the dossiers, so a job is
deferred in the transaction of the transition that needs it)

Revision ID: b7d41e9a2c55
Revises: c4e7a1d95b32
Create Date: 2026-12-03 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'b7d41e9a2c55'
down_revision = 'c4e7a1d95b32'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('lock_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('run_after', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('leased_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=300), nullable=True))
        batch_op.create_index('ix_outbox_jobs', ['sent_at', 'task'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        from procrastinate.schema import SchemaManager

        # procrastinate's own schema file, run as is (no placeholders) on the migration's connection
        bind.connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
                   "procrastinate_workers CASCADE")
        op.execute("""
            DO $$
            DECLARE f record;
            BEGIN
              FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                       WHERE p.proname LIKE 'procrastinate\\_%' AND pg_function_is_visible(p.oid) LOOP
                EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE';
              END LOOP;
            END $$;
        """)
        op.execute("DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
                   "procrastinate_job_status CASCADE")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_jobs')
        batch_op.drop_column('last_error')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('leased_until')
        batch_op.drop_column('run_after')
        batch_op.drop_column('lock_key')
        batch_op.drop_column('task')
