"""Initial schema: states, institutions, users, campaigns, instruments, responses, audit log.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 20:41:46.399236
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# The 32 entidades federativas (INEGI codes) and 00 for federal bodies.
STATES = [
    ('00', 'Federal', 'FED'),
    ('01', 'Aguascalientes', 'AGS'),
    ('02', 'Baja California', 'BC'),
    ('03', 'Baja California Sur', 'BCS'),
    ('04', 'Campeche', 'CAMP'),
    ('05', 'Coahuila', 'COAH'),
    ('06', 'Colima', 'COL'),
    ('07', 'Chiapas', 'CHIS'),
    ('08', 'Chihuahua', 'CHIH'),
    ('09', 'Ciudad de México', 'CDMX'),
    ('10', 'Durango', 'DGO'),
    ('11', 'Guanajuato', 'GTO'),
    ('12', 'Guerrero', 'GRO'),
    ('13', 'Hidalgo', 'HGO'),
    ('14', 'Jalisco', 'JAL'),
    ('15', 'México', 'MEX'),
    ('16', 'Michoacán', 'MICH'),
    ('17', 'Morelos', 'MOR'),
    ('18', 'Nayarit', 'NAY'),
    ('19', 'Nuevo León', 'NL'),
    ('20', 'Oaxaca', 'OAX'),
    ('21', 'Puebla', 'PUE'),
    ('22', 'Querétaro', 'QRO'),
    ('23', 'Quintana Roo', 'QROO'),
    ('24', 'San Luis Potosí', 'SLP'),
    ('25', 'Sinaloa', 'SIN'),
    ('26', 'Sonora', 'SON'),
    ('27', 'Tabasco', 'TAB'),
    ('28', 'Tamaulipas', 'TAMPS'),
    ('29', 'Tlaxcala', 'TLAX'),
    ('30', 'Veracruz', 'VER'),
    ('31', 'Yucatán', 'YUC'),
    ('32', 'Zacatecas', 'ZAC'),
]


def upgrade() -> None:
    op.create_table('index_model_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.String(length=80), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('content_hash', sa.String(length=80), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_index_model_versions')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_index_model_versions_content_hash'))
    )
    with op.batch_alter_table('index_model_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_model_versions_model_id'), ['model_id'], unique=False)

    op.create_table('instrument_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.String(length=80), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('content_hash', sa.String(length=80), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('source', sa.LargeBinary(), nullable=False),
    sa.Column('definition_json', sa.Text(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_versions')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_instrument_versions_content_hash'))
    )
    with op.batch_alter_table('instrument_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_versions_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('states',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('abbr', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_states'))
    )
    states = sa.table('states', sa.column('code', sa.String), sa.column('name', sa.String),
                      sa.column('abbr', sa.String))
    op.bulk_insert(states, [{'code': c, 'name': n, 'abbr': a} for c, n, a in STATES])
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('admin', 'analyst', 'evaluator', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'open', 'closed', 'published', name='campaign_status', native_enum=False, length=20), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('index_model_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['index_model_id'], ['index_model_versions.id'], name=op.f('fk_campaigns_index_model_id_index_model_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('slug', name=op.f('uq_campaigns_slug'))
    )
    op.create_table('institutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('state_code', sa.String(length=2), nullable=False),
    sa.Column('order', sa.Enum('federal', 'estatal', 'municipal', name='order_of_government', native_enum=False, length=20), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['state_code'], ['states.code'], name=op.f('fk_institutions_state_code_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('key', name=op.f('uq_institutions_key')),
    sa.UniqueConstraint('state_code', 'name', name='uq_institutions_state_name')
    )
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institutions_state_code'), ['state_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_institutions_type'), ['type'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_assignments_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_assignments_institution_id_institutions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('campaign_id', 'institution_id', name='uq_assignments_campaign_institution')
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_user_id'), ['user_id'], unique=False)

    op.create_table('participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_participations_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_participations_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participations')),
    sa.UniqueConstraint('campaign_id', 'institution_id', name='uq_participations_campaign_institution')
    )
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participations_institution_id'), ['institution_id'], unique=False)

    op.create_table('campaign_instruments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('instrument_version_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('institution', 'evaluator', 'state', name='instrument_purpose', native_enum=False, length=20), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_instruments_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_version_id'], ['instrument_versions.id'], name=op.f('fk_campaign_instruments_instrument_version_id_instrument_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_instruments')),
    sa.UniqueConstraint('campaign_id', 'purpose', name='uq_campaign_instruments_purpose')
    )
    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_invitations_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_invitations_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('campaign_id', 'institution_id', name='uq_invitations_campaign_institution'),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_institution_id'), ['institution_id'], unique=False)

    op.create_table('responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('instrument_version_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'verified', name='response_status', native_enum=False, length=20), nullable=False),
    sa.Column('last_page', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by', sa.String(length=80), nullable=True),
    sa.Column('fingerprint', sa.String(length=80), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('evaluator_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_responses_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evaluator_id'], ['users.id'], name=op.f('fk_responses_evaluator_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_responses_institution_id_institutions')),
    sa.ForeignKeyConstraint(['instrument_version_id'], ['instrument_versions.id'], name=op.f('fk_responses_instrument_version_id_instrument_versions')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_responses_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses')),
    sa.UniqueConstraint('campaign_id', 'instrument_version_id', 'institution_id', name='uq_responses_campaign_instrument_institution')
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responses_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_status'), ['status'], unique=False)

    op.create_table('answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=120), nullable=False),
    sa.Column('repeat_index', sa.Integer(), nullable=True),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('verified_value', sa.Text(), nullable=True),
    sa.Column('verification', sa.String(length=20), nullable=True),
    sa.Column('verification_reason', sa.Text(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_answers_response_id_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_answers_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answers_response_id'), ['response_id'], unique=False)
    # One row per (response, field, repeat index); NULL repeat indexes must collide too.
    op.create_index('uq_answers_response_field_repeat', 'answers',
                    ['response_id', 'field', sa.text('coalesce(repeat_index, -1)')], unique=True)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=120), nullable=True),
    sa.Column('repeat_index', sa.Integer(), nullable=True),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_audit_log_response_id_responses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_response_id'), ['response_id'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_response_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_index('uq_answers_response_field_repeat', table_name='answers')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answers_response_id'))

    op.drop_table('answers')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responses_status'))
        batch_op.drop_index(batch_op.f('ix_responses_institution_id'))
        batch_op.drop_index(batch_op.f('ix_responses_campaign_id'))

    op.drop_table('responses')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_institution_id'))

    op.drop_table('invitations')
    op.drop_table('campaign_instruments')
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participations_institution_id'))

    op.drop_table('participations')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_user_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_institution_id'))

    op.drop_table('assignments')
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institutions_type'))
        batch_op.drop_index(batch_op.f('ix_institutions_state_code'))

    op.drop_table('institutions')
    op.drop_table('campaigns')
    op.drop_table('users')
    op.drop_table('states')
    with op.batch_alter_table('instrument_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_versions_instrument_id'))

    op.drop_table('instrument_versions')
    with op.batch_alter_table('index_model_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_model_versions_model_id'))

    op.drop_table('index_model_versions')
