"""API tokens: one hashed bearer token per staff user (diagnostic/api/tokens.py).

Revision ID: 0002_api_tokens
Revises: 0001
Create Date: 2026-11-23 21:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_api_tokens'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    sa.UniqueConstraint('user_id', name=op.f('uq_api_tokens_user_id'))
    )


def downgrade() -> None:
    op.drop_table('api_tokens')
