"""Responses carry a version (optimistic concurrency between tabs) and the newest save mark of a tab.

Revision ID: 0007_response_version
Revises: 0009_submissions
Create Date: 2026-12-02 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_response_version'
down_revision = '0009_submissions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('save_mark', sa.String(length=60), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('save_mark')
        batch_op.drop_column('version')
