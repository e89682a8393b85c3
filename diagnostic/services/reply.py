"""Right of reply before publication (methodology §9.5; *derecho de réplica*).

When a closed campaign goes *in review*, the window opens: each institution's link shows its
item scores (as `scoring` gives them, through `scores.compute`), the corrections verifiers made
with their reasons, and the evidence used. For `Campaign.reply_days` business days (Mexican
federal holidays excluded, counted in Mexico City time from the day the review starts; the
window closes at the end of its last day) the institution may contest an item with a comment
and new evidence (a web address and/or a file kept by `services/evidence.py`). Verifiers,
within their state scope, accept a contest (the item changes: the new value goes to the
answer through `responses.verify_answer`, the review path, with its reason) or reject it
with a reason. Publication is refused while a contest is open or the window still runs (an
admin may shorten the window: 0 days closes it). Going back from review to closed stops the
window; coming back to review starts a new one (the contests already filed are kept).

Every contest, its evidence and every decision is an audit event (`contest.create`,
`contest.evidence`, `contest.accept`, `contest.reject`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import (
    Campaign,
    CampaignStatus,
    Contest,
    EvidenceFile,
    Institution,
    Invitation,
    Response,
    ResponseStatus,
    User,
    utcnow,
)
from diagnostic.services import Conflict, NotFound, Refusal, ServiceError
from diagnostic.services.audit import Actor, record
from diagnostic.services.refusals import Both, _Templates

ZONE = ZoneInfo("America/Mexico_City")
MAX_DAYS = 60
OPEN, ACCEPTED, REJECTED = "open", "accepted", "rejected"
STATUSES = (OPEN, ACCEPTED, REJECTED)
SCORED = (ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED)
ACTION_LABELS = {
    "contest.create": ("Impugnó un reactivo (réplica)", "Contested an item (right of reply)"),
    "contest.evidence": ("Aportó evidencia a una impugnación", "Added evidence to a contest"),
    "contest.accept": ("Aceptó una impugnación", "Accepted a contest"),
    "contest.reject": ("Rechazó una impugnación", "Rejected a contest"),
    "reply.window": ("Fijó el plazo de réplica", "Set the reply window"),
    "reply.notify": ("Avisó por correo del derecho de réplica", "E-mailed the right-of-reply notice"),
}


# ------------------------------------------------------------------ the window
def add_business_days(day: date, n: int) -> date:
    """The `n`-th business day after `day` (Mon–Fri, Mexican federal holidays excluded)."""
    from surveys.expressions import holidays

    off, _weekdays = holidays()
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            n -= 1
    return day


@dataclass(frozen=True)
class Window:
    """A campaign's reply window: when it opened, its last day and the moment it closes (UTC)."""

    days: int
    opened_at: datetime | None
    last_day: date | None
    closes_at: datetime | None

    def is_open(self, now: datetime | None = None) -> bool:
        """True between the start and the close."""
        if self.opened_at is None or self.closes_at is None:
            return False
        return self.opened_at <= (now or utcnow()) < self.closes_at

    def text(self, lang: str = "es") -> str:
        """The close as a reader sees it, in Mexico City time."""
        if self.closes_at is None:
            return ""
        return close_text(self, lang)


def window_for(days: int, opened_at: datetime | None) -> Window:
    """The window of `days` business days starting at `opened_at` (0 days: closed at once)."""
    if opened_at is None:
        return Window(days, None, None, None)
    if days <= 0:
        return Window(days, opened_at, opened_at.astimezone(ZONE).date(), opened_at)
    last = add_business_days(opened_at.astimezone(ZONE).date(), days)
    closes = datetime.combine(last + timedelta(days=1), time.min, tzinfo=ZONE).astimezone(UTC)
    return Window(days, opened_at, last, closes)


def window(campaign: Campaign) -> Window:
    """The campaign's current reply window."""
    return window_for(campaign.reply_days, campaign.reply_opened_at)


def close_text(w: Window, lang: str = "es") -> str:
    """'el 16 de diciembre de 2026 a las 23:59 (hora de la Ciudad de México)' or its English."""
    from babel.dates import format_date, format_time

    moment = (w.closes_at - timedelta(minutes=1)).astimezone(ZONE) if w.days > 0 else w.closes_at.astimezone(ZONE)
    locale = "en_US" if lang == "en" else "es_MX"
    day = format_date(moment.date(), "long", locale=locale)
    clock = format_time(moment.time(), "HH:mm", locale=locale)
    return (f"{day}, {clock} (Mexico City time)" if lang == "en"
            else f"{day}, {clock} (hora de la Ciudad de México)")


def close_both(w: Window) -> Both:
    """The close in both languages."""
    return Both(close_text(w, "es"), close_text(w, "en"))


def set_days(campaign: Campaign, days: object, actor: Actor) -> bool:
    """Change the reply window's length in business days (until publication); True if it changed.

    Shortening it while the campaign is in review closes it earlier (0: at once)."""
    try:
        days = int(str(days).strip())
    except (TypeError, ValueError):
        raise ServiceError(Refusal.REPLY_DAYS_INVALID, maximum=MAX_DAYS) from None
    if not 0 <= days <= MAX_DAYS:
        raise ServiceError(Refusal.REPLY_DAYS_INVALID, maximum=MAX_DAYS)
    if campaign.status == CampaignStatus.PUBLISHED:
        raise Conflict(Refusal.REPLY_WINDOW_FIXED)
    if days == campaign.reply_days:
        return False
    old = campaign.reply_days
    campaign.reply_days = days
    record(actor, "reply.window", "campaign", campaign.id, field="reply_days", old=str(old), new=str(days))
    db.session.commit()
    return True


def before_status_change(campaign: Campaign, target: CampaignStatus, actor: Actor) -> None:
    """`campaigns.set_status`'s hook: start the window on entering review; refuse publishing while
    a contest is open or the window still runs (no institution loses its right)."""
    if target == CampaignStatus.IN_REVIEW:
        campaign.reply_opened_at = utcnow()
        w = window(campaign)
        record(actor, "reply.window", "campaign", campaign.id, field="reply_opened_at",
               new=w.closes_at.isoformat() if w.closes_at else None)
    elif target == CampaignStatus.PUBLISHED:
        pending = open_count(campaign)
        if pending:
            raise Conflict(Refusal.CONTESTS_OPEN, count=pending)
        w = window(campaign)
        if w.is_open():
            raise Conflict(Refusal.REPLY_WINDOW_RUNNING, date=close_both(w))


# ------------------------------------------------------------------ what a status change says
class Effect(_Templates):
    """What moving into or out of review changes: (Spanish, English)."""

    SEE_SCORES = ("Cada institución ve en su enlace sus puntajes por reactivo, las correcciones de los verificadores "
                  "con su motivo y la evidencia usada; los resultados aún no son públicos.",
                  "Each institution sees on its link its item scores, the verifiers' corrections with their reasons "
                  "and the evidence used; results are not public yet.")
    CONTEST_UNTIL = ("Las instituciones pueden impugnar reactivos, con un comentario y nueva evidencia, hasta el "
                     "{date} ({days} días hábiles).",
                     "Institutions can contest items, with a comment and new evidence, until {date} ({days} business "
                     "days).")
    NO_WINDOW = ("El plazo de réplica es de 0 días: las instituciones verán sus puntajes pero no podrán impugnar.",
                 "The reply window is 0 days: institutions will see their scores but cannot contest.")
    LINKS_READ_ONLY = ("Los cuestionarios no se pueden modificar; los verificadores aceptan o rechazan cada impugnación "
                       "con un motivo.",
                       "Questionnaires cannot be changed; verifiers accept or reject each contest with a reason.")
    PUBLISH_WAITS = ("No se podrá publicar mientras haya impugnaciones abiertas o el plazo siga corriendo.",
                     "Publishing is refused while any contest is open or the window is still running.")
    BACK_TO_CLOSED = ("El plazo de réplica se detiene: las instituciones ya no pueden impugnar. Las impugnaciones "
                      "presentadas se conservan ({count} abiertas); al volver a revisión empieza un plazo nuevo.",
                      "The reply window stops: institutions can no longer contest. Contests already filed are kept "
                      "({count} open); going back to review starts a new window.")
    BLOCKED_WINDOW = ("Todavía no se puede publicar: el plazo de réplica corre hasta el {date}. Espere o acorte el "
                      "plazo.",
                      "Publishing is not possible yet: the reply window runs until {date}. Wait, or shorten the "
                      "window.")
    BLOCKED_CONTESTS = ("Todavía no se puede publicar: {count} impugnaciones esperan decisión.",
                        "Publishing is not possible yet: {count} contests await a decision.")
    CONTESTED = ("Derecho de réplica: reactivos impugnados, {contested}; reactivos que cambiaron, {changed}. Cada "
                 "informe estatal lo dice.",
                 "Right of reply: items contested, {contested}; items changed, {changed}. Each state report says so.")


def effects(campaign: Campaign, target: CampaignStatus) -> list[Both]:
    """What a status change into or out of review does (empty for other changes)."""
    if target == CampaignStatus.IN_REVIEW:
        w = window_for(campaign.reply_days, utcnow())
        first = (Effect.CONTEST_UNTIL.both(date=close_both(w), days=campaign.reply_days) if campaign.reply_days
                 else Effect.NO_WINDOW.both())
        return [Effect.SEE_SCORES.both(), first, Effect.LINKS_READ_ONLY.both(), Effect.PUBLISH_WAITS.both()]
    if campaign.status == CampaignStatus.IN_REVIEW and target == CampaignStatus.CLOSED:
        return [Effect.BACK_TO_CLOSED.both(count=open_count(campaign))]
    if campaign.status == CampaignStatus.IN_REVIEW and target == CampaignStatus.PUBLISHED:
        counts, w = totals(campaign), window(campaign)
        out = [Effect.CONTESTED.both(contested=counts["contested"], changed=counts["changed"])]
        if counts["open"]:
            out.insert(0, Effect.BLOCKED_CONTESTS.both(count=open_count(campaign)))
        if w.is_open():
            out.insert(0, Effect.BLOCKED_WINDOW.both(date=close_both(w)))
        return out
    return []


# ------------------------------------------------------------------ the institution's link
def resolve(token: str) -> Invitation:
    """The invitation of a link whose campaign is in review or published (after a review);
    a 404 for an unknown or replaced link, a 410 before the review."""
    from diagnostic.services import invitations

    if not token or len(token) > 100:
        raise NotFound(Refusal.LINK_INVALID)
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == invitations.hash_token(token)))
    if invitation is None or invitation.revoked_at is not None:
        raise NotFound(Refusal.LINK_INVALID)
    if not shows_reply(invitation.campaign):
        raise ServiceError(Refusal.REPLY_NOT_IN_REVIEW)
    return invitation


def shows_reply(campaign: Campaign) -> bool:
    """Whether an institution's link shows its right-of-reply page (in review, or published after one)."""
    return campaign.status == CampaignStatus.IN_REVIEW or (
        campaign.status == CampaignStatus.PUBLISHED and campaign.reply_opened_at is not None)


def redirect_for(token: str) -> bool:
    """True when this link's landing should be the reply page (the questionnaire is over)."""
    try:
        resolve(token)
    except ServiceError:
        return False
    return True


@dataclass
class AnswerView:
    """One answer an item reads: what the institution said, the verifier's correction and the evidence."""

    response_id: int
    field: str
    repeat_index: int | None
    label: dict
    display: str
    corrected: bool
    verified_display: str
    reason: str | None
    evidence_urls: list[str]
    files: list[EvidenceFile]
    qtype: str = "text"
    options: list = field(default_factory=list)
    effective: str | None = None

    @property
    def path(self) -> str:
        """`field` or `field[i]`."""
        return self.field if self.repeat_index is None else f"{self.field}[{self.repeat_index}]"

    @property
    def key(self) -> str:
        """The form key of this answer: `response_id:path`."""
        return f"{self.response_id}:{self.path}"

    @property
    def widget(self) -> str:
        """The control a new value is chosen with (as on the review page)."""
        from diagnostic.services.review import widget_for

        return widget_for(self.qtype, len(self.options))

    @property
    def selected(self) -> set[str]:
        """Option names of the current value."""
        return set((self.effective or "").split())


@dataclass
class ItemView:
    """One scored item of an institution: its score, the answers it reads and its contests."""

    code: str
    label: dict
    component: str
    score: float | None
    removed: bool
    answers: list[AnswerView]
    contests: list[Contest]

    @property
    def open_contest(self) -> Contest | None:
        """The contest awaiting a decision, if any."""
        return next((c for c in self.contests if c.status == OPEN), None)

    @property
    def corrected(self) -> bool:
        """True when a verifier corrected any answer the item reads."""
        return any(a.corrected for a in self.answers)


@dataclass
class Component:
    """A component (its label) and its items, in model order."""

    code: str
    label: dict
    items: list[ItemView]


@dataclass
class ReplyPage:
    """Everything an institution's right-of-reply page shows."""

    campaign: Campaign
    institution: Institution
    window: Window
    components: list[Component]
    responded: bool
    score_error: Both | None = None

    @property
    def can_contest(self) -> bool:
        """Contests are taken: in review, window open, something submitted."""
        return (self.campaign.status == CampaignStatus.IN_REVIEW and self.window.is_open() and self.responded)

    @property
    def contests(self) -> list[Contest]:
        """Every contest of the institution, newest first."""
        return sorted((c for comp in self.components for i in comp.items for c in i.contests),
                      key=lambda c: c.id, reverse=True)

    def item(self, code: str) -> ItemView | None:
        """The item with this code."""
        return next((i for comp in self.components for i in comp.items if i.code == code), None)


def _scored_responses(campaign: Campaign, institution: Institution) -> list[Response]:
    return list(db.session.scalars(sa.select(Response).where(
        Response.campaign_id == campaign.id, Response.institution_id == institution.id,
        Response.status.in_(SCORED)).order_by(Response.purpose, Response.id)))


def _answer_views(scored: list[Response], wanted: set[str] | None = None) -> dict[str, list[AnswerView]]:
    """Bare field name → its answers (with evidence) in the institution's scored responses."""
    from diagnostic.services import responses as responses_service
    from diagnostic.services.review import display_value, options_of

    files: dict[tuple, list[EvidenceFile]] = {}
    ids = [r.id for r in scored]
    if ids:
        for row in db.session.scalars(sa.select(EvidenceFile).where(EvidenceFile.response_id.in_(ids))
                                      .order_by(EvidenceFile.id)):
            files.setdefault((row.response_id, row.field, row.repeat_index), []).append(row)
    out: dict[str, list[AnswerView]] = {}
    for response in scored:
        definition = responses_service.definition_of(response)
        answers = {(a.field, a.repeat_index): a for a in response.answers}
        # Stored names carry their repeat (`tc_requests.tc_days`); items name the bare field.
        keys = {k for k in answers if wanted is None or k[0].split(".")[-1] in wanted}
        present = {name.split(".")[-1] for name, _i in keys}
        keys |= {(name, None) for name in (wanted or ()) if name not in present and name in definition.fields
                 and getattr(definition.fields[name], "repeat", None) is None}
        for name, index in sorted(keys, key=lambda k: (k[0], -1 if k[1] is None else k[1])):
            if name.endswith("_evidence") and (name[: -len("_evidence")], index) in answers:
                continue
            bare = name.split(".")[-1]
            answer = answers.get((name, index))
            question = definition.fields.get(bare)
            options = options_of(definition, question)
            evidence = answers.get((f"{name}_evidence", index))
            urls = [v for v in ((evidence.effective_value if evidence else None),
                                answer.effective_value if answer is not None and question is not None
                                and question.type == "url" else None)
                    if v and v.lower().startswith(("http://", "https://"))]
            corrected = answer is not None and answer.verification == "corrected"
            attached = [f for n in {name, bare, f"{name}_evidence", f"{bare}_evidence"}
                        for f in files.get((response.id, n, index), [])]
            out.setdefault(bare, []).append(AnswerView(
                response.id, name, index, dict(question.label) if question is not None else {},
                display_value(question, options, answer.value if answer else None), corrected,
                display_value(question, options, answer.verified_value) if corrected else "",
                answer.verification_reason if answer is not None and corrected else None, urls,
                sorted(attached, key=lambda f: f.id),
                question.type if question is not None else "text", options,
                answer.effective_value if answer is not None else None))
    return out


def page(campaign: Campaign, institution: Institution) -> ReplyPage:
    """The institution's item scores (from `scores.compute`), corrections, evidence and contests."""
    from diagnostic.services import scores

    scored = _scored_responses(campaign, institution)
    contests: dict[str, list[Contest]] = {}
    for contest in db.session.scalars(sa.select(Contest).where(
            Contest.campaign_id == campaign.id, Contest.institution_id == institution.id).order_by(Contest.id)):
        contests.setdefault(contest.item_code, []).append(contest)
    try:
        computed = scores.compute(campaign)
    except ServiceError as exc:
        return ReplyPage(campaign, institution, window(campaign), [], bool(scored),
                         Both(exc.message_for("es"), exc.message_for("en")))
    items = computed.item_scores(institution.key)
    wanted = {name for item in items.values() for name in item["fields"]}
    answers = _answer_views(scored, wanted)
    parents = computed.model.parents()
    components: dict[str, Component] = {}
    for code, item in items.items():
        parent = parents.get(code) or ""
        if parent not in components:
            node = computed.model.node(parent) if parent else None
            components[parent] = Component(parent, dict(node.label) if node else {}, [])
        components[parent].items.append(ItemView(
            code, {"es": item["label_es"], "en": item["label_en"]}, parent, item["score"], item["removed"],
            [a for name in item["fields"] for a in answers.get(name, [])], contests.get(code, [])))
    return ReplyPage(campaign, institution, window(campaign), list(components.values()), bool(scored))


def _url(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 2000 or not value.lower().startswith(("http://", "https://")) or any(c.isspace() for c in value):
        raise ServiceError(Refusal.REPLY_EVIDENCE_URL_INVALID)
    return value


def contest(invitation: Invitation, item_code: str, comment: str, *, evidence_url: str | None = None,
            upload=None, upload_name: str | None = None) -> Contest:
    """File a contest of one item through the institution's link (comment required; a URL and/or a
    file as new evidence); refused outside the window or for an item already awaiting a decision."""
    from diagnostic.services import evidence

    campaign, institution = invitation.campaign, invitation.institution
    if campaign.status != CampaignStatus.IN_REVIEW:
        raise Conflict(Refusal.REPLY_NOT_IN_REVIEW)
    w = window(campaign)
    if not w.is_open():
        raise Conflict(Refusal.REPLY_WINDOW_CLOSED, date=close_both(w) if w.closes_at else Both("—", "—"))
    comment = (comment or "").strip()
    if not comment:
        raise ServiceError(Refusal.REPLY_COMMENT_REQUIRED)
    if len(comment) > 5000:
        raise ServiceError(Refusal.REPLY_COMMENT_TOO_LONG, maximum=5000)
    url = _url(evidence_url)
    view = page(campaign, institution)
    item = view.item((item_code or "").strip())
    if item is None:
        raise NotFound(Refusal.REPLY_UNKNOWN_ITEM, item=(item_code or "")[:120])
    if not view.responded:
        raise Conflict(Refusal.REPLY_NOTHING_SUBMITTED)
    if item.open_contest is not None:
        raise Conflict(Refusal.REPLY_CONTEST_ALREADY_OPEN)
    scored = _scored_responses(campaign, institution)
    response_id = item.answers[0].response_id if item.answers else scored[0].id
    response = db.session.get(Response, response_id)
    actor = Actor.for_invitation(invitation.id)
    stored = evidence.store(upload, upload_name) if upload is not None else None
    row = Contest(campaign_id=campaign.id, institution_id=institution.id, invitation_id=invitation.id,
                  response_id=response_id, item_code=item.code, comment=comment, evidence_url=url,
                  score_before=item.score, status=OPEN)
    db.session.add(row)
    db.session.flush()
    field_name = item.answers[0].field if item.answers else None
    record(actor, "contest.create", "contest", row.id, response_id=response_id, field=item.code,
           new=comment, reason=None)
    if url:
        record(actor, "contest.evidence", "contest", row.id, response_id=response_id, field=item.code, new=url)
    if stored is not None:
        attached = evidence.attach(response, field_name or item.code, stored, actor)
        row.evidence_file_id = attached.id
        record(actor, "contest.evidence", "contest", row.id, response_id=response_id, field=item.code,
               new=f"{stored.filename} sha256:{stored.sha256}")
    db.session.commit()
    return row


def own_file(invitation: Invitation, file_id: int) -> EvidenceFile:
    """An evidence file of this institution's responses (any other: NotFound)."""
    row = db.session.get(EvidenceFile, file_id)
    if row is None or row.response_id is None:
        raise NotFound(Refusal.REPLY_FILE_NOT_FOUND)
    response = db.session.get(Response, row.response_id)
    if (response is None or response.campaign_id != invitation.campaign_id
            or response.institution_id != invitation.institution_id):
        raise NotFound(Refusal.REPLY_FILE_NOT_FOUND)
    return row


# ------------------------------------------------------------------ verifiers
@dataclass
class ContestRow:
    """A contest as the verifiers' list shows it."""

    contest: Contest
    institution: Institution
    item: ItemView | None


def for_verifiers(campaign: Campaign, scope, status: str = OPEN) -> list[ContestRow]:
    """The campaign's contests of one status (open by default) within a verifier's state scope."""
    if status not in (*STATUSES, "all"):
        raise ServiceError(Refusal.REPLY_UNKNOWN_STATUS, value=status[:40])
    query = (sa.select(Contest, Institution).join(Institution, Institution.id == Contest.institution_id)
             .where(Contest.campaign_id == campaign.id).order_by(Institution.state_code, Institution.name, Contest.id))
    if status != "all":
        query = query.where(Contest.status == status)
    query = scope.restrict(query, Institution.state_code)
    rows = db.session.execute(query).all()
    pages: dict[int, ReplyPage] = {}
    out = []
    for row, institution in rows:
        if institution.id not in pages:
            pages[institution.id] = page(campaign, institution)
        out.append(ContestRow(row, institution, pages[institution.id].item(row.item_code)))
    return out


def get_contest(campaign: Campaign, contest_id: int, scope) -> Contest:
    """One contest of the campaign inside the scope (outside: NotFound)."""
    row = db.session.get(Contest, contest_id)
    if row is None or row.campaign_id != campaign.id:
        raise NotFound(Refusal.REPLY_CONTEST_NOT_FOUND)
    scope.require(row.institution.state_code)
    return row


def _decidable(row: Contest, reason: str | None) -> str:
    if row.status != OPEN:
        raise Conflict(Refusal.REPLY_CONTEST_DECIDED)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(Refusal.REPLY_DECISION_REASON_REQUIRED)
    return reason


def _claim(row: Contest, status: str, reason: str, user: User) -> None:
    """Record the decision only if the contest is still open (two verifiers at once: one wins)."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Contest).where(Contest.id == row.id, Contest.status == OPEN)
        .values(status=status, decided_at=now, decided_by_id=user.id, decision_reason=reason)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise Conflict(Refusal.REPLY_CONTEST_DECIDED)
    row.status, row.decided_at, row.decided_by_id, row.decision_reason = status, now, user.id, reason


def reject(row: Contest, reason: str, user: User) -> None:
    """Reject a contest with a reason (the item stays as it is)."""
    reason = _decidable(row, reason)
    actor = Actor.for_user(user)
    _claim(row, REJECTED, reason, user)
    record(actor, "contest.reject", "contest", row.id, response_id=row.response_id, field=row.item_code,
           old=OPEN, new=REJECTED, reason=reason)
    db.session.commit()


def accept(row: Contest, values: dict[str, object], reason: str, user: User) -> list[str]:
    """Accept a contest: the item changes. `values` maps an answer's key (`response_id:path`, as
    the form names it) to its new value; each changed answer is corrected through the review path
    (`responses.verify_answer`, audited with the reason). Returns the paths changed; refused when
    nothing changes (reject instead) or a value is not valid for its question."""
    from diagnostic.services import responses
    from diagnostic.services.review import _as_text

    reason = _decidable(row, reason)
    view = page(db.session.get(Campaign, row.campaign_id), row.institution)
    item = view.item(row.item_code)
    changes = []
    for answer in item.answers if item else []:
        if answer.key not in values or answer.widget == "none":
            continue
        new = _as_text(values[answer.key])
        if new is not None and new != answer.effective:
            changes.append((answer, new))
    if not changes:
        raise ServiceError(Refusal.REPLY_ACCEPT_NEEDS_CHANGE)
    actor = Actor.for_user(user)
    _claim(row, ACCEPTED, reason, user)
    row.old_value = "; ".join(f"{a.path}={a.effective or ''}" for a, _n in changes)
    row.new_value = "; ".join(f"{a.path}={n}" for a, n in changes)
    record(actor, "contest.accept", "contest", row.id, response_id=row.response_id, field=row.item_code,
           old=row.old_value, new=row.new_value, reason=reason)
    try:
        for answer, new in changes:
            response = db.session.get(Response, answer.response_id)
            responses.verify_answer(response, answer.field, answer.repeat_index, actor, corrected=new,
                                    reason=f"{reason} (réplica #{row.id})")
    except ServiceError:
        db.session.rollback()
        raise
    return [a.path for a, _n in changes]


# ------------------------------------------------------------------ counts and reports
def open_count(campaign: Campaign) -> int:
    """Contests of the campaign awaiting a decision."""
    return db.session.scalar(sa.select(sa.func.count(Contest.id)).where(
        Contest.campaign_id == campaign.id, Contest.status == OPEN)) or 0


def _counts(campaign: Campaign, state: str | None = None) -> dict:
    query = (sa.select(Contest.institution_id, Contest.item_code, Contest.status)
             .join(Institution, Institution.id == Contest.institution_id).where(Contest.campaign_id == campaign.id))
    if state is not None:
        query = query.where(Institution.state_code == state)
    contested, changed, pending = set(), set(), set()
    n = 0
    for institution_id, code, status in db.session.execute(query):
        n += 1
        contested.add((institution_id, code))
        if status == ACCEPTED:
            changed.add((institution_id, code))
        elif status == OPEN:
            pending.add((institution_id, code))
    return {"contests": n, "contested": len(contested), "changed": len(changed), "open": len(pending),
            "institutions": len({i for i, _c in contested})}


def totals(campaign: Campaign) -> dict:
    """Contests, items contested, items changed, items awaiting a decision, institutions that replied."""
    return _counts(campaign)


def state_summary(campaign: Campaign, state: str) -> dict:
    """What a state report says about the right of reply: the window and its counts for the state."""
    w = window(campaign)
    opened = {lang: moment_text(w.opened_at, lang) for lang in ("es", "en")} if w.opened_at else {"es": "", "en": ""}
    return {"held": campaign.reply_opened_at is not None, "days": campaign.reply_days,
            "opened_es": opened["es"], "opened_en": opened["en"],
            "closes_es": close_text(w, "es") if w.closes_at else "", "closes_en": close_text(w, "en") if w.closes_at else "",
            **_counts(campaign, state)}


def moment_text(moment: datetime, lang: str = "es") -> str:
    """A moment as a reader sees it: long date and time in Mexico City."""
    from babel.dates import format_date, format_time

    local = moment.astimezone(ZONE)
    locale = "en_US" if lang == "en" else "es_MX"
    return f"{format_date(local.date(), 'long', locale=locale)}, {format_time(local.time(), 'HH:mm', locale=locale)}"


def report_digest(campaign: Campaign) -> str:
    """A digest of the contests and window a report shows (a decision rebuilds stored reports)."""
    rows = db.session.execute(sa.select(Contest.id, Contest.institution_id, Contest.item_code, Contest.status)
                              .where(Contest.campaign_id == campaign.id).order_by(Contest.id)).all()
    data = [campaign.reply_days, str(campaign.reply_opened_at), [list(r) for r in rows]]
    return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()


# ------------------------------------------------------------------ the e-mail when the review starts
@dataclass
class Notice:
    """Who a review notice reaches (institutions that submitted, with an e-mail and a usable link)."""

    targets: list
    no_email: int = 0
    sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def notice_plan(campaign: Campaign) -> Notice:
    """The institutions a review notice would go to: those that submitted, with an e-mail."""
    from diagnostic.services import mailings

    plan = Notice([])
    for row in mailings.roster(campaign):
        if row.pending or row.invitation is None or row.invitation.revoked_at is not None:
            continue
        if not row.email:
            plan.no_email += 1
        else:
            plan.targets.append(row)
    return plan


def notify(campaign: Campaign, *, base_url: str = "", actor: Actor) -> Notice:
    """E-mail every institution that submitted its link and the reply window's close (the wording
    in diagnostic/data/mail/review.<lang>.txt), through the mailer's delivery and send log."""
    from flask import current_app

    from diagnostic.models import InvitationEvent
    from diagnostic.services import invitations, mail, mailings

    if campaign.status != CampaignStatus.IN_REVIEW:
        raise Conflict(Refusal.REPLY_NOT_IN_REVIEW)
    plan = notice_plan(campaign)
    if not plan.targets:
        return plan
    w = window(campaign)
    base = (base_url or current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    delivery = mail.connect()
    try:
        for row in plan.targets:
            token, nonce = mailings._link_token(row)
            lang = mailings.language_for(row.institution)
            parts = []
            for one in (("es", "en") if lang == "es+en" else (lang,)):
                text = (mailings.DATA / f"review.{one}.txt").read_text(encoding="utf-8")
                mapping = {**mailings.values(campaign, row.institution, f"{base}/r/{token}", one, row.contact_name),
                           "plazo": close_text(w, one) if w.closes_at else "—"}
                subject, _blank, body = mailings.fill(text, mapping).partition("\n\n")
                parts.append((subject.strip(), body))
            subject = " / ".join(s for s, _b in parts)
            body = "\n\n-- English version --\n\n".join(b.rstrip() for _s, b in parts) + "\n"
            try:
                message = mail.new_message(row.email, subject, body)
                delivery.send(message)
            except (mail.Undelivered, ValueError) as exc:
                reason = getattr(exc, "reason", None) or str(exc)
                plan.failed.append((row.institution.name, reason))
                db.session.add(InvitationEvent(invitation_id=row.invitation.id, kind="failed", actor=actor.label[:80],
                                               recipient=row.email[:200], detail=reason))
                continue
            if nonce is not None:  # the delivered link replaces whatever link was stored
                row.invitation.token_hash = invitations.hash_token(token)
            db.session.add(InvitationEvent(invitation_id=row.invitation.id, kind="review", actor=actor.label[:80],
                                           recipient=row.email[:200], link_nonce=nonce or row.nonce,
                                           detail=str(message["Message-ID"])))
            plan.sent += 1
    finally:
        db.session.commit()
        delivery.close()
    record(actor, "reply.notify", "campaign", campaign.id, new=str(plan.sent),
           reason=f"failed={len(plan.failed)} no_email={plan.no_email}")
    db.session.commit()
    return plan
