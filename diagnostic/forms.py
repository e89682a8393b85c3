"""What every staff form shares: a posted form is used only once valid."""
from __future__ import annotations

from typing import TypeVar

from flask_wtf import FlaskForm

from diagnostic.services import Refusal, ServiceError

F = TypeVar("F", bound=FlaskForm)


def submitted(form: F) -> F:
    """The posted form once valid; otherwise a refusal (400) naming each field that is wrong."""
    if not form.validate_on_submit():
        raise ServiceError(Refusal.FORM_INVALID,
                           details=[f"{form[name].label.text}: {error}" for name, errors in form.errors.items()
                                    for error in errors])
    return form
