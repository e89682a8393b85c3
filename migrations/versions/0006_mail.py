"""E-mail: per-campaign message templates and each invitation's send log.

Revision ID: 0006_mail
Revises: 0005_roster
Create Date: 2026-12-02 12:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_mail'
down_revision = '0005_roster'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mail_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('lang', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_mail_templates_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_templates')),
    sa.UniqueConstraint('campaign_id', 'kind', 'lang', name='uq_mail_templates_campaign_kind_lang')
    )
    op.create_table('invitation_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('link_nonce', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_invitation_events_invitation_id_invitations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_events'))
    )
    with op.batch_alter_table('invitation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_events_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_events_kind'), ['kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invitation_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_events_kind'))
        batch_op.drop_index(batch_op.f('ix_invitation_events_invitation_id'))
    op.drop_table('invitation_events')
    op.drop_table('mail_templates')
