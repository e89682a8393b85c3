"""Staff accounts scoped to states (state guarantor bodies); none: national.

Revision ID: 0013_scopes
Revises: 0012_evidence
Create Date: 2026-12-02 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_scopes'
down_revision = '0012_evidence'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_states',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('state_code', sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_states_user_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['state_code'], ['states.code'], name=op.f('fk_user_states_state_code_states')),
        sa.PrimaryKeyConstraint('user_id', 'state_code', name=op.f('pk_user_states')),
    )


def downgrade() -> None:
    op.drop_table('user_states')
