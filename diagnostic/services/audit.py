"""Append-only audit log: who changed which answer or status, when, from what to what, why."""
from __future__ import annotations

from dataclasses import dataclass

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

