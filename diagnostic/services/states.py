"""The 32 entidades federativas plus `00` (federal), as stored in the `states` table."""
from __future__ import annotations

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import State


def all_states() -> list[State]:
    """Every state in INEGI order, `00` first."""
    return list(db.session.scalars(sa.select(State).order_by(State.code)))


def resolve(value: object) -> str | None:
    """INEGI code for any spelling of a state (`CDMX`, `Edo. de México`, `9`), else None."""
    from scoring.states import resolve as resolve_state

    return resolve_state(value)
