"""Evidence files kept by content hash, and the checks of evidence links.

Revision ID: 0012_evidence
Revises: 0011_accounts
Create Date: 2026-12-02 12:30:00
"""
from alembic import op
import sqlalchemy as sa



revision = '0012_evidence'
down_revision = '0011_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'evidence_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('media_type', sa.String(length=40), nullable=False),
        sa.Column('filename', sa.String(length=120), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=True),
        sa.Column('field', sa.String(length=120), nullable=True),
        sa.Column('repeat_index', sa.Integer(), nullable=True),
        sa.Column('uploaded_by', sa.String(length=80), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['response_id'], ['responses.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_files_sha256', ['sha256'], unique=False)
        batch_op.create_index('ix_evidence_files_response_id', ['response_id'], unique=False)
    op.create_table(
        'evidence_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('final_url', sa.Text(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('evidence_checks', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_checks_campaign_id', ['campaign_id'], unique=False)


def downgrade() -> None:
    op.drop_table('evidence_checks')
    op.drop_table('evidence_files')
