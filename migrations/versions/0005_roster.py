"""Campaign rosters: contact data and withdrawal per roster entry; uploads staged between preview and import.

Revision ID: 0005_roster
Revises: 0003_state_respondents
Create Date: 2026-12-02 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_roster'
down_revision = '0003_state_respondents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.String(length=500), nullable=True))
    op.create_table(
        'staged_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_imports')),
        sa.UniqueConstraint('sha256', name=op.f('uq_staged_imports_sha256')),
    )


def downgrade() -> None:
    op.drop_table('staged_imports')
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('contact_name')
