"""What a state-scoped analyst is told about their scope on the analyst pages (the rules
themselves are in `security.Scope` and the services)."""
from __future__ import annotations

from diagnostic.analyst import bp
from diagnostic.security import current_scope


@bp.app_template_global("reader_states")
def reader_states() -> list[tuple[str, str]]:
    """(code, name) of the states the signed-in account is limited to; empty for national staff."""
    from scoring import states

    scope = current_scope()
    return [] if scope.national else [(code, states.by_code(code).name) for code in sorted(scope.states)]
