"""Imported offline submissions (KoboToolbox, ODK Central): one row per submission id and campaign.

Revision ID: 0009_submissions
Revises: 0006_mail
Create Date: 2026-12-02 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_submissions'
down_revision = '0006_mail'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('imported_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.String(length=120), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=80), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('imported_by', sa.String(length=80), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_imported_submissions_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_imported_submissions_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_submissions')),
    sa.UniqueConstraint('campaign_id', 'submission_id', name='uq_imported_submissions_campaign_submission')
    )
    with op.batch_alter_table('imported_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_submissions_response_id'), ['response_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('imported_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_submissions_response_id'))
    op.drop_table('imported_submissions')
