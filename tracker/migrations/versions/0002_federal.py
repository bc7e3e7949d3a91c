"""federal layer: instruments, conflict links, preemption candidates, instrument history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Written by hand to match the federal tables at the end of tracker/models.py (DOMAIN.md §5).
Revision 0003 also starts from 0001; tracker.db.upgrade applies every head.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _text():
    return sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    op.create_table('federal_instrument',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', _text(), nullable=False),
    sa.Column('kind', _text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('instrument_status', _text(), nullable=True),
    sa.Column('stage', _text(), nullable=True),
    sa.Column('stance', sa.JSON(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('carve_outs', sa.JSON(), nullable=False),
    sa.Column('targets', sa.Text(), nullable=True),
    sa.Column('confidence', _text(), nullable=False),
    sa.Column('eo_number', _text(), nullable=True),
    sa.Column('fr_document_number', _text(), nullable=True),
    sa.Column('fr_citation', _text(), nullable=True),
    sa.Column('fr_type', _text(), nullable=True),
    sa.Column('fr_subtype', _text(), nullable=True),
    sa.Column('correction_of', _text(), nullable=True),
    sa.Column('bill_key', _text(), nullable=True),
    sa.Column('section', _text(), nullable=True),
    sa.Column('docket', _text(), nullable=True),
    sa.Column('is_draft', sa.Boolean(), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('date_text', _text(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('public_inspection_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('agencies', sa.JSON(), nullable=False),
    sa.Column('history', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source_id', _text(), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('source_ref', sa.Text(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_verified', sa.Date(), nullable=True),
    sa.Column('content_hash', _text(), nullable=True),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('federal_instrument', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federal_instrument_bill_key'), ['bill_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_federal_instrument_eo_number'), ['eo_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_federal_instrument_key'), ['key'], unique=True)
        batch_op.create_index(batch_op.f('ix_federal_instrument_kind'), ['kind'], unique=False)

    op.create_table('conflict_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_key', _text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('state_session', _text(), nullable=True),
    sa.Column('state_bill', _text(), nullable=True),
    sa.Column('state_law', sa.Text(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('relation', _text(), nullable=False),
    sa.Column('provision_ref', _text(), nullable=True),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('confidence', _text(), nullable=False),
    sa.Column('last_verified', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['instrument_id'], ['federal_instrument.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('link_key')
    )
    with op.batch_alter_table('conflict_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_link_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflict_link_state'), ['state'], unique=False)

    op.create_table('preemption_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('status', _text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('evidence_hash', _text(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewer', _text(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['instrument_id'], ['federal_instrument.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['scrape_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instrument_id', 'evidence_hash')
    )
    with op.batch_alter_table('preemption_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preemption_candidate_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_preemption_candidate_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_preemption_candidate_status'), ['status'], unique=False)

    op.create_table('instrument_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('change', _text(), nullable=False),
    sa.Column('changed_fields', sa.JSON(), nullable=False),
    sa.Column('old_status', _text(), nullable=True),
    sa.Column('new_status', _text(), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['federal_instrument.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['scrape_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('instrument_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_change_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_change_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ('instrument_change', ('run_id', 'instrument_id')),
        ('preemption_candidate', ('status', 'run_id', 'instrument_id')),
        ('conflict_link', ('state', 'instrument_id')),
        ('federal_instrument', ('kind', 'key', 'eo_number', 'bill_key')),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
        op.drop_table(table)
