"""a history you can trust: per-change provenance and fingerprints, per-source history keys, action
sources, and the write lock

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Issue #9. `status_change` records the fetch that produced each change (source, URL, fetch time),
whether it is a bill's first sighting, and a fingerprint to deduplicate alerts; `bill_source.action_keys`
remembers the history a source last gave so a shrunk history is held for review, and `bill_source.history`
whether that source gives whole histories or only a current line; `action.source_id`
names the source of each line; `legislative_session.calendar_version` which calendar the stored
statuses were derived with; `write_lock` (one row) serializes writers.
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('source_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_sighting', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f('ix_status_change_fingerprint'), ['fingerprint'], unique=False)
    with op.batch_alter_table('bill_source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('action_keys', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('history', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default='complete'))
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('legislative_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table('write_lock',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
                    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint('id'))
    op.execute("INSERT INTO write_lock (id, holder) VALUES (1, '')")
    # Changes recorded before this revision: a bill's first row is its first sighting (a later change
    # from no status is a real change, review row H4).
    op.execute("UPDATE status_change SET first_sighting = (id IN (SELECT MIN(id) FROM status_change GROUP BY bill_id))")
    op.execute("UPDATE action SET source_id = (SELECT bill.source_id FROM bill WHERE bill.id = action.bill_id)")


def downgrade() -> None:
    op.drop_table('write_lock')
    with op.batch_alter_table('legislative_session', schema=None) as batch_op:
        batch_op.drop_column('calendar_version')
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_column('source_id')
    with op.batch_alter_table('bill_source', schema=None) as batch_op:
        batch_op.drop_column('history')
        batch_op.drop_column('action_keys')
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_change_fingerprint'))
        batch_op.drop_column('fingerprint')
        batch_op.drop_column('first_sighting')
        batch_op.drop_column('fetched_at')
        batch_op.drop_column('source_url')
        batch_op.drop_column('source_id')
