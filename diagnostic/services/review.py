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

from dataclasses import dataclass, field

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import (
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
from diagnostic.services import NotFound, Refusal, ServiceError, audit, campaigns, responses, scores
from diagnostic.services.audit import Actor

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


def progress(campaign: Campaign, purpose: str = InstrumentPurpose.INSTITUTION.value) -> Progress:
    """Response rates by state and type, a tile map of the 32 states and the pending institutions."""
    try:
        purpose = InstrumentPurpose(purpose).value
    except ValueError:
        raise ServiceError(Refusal.UNKNOWN_INSTRUMENT_TYPE, purpose=purpose) from None
    response_join = sa.and_(Response.institution_id == Institution.id, Response.campaign_id == campaign.id,
                            Response.purpose == InstrumentPurpose(purpose))
    rows = db.session.execute(
        sa.select(Institution, Response.status, Invitation)
        .join(Participation, Participation.institution_id == Institution.id)
        .outerjoin(Response, response_join)
        .outerjoin(Invitation, sa.and_(Invitation.institution_id == Institution.id,
                                       Invitation.campaign_id == campaign.id))
        .where(Participation.campaign_id == campaign.id, Participation.withdrawn_at.is_(None))
        .order_by(Institution.state_code, Institution.name)).all()
    names = {s.code: s for s in db.session.scalars(sa.select(State))}
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
        by_type.setdefault(institution.type, RateRow(institution.type, institution.type)).add(key)
        if key in ("draft", "not_started"):
            pending.append(Pending(institution, key, _invitation_status(invitation),
                                   invitation.last_used_at if invitation else None))
    tiles = [Tile(r, c, by_state.get(code, RateRow(code, code))) for code, (r, c) in TILES.items()]
    federal = by_state.get("00")
    states = [row for code, row in by_state.items() if code != "00" or row.institutions]
    return Progress(campaign, purpose, total, states, sorted(by_type.values(), key=lambda r: r.key),
                    tiles, federal if federal and federal.institutions else None, pending,
                    campaigns.progress(campaign))


def campaign_responses(campaign: Campaign, status: str | None = None) -> list[Response]:
    """A campaign's responses for review, optionally of one status, by state then institution."""
    query = (sa.select(Response).join(Institution, Institution.id == Response.institution_id)
             .where(Response.campaign_id == campaign.id)
             .order_by(Institution.state_code, Institution.name, Response.id))
    if status:
        try:
            query = query.where(Response.status == ResponseStatus(status))
        except ValueError:
            raise ServiceError(Refusal.UNKNOWN_REVIEW_STATUS, value=status) from None
    return list(db.session.scalars(query))


def get_response(campaign: Campaign, response_id: int) -> Response:
    """A response of this campaign, or NotFound (also when it belongs to another campaign)."""
    response = db.session.get(Response, response_id)
    if response is None or response.campaign_id != campaign.id:
        raise NotFound(Refusal.RESPONSE_NOT_FOUND)
    return response


@dataclass
class ReviewRow:
    """One answer under review: value, evidence, verification and the item scores reading it."""

    field: str
    repeat_index: int | None
    label: dict
    value: str | None
    evidence: str | None
    verification: str | None
    verified_value: str | None
    reason: str | None
    items: list[dict]

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
        rows.append(ReviewRow(
            name, index, dict(question.label) if question is not None else {}, answer.value,
            evidence.effective_value if evidence is not None else None, answer.verification,
            answer.verified_value, answer.verification_reason, by_field.get(name, [])))
    events = audit.for_response(response.id)
    ids = {e.user_id for e in events if e.user_id}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
    return Review(response, rows, headline, events, scored, score_error, users)


def verify(response: Response, form: dict, user: User) -> str:
    """Accept or correct one answer from a submitted form (field, repeat_index, decision, value, reason)."""
    name = (form.get("field") or "").strip()
    if not name:
        raise ServiceError(Refusal.FIELD_TO_VERIFY_MISSING)
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
        value = form.get("value")
        if value is None or not str(value).strip():
            raise ServiceError(Refusal.CORRECTED_VALUE_REQUIRED)
        responses.verify_answer(response, name, index, actor, corrected=str(value).strip(), reason=reason)
        return "corrected"
    raise ServiceError(Refusal.ACCEPT_OR_CORRECT)


def mark_verified(response: Response, user: User) -> None:
    """Close the verification of a submitted response."""
    responses.mark_verified(response, Actor.for_user(user))
