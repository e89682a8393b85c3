"""State respondents, and the purpose of each response (one response per campaign, purpose, institution).

Revision ID: 0003_state_respondents
Revises: 0002_api_tokens
Create Date: 2026-11-23 21:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_state_respondents'
down_revision = '0002_api_tokens'
branch_labels = None
depends_on = None


PURPOSE = sa.Enum('institution', 'evaluator', 'state', name='instrument_purpose', native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_respondent', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', PURPOSE, server_default='institution', nullable=False))
    op.execute(
        "UPDATE responses SET purpose = COALESCE((SELECT ci.purpose FROM campaign_instruments ci "
        "WHERE ci.campaign_id = responses.campaign_id AND ci.instrument_version_id = responses.instrument_version_id "
        "ORDER BY ci.id LIMIT 1), 'institution')")
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint('uq_responses_campaign_instrument_institution', type_='unique')
        batch_op.create_unique_constraint('uq_responses_campaign_purpose_institution',
                                          ['campaign_id', 'purpose', 'institution_id'])


def downgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint('uq_responses_campaign_purpose_institution', type_='unique')
        batch_op.create_unique_constraint('uq_responses_campaign_instrument_institution',
                                          ['campaign_id', 'instrument_version_id', 'institution_id'])
        batch_op.drop_column('purpose')
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_column('state_respondent')
