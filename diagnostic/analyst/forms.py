"""Review forms (Flask-WTF): verify an answer, reopen a response, issue or revoke an API token."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length


class VerifyForm(FlaskForm):
    """Accept or correct one answer; `decision` is the button pressed (accept or correct)."""

    field = HiddenField(_l("Pregunta"), validators=[DataRequired()])
    repeat_index = HiddenField()
    decision = HiddenField()
    value = StringField(_l("Valor corregido"), validators=[Length(max=10000)])
    reason = StringField(_l("Motivo (obligatorio para corregir)"), validators=[Length(max=1000)])


class ReviewForm(FlaskForm):
    """A review-page post whose inputs are named per answer (only the CSRF token is checked here)."""


class ReopenForm(FlaskForm):
    """Send a submitted response back to the respondent, with a reason."""

    reason = StringField(_l("Motivo para reabrir"), validators=[DataRequired(), Length(max=500)])


class TokenForm(FlaskForm):
    """Issue or revoke one's own API token; `action` is the button pressed (issue or revoke)."""

    action = HiddenField()
