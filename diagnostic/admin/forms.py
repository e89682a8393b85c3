"""Campaign set-up forms (Flask-WTF): labels through lazy gettext, field names as posted."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time
from pathlib import PurePath

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from diagnostic import labels
from diagnostic.models import InstrumentPurpose, Role
from diagnostic.services import Refusal, ServiceError


def _int_or_none(value: object) -> int | None:
    return int(value) if value not in (None, "") else None


class CampaignForm(FlaskForm):
    """A new draft campaign."""

    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=200)])
    year = IntegerField(_l("Año"), validators=[InputRequired(), NumberRange(min=1900, max=2999)])
    slug = StringField(_l("Identificador (opcional)"), validators=[Optional(), Length(max=80)])
    closes_at = DateField(_l("Fecha límite"), validators=[Optional()])
    instructions = TextAreaField(_l("Instrucciones para las instituciones"))

    def closes_at_utc(self) -> datetime | None:
        """The deadline as midnight UTC of the chosen day, if any."""
        return datetime.combine(self.closes_at.data, time(), tzinfo=UTC) if self.closes_at.data else None


class InstrumentForm(FlaskForm):
    """A stored instrument version, or a new definition file, for one purpose."""

    purpose = SelectField(_l("Quién responde"), choices=[SelectChoice(p.value) for p in InstrumentPurpose])
    version_id = SelectField(_l("Versión guardada"), coerce=_int_or_none, validate_choice=False)
    file = FileField(_l("O suba una definición (YAML, XLSX, CSV)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.purpose.choices = [SelectChoice(code, text) for code, text in labels.choices("purpose")]

    def with_versions(self, versions: Iterable) -> InstrumentForm:
        """Offer these stored versions."""
        self.version_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(v.id, f"{v.instrument_id} {v.version} · {v.content_hash[:19]}") for v in versions]
        return self


class StateRespondentForm(FlaskForm):
    """The institution (by key) that answers its state's conditions questionnaire."""

    key = StringField(_l("Clave de la institución"), validators=[DataRequired(), Length(max=80)],
                      filters=[lambda v: v.strip() if v else v])


class ImportForm(FlaskForm):
    """A CSV or XLSX file of institutions."""

    file = FileField(_l("Archivo"))


class AssignForm(FlaskForm):
    """Institutions of a state (or listed keys) for one evaluator."""

    evaluator_id = SelectField(_l("Evaluador"), coerce=_int_or_none, validate_choice=False)
    state = SelectField(_l("Entidad"), validate_choice=False)
    keys = TextAreaField(_l("Claves de institución (opcional, una por línea)"))

    def with_choices(self, evaluators: Iterable, states: Iterable) -> AssignForm:
        """Offer these evaluators and states."""
        self.evaluator_id.choices = [SelectChoice(u.id, f"{u.name} ({u.email})") for u in evaluators]
        self.state.choices = [SelectChoice("", _("Todas"))] + [SelectChoice(s.code, s.name) for s in states]
        return self

    def key_set(self) -> set[str]:
        """The institution keys typed, one per line or comma-separated."""
        return {k.strip() for k in (self.keys.data or "").replace(",", "\n").splitlines() if k.strip()}


class InvitationsForm(FlaskForm):
    """Issue invitation links (optionally replacing those already issued)."""

    reissue = BooleanField(_l("Reemplazar también los enlaces ya emitidos"))


class StatusForm(FlaskForm):
    """Move a campaign to another status (`confirm` set by the confirmation page)."""

    status = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Motivo (opcional, queda en la bitácora)"), validators=[Optional(), Length(max=500)])
    confirm = HiddenField()


class UserForm(FlaskForm):
    """A new staff account (the password rules are the users service's)."""

    email = EmailField(_l("Correo electrónico"), validators=[DataRequired(), Length(max=200)])
    name = StringField(_l("Nombre"), validators=[Length(max=200)])
    role = SelectField(_l("Rol"), choices=[SelectChoice(r.value) for r in Role])
    password = PasswordField(_l("Contraseña (mínimo 8 caracteres)"), validators=[DataRequired(), Length(max=200)])
    # Checked by the users service, which names an unknown state; none: a national account.
    states = SelectMultipleField(_l("Entidades (solo análisis; ninguna: nacional)"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(code, text) for code, text in labels.choices("role")]
        self.states.choices = state_choices()


def state_choices() -> list[tuple[str, str]]:
    """The 32 states as (INEGI code, name), for choosing an account's scope."""
    from diagnostic.services import states

    return [(s.code, s.name) for s in states.all_states() if s.code != "00"]


class UserStatesForm(FlaskForm):
    """The states an existing account is limited to (none: national)."""

    states = SelectMultipleField(_l("Entidades"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.states.choices = state_choices()


def read_upload(file: FileStorage | None, allowed: tuple[str, ...]) -> tuple[bytes, str]:
    """The bytes and name of an uploaded file; ServiceError for a missing or wrong type."""
    if file is None or not getattr(file, "filename", None):
        raise ServiceError(Refusal.CHOOSE_FILE)
    filename = PurePath(file.filename).name
    if PurePath(filename).suffix.lower() not in allowed:
        raise ServiceError(Refusal.UPLOAD_UNSUPPORTED, filename=filename, accepted=", ".join(allowed))
    return file.read(), filename


class ImportConfirmForm(FlaskForm):
    """Apply a previewed import: the staged file's hash and the fingerprint of the plan shown."""

    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    fingerprint = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class RosterFilterForm(FlaskForm):
    """Search and filters of a campaign's institutions list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Buscar por nombre o clave"), validators=[Optional(), Length(max=200)])
    state = SelectField(_l("Entidad"), validate_choice=False)
    type = SelectField(_l("Tipo"), validate_choice=False)
    status = SelectField(_l("Situación"), validate_choice=False)

    def with_choices(self, states: Iterable, types: Iterable[tuple[str, str]],
                     statuses: Iterable[tuple[str, str]]) -> RosterFilterForm:
        """Offer these states, types and statuses (labels shown, codes posted)."""
        self.state.choices = [SelectChoice("", _("Todas"))] + [SelectChoice(s.code, s.name) for s in states]
        self.type.choices = [SelectChoice("", _("Todos"))] + [SelectChoice(c, label) for c, label in types]
        self.status.choices = [SelectChoice("", _("Todas"))] + [SelectChoice(c, label) for c, label in statuses]
        return self


class InstitutionForm(FlaskForm):
    """An institution of a campaign's roster: name, order, type and contact."""

    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=300)])
    order = SelectField(_l("Orden de gobierno"), validate_choice=False)
    type = SelectField(_l("Tipo"), validate_choice=False)
    contact_name = StringField(_l("Contacto"), validators=[Optional(), Length(max=200)])
    contact_email = StringField(_l("Correo"), validators=[Optional(), Length(max=200)])

    def with_choices(self, orders: Iterable[tuple[str, str]], types: Iterable[tuple[str, str]]) -> InstitutionForm:
        """Offer these orders and types (labels shown, codes posted)."""
        self.order.choices = [SelectChoice(c, label) for c, label in orders]
        self.type.choices = [SelectChoice(c, label) for c, label in types]
        return self


class WithdrawForm(FlaskForm):
    """Withdraw an institution from a campaign, with an optional reason."""

    reason = StringField(_l("Motivo (opcional)"), validators=[Optional(), Length(max=500)])
class CampaignEditForm(CampaignForm):
    """A draft campaign's name, year, deadline and instructions (the identifier stays)."""

    slug = None


class IndexModelForm(FlaskForm):
    """A shipped index model, or an uploaded model file (YAML)."""

    shipped = SelectField(_l("Modelo incluido"), validate_choice=False)
    file = FileField(_l("O suba un modelo (YAML)"))

    def with_models(self, models: Iterable, lang: str) -> IndexModelForm:
        """Offer these shipped models."""
        self.shipped.choices = [SelectChoice("", "—")] + [SelectChoice(m.name, m.title(lang)) for m in models]
        return self


class DeleteCampaignForm(FlaskForm):
    """Type the campaign's identifier to confirm its deletion."""

    slug = StringField(_l("Identificador de la campaña"), validators=[DataRequired(), Length(max=80)],
                       filters=[lambda v: v.strip() if v else v])
