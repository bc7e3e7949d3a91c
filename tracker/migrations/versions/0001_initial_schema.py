"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jurisdiction',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('classification', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('scrape_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('status_changes', sa.Integer(), nullable=False),
    sa.Column('problems', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('traceback', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scrape_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scrape_run_source_id'), ['source_id'], unique=False)

    op.create_table('legislative_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurisdiction_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('identifier', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('final_action_date', sa.Date(), nullable=True),
    sa.Column('carry_over', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('jurisdiction_id', 'identifier')
    )
    with op.batch_alter_table('legislative_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legislative_session_jurisdiction_id'), ['jurisdiction_id'], unique=False)

    op.create_table('run_problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('item_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['scrape_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('run_problem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_problem_run_id'), ['run_id'], unique=False)

    op.create_table('bill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('jurisdiction_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('identifier', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('origin_chamber', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('introduced_on', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status_date', sa.Date(), nullable=True),
    sa.Column('enacted_how', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('failed_how', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('carried_over', sa.Boolean(), nullable=False),
    sa.Column('override_possible', sa.Boolean(), nullable=False),
    sa.Column('partial_veto', sa.Boolean(), nullable=False),
    sa.Column('prefiled', sa.Boolean(), nullable=False),
    sa.Column('chapter', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('incorporated_into', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('classifier_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_flags', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdiction.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['legislative_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('jurisdiction_id', 'session_id', 'identifier')
    )
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_jurisdiction_id'), ['jurisdiction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_key'), ['key'], unique=True)
        batch_op.create_index(batch_op.f('ix_bill_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_status'), ['status'], unique=False)

    op.create_table('action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('raw_date', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('classes', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('classifier_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bill_id', 'position')
    )
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_bill_id'), ['bill_id'], unique=False)

    op.create_table('bill_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('change', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('changed_fields', sa.JSON(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['scrape_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bill_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_change_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_change_run_id'), ['run_id'], unique=False)

    op.create_table('bill_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('field_hashes', sa.JSON(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bill_id', 'source_id')
    )
    with op.batch_alter_table('bill_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_source_bill_id'), ['bill_id'], unique=False)

    op.create_table('bill_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bill_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bill_version_bill_id'), ['bill_id'], unique=False)

    op.create_table('sponsor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('primary', sa.Boolean(), nullable=False),
    sa.Column('source_person_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sponsor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sponsor_bill_id'), ['bill_id'], unique=False)

    op.create_table('status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('old_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('new_status', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('old_label', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('new_label', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('action_date', sa.Date(), nullable=True),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['scrape_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_change_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_change_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_change_run_id'))
        batch_op.drop_index(batch_op.f('ix_status_change_bill_id'))

    op.drop_table('status_change')
    with op.batch_alter_table('sponsor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sponsor_bill_id'))

    op.drop_table('sponsor')
    with op.batch_alter_table('bill_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_version_bill_id'))

    op.drop_table('bill_version')
    with op.batch_alter_table('bill_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_source_bill_id'))

    op.drop_table('bill_source')
    with op.batch_alter_table('bill_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_change_run_id'))
        batch_op.drop_index(batch_op.f('ix_bill_change_bill_id'))

    op.drop_table('bill_change')
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_bill_id'))

    op.drop_table('action')
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_status'))
        batch_op.drop_index(batch_op.f('ix_bill_session_id'))
        batch_op.drop_index(batch_op.f('ix_bill_key'))
        batch_op.drop_index(batch_op.f('ix_bill_jurisdiction_id'))

    op.drop_table('bill')
    with op.batch_alter_table('run_problem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_problem_run_id'))

    op.drop_table('run_problem')
    with op.batch_alter_table('legislative_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legislative_session_jurisdiction_id'))

    op.drop_table('legislative_session')
    with op.batch_alter_table('scrape_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scrape_run_source_id'))

    op.drop_table('scrape_run')
    op.drop_table('jurisdiction')
