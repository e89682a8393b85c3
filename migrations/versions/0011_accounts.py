"""Accounts and retention: a session version per user (sign-out revokes every session) and a
retention period per campaign for contacts' personal data.

Revision ID: 0011_accounts
Revises: 0007_response_version
Create Date: 2026-12-02 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_accounts'
down_revision = '0007_response_version'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('retention_days')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
