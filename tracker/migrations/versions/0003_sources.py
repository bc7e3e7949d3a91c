"""multi-source merge: per-source status and upstream ids, provenance, disagreements, API usage, cursors

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27

Written by hand to match tracker/models.py (LegiScan / Open States sources and the merge of one
bill from several sources). A parallel branch adds 0002 from 0001; a merge revision joins them.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provenance', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('bill_source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upstream_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('upstream_scope', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('upstream_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('fields', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('status_label', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('upstream_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stale', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('stale_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_bill_source_upstream_id'), ['upstream_id'], unique=False)

    op.create_table('status_disagreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source_label', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('upstream_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('merged_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('merged_label', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('merged_source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['scrape_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('status_disagreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_disagreement_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_disagreement_run_id'), ['run_id'], unique=False)

    op.create_table('api_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('queries', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('blocked', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'period')
    )

    op.create_table('source_cursor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'key')
    )


def downgrade() -> None:
    op.drop_table('source_cursor')
    op.drop_table('api_usage')
    with op.batch_alter_table('status_disagreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_disagreement_run_id'))
        batch_op.drop_index(batch_op.f('ix_status_disagreement_bill_id'))

    op.drop_table('status_disagreement')
    with op.batch_alter_table('bill_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_source_upstream_id'))
        batch_op.drop_column('stale_since')
        batch_op.drop_column('stale')
        batch_op.drop_column('last_seen_at')
        batch_op.drop_column('upstream_status')
        batch_op.drop_column('status_label')
        batch_op.drop_column('status')
        batch_op.drop_column('fields')
        batch_op.drop_column('upstream_hash')
        batch_op.drop_column('upstream_scope')
        batch_op.drop_column('upstream_id')

    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_column('provenance')
