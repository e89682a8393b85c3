"""Right of reply (methodology §9.5): a campaign's reply window and the institutions' contests.

Revision ID: 0015_right_of_reply
Revises: 0014_second_verification
Create Date: 2026-12-02 15:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_right_of_reply'
down_revision = '0014_second_verification'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('reply_days', sa.Integer(), server_default='10', nullable=False))
        batch.add_column(sa.Column('reply_opened_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'contests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('invitation_id', sa.Integer(), nullable=True),
        sa.Column('response_id', sa.Integer(), nullable=True),
        sa.Column('item_code', sa.String(length=120), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('evidence_url', sa.Text(), nullable=True),
        sa.Column('evidence_file_id', sa.Integer(), nullable=True),
        sa.Column('score_before', sa.Float(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('old_value', sa.Text(), nullable=True),
        sa.Column('new_value', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_contests_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_contests_institution_id_institutions')),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_contests_invitation_id_invitations'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_contests_response_id_responses'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['evidence_file_id'], ['evidence_files.id'], name=op.f('fk_contests_evidence_file_id_evidence_files'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_contests_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contests')),
    )
    op.create_index(op.f('ix_contests_campaign_id'), 'contests', ['campaign_id'])
    op.create_index(op.f('ix_contests_institution_id'), 'contests', ['institution_id'])
    op.create_index(op.f('ix_contests_status'), 'contests', ['status'])


def downgrade() -> None:
    op.drop_index(op.f('ix_contests_status'), table_name='contests')
    op.drop_index(op.f('ix_contests_institution_id'), table_name='contests')
    op.drop_index(op.f('ix_contests_campaign_id'), table_name='contests')
    op.drop_table('contests')
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('reply_opened_at')
        batch.drop_column('reply_days')
