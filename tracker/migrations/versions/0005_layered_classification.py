"""layered classification: each action's upstream labels and deciding layer, each bill's status basis

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Issue #8. `action.source_classes` keeps the upstream's own labels verbatim (layer 3 of the
classifier), `action.class_layer` says which layer classified the action, and `bill.status_basis`
what the status rests on, and `status_change.basis` what each recorded change rests on. Rows stored before this revision get their values from
`tracker reclassify`, which needs no refetch.
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_classes', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('class_layer', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_basis', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_column('basis')
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_column('status_basis')
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_column('class_layer')
        batch_op.drop_column('source_classes')
