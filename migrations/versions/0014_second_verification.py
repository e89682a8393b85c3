"""Second verification (methodology §9.2–9.4): sample settings and draw, sampled responses, verdicts.

Revision ID: 0014_second_verification
Revises: 0013_scopes
Create Date: 2026-12-02 15:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_second_verification'
down_revision = '0013_scopes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'second_samples',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), server_default='institution', nullable=False),
        sa.Column('share', sa.Float(), server_default='0.1', nullable=False),
        sa.Column('min_per_state', sa.Integer(), server_default='5', nullable=False),
        sa.Column('seed', sa.Integer(), nullable=True),
        sa.Column('population', sa.Integer(), nullable=True),
        sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('drawn_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_second_samples_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_second_samples_drawn_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_second_samples')),
        sa.UniqueConstraint('campaign_id', 'purpose', name='uq_second_samples_campaign_purpose'),
    )
    op.create_table(
        'sampled_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sample_id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('state_code', sa.String(length=2), nullable=False),
        sa.Column('type', sa.String(length=80), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_by_id', sa.Integer(), nullable=True),
        sa.Column('assessor_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_sampled_responses_assessor_id_users')),
        sa.ForeignKeyConstraint(['sample_id'], ['second_samples.id'], name=op.f('fk_sampled_responses_sample_id_second_samples'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_sampled_responses_response_id_responses'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['finished_by_id'], ['users.id'], name=op.f('fk_sampled_responses_finished_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sampled_responses')),
        sa.UniqueConstraint('response_id', name=op.f('uq_sampled_responses_response_id')),
    )
    op.create_index(op.f('ix_sampled_responses_sample_id'), 'sampled_responses', ['sample_id'])
    op.create_table(
        'second_verdicts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=120), nullable=False),
        sa.Column('repeat_index', sa.Integer(), nullable=True),
        sa.Column('repeat_key', sa.Integer(), nullable=False),
        sa.Column('first_value', sa.Text(), nullable=True),
        sa.Column('first_verification', sa.String(length=20), nullable=True),
        sa.Column('first_reason', sa.Text(), nullable=True),
        sa.Column('first_by_id', sa.Integer(), nullable=True),
        sa.Column('second_verification', sa.String(length=20), nullable=True),
        sa.Column('second_value', sa.Text(), nullable=True),
        sa.Column('second_reason', sa.Text(), nullable=True),
        sa.Column('second_by_id', sa.Integer(), nullable=True),
        sa.Column('second_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_value', sa.Text(), nullable=True),
        sa.Column('resolved_choice', sa.String(length=10), nullable=True),
        sa.Column('resolution_reason', sa.Text(), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['sampled_responses.id'], name=op.f('fk_second_verdicts_member_id_sampled_responses'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['first_by_id'], ['users.id'], name=op.f('fk_second_verdicts_first_by_id_users')),
        sa.ForeignKeyConstraint(['second_by_id'], ['users.id'], name=op.f('fk_second_verdicts_second_by_id_users')),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_second_verdicts_resolved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_second_verdicts')),
        sa.UniqueConstraint('member_id', 'field', 'repeat_key', name='uq_second_verdicts_item'),
    )
    op.create_index(op.f('ix_second_verdicts_member_id'), 'second_verdicts', ['member_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_second_verdicts_member_id'), table_name='second_verdicts')
    op.drop_table('second_verdicts')
    op.drop_index(op.f('ix_sampled_responses_sample_id'), table_name='sampled_responses')
    op.drop_table('sampled_responses')
    op.drop_table('second_samples')
