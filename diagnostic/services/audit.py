"""Append-only audit log: who changed which answer or status, when, from what to what, why."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import AuditEvent, User


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user, an invitation (a respondent institution) or the system."""

    label: str
    user_id: int | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        """The actor for a logged-in staff user."""
        return cls(f"user:{user.id}:{user.role.value}", user.id)

    @classmethod
    def for_invitation(cls, invitation_id: int) -> Actor:
        """The actor for a respondent coming through an invitation link."""
        return cls(f"invitation:{invitation_id}")


SYSTEM = Actor("system")


def record(actor: Actor, action: str, entity: str, entity_id: int | None = None, *,
           response_id: int | None = None, field: str | None = None, repeat_index: int | None = None,
           old: str | None = None, new: str | None = None, reason: str | None = None) -> AuditEvent:
    """Append one audit row to the current transaction (the caller commits)."""
    event = AuditEvent(actor=actor.label, user_id=actor.user_id, action=action, entity=entity,
                       entity_id=entity_id, response_id=response_id, field=field,
                       repeat_index=repeat_index, old_value=old, new_value=new, reason=reason)
    db.session.add(event)
    return event


def for_response(response_id: int) -> list[AuditEvent]:
    """Every audit row of one response, oldest first."""
    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.response_id == response_id).order_by(AuditEvent.id)))



# ------------------------------------------------------------------ a campaign's audit view
PER_PAGE = 50
ZONE = "America/Mexico_City"


@dataclass(frozen=True)
class AuditQuery:
    """Filters of a campaign's audit view: user id, action code, dates (YYYY-MM-DD, Mexico City), institution id."""

    user: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    institution: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> AuditQuery:
        """The filters from query arguments; blank means any, a bad page number means the first."""
        values = {name: (args.get(name) or "").strip() for name in ("user", "action", "since", "until", "institution")}
        page = (args.get("page") or "1").strip()
        return cls(**values, page=int(page) if page.isdigit() and int(page) > 0 else 1)

    def args(self, **changes: object) -> dict[str, object]:
        """The set filters as query arguments (with `changes`, e.g. another page)."""
        return {**{k: v for k, v in vars(self).items() if v and k != "page"}, **changes}


@dataclass
class AuditPage:
    """One page of a campaign's audit rows, newest first, with what the filters offer."""

    events: list[AuditEvent]
    total: int
    page: int
    pages: int
    users: dict
    institutions: dict
    actions: list[str]
    actors: list
    choices: list


def _day(text: str, name: str, zone) -> datetime | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        from diagnostic.services import Refusal, ServiceError

        raise ServiceError(Refusal.INVALID_AUDIT_DATE, name=name, value=text) from None
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def campaign_events(campaign, query: AuditQuery | None = None, per_page: int = PER_PAGE,
                    states=None) -> AuditPage:
    """Every audit row of a campaign (its responses, its invitations, the campaign itself), filtered
    by who, what, when (days in Mexico City time, both ends included) and institution; newest first.

    `states` (a `security.Scope`; default: the requester's) narrows a state-scoped account to the
    rows of its states' institutions and the campaign's own rows that name no other state's
    institution (a state respondent designated elsewhere is left out)."""
    from diagnostic.models import Institution, Invitation, Response
    from diagnostic.security import scope_or_current

    query = query or AuditQuery()
    states = scope_or_current(states)
    zone = ZoneInfo(ZONE)
    responses = states.restrict(sa.select(Response.id).join(Institution, Institution.id == Response.institution_id)
                                .where(Response.campaign_id == campaign.id), Institution.state_code)
    invitations = states.restrict(sa.select(Invitation.id).join(Institution, Institution.id == Invitation.institution_id)
                                  .where(Invitation.campaign_id == campaign.id), Institution.state_code)
    own_campaign = sa.and_(AuditEvent.entity == "campaign", AuditEvent.entity_id == campaign.id)
    if not states.national:
        own_campaign = sa.and_(own_campaign, sa.or_(AuditEvent.action != "campaign.state_respondent",
                                                    AuditEvent.field.in_(sorted(states.states))))
    scope = sa.or_(AuditEvent.response_id.in_(responses), own_campaign,
                   sa.and_(AuditEvent.entity == "invitation", AuditEvent.entity_id.in_(invitations)))
    conditions = [scope]
    if query.user:
        conditions.append(AuditEvent.user_id == int(query.user) if query.user.isdigit() else sa.false())
    if query.action:
        conditions.append(AuditEvent.action == query.action)
    since, until = _day(query.since, "since", zone), _day(query.until, "until", zone)
    if since is not None:
        conditions.append(AuditEvent.at >= since)
    if until is not None:
        conditions.append(AuditEvent.at < until + timedelta(days=1))
    if query.institution:
        wanted = int(query.institution) if query.institution.isdigit() else -1
        conditions.append(sa.or_(
            AuditEvent.response_id.in_(responses.where(Response.institution_id == wanted)),
            sa.and_(AuditEvent.entity == "invitation",
                    AuditEvent.entity_id.in_(invitations.where(Invitation.institution_id == wanted)))))
    where = sa.and_(*conditions)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(where)) or 0
    pages = max(1, -(-total // per_page))
    page = min(query.page, pages)
    events = list(db.session.scalars(sa.select(AuditEvent).where(where)
                                     .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                     .offset((page - 1) * per_page).limit(per_page)))
    ids = {e.user_id for e in events if e.user_id}
    actor_ids = set(db.session.scalars(sa.select(AuditEvent.user_id).where(scope, AuditEvent.user_id.is_not(None))
                                       .distinct()))
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids | actor_ids)))} \
        if ids | actor_ids else {}
    response_ids = {e.response_id for e in events if e.response_id}
    institutions = dict(db.session.execute(
        sa.select(Response.id, Institution).join(Institution, Institution.id == Response.institution_id)
        .where(Response.id.in_(response_ids))).all()) if response_ids else {}
    actions = sorted(db.session.scalars(sa.select(AuditEvent.action).where(scope).distinct()))
    choices = list(db.session.scalars(states.restrict(
        sa.select(Institution).join(Response, Response.institution_id == Institution.id)
        .where(Response.campaign_id == campaign.id).distinct().order_by(Institution.state_code, Institution.name),
        Institution.state_code)))
    return AuditPage(events, total, page, pages, people, institutions, actions,
                     sorted((people[i] for i in actor_ids if i in people), key=lambda u: u.email), choices)
