"""Sign-in form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("Correo electrónico"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Contraseña"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Recordarme en este equipo"))
