"""Every refusal a service can give, as data: an HTTP status and Spanish and English templates.

A service raises `ServiceError(Refusal.CAMPAIGN_NOT_FOUND)` (or `NotFound`, `Conflict`, ...)
with the template's parameters as keywords; the error page, the JSON body and the CLI show
the message in the reader's language. A parameter whose wording differs by language is given
as `Both(es, en)`. `RowProblem` holds the per-row messages of an institution import.
Same pattern as `surveys/issues.py`.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, is_dataclass
from enum import Enum, unique

LANGS = ("es", "en")


@dataclass(frozen=True, slots=True)
class Both:
    """A text in Spanish and English: a template parameter, or one line of a refusal's details."""

    es: str
    en: str

    def text(self, lang: str) -> str:
        """The text in `lang` ('en' or else Spanish)."""
        return self.en if lang == "en" else self.es

    def __str__(self) -> str:
        return self.es


def current_lang() -> str:
    """The interface language inside a request ('es' or 'en'); Spanish elsewhere (CLI, jobs)."""
    from flask import has_request_context

    if has_request_context():
        from flask_babel import get_locale

        locale = get_locale()
        if locale is not None and locale.language in LANGS:
            return locale.language
    return LANGS[0]


def placeholders(template: str) -> set[str]:
    """The parameter names a template uses."""
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}


def _render(template: str, params: dict[str, object], lang: str) -> str:
    values = {k: (v.text(lang) if isinstance(v, Both) else v) for k, v in params.items()}
    return template.format(**values)


class _Templates(Enum):
    """Members whose value ends with the Spanish and the English template."""

    @property
    def es(self) -> str:
        """The Spanish template."""
        return self.value[-2]

    @property
    def en(self) -> str:
        """The English template."""
        return self.value[-1]

    @property
    def code(self) -> str:
        """A stable identifier for clients: the member name in lower case."""
        return self.name.lower()

    def render(self, lang: str, **params: object) -> str:
        """The message in `lang` ('en' or else Spanish) with `params` filled in."""
        return _render(self.en if lang == "en" else self.es, params, lang)

    def both(self, **params: object) -> Both:
        """The message in both languages."""
        return Both(self.render("es", **params), self.render("en", **params))


@unique
class Refusal(_Templates):
    """Every refusal of the services: (HTTP status, Spanish, English)."""

    # accounts
    INVALID_EMAIL = (400, "Correo electrónico no válido: {email!r}", "Invalid e-mail address: {email!r}")
    PASSWORD_TOO_SHORT = (400, "La contraseña debe tener al menos {minimum} caracteres",
                          "The password must have at least {minimum} characters")
    UNKNOWN_ROLE = (400, "Rol desconocido: {role!r} (admin, analyst, evaluator)",
                    "Unknown role: {role!r} (admin, analyst, evaluator)")
    ACCOUNT_EXISTS = (409, "Ya existe una cuenta con el correo {email}", "An account with the e-mail {email} already exists")
    NO_ACCOUNT_WITH_EMAIL = (404, "No existe una cuenta con el correo {email}", "There is no account with the e-mail {email}")
    NOT_AN_EVALUATOR = (400, "{email} no tiene el rol de evaluador", "{email} does not have the evaluator role")
    # campaigns
    CAMPAIGN_NOT_FOUND = (404, "Campaña no encontrada", "Campaign not found")
    CAMPAIGN_NAME_REQUIRED = (400, "El nombre de la campaña es obligatorio", "The campaign name is required")
    YEAR_OUT_OF_RANGE = (400, "Año fuera de rango (2000–2100)", "Year out of range (2000–2100)")
    CAMPAIGN_EXISTS = (409, "Ya existe una campaña con el identificador {slug}",
                       "A campaign with the identifier {slug} already exists")
    UNKNOWN_PURPOSE = (400, "Propósito desconocido: {purpose!r}", "Unknown purpose: {purpose!r}")
    INSTRUMENTS_ONLY_IN_DRAFT = (409, "Solo se cambian instrumentos en una campaña en borrador",
                                 "Instruments can only be changed in a draft campaign")
    MODEL_FIXED_AFTER_PUBLISHING = (409, "Una campaña publicada no cambia de modelo",
                                    "A published campaign cannot change its model")
    UNKNOWN_CAMPAIGN_STATUS = (400, "Estado desconocido: {value!r}", "Unknown status: {value!r}")
    TRANSITION_NOT_ALLOWED = (409, "No se puede pasar de {source} a {target}", "Cannot go from {source} to {target}")
    INSTITUTIONAL_INSTRUMENT_REQUIRED = (409, "Elija el cuestionario institucional antes de abrir la campaña",
                                         "Choose the institutional questionnaire before opening the campaign")
    CAMPAIGN_NOT_OPEN = (409, "La campaña no está abierta", "The campaign is not open")
    DEMO_EXISTS = (409, "La campaña de demostración {slug} ya existe", "The demo campaign {slug} already exists")
    # institutions
    INSTITUTION_NOT_FOUND = (404, "Institución no encontrada", "Institution not found")
    NOT_IN_CAMPAIGN = (400, "{institution} no participa en la campaña", "{institution} does not take part in the campaign")
    INSTITUTION_NOT_ASSIGNED = (404, "Institución no asignada", "Institution not assigned")
    # institution import (the file as a whole; rows are `RowProblem`)
    XLSX_INVALID = (422, "El archivo no es un libro XLSX válido.", "The file is not a valid XLSX workbook.")
    XLSX_UNREADABLE = (422, "No se pudo leer el libro XLSX: {problem}", "Could not read the XLSX workbook: {problem}")
    CSV_BINARY = (422, "El archivo CSV contiene datos binarios.", "The CSV file contains binary data.")
    IMPORT_UNSUPPORTED_FILE = (422, "Tipo de archivo no admitido: use CSV o XLSX.", "Unsupported file type: use CSV or XLSX.")
    IMPORT_EMPTY = (422, "El archivo está vacío.", "The file is empty.")
    IMPORT_MISSING_COLUMNS = (422, "Faltan columnas: {columns}", "Missing columns: {columns}")
    IMPORT_TOO_MANY_ROWS = (422, "Demasiadas filas (máximo {maximum}).", "Too many rows (at most {maximum}).")
    IMPORT_ROWS_REJECTED = (422, "{count} filas con errores; no se importó nada.",
                            "{count} rows with errors; nothing was imported.")
    IMPORT_NO_ROWS = (422, "El archivo no tiene filas de datos.", "The file has no data rows.")
    IMPORT_STATE_RESPONDENT_WITHOUT_CAMPAIGN = (
        422, "La columna responsable_estatal solo se usa al importar en una campaña.",
        "The responsable_estatal column is only used when importing into a campaign.")
    # invitation links
    LINK_INVALID = (404, "Enlace no válido", "Invalid link")
    LINK_REPLACED = (410, "Este enlace fue reemplazado por otro", "This link was replaced by another one")
    LINK_EXPIRED = (410, "Este enlace venció", "This link has expired")
    CAMPAIGN_NOT_YET_OPEN = (410, "La campaña aún no está abierta", "The campaign is not open yet")
    CAMPAIGN_CLOSED = (410, "La campaña está cerrada", "The campaign is closed")
    # instruments and index models
    INSTRUMENT_VERSION_NOT_FOUND = (404, "Versión de instrumento no encontrada", "Instrument version not found")
    DEFINITION_UNSUPPORTED_FILE = (422, "{filename}: tipo de archivo no admitido (use {accepted})",
                                   "{filename}: unsupported file type (use {accepted})")
    DEFINITION_INVALID = (422, "{filename}: {count} errores; no se guardó.", "{filename}: {count} errors; nothing was saved.")
    INDEX_MODEL_YAML_INVALID = (422, "{filename}: YAML no válido", "{filename}: invalid YAML")
    INDEX_MODEL_WITHOUT_ID = (422, "{filename}: falta `model.id`", "{filename}: `model.id` is missing")
    # responses
    RESPONSE_NOT_FOUND = (404, "Respuesta no encontrada", "Response not found")
    INVALID_FIELD = (400, "Campo no válido: {path!r}", "Invalid field: {path!r}")
    TOO_MANY_REPEATS = (400, "Demasiadas repeticiones en {repeat}", "Too many entries in {repeat}")
    NO_INSTRUMENT_FOR_PURPOSE = (409, "La campaña no tiene instrumento para este tipo de respuesta",
                                 "The campaign has no questionnaire for this kind of response")
    RESPONSE_SUBMITTED = (409, "La respuesta ya fue enviada; solo un analista puede reabrirla",
                          "The response was already submitted; only an analyst can reopen it")
    INVALID_CHANGES = (400, "Cambios no válidos", "Invalid changes")
    REPEAT_NOT_FOUND = (404, "Repetición no encontrada", "Repeat entry not found")
    INCOMPLETE = (422, "La respuesta tiene preguntas pendientes o con errores",
                  "The response has unanswered questions or questions with errors")
    REOPEN_REASON_REQUIRED = (400, "Indique el motivo para reabrir", "Give the reason for reopening")
    ALREADY_DRAFT = (409, "La respuesta ya está en borrador", "The response is already a draft")
    VERIFY_ONLY_SUBMITTED = (409, "Solo se verifican respuestas enviadas", "Only submitted responses are verified")
    NO_VALUE_IN_FIELD = (404, "Respuesta sin valor en ese campo", "The response has no value in that field")
    CORRECTION_REASON_REQUIRED = (400, "Una corrección necesita un motivo", "A correction needs a reason")
    INVALID_CORRECTION = (400, "Valor corregido no válido: {errors}", "Invalid corrected value: {errors}")
    VERIFIED_ONLY_SUBMITTED = (409, "Solo una respuesta enviada pasa a verificada",
                               "Only a submitted response can become verified")
    # staff forms (diagnostic/forms.py, admin)
    CHOOSE_FILE = (400, "Elija un archivo.", "Choose a file.")
    UPLOAD_UNSUPPORTED = (415, "Tipo de archivo no admitido: {filename} (se aceptan {accepted})",
                          "Unsupported file type: {filename} (accepted: {accepted})")
    CHOOSE_VERSION_OR_FILE = (400, "Elija una versión o suba un archivo.", "Choose a version or upload a file.")
    NO_INSTITUTION_WITH_KEY = (404, "Ninguna institución de la campaña tiene la clave {key}.",
                               "No institution of the campaign has the key {key}.")
    CHOOSE_EVALUATOR = (400, "Elija un evaluador.", "Choose an evaluator.")
    NO_MATCHING_INSTITUTIONS = (400, "Ninguna institución de la campaña coincide.",
                                "No institution of the campaign matches.")
    FORM_INVALID = (400, "Revise los datos del formulario.", "Please check the form.")
    # review
    UNKNOWN_INSTRUMENT_TYPE = (400, "Tipo de instrumento desconocido: {purpose}", "Unknown instrument type: {purpose}")
    UNKNOWN_REVIEW_STATUS = (400, "Estado desconocido: {value}", "Unknown status: {value}")
    FIELD_TO_VERIFY_MISSING = (400, "Falta el campo a verificar", "The field to verify is missing")
    INVALID_REPEAT_INDEX = (400, "Índice de repetición no válido", "Invalid repeat index")
    CORRECTED_VALUE_REQUIRED = (400, "Escriba el valor corregido", "Type the corrected value")
    ACCEPT_OR_CORRECT = (400, "Elija aceptar o corregir", "Choose accept or correct")
    # scores, exports and reports
    UNKNOWN_LEVEL = (400, "Nivel desconocido: {level}", "Unknown level: {level}")
    UNKNOWN_GROUPING = (400, "Agrupación desconocida: {by} ({options})", "Unknown grouping: {by} ({options})")
    NO_INDEX_MODEL = (409, "La campaña no tiene modelo de índice", "The campaign has no index model")
    INDEX_MODEL_INVALID = (409, "Modelo de índice no válido", "Invalid index model")
    NO_INSTITUTIONS = (409, "La campaña no tiene instituciones", "The campaign has no institutions")
    UNSCORABLE_DATA = (409, "Datos que no se pueden puntuar", "The data cannot be scored")
    UNKNOWN_SHAPE = (400, "Forma desconocida: {shape} (wide, long)", "Unknown shape: {shape} (wide, long)")
    UNKNOWN_ENTITY = (404, "Entidad desconocida: {value}", "Unknown state: {value}")
    NO_INSTITUTIONS_IN_STATE = (404, "La campaña no tiene instituciones de {state}", "The campaign has no institutions in {state}")
    PDF_UNAVAILABLE = (501, "La exportación a PDF requiere el extra 'pdf' (WeasyPrint)",
                       "Exporting to PDF needs the 'pdf' extra (WeasyPrint)")
    # API
    PAGE_NOT_INTEGER = (400, "page y per_page deben ser números enteros", "page and per_page must be integers")
    PAGE_OUT_OF_RANGE = (400, "page ≥ 1 y 1 ≤ per_page ≤ {maximum}", "page ≥ 1 and 1 ≤ per_page ≤ {maximum}")
    UNKNOWN_RESPONSE_STATUS = (400, "Estado desconocido: {value} (draft, submitted, verified)",
                               "Unknown status: {value} (draft, submitted, verified)")
    BODY_NOT_JSON = (400, "El cuerpo de la solicitud debe ser JSON válido", "The request body must be valid JSON")
    BULK_NOT_A_LIST = (422, 'Se esperaba {{"responses": [...]}}', 'Expected {{"responses": [...]}}')
    BULK_TOO_MANY = (422, "Como máximo {maximum} respuestas por solicitud", "At most {maximum} responses per request")
    BULK_REJECTED = (422, "Ninguna respuesta se guardó: hay errores", "No response was saved: there are errors")
    # evidence files and links (services/evidence.py)
    EVIDENCE_TYPE = (415, "La evidencia debe ser un PDF o una imagen (PNG, JPEG, GIF, WebP): {filename}",
                     "Evidence must be a PDF or an image (PNG, JPEG, GIF, WebP): {filename}")
    EVIDENCE_TOO_LARGE = (413, "El archivo {filename} pasa del límite de {limit_mb} MB",
                          "The file {filename} is over the {limit_mb} MB limit")
    EVIDENCE_EMPTY = (400, "El archivo {filename} está vacío", "The file {filename} is empty")
    INSTITUTION_WITHDRAWN = (410, "La institución ya no participa en esta campaña, así que este enlace dejó de "
                             "funcionar. Si cree que es un error, escriba al organismo garante.",
                             "The institution no longer takes part in this campaign, so this link stopped "
                             "working. If you think this is a mistake, write to the guarantor body.")
    # campaign rosters and safe spreadsheet reading (services/institutions.py, services/spreadsheets.py)
    XLSX_TOO_MANY_PARTS = (422, "El libro XLSX tiene demasiadas partes ({count}; máximo {maximum}); no se leyó.",
                           "The XLSX workbook has too many parts ({count}; at most {maximum}); it was not read.")
    XLSX_PART_TOO_LARGE = (422, "El libro XLSX declara una parte de {size} ({part}; máximo {maximum}); no se leyó.",
                           "The XLSX workbook declares a part of {size} ({part}; at most {maximum}); it was not read.")
    XLSX_PART_RATIO = (422, "El libro XLSX parece una bomba de compresión ({part} se expande {ratio} veces); no se leyó.",
                       "The XLSX workbook looks like a compression bomb ({part} expands {ratio} times); it was not read.")
    XLSX_CONTENT_TOO_LARGE = (422, "El contenido del libro XLSX ocupa {size} (máximo {maximum}); no se leyó.",
                              "The XLSX workbook's content takes {size} (at most {maximum}); it was not read.")
    XLSX_TOO_MANY_ROWS = (422, "La hoja tiene o declara más de {maximum} filas de datos; no se leyó.",
                          "The sheet has or declares more than {maximum} data rows; it was not read.")
    XLSX_CELL_TOO_LONG = (422, "La fila {row} tiene una celda de más de {maximum} caracteres; no se leyó.",
                          "Row {row} has a cell longer than {maximum} characters; it was not read.")
    IMPORT_PREVIEW_EXPIRED = (409, "La vista previa ya no está disponible; suba el archivo de nuevo.",
                              "The preview is no longer available; upload the file again.")
    IMPORT_PLAN_CHANGED = (409, "Los datos cambiaron desde la vista previa; revise la nueva vista previa antes de importar.",
                           "The data changed since the preview; check the new preview before importing.")
    IMPORT_HAS_ERRORS = (422, "El archivo tiene filas con errores; corríjalas y vuelva a subirlo.",
                         "The file has rows with errors; fix them and upload it again.")
    WITHDRAW_SUBMITTED = (409, "{institution} ya envió su respuesta; no se puede retirar de la campaña.",
                          "{institution} has already submitted its response; it cannot be withdrawn from the campaign.")
    ALREADY_WITHDRAWN = (409, "{institution} ya fue retirada de la campaña.",
                         "{institution} was already withdrawn from the campaign.")
    INSTITUTION_SHARED = (409, "{institution} también participa en {campaigns}: su nombre, orden y tipo no se cambian "
                               "desde esta campaña (los datos de contacto sí).",
                          "{institution} also takes part in {campaigns}: its name, order and type are not changed "
                          "from this campaign (its contact data can be).")
    INSTITUTION_NAME_TAKEN = (409, "Ya existe otra institución llamada «{name}» en esa entidad.",
                              "Another institution called «{name}» already exists in that state.")
    INSTITUTION_FIELD_INVALID = (400, "{field}: {problem}", "{field}: {problem}")
    XLSX_ROW_TOO_WIDE = (422, "La fila {row} de la hoja tiene más de {maximum} celdas; no se leyó.",
                         "Row {row} of the sheet has more than {maximum} cells; it was not read.")
    # campaign set-up: index models, the checklist before opening, editing and deleting
    MODEL_FIXED_WHEN_OPEN = (409, "El modelo de índice quedó fijo al abrir la campaña; solo se cambia en borrador",
                             "The index model was fixed when the campaign opened; it can only change in a draft")
    UNKNOWN_SHIPPED_MODEL = (404, "No hay un modelo incluido llamado {name!r} (disponibles: {available})",
                             "There is no shipped model called {name!r} (available: {available})")
    CHOOSE_MODEL_OR_FILE = (400, "Elija un modelo incluido o suba un archivo de modelo (YAML).",
                            "Choose a shipped model or upload a model file (YAML).")
    INDEX_MODEL_NOT_TEXT = (422, "{filename}: el archivo no es texto UTF-8", "{filename}: the file is not UTF-8 text")
    INDEX_MODEL_REJECTED = (422, "{filename} no corresponde a los cuestionarios de la campaña (errores: {count}); "
                            "no se guardó.",
                            "{filename} does not fit the campaign's questionnaires (errors: {count}); nothing was saved.")
    CAMPAIGN_NOT_READY = (409, "La campaña aún no se puede abrir: complete lo que falta en la lista ({count}).",
                          "The campaign cannot open yet: complete what the checklist is missing ({count}).")
    CAMPAIGN_EDIT_ONLY_IN_DRAFT = (409, "Solo se edita una campaña en borrador", "Only a draft campaign can be edited")
    CAMPAIGN_HAS_RESPONSES = (409, "Solo se borra una campaña sin respuestas (esta tiene: {count})",
                              "Only a campaign without responses can be deleted (this one has: {count})")
    CAMPAIGN_PUBLISHED_KEPT = (409, "Una campaña publicada no se borra", "A published campaign cannot be deleted")
    DELETE_CONFIRMATION = (400, "Escriba el identificador de la campaña ({slug}) para confirmar",
                           "Type the campaign's identifier ({slug}) to confirm")
    # e-mail (invitations and reminders)
    MAIL_SERVER_UNREACHABLE = (409, "El servidor de correo {server} no aceptó la conexión: {reason}. No se envió nada.",
                               "The mail server {server} did not accept the connection: {reason}. Nothing was sent.")
    MAIL_UNKNOWN_KIND = (400, "Tipo de mensaje desconocido: {kind!r} (invitation, reminder)",
                         "Unknown kind of message: {kind!r} (invitation, reminder)")
    MAIL_UNKNOWN_LANGUAGE = (400, "Idioma desconocido: {language!r} (es, en, es+en)", "Unknown language: {language!r} (es, en, es+en)")
    MAIL_UNKNOWN_STATUS = (400, "Estatus de invitación desconocido: {value!r}", "Unknown invitation status: {value!r}")
    MAIL_TEMPLATE_INVALID = (422, "El mensaje tiene errores; no se guardó.", "The message has errors; it was not saved.")
    MAIL_OUTBOX_MESSAGE_NOT_FOUND = (404, "Mensaje no encontrado en la bandeja de salida", "Message not found in the outbox")
    # verification (issue 9 §4)
    ANSWERS_NOT_REVIEWED = (409, "Quedan respuestas sin revisar: {count}. Confirme para marcarla como verificada",
                            "Answers not reviewed yet: {count}. Confirm to mark it verified")
    NO_SUBMISSIONS_SELECTED = (400, "Seleccione al menos un envío", "Select at least one submission")
    UNKNOWN_SUBMISSION_FILTER = (400, "Filtro desconocido: {name}={value!r}", "Unknown filter: {name}={value!r}")
    INVALID_AUDIT_DATE = (400, "Fecha no válida en {name}: {value!r} (AAAA-MM-DD)",
                          "Invalid date in {name}: {value!r} (YYYY-MM-DD)")
    # offline submissions (KoboToolbox, ODK Central)
    SUBMISSIONS_UNSUPPORTED_FILE = (400, "Archivo de envíos no admitido: {filename} (use {accepted} de KoboToolbox u ODK Central)",
                                    "Unsupported submissions file: {filename} (use {accepted} from KoboToolbox or ODK Central)")
    SUBMISSIONS_UNREADABLE = (400, "No se pudo leer {filename}: {problem}", "Could not read {filename}: {problem}")
    SUBMISSIONS_EMPTY = (422, "{filename} no tiene envíos", "{filename} has no submissions")
    SUBMISSIONS_KEY_COLUMN_MISSING = (422, "{filename} no tiene la columna de clave de institución '{column}'",
                                      "{filename} has no institution key column '{column}'")
    SUBMISSIONS_UNKNOWN_PURPOSE = (400, "Tipo de cuestionario desconocido: {purpose} (institution, evaluator, state)",
                                   "Unknown questionnaire purpose: {purpose} (institution, evaluator, state)")
    SUBMISSIONS_REJECTED = (422, "Ningún envío de {filename} se importó: {count} filas con errores",
                            "No submission of {filename} was imported: {count} rows with errors")
    SUBMISSIONS_STAGED_NOT_FOUND = (404, "El archivo de la vista previa ya no está disponible; súbalo de nuevo",
                                    "The previewed file is no longer available; upload it again")
    SUBMISSIONS_FILE_MISSING = (422, "Falta el archivo de envíos (campo 'file')", "The submissions file is missing (field 'file')")
    # answers checked at the edge, and requests that did not arrive whole (respondent flow)
    FIELD_NAME_TOO_LONG = (400, "Nombre de campo de más de {maximum} caracteres: {start!r}…",
                           "Field name longer than {maximum} characters: {start!r}…")
    UNKNOWN_FIELD = (400, "El cuestionario no tiene el campo {path!r}", "The questionnaire has no field {path!r}")
    VALUE_HAS_NUL = (400, "{field}: la respuesta contiene un carácter no permitido (NUL); no se guardó",
                     "{field}: the answer contains a character that is not allowed (NUL); it was not saved")
    VALUE_TOO_LONG = (422, "{field}: la respuesta tiene {length} caracteres y el máximo es {maximum}; no se guardó",
                      "{field}: the answer has {length} characters and the maximum is {maximum}; it was not saved")
    VALUE_NOT_TEXT = (400, "{field}: se esperaba texto, un número o una lista de opciones",
                      "{field}: text, a number or a list of options was expected")
    BODY_INCOMPLETE = (400, "La solicitud llegó incompleta ({received} de {declared} bytes); no se guardó nada. "
                            "Vuelva a intentarlo.",
                       "The request arrived incomplete ({received} of {declared} bytes); nothing was saved. "
                       "Please try again.")
    DATABASE_BUSY = (503, "La base de datos no está disponible en este momento; no se guardó nada a medias. "
                          "Vuelva a intentarlo en unos segundos.",
                     "The database is not available right now; nothing was half-saved. Please try again in a "
                     "few seconds.")
    PAGE_FORM_INCOMPLETE = (400, "El formulario llegó sin la lista de sus campos; no se guardó nada. Recargue la página.",
                            "The form arrived without the list of its fields; nothing was saved. Reload the page.")
    INVALID_CHARACTER = (400, "El campo «{field}» contiene un carácter no permitido (NUL)",
                         "The field «{field}» contains a character that is not allowed (NUL)")
    NAME_TOO_LONG = (400, "El nombre de campo «{field}…» excede {maximum} caracteres",
                     "The field name «{field}…» is longer than {maximum} characters")
    RETENTION_INVALID = (400, "El periodo de conservación debe ser un número de días entre 0 y {maximum}",
                         "The retention period must be a number of days between 0 and {maximum}")
    INSTITUTION_NOT_FOUND_BY_KEY = (404, "No existe una institución con la clave {key}",
                                    "There is no institution with the key {key}")
    BACKUP_FAILED = (409, "No se pudo completar el respaldo: {reason}", "The backup could not be completed: {reason}")
    RESTORE_REFUSED = (409, "No se restauró nada: {reason}", "Nothing was restored: {reason}")
    # right of reply (methodology §9.5)
    CONTESTS_OPEN = (409, "No se puede publicar: hay {count} impugnaciones de instituciones sin resolver. "
                     "Acéptelas o recházelas en «Réplica».",
                     "Cannot publish: {count} institutions' contests are still open. Accept or reject them "
                     "under «Right of reply».")
    REPLY_WINDOW_RUNNING = (409, "No se puede publicar: el plazo de réplica de las instituciones corre hasta el "
                            "{date}. Espere a que termine o acorte el plazo en la edición de la campaña.",
                            "Cannot publish: the institutions' reply window runs until {date}. Wait until it ends "
                            "or shorten the window in the campaign's settings.")
    REPLY_DAYS_INVALID = (400, "El plazo de réplica debe ser un número de días hábiles entre 0 y {maximum}",
                          "The reply window must be a number of business days between 0 and {maximum}")
    REPLY_WINDOW_FIXED = (409, "Una campaña publicada ya no cambia su plazo de réplica",
                          "A published campaign's reply window no longer changes")
    REPLY_NOT_IN_REVIEW = (410, "La campaña no está en revisión: no hay puntajes que consultar ni impugnar por ahora",
                           "The campaign is not in review: there are no scores to see or contest for now")
    REPLY_WINDOW_CLOSED = (409, "El plazo de réplica terminó el {date}: ya no se reciben impugnaciones",
                           "The reply window ended on {date}: contests are no longer taken")
    REPLY_COMMENT_REQUIRED = (400, "Escriba un comentario que explique por qué impugna el reactivo",
                              "Write a comment explaining why you contest the item")
    REPLY_COMMENT_TOO_LONG = (400, "El comentario excede {maximum} caracteres",
                              "The comment is longer than {maximum} characters")
    REPLY_EVIDENCE_URL_INVALID = (400, "La evidencia debe ser una dirección web que empiece con http:// o https://",
                                  "The evidence must be a web address starting with http:// or https://")
    REPLY_UNKNOWN_ITEM = (404, "No existe el reactivo «{item}» en el modelo de la campaña",
                          "There is no item «{item}» in the campaign's model")
    REPLY_NOTHING_SUBMITTED = (409, "La institución no envió respuestas: no hay reactivos respondidos que impugnar",
                               "The institution submitted no answers: there are no answered items to contest")
    REPLY_CONTEST_ALREADY_OPEN = (409, "Este reactivo ya tiene una impugnación en espera de decisión",
                                  "This item already has a contest awaiting a decision")
    REPLY_FILE_NOT_FOUND = (404, "No existe ese archivo de evidencia", "There is no such evidence file")
    REPLY_CONTEST_NOT_FOUND = (404, "No existe esa impugnación", "There is no such contest")
    REPLY_CONTEST_DECIDED = (409, "Esa impugnación ya fue resuelta", "That contest has already been decided")
    REPLY_DECISION_REASON_REQUIRED = (400, "Escriba el motivo de la decisión: la institución lo verá",
                                      "Write the reason for the decision: the institution will see it")
    REPLY_ACCEPT_NEEDS_CHANGE = (400, "Aceptar una impugnación cambia el reactivo: indique el nuevo valor (si nada "
                                 "cambia, recházela con su motivo)",
                                 "Accepting a contest changes the item: give the new value (if nothing changes, "
                                 "reject it with its reason)")
    REPLY_UNKNOWN_STATUS = (400, "Situación de impugnación desconocida: {value!r} (open, accepted, rejected, all)",
                            "Unknown contest status: {value!r} (open, accepted, rejected, all)")
    # evidence files attached to items (issue 12 §4)
    EVIDENCE_NOT_ACCEPTED = (400, "La pregunta «{question}» no admite archivos de evidencia",
                             "The question «{question}» does not take evidence files")
    EVIDENCE_LOCKED = (409, "La respuesta ya fue enviada: sus archivos de evidencia ya no se cambian",
                       "The response was already submitted: its evidence files can no longer be changed")
    EVIDENCE_FILE_NOT_FOUND = (404, "Archivo de evidencia no encontrado", "Evidence file not found")
    EVIDENCE_FILE_MISSING = (410, "El archivo de evidencia {filename} ya no está en el almacén",
                             "The evidence file {filename} is no longer in the store")
    UNKNOWN_SCOPE_STATE = (400, "Entidad desconocida para el ámbito de la cuenta: «{value}» (use la clave INEGI, "
                                "p. ej. 14, o el nombre, p. ej. Jalisco)",
                           "Unknown state for the account's scope: «{value}» (use the INEGI code, e.g. 14, "
                           "or the name, e.g. Jalisco)")
    ADMIN_IS_NATIONAL = (400, "Una cuenta de administración es siempre nacional: no se le asignan entidades",
                         "An administrator account is always national: it cannot be limited to states")
    EVALUATOR_NOT_SCOPED = (400, "Una cuenta de evaluación ve solo las instituciones que tiene asignadas: no se le "
                                 "asignan entidades", "An evaluator account sees only the institutions assigned to "
                                 "it: it cannot be limited to states")
    NATIONAL_STAFF_ONLY = (403, "Solo el equipo nacional puede hacer esto; su cuenta está limitada a {states}",
                           "Only the national team can do this; your account is limited to {states}")
    # second verification (methodology §9.2–9.4)
    SECOND_NATIONAL_ONLY = (403, "Solo el equipo nacional sortea, hace la segunda verificación y resuelve desacuerdos",
                            "Only the national team draws the sample, verifies a second time and resolves disagreements")
    SECOND_SETTING_INVALID = (400, "Ajuste de la muestra «{name}»: {value!r} no es válido (de {low} a {high})",
                              "Sample setting «{name}»: {value!r} is not valid (from {low} to {high})")
    SECOND_SAMPLE_DRAWN = (409, "La muestra de la segunda verificación ya se sorteó: sus ajustes ya no cambian",
                           "The second-verification sample is already drawn: its settings no longer change")
    SECOND_NOTHING_TO_DRAW = (409, "No hay respuestas institucionales verificadas de las que sortear la muestra",
                              "There are no verified institution responses to draw the sample from")
    FIRST_STAGE_FROZEN = (409, "Esta respuesta está en la muestra de la segunda verificación: su primera verificación "
                               "quedó fija al sortear; un cambio se hace al resolver un desacuerdo",
                          "This response is in the second-verification sample: its first verification was fixed when "
                          "the sample was drawn; a change is made by resolving a disagreement")
    SECOND_NOT_SAMPLED = (404, "Respuesta o reactivo fuera de la muestra de la segunda verificación",
                          "Response or item not in the second-verification sample")
    SECOND_SAME_VERIFIER = (409, "Usted verificó este reactivo en la primera etapa: la segunda verificación la hace otra persona",
                            "You verified this item at the first stage: another person gives the second verdict")
    SECOND_ALREADY_RESOLVED = (409, "Este desacuerdo ya se resolvió; el veredicto no cambia",
                               "This disagreement is already resolved; the verdict no longer changes")
    SECOND_NO_DISAGREEMENT = (409, "Las dos verificaciones coinciden en este reactivo: no hay nada que resolver",
                              "Both verifications agree on this item: there is nothing to resolve")
    SECOND_RESOLUTION_CHOICE = (400, "Elija el valor de la primera o de la segunda verificación",
                                "Choose the value of the first or of the second verification")
    SECOND_RESOLUTION_REASON = (400, "El motivo de la resolución es obligatorio", "The reason for the resolution is required")
    SECOND_VERIFICATION_OPEN = (409, "No se puede publicar: la segunda verificación tiene {pending} reactivos sin veredicto "
                                     "y {unresolved} desacuerdos sin resolver",
                                "Cannot publish: the second verification has {pending} items without a verdict and "
                                "{unresolved} unresolved disagreements")
    SECOND_NOT_DRAWN = (409, "La muestra todavía no se sortea", "The sample has not been drawn yet")
    SECOND_NO_ASSESSORS = (400, "Elija al menos una persona co-evaluadora", "Choose at least one co-assessor")

    @property
    def status(self) -> int:
        """The HTTP status this refusal answers with."""
        return self.value[0]


@unique
class RowProblem(_Templates):
    """What can be wrong in one row of an institution import: (Spanish, English)."""

    COLUMN_MISSING = ("columna obligatoria ausente", "required column missing")
    NAME_EMPTY = ("nombre vacío", "empty name")
    NAME_TOO_LONG = ("nombre de más de 300 caracteres", "name longer than 300 characters")
    STATE_UNKNOWN = ("estado no reconocido: {value!r}", "unrecognised state: {value!r}")
    ORDER_UNKNOWN = ("orden de gobierno no reconocido: {value!r} (federal, estatal, municipal)",
                     "unrecognised order of government: {value!r} (federal, estatal, municipal)")
    TYPE_UNKNOWN = ("tipo no reconocido: {value!r} ({types})", "unrecognised type: {value!r} ({types})")
    EMAIL_INVALID = ("correo no válido: {value!r}", "invalid e-mail address: {value!r}")
    KEY_REPEATED = ("clave repetida (fila {row})", "repeated key (row {row})")
    INSTITUTION_REPEATED = ("institución repetida (fila {row})", "repeated institution (row {row})")
    YES_NO_UNKNOWN = ("valor no reconocido: {value!r} (sí o no)", "unrecognised value: {value!r} (sí/yes or no)")
    STATE_RESPONDENT_TAKEN = ("el estado ya tiene responsable en la fila {row}",
                              "the state already has a respondent in row {row}")
    NO_CAMPAIGN = ("sin campaña", "no campaign")
    KEY_OF_ANOTHER = ("el nombre «{name}» ya es de otra institución de la entidad (clave {other})",
                      "the name «{name}» already belongs to another institution of the state (key {other})")
    KEY_DIFFERS_SHARED = ("«{name}» ya existe con la clave {existing} y la usa {campaigns}; use esa clave o deje la "
                          "columna vacía", "«{name}» already exists with the key {existing} and {campaigns} uses it; "
                          "use that key or leave the column empty")
    SAME_INSTITUTION = ("es la misma institución que la fila {row}", "is the same institution as row {row}")
    SHARED_KEPT = ("también participa en {campaigns}: no se cambia desde esta campaña ({fields}); los datos de "
                   "contacto se guardan solo para esta campaña", "also takes part in {campaigns}: not changed from "
                   "this campaign ({fields}); contact data is kept for this campaign only")
    SHARED_NO_CAMPAIGN = ("participa en {campaigns}: importe en una campaña para cambiar sus datos",
                          "takes part in {campaigns}: import into a campaign to change its data")
    CONTROL_CHARACTER = ("contiene un carácter no permitido (NUL)", "contains a character that is not allowed (NUL)")
    VALUE_TOO_LONG = ("más de {maximum} caracteres", "longer than {maximum} characters")


def detail_text(item: object, lang: str) -> str:
    """One line of a refusal's details in `lang`: bilingual items pick theirs, others print as they are."""
    if isinstance(item, Both):
        return item.text(lang)
    format_ = getattr(item, "format", None)
    if callable(format_) and not isinstance(item, str):
        return format_(lang)
    if isinstance(item, dict) and "message_es" in item:
        message = item.get("message_en" if lang == "en" else "message_es")
        return f"{item['path']}: {message}" if item.get("path") else str(message)
    if hasattr(item, "message_es"):
        message = item.message_en if lang == "en" else item.message_es
        path = getattr(item, "path", None)
        return f"{path}: {message}" if path else message
    return str(item)


def detail_json(item: object, lang: str) -> object:
    """One detail for a JSON body: structured bilingual items as they are, others as text in `lang`."""
    if isinstance(item, dict) or (is_dataclass(item) and hasattr(item, "message_es")):
        return item
    return detail_text(item, lang)
