"""Every table of the web app as typed SQLAlchemy 2 models (API tokens included), the enums
they use (roles, campaign and response status, instrument purpose, order of government),
the UTC timestamp type, and the two integrity rules the ORM enforces: the audit log is
append-only and an instrument version used by a campaign cannot change.

Changes to this file need an Alembic revision under `migrations/versions/` (the
autogenerate diff against the migrated schema must stay empty).
"""
from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from diagnostic.extensions import db


def utcnow() -> datetime:
    """Timezone-aware now in UTC (stored naive-UTC by SQLite, timestamptz by PostgreSQL)."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp always returned timezone-aware in UTC (SQLite stores it naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value is not None and dialect.name == "sqlite":
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


Timestamp = UTCDateTime()


class Role(enum.StrEnum):
    """User roles: admin (set-up), analyst (review, verify, score), evaluator (citizen side)."""

    ADMIN = "admin"
    ANALYST = "analyst"
    EVALUATOR = "evaluator"


class CampaignStatus(enum.StrEnum):
    """Campaign life cycle: draft → open → closed → in review (right of reply) → published."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"
    IN_REVIEW = "in_review"  # institutions see their item scores and may contest (methodology §9.5)


class ResponseStatus(enum.StrEnum):
    """Response life cycle: draft → submitted → verified (reopen goes back to draft)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    VERIFIED = "verified"


class InstrumentPurpose(enum.StrEnum):
    """Who answers an instrument in a campaign."""

    INSTITUTION = "institution"  # the institution itself, through its invitation link
    EVALUATOR = "evaluator"  # a citizen-perspective evaluator (usuario simulado)
    STATE = "state"  # one per state (conditions questionnaire), through an invitation


class Order(enum.StrEnum):
    """Order of government (orden de gobierno)."""

    FEDERAL = "federal"
    ESTATAL = "estatal"
    MUNICIPAL = "municipal"


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(cls, name=name, native_enum=False, length=20,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True)


class State(db.Model):
    """An entidad federativa (INEGI code 01–32) or `00` for federal bodies."""

    __tablename__ = "states"

    code: so.Mapped[str] = so.mapped_column(sa.String(2), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    abbr: so.Mapped[str] = so.mapped_column(sa.String(8))


class Institution(db.Model):
    """An obligated institution (sujeto obligado)."""

    __tablename__ = "institutions"
    __table_args__ = (sa.UniqueConstraint("state_code", "name", name="uq_institutions_state_name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(300))
    state_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("states.code"), index=True)
    order: so.Mapped[Order] = so.mapped_column(_enum(Order, "order_of_government"))
    type: so.Mapped[str] = so.mapped_column(sa.String(80), index=True)
    contact_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    contact_email: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)

    state: so.Mapped[State] = so.relationship()


class User(UserMixin, db.Model):
    """A staff account: admin, analyst or evaluator. Respondents have no account."""

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[Role] = so.mapped_column(_enum(Role, "role"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    # Part of every session and remember cookie; raising it (sign-out, deactivation) ends them all.
    session_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    state_scopes: so.Mapped[list[UserState]] = so.relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserState.state_code")

    def get_id(self) -> str:  # Flask-Login: what the session and the remember cookie hold
        """`id.version.nonce`: the version revokes on sign-out; the nonce makes each sign-in's cookie new."""
        import secrets

        return f"{self.id}.{self.session_version}.{secrets.token_urlsafe(12)}"

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password (method from PASSWORD_HASH_METHOD)."""
        from flask import current_app

        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def state_codes(self) -> frozenset[str]:
        """The states this account is scoped to (a state guarantor body); empty: national."""
        return frozenset(s.state_code for s in self.state_scopes)


class UserState(db.Model):
    """One state a staff account is scoped to; an account without any is national (methodology §9)."""

    __tablename__ = "user_states"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("states.code"), primary_key=True)


class ApiToken(db.Model):
    """The hashed API bearer token of one staff user (at most one per user)."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    hint: so.Mapped[str] = so.mapped_column(sa.String(12))
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)

    user: so.Mapped[User] = so.relationship()


class InstrumentVersion(db.Model):
    """A stored questionnaire version: its source, normalised definition and hash.

    Immutable once a campaign uses it (`locked`); a change is a new version.
    """

    __tablename__ = "instrument_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    instrument_id: so.Mapped[str] = so.mapped_column(sa.String(80), index=True)
    version: so.Mapped[str] = so.mapped_column(sa.String(40))
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    source: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    definition_json: so.Mapped[str] = so.mapped_column(sa.Text, deferred=True)
    locked: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)


class IndexModelVersion(db.Model):
    """A stored index model file (scoring weights and policies) and its hash."""

    __tablename__ = "index_model_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    model_id: so.Mapped[str] = so.mapped_column(sa.String(80), index=True)
    version: so.Mapped[str] = so.mapped_column(sa.String(40))
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    source: so.Mapped[str] = so.mapped_column(sa.Text, deferred=True)
    locked: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)


class Campaign(db.Model):
    """An edition of the diagnostic (e.g. *Métrica 2025*)."""

    __tablename__ = "campaigns"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    year: so.Mapped[int]
    status: so.Mapped[CampaignStatus] = so.mapped_column(
        _enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT)
    instructions: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    opens_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    closes_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    index_model_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("index_model_versions.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    # Days after the close date that contacts' personal data is kept (None: until erased by hand).
    retention_days: so.Mapped[int | None]
    # Right of reply (methodology §9.5): business days institutions have to contest once the
    # campaign goes in review, and when that window started (Mexico City business days).
    reply_days: so.Mapped[int] = so.mapped_column(default=10, server_default="10")
    reply_opened_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)

    index_model: so.Mapped[IndexModelVersion | None] = so.relationship()
    instruments: so.Mapped[list[CampaignInstrument]] = so.relationship(
        back_populates="campaign", cascade="all, delete-orphan", lazy="selectin")


class CampaignInstrument(db.Model):
    """Which instrument version a campaign uses, and who answers it."""

    __tablename__ = "campaign_instruments"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "purpose", name="uq_campaign_instruments_purpose"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    instrument_version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("instrument_versions.id"))
    purpose: so.Mapped[InstrumentPurpose] = so.mapped_column(_enum(InstrumentPurpose, "instrument_purpose"))

    campaign: so.Mapped[Campaign] = so.relationship(back_populates="instruments")
    instrument_version: so.Mapped[InstrumentVersion] = so.relationship(lazy="joined")


class Participation(db.Model):
    """An institution included in a campaign's sample (gets an invitation, counts in rates)."""

    __tablename__ = "participations"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "institution_id", name="uq_participations_campaign_institution"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutions.id"), index=True)
    # Answers the state conditions questionnaire for its state (the local guarantor body or
    # technical secretariat), through the same invitation link.
    state_respondent: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # The campaign's roster entry: contact data for this campaign only (set when another
    # campaign also uses the institution, so an import here never changes what it sees),
    # and a withdrawal (excluded from invitations, progress and scoring).
    contact_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    contact_email: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    withdrawn_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    institution: so.Mapped[Institution] = so.relationship()

    @property
    def effective_contact_name(self) -> str | None:
        """The contact for this campaign: the roster entry's, else the institution's."""
        return self.contact_name or self.institution.contact_name

    @property
    def effective_contact_email(self) -> str | None:
        """The e-mail for this campaign: the roster entry's, else the institution's."""
        return self.contact_email or self.institution.contact_email


class Assignment(db.Model):
    """An evaluator assigned to evaluate an institution in a campaign."""

    __tablename__ = "assignments"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "institution_id", name="uq_assignments_campaign_institution"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutions.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)

    institution: so.Mapped[Institution] = so.relationship()
    user: so.Mapped[User] = so.relationship()


class Invitation(db.Model):
    """One institution's link to a campaign; only the sha256 of the token is stored."""

    __tablename__ = "invitations"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "institution_id", name="uq_invitations_campaign_institution"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutions.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)

    campaign: so.Mapped[Campaign] = so.relationship()
    institution: so.Mapped[Institution] = so.relationship()


class Response(db.Model):
    """One institution's answers to one instrument in one campaign."""

    __tablename__ = "responses"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "purpose", "institution_id", name="uq_responses_campaign_purpose_institution"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    # Which of the campaign's questionnaires this is (institution, evaluator or state); the
    # same instrument version may serve two purposes, so the purpose identifies the response.
    purpose: so.Mapped[InstrumentPurpose] = so.mapped_column(
        _enum(InstrumentPurpose, "instrument_purpose"), default=InstrumentPurpose.INSTITUTION)
    instrument_version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("instrument_versions.id"))
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutions.id"), index=True)
    status: so.Mapped[ResponseStatus] = so.mapped_column(
        _enum(ResponseStatus, "response_status"), default=ResponseStatus.DRAFT, index=True)
    last_page: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    updated_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    submitted_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    submitted_by: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    fingerprint: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    verified_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    verified_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    evaluator_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    # Optimistic concurrency: +1 on every write of the answers; a save names the version it was based on.
    version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # The newest save of one browser tab ("tab-id:sequence"): an older, late autosave of that tab is ignored.
    save_mark: so.Mapped[str] = so.mapped_column(sa.String(60), default="", server_default="")

    campaign: so.Mapped[Campaign] = so.relationship()
    instrument_version: so.Mapped[InstrumentVersion] = so.relationship()
    institution: so.Mapped[Institution] = so.relationship()
    answers: so.Mapped[list[Answer]] = so.relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.id")


class Answer(db.Model):
    """One stored value: field, repeat index (None outside repeats), value and verified value."""

    __tablename__ = "answers"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    response_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    field: so.Mapped[str] = so.mapped_column(sa.String(120))
    repeat_index: so.Mapped[int | None]
    value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    verified_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    verification: so.Mapped[str | None] = so.mapped_column(sa.String(20))  # accepted | corrected
    verification_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    verified_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    verified_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    updated_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)

    response: so.Mapped[Response] = so.relationship(back_populates="answers")

    @property
    def effective_value(self) -> str | None:
        """The verified value where an analyst set one, else the respondent's."""
        return self.verified_value if self.verification == "corrected" else self.value


# One row per (response, field, repeat index); NULL repeat indexes must collide too.
sa.Index("uq_answers_response_field_repeat", Answer.response_id, Answer.field,
         sa.func.coalesce(Answer.repeat_index, -1), unique=True)


class AuditEvent(db.Model):
    """Append-only log of every change to an answer or a status."""

    __tablename__ = "audit_log"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow, index=True)
    actor: so.Mapped[str] = so.mapped_column(sa.String(80))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    entity: so.Mapped[str] = so.mapped_column(sa.String(40))
    entity_id: so.Mapped[int | None]
    response_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("responses.id", ondelete="SET NULL"), index=True)
    field: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    repeat_index: so.Mapped[int | None]
    old_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    new_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)


@sa.event.listens_for(AuditEvent, "before_update")
@sa.event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper, _connection, target: AuditEvent) -> None:
    raise PermissionError(f"audit_log is append-only (event {target.id})")


@sa.event.listens_for(InstrumentVersion, "before_update")
def _locked_instrument_is_immutable(_mapper, connection, target: InstrumentVersion) -> None:
    state = sa.inspect(target)
    changed = {a.key for a in state.attrs if a.history.has_changes()} - {"locked"}
    if changed and state.attrs.locked.history.unchanged in ([True], (True,)):
        raise PermissionError(f"instrument version {target.id} is used by a campaign and cannot change")


class EvidenceFile(db.Model):
    """A file attached as evidence to one item of a response, kept by content hash."""

    __tablename__ = "evidence_files"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    size: so.Mapped[int]
    media_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    filename: so.Mapped[str] = so.mapped_column(sa.String(120))
    response_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    field: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    repeat_index: so.Mapped[int | None]
    uploaded_by: so.Mapped[str] = so.mapped_column(sa.String(80))
    uploaded_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)


class EvidenceCheck(db.Model):
    """One check of one evidence link: when, at which stage, what it answered (methodology §9.6)."""

    __tablename__ = "evidence_checks"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    url: so.Mapped[str] = so.mapped_column(sa.Text)
    stage: so.Mapped[str] = so.mapped_column(sa.String(20))  # submitted | verified | published
    checked_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    status: so.Mapped[int | None]
    final_url: so.Mapped[str | None] = so.mapped_column(sa.Text)
    sha256: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    size: so.Mapped[int | None]
    error: so.Mapped[str | None] = so.mapped_column(sa.String(40))
class StagedImport(db.Model):
    """An upload (institution import, offline submissions) kept between its preview and the
    analyst's confirmation, identified by the sha256 of its bytes (`services/staging.py`); the
    confirmation re-reads it and applies only what the preview showed.
    """

    __tablename__ = "staged_imports"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
class MailTemplate(db.Model):
    """A campaign's own wording of one message (invitation or reminder) in one language; the
    shipped defaults (diagnostic/data/mail/) apply where a campaign has none."""

    __tablename__ = "mail_templates"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "kind", "lang", name="uq_mail_templates_campaign_kind_lang"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))  # invitation | reminder
    lang: so.Mapped[str] = so.mapped_column(sa.String(5))  # es | en
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    updated_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    updated_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")


class InvitationEvent(db.Model):
    """One entry of an invitation's send log: sent, failed (with the server's reason), reminded
    or opened. "Started" and "submitted" are read from the response, not stored here.

    `link_nonce` (sent and reminded only) lets the mailer rebuild the link it sent from the
    app's secret key, so a reminder carries the same link; only the link's hash is stored."""

    __tablename__ = "invitation_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    invitation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)  # sent | failed | reminded | opened
    at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    actor: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    recipient: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    detail: so.Mapped[str | None] = so.mapped_column(sa.Text)
    link_nonce: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    invitation: so.Mapped[Invitation] = so.relationship()
class ImportedSubmission(db.Model):
    """An offline submission (KoboToolbox, ODK Central) imported into a campaign's response.

    Its submission id (the form's instanceID / Kobo `_uuid`) makes importing the same file
    again change nothing; `fingerprint` is that of the answers it brought.
    """

    __tablename__ = "imported_submissions"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "submission_id", name="uq_imported_submissions_campaign_submission"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    submission_id: so.Mapped[str] = so.mapped_column(sa.String(120))
    response_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(80))
    source: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    imported_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    imported_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)



class Contest(db.Model):
    """An institution's contest of one scored item during the right of reply (methodology §9.5):
    its comment and new evidence, and the verifier's decision (accepted: the item changed, with
    the values before and after; rejected) with a reason. The changed value itself is written to
    the answer through the review path (`Answer.verified_value`)."""

    __tablename__ = "contests"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institutions.id"), index=True)
    invitation_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("invitations.id", ondelete="SET NULL"))
    response_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("responses.id", ondelete="SET NULL"))
    item_code: so.Mapped[str] = so.mapped_column(sa.String(120))
    comment: so.Mapped[str] = so.mapped_column(sa.Text)
    evidence_url: so.Mapped[str | None] = so.mapped_column(sa.Text)
    evidence_file_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("evidence_files.id", ondelete="SET NULL"))
    score_before: so.Mapped[float | None] = so.mapped_column(sa.Float)
    created_at: so.Mapped[datetime] = so.mapped_column(Timestamp, default=utcnow)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="open", index=True)  # open | accepted | rejected
    decided_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decision_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    old_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    new_value: so.Mapped[str | None] = so.mapped_column(sa.Text)

    institution: so.Mapped[Institution] = so.relationship()
    evidence_file: so.Mapped[EvidenceFile | None] = so.relationship()
    decided_by: so.Mapped[User | None] = so.relationship()
class SecondSample(db.Model):
    """A campaign's second verification (methodology §9.2): the sample settings (share, minimum
    per state, seed), editable until the draw, and the draw itself (who, when, the seed used)."""

    __tablename__ = "second_samples"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "purpose", name="uq_second_samples_campaign_purpose"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    # institution: the national team re-verifies state-verified questionnaires; evaluator:
    # civil-society co-assessors double-code citizen-perspective evaluations (methodology §9.3).
    purpose: so.Mapped[str] = so.mapped_column(sa.String(20), default="institution", server_default="institution")
    share: so.Mapped[float] = so.mapped_column(sa.Float, default=0.10, server_default="0.1")
    min_per_state: so.Mapped[int] = so.mapped_column(default=5, server_default="5")
    seed: so.Mapped[int | None]  # None until the draw: one is chosen then and recorded
    population: so.Mapped[int | None]  # verified institution responses when drawn
    drawn_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    drawn_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    drawn_by: so.Mapped[User | None] = so.relationship()
    members: so.Mapped[list[SampledResponse]] = so.relationship(
        back_populates="sample", cascade="all, delete-orphan", order_by="SampledResponse.id")


class SampledResponse(db.Model):
    """One first-stage verified response drawn into the second verification sample; its first
    stage is frozen from the draw on."""

    __tablename__ = "sampled_responses"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sample_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("second_samples.id", ondelete="CASCADE"), index=True)
    response_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("responses.id", ondelete="CASCADE"), unique=True)
    state_code: so.Mapped[str] = so.mapped_column(sa.String(2))
    type: so.Mapped[str] = so.mapped_column(sa.String(80))
    finished_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    finished_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    assessor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))  # co-assessor (evaluations)

    sample: so.Mapped[SecondSample] = so.relationship(back_populates="members")
    response: so.Mapped[Response] = so.relationship()
    assessor: so.Mapped[User | None] = so.relationship(foreign_keys=[assessor_id])
    verdicts: so.Mapped[list[SecondVerdict]] = so.relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="SecondVerdict.id")


class SecondVerdict(db.Model):
    """One item of a sampled response: the first-stage verdict as it stood at the draw, the blind
    second verdict, and the resolution where the two disagree (both reasons kept)."""

    __tablename__ = "second_verdicts"
    __table_args__ = (sa.UniqueConstraint("member_id", "field", "repeat_key", name="uq_second_verdicts_item"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    member_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("sampled_responses.id", ondelete="CASCADE"), index=True)
    field: so.Mapped[str] = so.mapped_column(sa.String(120))
    repeat_index: so.Mapped[int | None]
    repeat_key: so.Mapped[int] = so.mapped_column(default=-1)  # repeat_index or -1 (unique with NULLs)
    first_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    first_verification: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    first_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    first_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    second_verification: so.Mapped[str | None] = so.mapped_column(sa.String(20))  # accepted | corrected
    second_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    second_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    second_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    second_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)
    resolved_value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    resolved_choice: so.Mapped[str | None] = so.mapped_column(sa.String(10))  # first | second
    resolution_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    resolved_at: so.Mapped[datetime | None] = so.mapped_column(Timestamp)

    member: so.Mapped[SampledResponse] = so.relationship(back_populates="verdicts")
    resolved_by: so.Mapped[User | None] = so.relationship(foreign_keys=[resolved_by_id])

    @property
    def disagrees(self) -> bool:
        """True once the second verdict is in and its value differs from the first stage's."""
        return self.second_verification is not None and (self.second_value or None) != (self.first_value or None)
