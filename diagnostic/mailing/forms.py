"""Mail forms (Flask-WTF): who to write to, in which language, and a message's wording."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from diagnostic.services.mailings import KINDS, LANGS


class SendForm(FlaskForm):
    """A send to confirm or to carry out: kind, filters of the list, language."""

    kind = SelectField(_l("Mensaje"), choices=[SelectChoice(k) for k in KINDS])
    estado = HiddenField(validators=[Optional(), Length(max=2)])
    tipo = HiddenField(validators=[Optional(), Length(max=80)])
    estatus = HiddenField(validators=[Optional(), Length(max=20)])
    idioma = SelectField(_l("Idioma"), validate_choice=False, choices=[
        SelectChoice("", _l("El de cada institución (español si no tiene)")),
        SelectChoice("es", _l("Español")), SelectChoice("en", _l("Inglés")),
        SelectChoice("es+en", _l("Español e inglés en el mismo mensaje"))])


class WordingForm(FlaskForm):
    """A campaign's wording of one message in one language."""

    kind = HiddenField(validators=[DataRequired()])
    lang = HiddenField(validators=[DataRequired()])
    subject = StringField(_l("Asunto"), validators=[Length(max=300)])
    body = TextAreaField(_l("Mensaje"))

    def choices_ok(self) -> bool:
        """True when kind and language are ones the app knows."""
        return self.kind.data in KINDS and self.lang.data in LANGS
