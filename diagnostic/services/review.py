"""What analysts follow and check: campaign progress by state and type, and one response's review.

Progress counts the campaign's sample (participations) against the responses to one of its
instruments (the institutional questionnaire by default): submitted, verified, draft and
not started; the response rate is (submitted + verified) / institutions. Pending
institutions are listed with the status of their invitation link.

The review of a response lists every answer with its evidence link, the item scores that
read it and their coverage (from `scores.compute`), the analyst's verification beside the
original value, and the response's audit trail. Writes go through `responses.verify_answer`,
`responses.reopen` and `responses.mark_verified`, which append to the audit log.
"""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from babel.dates import format_date
from babel.numbers import format_decimal

from diagnostic import labels
from diagnostic.extensions import db
from diagnostic.models import (
    Answer,
    AuditEvent,
    Campaign,
    Institution,
    InstrumentPurpose,
    Invitation,
    Participation,
    Response,
    ResponseStatus,
    State,
    User,
    utcnow,
)
from diagnostic.security import Scope, scope_or_current
from diagnostic.services import (
    NotFound,
    Refusal,
    ServiceError,
    audit,
    campaigns,
    responses,
    scores,
    second_verification,
)
from diagnostic.services.audit import Actor
from diagnostic.services.refusals import current_lang
from diagnostic.services.reply import ACTION_LABELS as REPLY_ACTIONS
from surveys.constants import BUILTIN_LISTS, CHOICE_TYPES

# Labels of the codes the review pages show (statuses, audit actions); institution types come
# from diagnostic/data/labels.yaml (`diagnostic.labels`).
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "draft": ("Borrador", "Draft"), "submitted": ("Enviada", "Submitted"), "verified": ("Verificada", "Verified"),
    "open": ("Abierta", "Open"), "closed": ("Cerrada", "Closed"), "published": ("Publicada", "Published"),
    "in_review": ("En revisión", "In review"),
    "accepted": ("aceptada", "accepted"), "corrected": ("corregida", "corrected"),
}
PURPOSE_LABELS: dict[str, tuple[str, str]] = {
    "institution": ("Cuestionario institucional", "Institutional questionnaire"),
    "evaluator": ("Evaluación ciudadana", "Citizen evaluation"),
    "state": ("Condiciones estatales", "State conditions"),
}
ACTION_LABELS: dict[str, tuple[str, str]] = {
    "answer.verify": ("Verificó una respuesta", "Verified an answer"),
    "answer.set": ("Guardó una respuesta", "Saved an answer"),
    "answer.finalise": ("Fijó una respuesta al enviar", "Fixed an answer on submission"),
    "response.status": ("Cambió el estado de la respuesta", "Changed the response status"),
    "campaign.create": ("Creó la campaña", "Created the campaign"),
    "campaign.status": ("Cambió el estado de la campaña", "Changed the campaign status"),
    "campaign.instrument": ("Eligió un instrumento", "Chose an instrument"),
    "campaign.index_model": ("Eligió el modelo de índice", "Chose the index model"),
    "campaign.state_respondent": ("Designó al responsable estatal", "Designated the state respondent"),
    "institutions.import": ("Importó instituciones", "Imported institutions"),
    "invitations.issue": ("Emitió invitaciones", "Issued invitations"),
    "invitation.revoke": ("Revocó una invitación", "Revoked an invitation"),
    "assignments.set": ("Asignó evaluaciones", "Assigned evaluations"),
    "evidence.attach": ("Adjuntó un archivo de evidencia", "Attached an evidence file"),
    "evidence.remove": ("Quitó un archivo de evidencia", "Removed an evidence file"),
    "evidence.check": ("Comprobó enlaces de evidencia", "Checked evidence links"),
    "user.states": ("Cambió las entidades de una cuenta", "Changed an account's states"),
    "second.settings": ("Ajustó la muestra de la segunda verificación", "Set the second-verification sample"),
    "second.draw": ("Sorteó la muestra de la segunda verificación", "Drew the second-verification sample"),
    "second.verdict": ("Dio un veredicto de segunda verificación", "Gave a second-verification verdict"),
    "second.resolve": ("Resolvió un desacuerdo entre verificaciones", "Resolved a disagreement between verifications"),
    "second.assign": ("Asignó co-evaluaciones ciudadanas", "Assigned citizen co-assessments"),
}
ACTION_LABELS.update(REPLY_ACTIONS)  # the right of reply's contests and decisions


def label_of(table: dict[str, tuple[str, str]], code: str | None, lang: str | None = None) -> str:
    """The label of a code in the reader's language; an unknown code shows as it is."""
    if code is None:
        return ""
    pair = table.get(code)
    if pair is None:
        return code
    return pair[1] if (lang or current_lang()) == "en" else pair[0]


def text(label, lang: str) -> str:
    """A label in `lang`, falling back to Spanish, then to any language."""
    if not label:
        return ""
    if isinstance(label, str):
        return label
    return label.get(lang) or label.get("es") or next(iter(label.values()), "")

# Tile map of the 32 states: (row, column) on a 6 × 10 grid that keeps neighbours close.
TILES: dict[str, tuple[int, int]] = {
    "02": (1, 1), "26": (1, 2), "08": (1, 3), "05": (1, 4), "19": (1, 5),
    "03": (2, 1), "25": (2, 2), "10": (2, 3), "32": (2, 4), "24": (2, 5), "28": (2, 6),
    "18": (3, 3), "01": (3, 4), "11": (3, 5), "22": (3, 6), "13": (3, 7),
    "14": (4, 3), "16": (4, 4), "15": (4, 5), "09": (4, 6), "29": (4, 7), "30": (4, 8),
    "06": (5, 3), "12": (5, 4), "17": (5, 5), "21": (5, 6), "20": (5, 7), "27": (5, 8), "04": (5, 9), "31": (5, 10),
    "07": (6, 8), "23": (6, 10),
}


@dataclass
class RateRow:
    """Response counts of one group (a state, a type, or the whole campaign)."""

    key: str
    label: str
    abbr: str = ""
    institutions: int = 0
    verified: int = 0
    submitted: int = 0
    draft: int = 0
    not_started: int = 0

    @property
    def responded(self) -> int:
        """Submitted or verified responses."""
        return self.verified + self.submitted

    @property
    def rate(self) -> float | None:
        """Share of the group's institutions that submitted (None for an empty group)."""
        return self.responded / self.institutions if self.institutions else None

    @property
    def band(self) -> int:
        """Colour band 0–4 of the rate (quintiles of 0–100 %), -1 without institutions."""
        if self.rate is None:
            return -1
        return min(4, int(self.rate * 5))

    def add(self, status: str) -> None:
        """Count one institution with a response status (or `not_started`)."""
        self.institutions += 1
        setattr(self, status, getattr(self, status) + 1)


@dataclass
class Tile:
    """One state on the tile map."""

    row: int
    col: int
    rate: RateRow


@dataclass
class Pending:
    """An institution that has not submitted, with its response and invitation status."""

    institution: Institution
    response_status: str
    invitation_status: str
    last_used_at: object = None


@dataclass
class Progress:
    """Response rates of a campaign: overall, by state, by type, tile map and pending list."""

    campaign: Campaign
    purpose: str
    total: RateRow
    by_state: list[RateRow]
    by_type: list[RateRow]
    tiles: list[Tile]
    federal: RateRow | None
    pending: list[Pending]
    counts: dict = field(default_factory=dict)


def _invitation_status(invitation: Invitation | None) -> str:
    if invitation is None:
        return "none"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at is not None and invitation.expires_at < utcnow():
        return "expired"
    return "opened" if invitation.last_used_at is not None else "sent"


def progress(campaign: Campaign, purpose: str = InstrumentPurpose.INSTITUTION.value,
             scope: Scope | None = None) -> Progress:
    """Response rates by state and type, a tile map of the 32 states and the pending institutions.

    A state-scoped account counts only its states' institutions: other states' rows are left
    out and their tiles are blank."""
    scope = scope_or_current(scope)
    try:
        purpose = InstrumentPurpose(purpose).value
    except ValueError:
        raise ServiceError(Refusal.UNKNOWN_INSTRUMENT_TYPE, purpose=purpose) from None
    response_join = sa.and_(Response.institution_id == Institution.id, Response.campaign_id == campaign.id,
                            Response.purpose == InstrumentPurpose(purpose))
    rows = db.session.execute(scope.restrict(
        sa.select(Institution, Response.status, Invitation)
        .join(Participation, Participation.institution_id == Institution.id)
        .outerjoin(Response, response_join)
        .outerjoin(Invitation, sa.and_(Invitation.institution_id == Institution.id,
                                       Invitation.campaign_id == campaign.id))
        .where(Participation.campaign_id == campaign.id, Participation.withdrawn_at.is_(None))
        .order_by(Institution.state_code, Institution.name), Institution.state_code)).all()
    every_state = {s.code: s for s in db.session.scalars(sa.select(State))}  # names are public; data is scoped
    names = {code: s for code, s in every_state.items() if scope.allows(code)}
    total = RateRow("all", "Total")
    by_state: dict[str, RateRow] = {
        code: RateRow(code, names[code].name if code in names else code, names[code].abbr if code in names else code)
        for code in sorted(names)}
    by_type: dict[str, RateRow] = {}
    pending: list[Pending] = []
    for institution, status, invitation in rows:
        key = status.value if status is not None else "not_started"
        total.add(key)
        state = by_state.setdefault(institution.state_code, RateRow(institution.state_code, institution.state_code))
        state.add(key)
        by_type.setdefault(institution.type, RateRow(institution.type, labels.label(institution.type, "type"))).add(key)
        if key in ("draft", "not_started"):
            pending.append(Pending(institution, key, _invitation_status(invitation),
                                   invitation.last_used_at if invitation else None))
    tiles = [Tile(r, c, by_state.get(code) or RateRow(code, every_state[code].name if code in every_state else code,
                                                       every_state[code].abbr if code in every_state else code))
             for code, (r, c) in TILES.items()]
    federal = by_state.get("00")
    states = [row for code, row in by_state.items() if code != "00" or row.institutions]
    return Progress(campaign, purpose, total, states, sorted(by_type.values(), key=lambda r: r.key),
                    tiles, federal if federal and federal.institutions else None, pending,
                    campaigns.progress(campaign, scope))


def campaign_responses(campaign: Campaign, status: str | None = None, scope: Scope | None = None) -> list[Response]:
    """A campaign's responses for review (within the scope), optionally of one status, by state then institution."""
    query = scope_or_current(scope).restrict(
        sa.select(Response).join(Institution, Institution.id == Response.institution_id)
        .where(Response.campaign_id == campaign.id)
        .order_by(Institution.state_code, Institution.name, Response.id), Institution.state_code)
    if status:
        try:
            query = query.where(Response.status == ResponseStatus(status))
        except ValueError:
            raise ServiceError(Refusal.UNKNOWN_REVIEW_STATUS, value=status) from None
    return list(db.session.scalars(query))


@dataclass
class SubmissionQuery:
    """Filters of the submissions table: state code, institution type, status, verifier (user id or `none`)."""

    state: str = ""
    type: str = ""
    status: str = ""
    verifier: str = ""
    purpose: str = ""

    @classmethod
    def from_args(cls, args) -> SubmissionQuery:
        """The filters from query (or form) arguments; unknown ones are ignored, blank means any."""
        return cls(**{name: (args.get(name) or "").strip()
                      for name in ("state", "type", "status", "verifier", "purpose")})

    def args(self) -> dict[str, str]:
        """The filters that are set, as query arguments."""
        return {k: v for k, v in vars(self).items() if v}


@dataclass
class SubmissionRow:
    """One response in the submissions table."""

    response: Response
    institution: Institution
    state_name: str
    reviewed: int
    total: int
    verifier: User | None

    @property
    def pending(self) -> int:
        """Listed answers nobody has reviewed yet."""
        return self.total - self.reviewed


@dataclass
class Submissions:
    """A campaign's submissions table with the choices its filters offer."""

    campaign: Campaign
    query: SubmissionQuery
    rows: list[SubmissionRow]
    states: list[tuple[str, str]]
    types: list[str]
    verifiers: list[User]
    purposes: list[str] = field(default_factory=list)


def _counts(campaign: Campaign, scope: Scope) -> dict[int, tuple[int, int, int | None]]:
    """Per response: (listed answers, reviewed answers, last verifier's user id), counted by the database.

    An `X_evidence` answer beside its `X` is not listed (as on the review page).
    """
    in_campaign = Answer.response_id.in_(scope.restrict(
        sa.select(Response.id).join(Institution, Institution.id == Response.institution_id)
        .where(Response.campaign_id == campaign.id), Institution.state_code))
    totals = db.session.execute(
        sa.select(Answer.response_id, sa.func.count(), sa.func.count(Answer.verification))
        .where(in_campaign, _listed()).group_by(Answer.response_id)).all()
    last: dict[int, tuple] = {}
    for rid, user_id, at in db.session.execute(
            sa.select(Answer.response_id, Answer.verified_by_id, sa.func.max(Answer.verified_at))
            .where(in_campaign, Answer.verified_by_id.is_not(None))
            .group_by(Answer.response_id, Answer.verified_by_id)):
        if rid not in last or (at is not None and (last[rid][1] is None or at > last[rid][1])):
            last[rid] = (user_id, at)
    return {rid: (total, reviewed, last.get(rid, (None,))[0]) for rid, total, reviewed in totals}


def submissions(campaign: Campaign, query: SubmissionQuery | None = None, scope: Scope | None = None) -> Submissions:
    """A campaign's responses with institution, state, type, status, review progress and verifier,
    filtered (and narrowed to the scope's states)."""
    query = query or SubmissionQuery()
    scope = scope_or_current(scope)
    select = scope.restrict(sa.select(Response, Institution).join(Institution, Institution.id == Response.institution_id)
                            .where(Response.campaign_id == campaign.id)
                            .order_by(Institution.state_code, Institution.name, Response.id), Institution.state_code)
    if query.status:
        try:
            select = select.where(Response.status == ResponseStatus(query.status))
        except ValueError:
            raise ServiceError(Refusal.UNKNOWN_SUBMISSION_FILTER, name="status", value=query.status) from None
    if query.purpose:
        try:
            select = select.where(Response.purpose == InstrumentPurpose(query.purpose))
        except ValueError:
            raise ServiceError(Refusal.UNKNOWN_SUBMISSION_FILTER, name="purpose", value=query.purpose) from None
    if query.verifier and query.verifier != "none" and not query.verifier.isdigit():
        raise ServiceError(Refusal.UNKNOWN_SUBMISSION_FILTER, name="verifier", value=query.verifier)
    everything = db.session.execute(select).all()
    names = {s.code: s.name for s in db.session.scalars(sa.select(State))}
    counts = _counts(campaign, scope)
    verifier_ids = {r.verified_by_id for r, _i in everything if r.verified_by_id}
    verifier_ids |= {c[2] for c in counts.values() if c[2]}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(verifier_ids)))} if verifier_ids else {}
    rows = []
    for response, institution in everything:
        total, reviewed, last = counts.get(response.id, (0, 0, None))
        verifier = users.get(response.verified_by_id or last) if (response.verified_by_id or last) else None
        rows.append(SubmissionRow(response, institution, names.get(institution.state_code, institution.state_code),
                                  reviewed, total, verifier))
    states = sorted({(r.institution.state_code, r.state_name) for r in rows})
    types = sorted({r.institution.type for r in rows})
    verifiers = sorted({r.verifier.id: r.verifier for r in rows if r.verifier}.values(), key=lambda u: u.email)

    def keep(row: SubmissionRow) -> bool:
        if query.state and row.institution.state_code != query.state:
            return False
        if query.type and row.institution.type != query.type:
            return False
        if query.verifier == "none":
            return row.verifier is None
        return not query.verifier or (row.verifier is not None and str(row.verifier.id) == query.verifier)

    purposes = sorted({r.response.purpose.value for r in rows})
    return Submissions(campaign, query, [r for r in rows if keep(r)], states, types, verifiers, purposes)


def _selected(campaign: Campaign, ids: list, scope: Scope | None = None) -> list[Response]:
    """The selected responses of the campaign; ids of other campaigns or outside the scope are left out."""
    scope = scope_or_current(scope)
    wanted = {int(i) for i in ids if str(i).strip().isdigit() and len(str(i).strip()) < 12}
    if not wanted:
        raise ServiceError(Refusal.NO_SUBMISSIONS_SELECTED)
    found: list[Response] = []
    for chunk in _chunks(sorted(wanted)):
        found.extend(db.session.scalars(scope.restrict(
            sa.select(Response).join(Institution, Institution.id == Response.institution_id)
            .where(Response.campaign_id == campaign.id, Response.id.in_(chunk)), Institution.state_code)))
    return sorted(found, key=lambda r: r.id)


CHUNK = 500


def _chunks(items: list) -> list[list]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def _listed():
    """The condition on `Answer` that keeps the answers a review lists (not an `X_evidence` beside its `X`)."""
    sibling = so.aliased(Answer)
    suffix = "_evidence"
    return sa.not_(sa.and_(
        Answer.field.like(f"%{suffix}"),
        sa.exists().where(sibling.response_id == Answer.response_id,
                          sibling.field == sa.func.substr(Answer.field, 1, sa.func.length(Answer.field) - len(suffix)),
                          sibling.repeat_index.is_not_distinct_from(Answer.repeat_index))))


def _pending_rows(response_ids: list[int]) -> list:
    """(id, response_id, field, repeat_index, value) of the listed answers nobody reviewed, by the database."""
    rows = []
    for chunk in _chunks(response_ids):
        rows.extend(db.session.execute(
            sa.select(Answer.id, Answer.response_id, Answer.field, Answer.repeat_index, Answer.value)
            .where(Answer.response_id.in_(chunk), Answer.verification.is_(None), _listed())
            .order_by(Answer.response_id, Answer.id)).all())
    return rows


@dataclass
class BulkPlan:
    """What a bulk accept will do: submissions whose answers get accepted, how many answers, what is skipped."""

    responses: list[Response]
    answers: int
    skipped: int


def bulk_plan(campaign: Campaign, ids: list, scope: Scope | None = None) -> BulkPlan:
    """What accepting every remaining answer of the selected submissions would change (nothing written)."""
    selected = _selected(campaign, ids, scope)
    ready = [r for r in selected if r.status == ResponseStatus.SUBMITTED]
    answers = 0
    for chunk in _chunks([r.id for r in ready]):
        answers += db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(
            Answer.response_id.in_(chunk), Answer.verification.is_(None), _listed())) or 0
    return BulkPlan(ready, answers, len(selected) - len(ready))


def bulk_accept(campaign: Campaign, ids: list, user: User, scope: Scope | None = None) -> BulkPlan:
    """Accept every answer not yet reviewed of the selected submitted responses, in one transaction
    (set-based: one audit row per answer, written in bulk).

    Drafts and verified responses among the selection are left alone (counted as skipped).
    """
    selected = _selected(campaign, ids, scope)
    ready = [r for r in selected if r.status == ResponseStatus.SUBMITTED]
    actor, now = Actor.for_user(user), utcnow()
    pending = _pending_rows([r.id for r in ready])
    if pending:
        db.session.connection().execute(AuditEvent.__table__.insert(), [
            {"at": now, "actor": actor.label, "user_id": actor.user_id, "action": "answer.verify", "entity": "answer",
             "entity_id": row.id, "response_id": row.response_id, "field": row.field,
             "repeat_index": row.repeat_index, "old_value": None, "new_value": row.value, "reason": None}
            for row in pending])
        for chunk in _chunks([row.id for row in pending]):
            db.session.execute(
                sa.update(Answer).where(Answer.id.in_(chunk), Answer.verification.is_(None))
                .values(verification="accepted", verified_value=Answer.value, verification_reason=None,
                        verified_by_id=actor.user_id, verified_at=now)
                .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expire_all()
    return BulkPlan(ready, len(pending), len(selected) - len(ready))


def next_to_review(response: Response, scope: Scope | None = None) -> Response | None:
    """The next submitted response of the same campaign and instrument (within the scope), in the
    submissions table's order (state, institution, id), wrapping to the first; None when no other is waiting."""
    waiting = db.session.execute(scope_or_current(scope).restrict(
        sa.select(Response.id, Institution.state_code, Institution.name)
        .join(Institution, Institution.id == Response.institution_id)
        .where(Response.campaign_id == response.campaign_id, Response.purpose == response.purpose,
               Response.status == ResponseStatus.SUBMITTED, Response.id != response.id)
        .order_by(Institution.state_code, Institution.name, Response.id), Institution.state_code)).all()
    if not waiting:
        return None
    here = (response.institution.state_code, response.institution.name, response.id)
    after = [row for row in waiting if (row[1], row[2], row[0]) > here]
    return db.session.get(Response, (after or waiting)[0][0])


def get_response(campaign: Campaign, response_id: int, scope: Scope | None = None) -> Response:
    """A response of this campaign, or NotFound (also when it belongs to another campaign, or to
    an institution outside the scope: another state's response is not even named)."""
    response = db.session.get(Response, response_id)
    if (response is None or response.campaign_id != campaign.id
            or not scope_or_current(scope).allows(response.institution.state_code)):
        raise NotFound(Refusal.RESPONSE_NOT_FOUND)
    return response


@dataclass
class Option:
    """One option of a choice question as the correction control offers it."""

    name: str
    label: str


@dataclass
class ReviewRow:
    """One answer under review: value, evidence, verification and the item scores reading it.

    `display` and `verified_display` are the values as a reader sees them (option labels,
    numbers and dates in the interface language); `widget` and `options` describe the
    question's own control, used to choose a correction.
    """

    field: str
    repeat_index: int | None
    label: dict
    value: str | None
    evidence: str | None
    verification: str | None
    verified_value: str | None
    reason: str | None
    items: list[dict]
    qtype: str = "text"
    options: list[Option] = field(default_factory=list)
    display: str = ""
    verified_display: str = ""

    @property
    def effective(self) -> str | None:
        """The value scores use: the correction where there is one, else the respondent's."""
        return self.verified_value if self.verification == "corrected" else self.value

    @property
    def widget(self) -> str:
        """The correction control: checkbox, radio, select, number, date, url or text."""
        return widget_for(self.qtype, len(self.options))

    @property
    def selected(self) -> set[str]:
        """Option names of the value scores use (for choice controls)."""
        return set((self.effective or "").split())

    @property
    def path(self) -> str:
        """`field` or `field[i]` for an answer inside a repeat."""
        return self.field if self.repeat_index is None else f"{self.field}[{self.repeat_index}]"

    @property
    def evidence_url(self) -> str | None:
        """The evidence when it is a web address (safe to link), else None."""
        if self.evidence and self.evidence.lower().startswith(("http://", "https://")):
            return self.evidence
        return None


@dataclass
class Review:
    """Everything the review page shows for one response."""

    response: Response
    rows: list[ReviewRow]
    headline: list[dict]
    events: list[AuditEvent]
    scored: bool
    score_error: str | None = None
    users: dict[int, User] = field(default_factory=dict)
    labels: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        """Answers nobody has accepted or corrected yet."""
        return sum(1 for row in self.rows if row.verification is None)


NUMBER_TYPES = frozenset({"integer", "decimal", "range"})
LOCALES = {"es": "es_MX", "en": "en_US"}


def widget_for(qtype: str, options: int) -> str:
    """The control a correction of a `qtype` question is chosen with (`none` for a calculated value)."""
    if qtype == "calculate":
        return "none"
    if qtype == "select_multiple":
        return "checkbox"
    if qtype in CHOICE_TYPES:
        return "radio" if options <= 4 else "select"
    if qtype in NUMBER_TYPES:
        return "number"
    return {"date": "date", "url": "url"}.get(qtype, "text")


def options_of(definition, question) -> list[Option]:
    """The options of a choice question with labels in the reader's language (built-in lists too)."""
    if question is None or question.type not in CHOICE_TYPES:
        return []
    lang = current_lang()
    listed = definition.choice_list(question)
    if listed is not None:
        return [Option(c.name, text(c.label, lang) or c.name) for c in listed.choices]
    builtin = BUILTIN_LISTS.get(question.type, ())
    return [Option(name, text(label, lang)) for name, label in builtin]


def display_value(question, options: list[Option], value: str | None) -> str:
    """A stored answer as a reader sees it: option labels, grouped numbers, written-out dates."""
    if value is None or not str(value).strip():
        return ""
    lang = current_lang()
    qtype = question.type if question is not None else "text"
    if options:
        labels = {o.name: o.label for o in options}
        return ", ".join(labels.get(part, part) for part in str(value).split())
    try:
        if qtype in NUMBER_TYPES or qtype == "calculate":
            number = decimal.Decimal(str(value).strip())
            return format_decimal(number, locale=LOCALES.get(lang, "es_MX"))
        if qtype == "date":
            return format_date(dt.date.fromisoformat(str(value).strip()), "long", locale=LOCALES.get(lang, "es_MX"))
    except (ValueError, decimal.InvalidOperation):
        pass
    return str(value)


def review(response: Response) -> Review:
    """One response's answers with evidence, item scores and coverage, headline scores and audit trail."""
    definition = responses.definition_of(response)
    fields = definition.fields
    order = {name: i for i, name in enumerate(fields)}
    answers = {(a.field, a.repeat_index): a for a in response.answers}
    scored = response.status in (ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED)
    by_field: dict[str, list[dict]] = {}
    headline: list[dict] = []
    score_error = None
    if scored:
        try:
            computed = scores.compute(response.campaign)
        except ServiceError as exc:
            score_error, scored = exc.message, False
        else:
            key = response.institution.key
            by_field = computed.items_by_field(key)
            table = computed.table("institution")
            row = scores.to_records(table[table["institution"] == key])
            record = row[0] if row else {}
            for code in computed.codes():
                node = computed.model.node(code)
                headline.append({"code": code, "label": node.label, "score": record.get(code),
                                 "coverage": record.get(f"{code}_coverage")})
    rows = []
    for (name, index), answer in sorted(answers.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][0],
                                                                         -1 if kv[0][1] is None else kv[0][1])):
        if name.endswith("_evidence") and (name[: -len("_evidence")], index) in answers:
            continue
        evidence = answers.get((f"{name}_evidence", index))
        question = fields.get(name)
        options = options_of(definition, question)
        rows.append(ReviewRow(
            name, index, dict(question.label) if question is not None else {}, answer.value,
            evidence.effective_value if evidence is not None else None, answer.verification,
            answer.verified_value, answer.verification_reason, by_field.get(name, []),
            question.type if question is not None else "text", options,
            display_value(question, options, answer.value),
            display_value(question, options, answer.verified_value)))
    events = audit.for_response(response.id)
    ids = {e.user_id for e in events if e.user_id}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
    return Review(response, rows, headline, events, scored, score_error, users, event_labels(events))


def event_labels(events: list[AuditEvent]) -> dict[int, tuple[str, str]]:
    """(before, after) of each answer event as a reader sees them: option labels, numbers, dates."""
    wanted = {e.response_id for e in events if e.response_id and e.field and e.entity == "answer"}
    if not wanted:
        return {}
    by_id = {r.id: r for r in db.session.scalars(sa.select(Response).where(Response.id.in_(wanted)))}
    known: dict[int, tuple] = {}
    out = {}
    for event in events:
        response = by_id.get(event.response_id)
        if response is None or not event.field or event.entity != "answer":
            continue
        if response.instrument_version_id not in known:
            known[response.instrument_version_id] = (responses.definition_of(response), {})
        definition, cache = known[response.instrument_version_id]
        name = event.field.split(".")[-1]
        if name not in cache:
            question = definition.fields.get(name)
            cache[name] = (question, options_of(definition, question))
        question, options = cache[name]
        out[event.id] = (display_value(question, options, event.old_value),
                         display_value(question, options, event.new_value))
    return out


def _as_text(value: object) -> str | None:
    """A posted correction as stored text: a list of options (checkboxes) joins with spaces."""
    if isinstance(value, (list, tuple)):
        parts = [str(v).strip() for v in value if str(v).strip()]
        return " ".join(parts) if parts else None
    if value is None or not str(value).strip():
        return None
    return str(value).strip()


def verify(response: Response, form: dict, user: User) -> str:
    """Accept or correct one answer from a submitted form (field, repeat_index, decision, value, reason).

    `value` may be a list (the options ticked in a multiple-choice control).
    """
    name = (form.get("field") or "").strip()
    if not name:
        raise ServiceError(Refusal.FIELD_TO_VERIFY_MISSING)
    second_verification.refuse_frozen(response)
    raw_index = (form.get("repeat_index") or "").strip()
    if raw_index and not raw_index.isdigit():
        raise ServiceError(Refusal.INVALID_REPEAT_INDEX)
    index = int(raw_index) if raw_index else None
    decision = form.get("decision")
    reason = (form.get("reason") or "").strip() or None
    actor = Actor.for_user(user)
    if decision == "accept":
        responses.verify_answer(response, name, index, actor, reason=reason)
        return "accepted"
    if decision == "correct":
        value = _as_text(form.get("value"))
        if value is None:
            raise ServiceError(Refusal.CORRECTED_VALUE_REQUIRED)
        responses.verify_answer(response, name, index, actor, corrected=value, reason=reason)
        return "corrected"
    raise ServiceError(Refusal.ACCEPT_OR_CORRECT)


def reviewable(response: Response) -> list[Answer]:
    """The answers the review lists (an `X_evidence` answer goes with its `X`, not on its own)."""
    keys = {(a.field, a.repeat_index) for a in response.answers}
    return [a for a in response.answers
            if not (a.field.endswith("_evidence") and (a.field[: -len("_evidence")], a.repeat_index) in keys)]


def unreviewed(response: Response) -> list[Answer]:
    """The listed answers nobody has accepted or corrected yet."""
    return [a for a in reviewable(response) if a.verification is None]


def _accept(response: Response, answers: list[Answer], actor: Actor) -> int:
    now = utcnow()
    for answer in answers:
        answer.verification, answer.verified_value, answer.verification_reason = "accepted", answer.value, None
        answer.verified_by_id, answer.verified_at = actor.user_id, now
        audit.record(actor, "answer.verify", "answer", answer.id, response_id=response.id, field=answer.field,
                     repeat_index=answer.repeat_index, old=None, new=answer.value)
    return len(answers)


def accept_remaining(response: Response, user: User) -> int:
    """Accept every answer of a submitted response not yet reviewed (one audit row each); how many."""
    if response.status == ResponseStatus.DRAFT:
        raise ServiceError(Refusal.VERIFY_ONLY_SUBMITTED)
    second_verification.refuse_frozen(response)
    accepted = _accept(response, unreviewed(response), Actor.for_user(user))
    db.session.commit()
    return accepted


def mark_verified(response: Response, user: User, *, confirmed: bool = False) -> None:
    """Close the verification of a submitted response; with answers not reviewed, only once confirmed."""
    pending = len(unreviewed(response)) if response.status == ResponseStatus.SUBMITTED else 0
    if pending and not confirmed:
        raise ServiceError(Refusal.ANSWERS_NOT_REVIEWED, count=pending)
    responses.mark_verified(response, Actor.for_user(user))
