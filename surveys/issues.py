"""Errors and warnings about a definition, as data (in Spanish and English)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, unique
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surveys.model import Definition

ERROR = "error"
WARNING = "warning"


@unique
class IssueCode(Enum):
    """Every message a definition author can get: (severity, Spanish, English) templates."""

    FILE_NOT_FOUND = (ERROR, "no existe el archivo", "file not found")
    UNSUPPORTED_FILE = (ERROR, "tipo de archivo no admitido '{suffix}' (use .yaml, .xlsx, .xls, .csv o .md)", "unsupported file type '{suffix}' (use .yaml, .xlsx, .xls, .csv or .md)")
    BINARY_FILE = (ERROR, "el archivo es binario, no texto YAML", "the file is binary, not YAML text")
    NOT_UTF8 = (ERROR, "el archivo no está en UTF-8 (byte {byte} inválido)", "the file is not UTF-8 (invalid byte {byte})")
    YAML_SYNTAX = (ERROR, "YAML inválido: {problem}", "invalid YAML: {problem}")
    NOT_MAPPING = (ERROR, "el documento debe ser un mapeo con 'settings', 'choices' y 'survey'", "the document must be a mapping with 'settings', 'choices' and 'survey'")
    DUPLICATE_KEY = (ERROR, "la clave '{key}' está repetida", "key '{key}' is repeated")
    UNKNOWN_KEY = (ERROR, "clave desconocida '{key}'", "unknown key '{key}'")
    MISSING_KEY = (ERROR, "falta la clave '{key}'", "missing key '{key}'")
    WRONG_TYPE = (ERROR, "'{key}' debe ser {expected}", "'{key}' must be {expected_en}")
    INVALID_NAME = (ERROR, "nombre inválido '{name}' (letras, dígitos, '_', '-', '.'; sin empezar con dígito)", "invalid name '{name}' (letters, digits, '_', '-', '.'; not starting with a digit)")
    DUPLICATE_NAME = (ERROR, "el nombre '{name}' ya se usó en {where}", "name '{name}' is already used at {where_en}")
    UNKNOWN_TYPE = (ERROR, "tipo de pregunta desconocido '{type}'", "unknown question type '{type}'")
    UNSUPPORTED_TYPE = (ERROR, "Apertura no admite el tipo '{type}'", "Apertura does not support type '{type}'")
    MISSING_LIST = (ERROR, "'{type}' necesita el nombre de una lista de opciones", "'{type}' needs the name of a choice list")
    UNKNOWN_LIST = (ERROR, "la lista de opciones '{list}' no existe", "choice list '{list}' does not exist")
    EMPTY_LIST = (ERROR, "la lista de opciones '{list}' está vacía", "choice list '{list}' is empty")
    DUPLICATE_CHOICE = (ERROR, "la opción '{choice}' está repetida en la lista '{list}'", "choice '{choice}' is repeated in list '{list}'")
    EMPTY_SURVEY = (ERROR, "el cuestionario no tiene preguntas", "the questionnaire has no questions")
    EMPTY_GROUP = (WARNING, "el grupo '{name}' no tiene preguntas", "group '{name}' has no questions")
    NESTED_REPEAT = (ERROR, "no se admite una repetición dentro de otra", "a repeat inside another repeat is not supported")
    EXPRESSION_SYNTAX = (ERROR, "{key}: {message} (columna {column})", "{key}: {message_en} (column {column})")
    UNKNOWN_REFERENCE = (ERROR, "{key}: ${{{ref}}} no es una pregunta del cuestionario", "{key}: ${{{ref}}} is not a question of the questionnaire")
    GROUP_REFERENCE = (ERROR, "{key}: ${{{ref}}} es un grupo y no tiene valor", "{key}: ${{{ref}}} is a group and has no value")
    REPEAT_REFERENCE = (ERROR, "{key}: ${{{ref}}} está dentro de la repetición '{repeat}'; fuera de ella úsela en sum(), count(), min(), max() o join()", "{key}: ${{{ref}}} is inside repeat '{repeat}'; outside it use it in sum(), count(), min(), max() or join()")
    BARE_NAME = (ERROR, "{key}: '{ref}' sin ${{}} solo vale en choice_filter (¿quiso decir ${{{ref}}}?)", "{key}: '{ref}' without ${{}} is only valid in choice_filter (did you mean ${{{ref}}}?)")
    UNKNOWN_CHOICE_COLUMN = (ERROR, "choice_filter: la lista '{list}' no tiene la columna '{ref}'", "choice_filter: list '{list}' has no column '{ref}'")
    CURRENT_NOT_ALLOWED = (ERROR, "{key}: '.' solo vale en constraint, required y choice_filter", "{key}: '.' is only valid in constraint, required and choice_filter")
    CYCLE = (ERROR, "dependencia circular: {cycle}", "circular dependency: {cycle}")
    MISSING_CALCULATION = (ERROR, "una pregunta 'calculate' necesita 'calculation'", "a 'calculate' question needs 'calculation'")
    INVALID_PARAMETERS = (ERROR, "parámetros inválidos '{value}': {reason}", "invalid parameters '{value}': {reason_en}")
    INVALID_DEFAULT = (ERROR, "valor por omisión inválido '{value}': {reason}", "invalid default '{value}': {reason_en}")
    INVALID_COUNT = (ERROR, "'{key}' inválido: {reason}", "invalid '{key}': {reason_en}")
    UNKNOWN_LANGUAGE = (WARNING, "'{key}' tiene el idioma '{lang}', que no está en settings.languages", "'{key}' has language '{lang}', which is not in settings.languages")
    MISSING_LABEL = (WARNING, "falta la etiqueta", "missing label")
    MISSING_TRANSLATION = (WARNING, "'{key}' no tiene texto en '{lang}'", "'{key}' has no text in '{lang}'")
    INVALID_SETTING = (ERROR, "el ajuste '{key}' es inválido: {reason}", "setting '{key}' is invalid: {reason_en}")
    UNSUPPORTED_SHEET = (ERROR, "hoja no admitida '{sheet_name}'", "unsupported sheet '{sheet_name}'")
    UNSUPPORTED_FEATURE = (ERROR, "'{column}': Apertura no admite {feature}", "'{column}': Apertura does not support {feature_en}")
    XLSFORM_READ = (ERROR, "no se pudo leer el XLSForm: {problem}", "could not read the XLSForm: {problem}")
    PYXFORM_MISSING = (ERROR, "importar XLSForm requiere pyxform (pip install 'apertura[xlsform]')", "importing XLSForm needs pyxform (pip install 'apertura[xlsform]')")
    IGNORED_COLUMN = (WARNING, "columna '{column}' ignorada: Apertura no la usa", "column '{column}' ignored: Apertura does not use it")
    IGNORED_SETTING = (WARNING, "ajuste '{column}' ignorado: Apertura no lo usa", "setting '{column}' ignored: Apertura does not use it")
    IGNORED_QUESTION = (WARNING, "pregunta de metadatos '{type}' ignorada: Apertura registra por sí mismo fechas y autoría", "metadata question '{type}' ignored: Apertura records dates and authorship itself")
    IGNORED_APPEARANCE = (WARNING, "apariencia '{appearance}' ignorada: Apertura no la muestra", "appearance '{appearance}' ignored: Apertura does not render it")
    PYXFORM_WARNING = (WARNING, "pyxform: {message}", "pyxform: {message}")
    PYXFORM_ERROR = (ERROR, "pyxform no pudo leer el formulario: {message}", "pyxform could not read the form: {message}")
    LOOP_EXPANDED = (WARNING, "el ciclo '{name}' se convierte en un grupo por opción ({count} grupos)", "loop '{name}' becomes one group per choice ({count} groups)")

    @property
    def severity(self) -> str:
        """'error' or 'warning'."""
        return self.value[0]

    def messages(self, **params: object) -> tuple[str, str]:
        """The Spanish and English messages with `params` filled in."""
        params.setdefault("expected_en", params.get("expected", ""))
        params.setdefault("reason_en", params.get("reason", ""))
        params.setdefault("message_en", params.get("message", ""))
        params.setdefault("feature_en", params.get("feature", ""))
        params.setdefault("where_en", params.get("where", ""))
        return self.value[1].format(**params), self.value[2].format(**params)


@dataclass(frozen=True, slots=True)
class Issue:
    """One error or warning, located by YAML line or by XLSForm sheet and row."""

    code: IssueCode
    severity: str
    file: str
    line: int | None
    field: str | None
    message_es: str
    message_en: str
    sheet: str | None = None
    row: int | None = None

    @property
    def is_error(self) -> bool:
        """True for errors (warnings do not stop a definition from loading)."""
        return self.severity == ERROR

    def location(self) -> str:
        """`FILE:LINE`, or `FILE:SHEET:ROW` for XLSForm."""
        if self.sheet is not None:
            return f"{self.file}:{self.sheet}:{self.row or 0}"
        return f"{self.file}:{self.line}" if self.line else self.file

    def format(self, lang: str = "es") -> str:
        """`FILE:LINE: field: message` in `lang` ('es' or 'en')."""
        message = self.message_en if lang == "en" else self.message_es
        if self.severity == WARNING:
            message = ("warning: " if lang == "en" else "aviso: ") + message
        field_part = f"{self.field}: " if self.field else ""
        return f"{self.location()}: {field_part}{message}"

    def __str__(self) -> str:
        return self.format("es")


def make_issue(
    code: IssueCode,
    file: str,
    *,
    line: int | None = None,
    field: str | None = None,
    sheet: str | None = None,
    row: int | None = None,
    **params: object,
) -> Issue:
    """Build an `Issue` from its code and template parameters."""
    es, en = code.messages(**params)
    return Issue(code, code.severity, file, line, field, es, en, sheet, row)


@dataclass(slots=True)
class CheckReport:
    """The result of checking one definition file: issues and (if it built) the definition."""

    file: str
    issues: list[Issue] = field(default_factory=list)
    definition: Definition | None = None

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity error."""
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity warning."""
        return [i for i in self.issues if not i.is_error]

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors


class DefinitionError(ValueError):
    """Raised by `load` when a definition has errors; `.issues` holds them all."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        errors = [i for i in issues if i.is_error]
        shown = "\n".join(i.format("en") for i in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s) in the definition:\n{shown}{more}")
