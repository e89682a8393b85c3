"""Offline submissions back in: KoboToolbox and ODK Central exports into a campaign's responses.

Read formats:
- KoboToolbox XLSX (main sheet with group paths `grupo/pregunta`, `_uuid`, `_submission_time`,
  `_index`; each repeat in its own sheet linked by `_parent_index`) and CSV (`;` or `,`);
- ODK Central CSV zip (`FORM.csv` with `KEY`, `meta-instanceID`, `SubmissionDate`, group
  paths `grupo-pregunta`; a `FORM-REPEAT.csv` per repeat linked by `PARENT_KEY`) and JSON
  (the OData feed: `{"value": [...]}`, groups as objects, repeats as lists, `__id`).

A column is matched to a question by its last path segment (Apertura's names are unique
across a questionnaire); metadata columns are left aside and other unknown columns are
listed. Each submission is matched to an institution of the campaign by a key column
(`institution` unless told) and validated with the same `surveys.validate` as the web form
(`partial=False`, as a submission). `preview` writes nothing: per row, what would be created,
updated or left unchanged, and every error with its sheet, row, column and question.
`apply` writes all rows in one transaction or nothing, and stores each submission id, so
importing the same file again changes nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import sqlalchemy as sa

import surveys
from diagnostic.extensions import db
from diagnostic.models import (
    Answer,
    AuditEvent,
    Campaign,
    CampaignStatus,
    ImportedSubmission,
    Institution,
    InstrumentPurpose,
    Participation,
    Response,
    ResponseStatus,
    utcnow,
)
from diagnostic.services import (
    Conflict,
    NotFound,
    Refusal,
    ServiceError,
    campaigns,
    instruments,
    responses,
    staging,
)
from diagnostic.services.audit import Actor, record

ACCEPTED = (".xlsx", ".csv", ".zip", ".json")
DEFAULT_KEY_COLUMN = "institution"
ID_COLUMNS = ("_uuid", "meta/instanceID", "meta-instanceID", "instanceID", "__id", "KEY")
TIME_COLUMNS = ("_submission_time", "SubmissionDate", "submissionDate", "__system/submissionDate")
# Columns the tools add to every submission; never questions.
METADATA = frozenset({
    "_id", "_uuid", "_submission_time", "_index", "_parent_index", "_parent_table_name", "_submission__id",
    "_submission__uuid", "_submission__submission_time", "_submission__validation_status", "_submission__notes",
    "_submission__status", "_submission__submitted_by", "_submission__tags", "_validation_status", "_notes",
    "_status", "_submitted_by", "_tags", "_version_", "__version__", "_xform_id_string", "_attachments",
    "_geolocation", "_duration", "formhub/uuid", "meta/instanceID", "meta/rootUuid", "meta/deprecatedID",
    "meta/instanceName", "SubmissionDate", "KEY", "PARENT_KEY", "SubmitterID", "SubmitterName",
    "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
    "meta-instanceID", "meta-instanceName", "meta-deprecatedID", "instanceID", "start", "end", "today",
    "deviceid", "username", "phonenumber", "simserial", "subscriberid", "audit",
})


def _is_metadata(column: str) -> bool:
    return column in METADATA or column.startswith(("_", "__")) or column.split("/")[0] in ("__system", "meta")


@dataclass(frozen=True, slots=True)
class RowError:
    """One error of one submission: where (sheet or file, row, column), which question, why."""

    sheet: str
    row: int
    column: str | None
    question: str | None
    message_es: str
    message_en: str

    @property
    def path(self) -> str:
        """`sheet:row:column` (the location as `apertura responses import` prints it)."""
        return f"{self.sheet}:{self.row}" + (f":{self.column}" if self.column else "")

    def format(self, lang: str = "es") -> str:
        """`sheet:row:column: question: message` in `lang`."""
        question = f"{self.question}: " if self.question else ""
        return f"{self.path}: {question}{self.message_en if lang == 'en' else self.message_es}"

    def as_dict(self) -> dict:
        """JSON-ready."""
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "question": self.question,
                "path": self.path, "message_es": self.message_es, "message_en": self.message_en}


@dataclass
class Submission:
    """One submission read from a file, before matching and validation."""

    sheet: str
    row: int
    submission_id: str | None
    key: str | None
    submitted_at: dt.datetime | None
    answers: dict = field(default_factory=dict)
    where: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # answer path -> (sheet, row, column)


@dataclass
class RowPlan:
    """What importing one submission would do: create, update, unchanged, or error."""

    submission: Submission
    action: str
    institution: Institution | None = None
    response: Response | None = None
    errors: list[RowError] = field(default_factory=list)
    rows: dict = field(default_factory=dict)
    fingerprint: str | None = None
    imported: ImportedSubmission | None = None

    def as_dict(self) -> dict:
        """JSON-ready."""
        s = self.submission
        return {"sheet": s.sheet, "row": s.row, "submission_id": s.submission_id, "institution": s.key,
                "institution_name": self.institution.name if self.institution else None, "action": self.action,
                "answers": len(self.rows), "errors": [e.as_dict() for e in self.errors]}


@dataclass
class Preview:
    """The plan for a whole file; nothing written."""

    filename: str
    source_format: str
    purpose: str
    key_column: str
    plans: list[RowPlan]
    ignored_columns: list[str]
    sha256: str

    @property
    def errors(self) -> list[RowError]:
        """Every error of every row, in file order."""
        return [e for p in self.plans for e in p.errors]

    @property
    def ok(self) -> bool:
        """True when no row has an error."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        """Rows per action."""
        out = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
        for plan in self.plans:
            out[plan.action] += 1
        return out

    def as_dict(self) -> dict:
        """JSON-ready."""
        return {"filename": self.filename, "format": self.source_format, "purpose": self.purpose,
                "key_column": self.key_column, "sha256": self.sha256, "counts": self.counts(),
                "ignored_columns": self.ignored_columns, "rows": [p.as_dict() for p in self.plans]}


# ------------------------------------------------------------------ reading files
@dataclass
class _Table:
    name: str
    rows: list[tuple[int, dict[str, object]]]  # (sheet row, {column: value})


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(str(v) for v in value if v is not None)
    text = str(value).strip()
    return text or None


def _csv_table(name: str, data: bytes, filename: str) -> _Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceError(Refusal.SUBMISSIONS_UNREADABLE, filename=filename,
                           problem="el archivo no está en UTF-8 / the file is not UTF-8") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return _Table(name, [])
    header = [h.strip() for h in header]
    rows = []
    for i, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        rows.append((i, {h: v for h, v in zip(header, values, strict=False) if h}))
    return _Table(name, rows)


def _xlsx_tables(data: bytes, filename: str) -> list[_Table]:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - a declared dependency; openpyxl reads the same, slower
        return _xlsx_tables_openpyxl(data, filename)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [(name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False)) for name in wb.sheet_names]
    except Exception as exc:  # noqa: BLE001 - any failure to open is the file's
        raise ServiceError(Refusal.SUBMISSIONS_UNREADABLE, filename=filename, problem=str(exc)[:200]) from None
    tables = []
    for name, rows in sheets:
        if not rows:
            continue
        header = [str(h).strip() if h not in (None, "") else "" for h in rows[0]]
        body = []
        for i, values in enumerate(rows[1:], start=2):
            if not any(v not in (None, "") for v in values):
                continue
            body.append((i, {h: v for h, v in zip(header, values, strict=False) if h and v not in (None, "")}))
        tables.append(_Table(name, body))
    return tables


def _xlsx_tables_openpyxl(data: bytes, filename: str) -> list[_Table]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open is the file's
        raise ServiceError(Refusal.SUBMISSIONS_UNREADABLE, filename=filename, problem=str(exc)[:200]) from None
    tables = []
    for ws in wb.worksheets:
        it = ws.iter_rows(values_only=True)
        try:
            header = [str(h).strip() if h is not None else "" for h in next(it)]
        except StopIteration:
            continue
        rows = []
        for i, values in enumerate(it, start=2):
            if not any(v not in (None, "") for v in values):
                continue
            rows.append((i, {h: v for h, v in zip(header, values, strict=False) if h}))
        tables.append(_Table(ws.title, rows))
    wb.close()
    return tables


def _flatten_json(item: Mapping, prefix: str = "") -> tuple[dict[str, object], dict[str, list]]:
    """An OData submission → ({path: value}, {repeat path: [instances]})."""
    flat: dict[str, object] = {}
    repeats: dict[str, list] = {}
    for key, value in item.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            inner, inner_repeats = _flatten_json(value, f"{path}/")
            flat.update(inner)
            repeats.update(inner_repeats)
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            repeats[path] = list(value)
        else:
            flat[path] = value
    return flat, repeats


class _Assembler:
    """Turns tables into submissions, mapping columns to the questionnaire's questions."""

    def __init__(self, definition: surveys.Definition, key_column: str) -> None:
        self.d = definition
        self.key_column = key_column
        self.fields = definition.fields
        self.ignored: dict[str, None] = {}
        self._leaf_cache: dict[str, str | None] = {}
        self._plan: dict[tuple[str, str | None], str | None] = {}

    def leaf(self, column: str) -> str | None:
        """The question a column holds (by its last path segment), or None."""
        if column in self._leaf_cache:
            return self._leaf_cache[column]
        found = None
        for candidate in (column, column.rsplit("/", 1)[-1], column.rsplit(".", 1)[-1]):
            if candidate in self.fields:
                found = candidate
                break
        if found is None:
            parts = column.split("-")
            for i in range(1, len(parts)):
                candidate = "-".join(parts[i:])
                if candidate in self.fields:
                    found = candidate
                    break
        self._leaf_cache[column] = found
        return found

    def is_option_column(self, column: str) -> bool:
        """Kobo's one-column-per-option of a select_multiple (`grupo/pregunta/opcion`)."""
        for sep in ("/", "-", "."):
            if sep in column:
                parent = self.leaf(column.rsplit(sep, 1)[0])
                if parent is not None and self.fields[parent].type == "select_multiple":
                    return True
        return False

    def matches_key(self, column: str) -> bool:
        return column == self.key_column or column.rsplit("/", 1)[-1] == self.key_column or column.endswith(f"-{self.key_column}")

    def question_of(self, column: str, repeat: str | None) -> str | None:
        """The question a column answers in this table, or None (key, metadata, option
        columns, calculations, questions of another repeat, unknown: listed as ignored)."""
        cached = self._plan.get((column, repeat), False)
        if cached is not False:
            return cached
        name = None
        if not (self.matches_key(column) or _is_metadata(column)):
            name = self.leaf(column)
            if name is None:
                if not self.is_option_column(column):
                    self.ignored.setdefault(column, None)
            elif self.fields[name].type in ("note", "calculate") or self.fields[name].repeat != repeat:
                name = None
        self._plan[(column, repeat)] = name
        return name

    def put(self, target: dict, where: dict, path_prefix: str, sheet: str, row: int, values: Mapping, *,
            repeat: str | None) -> None:
        for column, raw in values.items():
            column = str(column)
            name = self.question_of(column, repeat)
            if name is None:
                continue
            value = _text(raw)
            if value is None:
                continue
            target[name] = value
            where[f"{path_prefix}{name}"] = (sheet, row, column)

    def submission(self, sheet: str, row: int, values: Mapping, submitted: object = None) -> Submission:
        sid = next((_text(values[c]) for c in ID_COLUMNS if c in values and _text(values[c])), None)
        if sid and sid.startswith("uuid:"):
            sid = sid[5:]
        key = next((_text(v) for c, v in values.items() if self.matches_key(str(c)) and _text(v)), None)
        when = submitted if submitted is not None else next((values[c] for c in TIME_COLUMNS if values.get(c)), None)
        sub = Submission(sheet, row, sid, key, _when(when))
        self.put(sub.answers, sub.where, "", sheet, row, values, repeat=None)
        return sub

    def add_instance(self, sub: Submission, repeat: str, sheet: str, row: int, values: Mapping) -> None:
        instances = sub.answers.setdefault(repeat, [])
        index = len(instances)
        instance: dict = {}
        instances.append(instance)
        sub.where.setdefault(repeat, (sheet, row, repeat))
        self.put(instance, sub.where, f"{repeat}[{index}].", sheet, row, values, repeat=repeat)

    def repeat_of(self, table_name: str) -> str | None:
        """The repeat a sheet or file holds (Kobo truncates sheet names to 31 characters)."""
        for name in self.d.repeats:
            if table_name == name or table_name.endswith(f"-{name}") or (len(table_name) >= 31 and name.startswith(table_name)):
                return name
        return None


def _when(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value.strip():
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def read(data: bytes, filename: str, definition: surveys.Definition,
         key_column: str = DEFAULT_KEY_COLUMN) -> tuple[str, list[Submission], list[str]]:
    """The submissions in a file: (format, submissions, ignored columns); refuses unreadable files."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ACCEPTED:
        raise ServiceError(Refusal.SUBMISSIONS_UNSUPPORTED_FILE, filename=filename, accepted=", ".join(ACCEPTED))
    asm = _Assembler(definition, key_column)
    if suffix == ".json":
        fmt, subs = "odk-central-json", _from_json(asm, data, filename)
    elif suffix == ".zip":
        fmt, subs = "odk-central-csv-zip", _from_zip(asm, data, filename)
    elif suffix == ".xlsx":
        fmt, subs = "kobo-xlsx", _from_tables(asm, _xlsx_tables(data, filename), "_index", "_parent_index", filename)
    else:
        table = _csv_table(PurePath(filename).name, data, filename)
        fmt = "odk-central-csv" if any("KEY" in v for _r, v in table.rows[:1]) else "kobo-csv"
        subs = _from_tables(asm, [table], "_index", "_parent_index", filename)
    if not subs:
        raise ServiceError(Refusal.SUBMISSIONS_EMPTY, filename=filename)
    return fmt, subs, list(asm.ignored)


def _check_key_column(asm: _Assembler, columns: list[str], filename: str) -> None:
    if not any(asm.matches_key(c) for c in columns):
        raise ServiceError(Refusal.SUBMISSIONS_KEY_COLUMN_MISSING, column=asm.key_column, filename=filename)


def _from_tables(asm: _Assembler, tables: list[_Table], index_col: str, parent_col: str, filename: str) -> list[Submission]:
    if not tables:
        return []
    main, *others = tables
    columns = list(dict.fromkeys(c for _r, v in main.rows for c in v))
    if main.rows:
        _check_key_column(asm, columns, filename)
    subs: list[Submission] = []
    by_index: dict[str, Submission] = {}
    by_uuid: dict[str, Submission] = {}
    for row, values in main.rows:
        sub = asm.submission(main.name, row, values)
        subs.append(sub)
        if _text(values.get(index_col)):
            by_index[_text(values.get(index_col))] = sub
        if _text(values.get("_uuid")):
            by_uuid[_text(values["_uuid"])] = sub
    for table in others:
        repeat = asm.repeat_of(table.name)
        if repeat is None:
            continue
        for row, values in table.rows:
            parent = by_index.get(_text(values.get(parent_col)) or "") or by_uuid.get(_text(values.get("_submission__uuid")) or "")
            if parent is not None:
                asm.add_instance(parent, repeat, table.name, row, values)
    return subs


def _from_zip(asm: _Assembler, data: bytes, filename: str) -> list[Submission]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {Path(n).name: archive.read(n) for n in archive.namelist() if n.lower().endswith(".csv")}
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise ServiceError(Refusal.SUBMISSIONS_UNREADABLE, filename=filename, problem=str(exc)[:200]) from None
    tables = {name: _csv_table(name, content, filename) for name, content in members.items()}
    mains = [t for t in tables.values() if t.rows and "KEY" in t.rows[0][1] and "PARENT_KEY" not in t.rows[0][1]]
    if not mains:
        raise ServiceError(Refusal.SUBMISSIONS_UNREADABLE, filename=filename,
                           problem="no hay un CSV principal con columna KEY / no main CSV with a KEY column")
    main = mains[0]
    _check_key_column(asm, list(main.rows[0][1]), filename)
    subs, by_key = [], {}
    for row, values in main.rows:
        sub = asm.submission(main.name, row, values)
        subs.append(sub)
        by_key[_text(values.get("KEY")) or ""] = sub
    for table in tables.values():
        if table is main:
            continue
        repeat = asm.repeat_of(PurePath(table.name).stem)
        if repeat is None:
            continue
        for row, values in table.rows:
            parent = by_key.get(_text(values.get("PARENT_KEY")) or "")
            if parent is not None:
                asm.add_instance(parent, repeat, table.name, row, values)
    return subs


def _from_json(asm: _Assembler, data: bytes, filename: str) -> list[Submission]:
    try:
        body = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceError(Refusal.SUBMISSIONS_UNREADABLE, filename=filename, problem=str(exc)[:200]) from None
    items = body.get("value") if isinstance(body, Mapping) else body
    if not isinstance(items, list):
        raise ServiceError(Refusal.SUBMISSIONS_UNREADABLE, filename=filename,
                           problem='se esperaba {"value": [...]} / expected {"value": [...]}')
    sheet = PurePath(filename).name
    subs = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            continue
        flat, repeats = _flatten_json(item)
        if i == 1:
            _check_key_column(asm, list(flat), filename)
        system = item.get("__system") if isinstance(item.get("__system"), Mapping) else {}
        sub = asm.submission(sheet, i, flat, system.get("submissionDate"))
        for path, instances in repeats.items():
            repeat = path.rsplit("/", 1)[-1]
            if repeat not in asm.d.repeats:
                asm.ignored.setdefault(path, None)
                continue
            for instance in instances:
                inner, _nested = _flatten_json(instance)
                asm.add_instance(sub, repeat, sheet, i, inner)
        subs.append(sub)
    return subs


# ------------------------------------------------------------------ planning
def _error(sub: Submission, where: tuple[str, int, str] | None, question: str | None, es: str, en: str) -> RowError:
    sheet, row, column = where if where else (sub.sheet, sub.row, None)
    return RowError(sheet, row, column, question, es, en)


def _campaign_ready(campaign: Campaign, purpose: str):
    if campaign.status != CampaignStatus.OPEN:
        raise Conflict(Refusal.CAMPAIGN_NOT_OPEN)
    try:
        purpose = InstrumentPurpose(purpose)
    except ValueError:
        raise ServiceError(Refusal.SUBMISSIONS_UNKNOWN_PURPOSE, purpose=purpose) from None
    version = campaigns.instrument(campaign, purpose)
    if version is None:
        raise Conflict(Refusal.NO_INSTRUMENT_FOR_PURPOSE)
    return purpose, version


def preview(campaign: Campaign, data: bytes, filename: str, *, key_column: str = DEFAULT_KEY_COLUMN,
            purpose: str = InstrumentPurpose.INSTITUTION.value, scope=None) -> Preview:
    """What importing the file would do, row by row, with every error; writes nothing.

    An institution outside `scope` (default: the requester's) is "not in the campaign" for a
    state-scoped account, so its rows are refused without saying it exists."""
    from diagnostic.security import scope_or_current

    purpose_, version = _campaign_ready(campaign, purpose)
    definition = instruments.definition(version)
    fmt, subs, ignored = read(data, filename, definition, key_column or DEFAULT_KEY_COLUMN)
    keys = {s.key for s in subs if s.key}
    institutions = {i.key: i for i in db.session.scalars(scope_or_current(scope).restrict(
        sa.select(Institution).join(Participation, Participation.institution_id == Institution.id)
        .where(Participation.campaign_id == campaign.id, Institution.key.in_(keys)), Institution.state_code))} \
        if keys else {}
    existing = {r.institution_id: r for r in db.session.scalars(
        sa.select(Response).where(Response.campaign_id == campaign.id, Response.purpose == purpose_,
                                  Response.institution_id.in_([i.id for i in institutions.values()])))}
    ids = {s.submission_id for s in subs if s.submission_id}
    imported = {i.submission_id: i for i in db.session.scalars(
        sa.select(ImportedSubmission).where(ImportedSubmission.campaign_id == campaign.id,
                                            ImportedSubmission.submission_id.in_(ids)))} if ids else {}
    stored_rows = _stored_rows(list(existing.values()))
    seen_keys: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    plans = []
    for sub in subs:
        plan = RowPlan(sub, "error")
        plans.append(plan)
        key_where = (sub.sheet, sub.row, key_column)
        if not sub.submission_id:
            plan.errors.append(_error(sub, None, None, "sin identificador de envío (_uuid, meta/instanceID, KEY o __id)",
                                      "no submission id (_uuid, meta/instanceID, KEY or __id)"))
        elif sub.submission_id in seen_ids:
            plan.errors.append(_error(sub, None, None, f"envío repetido (fila {seen_ids[sub.submission_id]})",
                                      f"repeated submission (row {seen_ids[sub.submission_id]})"))
        else:
            seen_ids[sub.submission_id] = sub.row
        institution = institutions.get(sub.key or "")
        if not sub.key:
            plan.errors.append(_error(sub, key_where, None, "falta la clave de institución", "institution key missing"))
        elif institution is None:
            plan.errors.append(_error(sub, key_where, None, f"institución no incluida en la campaña: {sub.key}",
                                      f"institution not in the campaign: {sub.key}"))
        elif sub.key in seen_keys:
            plan.errors.append(_error(sub, key_where, None, f"institución repetida en el archivo (fila {seen_keys[sub.key]})",
                                      f"institution repeated in the file (row {seen_keys[sub.key]})"))
        else:
            seen_keys[sub.key] = sub.row
        plan.institution = institution
        result = surveys.validate(definition, sub.answers, partial=False)
        for e in result.errors:
            where = sub.where.get(e.path) or sub.where.get(e.path.split("[")[0])
            question = e.path.rsplit(".", 1)[-1].split("[")[0]
            plan.errors.append(_error(sub, where, question, e.message_es, e.message_en))
        if plan.errors:
            continue
        plan.rows = responses._to_rows(result.values)
        plan.fingerprint = responses.fingerprint(plan.rows)
        response = existing.get(institution.id)
        plan.response = response
        previous = imported.get(sub.submission_id)
        plan.imported = previous
        if previous is not None and (response is None or previous.response_id != response.id):
            plan.errors.append(_error(sub, key_where, None, "este envío ya se importó para otra institución",
                                      "this submission was already imported for another institution"))
            continue
        if response is None:
            plan.action = "create"
        elif response.status == ResponseStatus.VERIFIED:
            plan.errors.append(_error(sub, key_where, None, "la respuesta ya fue verificada; un analista debe reabrirla",
                                      "the response is already verified; an analyst must reopen it"))
        elif response.status == ResponseStatus.SUBMITTED and stored_rows.get(response.id) == plan.rows:
            plan.action = "unchanged"
        else:
            plan.action = "update"
    return Preview(PurePath(filename).name, fmt, purpose_.value, key_column, plans, ignored,
                   "sha256:" + hashlib.sha256(data).hexdigest())


def _stored_rows(existing: list[Response]) -> dict[int, dict]:
    out: dict[int, dict] = {r.id: {} for r in existing}
    if not out:
        return out
    for rid, f, i, v in db.session.execute(sa.select(Answer.response_id, Answer.field, Answer.repeat_index, Answer.value)
                                           .where(Answer.response_id.in_(list(out)))):
        if v is not None:
            out[rid][(f, i)] = v
    return out


# ------------------------------------------------------------------ applying
@dataclass
class Applied:
    """What an import wrote."""

    preview: Preview
    created: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict:
        """JSON-ready."""
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "preview": self.preview.as_dict()}


def apply(campaign: Campaign, data: bytes, filename: str, actor: Actor, *, key_column: str = DEFAULT_KEY_COLUMN,
          purpose: str = InstrumentPurpose.INSTITUTION.value, scope=None) -> Applied:
    """Import every submission of the file, or none: refused with every error when any row has one."""
    plan = preview(campaign, data, filename, key_column=key_column, purpose=purpose, scope=scope)
    if not plan.ok:
        raise ServiceError(Refusal.SUBMISSIONS_REJECTED, details=plan.errors, filename=plan.filename,
                           count=sum(1 for p in plan.plans if p.errors))
    try:
        with responses.write_lock():
            _write(campaign, plan, actor)
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    counts = plan.counts()
    return Applied(plan, counts["create"], counts["update"], counts["unchanged"])


def _write(campaign: Campaign, plan: Preview, actor: Actor) -> None:
    version = campaigns.instrument(campaign, plan.purpose)
    now = utcnow()
    label = actor.label[:80]
    reason = f"importación {plan.filename} ({plan.source_format})"
    creates = [p for p in plan.plans if p.action == "create"]
    if creates:
        table = Response.__table__
        ids = db.session.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True),
            [{"campaign_id": campaign.id, "purpose": InstrumentPurpose(plan.purpose), "instrument_version_id": version.id,
              "institution_id": p.institution.id, "status": ResponseStatus.SUBMITTED, "last_page": 0,
              "created_at": now, "updated_at": now, "updated_by": label,
              "submitted_at": p.submission.submitted_at or now, "submitted_by": label, "fingerprint": p.fingerprint}
             for p in creates]).scalars().all()
        answers, events, links = [], [], []
        for p, rid in zip(creates, ids, strict=True):
            for (f, i), v in sorted(p.rows.items(), key=lambda kv: (kv[0][0], -1 if kv[0][1] is None else kv[0][1])):
                answers.append({"response_id": rid, "field": f, "repeat_index": i, "value": v, "updated_at": now})
                events.append({"at": now, "actor": label, "user_id": actor.user_id, "action": "answer.import",
                               "entity": "answer", "entity_id": None, "response_id": rid, "field": f, "repeat_index": i,
                               "old_value": None, "new_value": v, "reason": reason})
            events.append({"at": now, "actor": label, "user_id": actor.user_id, "action": "response.status",
                           "entity": "response", "entity_id": rid, "response_id": rid, "field": None,
                           "repeat_index": None, "old_value": None, "new_value": ResponseStatus.SUBMITTED.value,
                           "reason": f"{reason}; envío {p.submission.submission_id}"})
            links.append({"campaign_id": campaign.id, "submission_id": p.submission.submission_id, "response_id": rid,
                          "fingerprint": p.fingerprint, "source": plan.filename[:200], "imported_by": label,
                          "imported_at": now})
        _insert_many(Answer.__table__, answers)
        _insert_many(AuditEvent.__table__, events)
        _insert_many(ImportedSubmission.__table__, links)
    for p in plan.plans:
        if p.action != "update":
            continue
        response = p.response
        responses._lock(response, actor)  # noqa: SLF001 - the same locked write the web form makes
        responses._apply(response, p.rows, actor, reason=reason, action="answer.import")  # noqa: SLF001
        if response.status != ResponseStatus.SUBMITTED:
            record(actor, "response.status", "response", response.id, response_id=response.id,
                   old=response.status.value, new=ResponseStatus.SUBMITTED.value, reason=reason)
            response.status = ResponseStatus.SUBMITTED
        response.submitted_at = p.submission.submitted_at or now
        response.submitted_by = label
        response.fingerprint = p.fingerprint
        if p.imported is not None:
            p.imported.fingerprint, p.imported.source, p.imported.imported_at = p.fingerprint, plan.filename[:200], now
        else:
            db.session.add(ImportedSubmission(campaign_id=campaign.id, submission_id=p.submission.submission_id,
                                              response_id=response.id, fingerprint=p.fingerprint,
                                              source=plan.filename[:200], imported_by=label, imported_at=now))


def _insert_many(table: sa.Table, rows: list[dict]) -> None:
    """One driver-level executemany of rows that all have the same keys, in the session's
    transaction: each column's bind processing (time zones, SQLite's date text) is applied
    here, once per distinct value, instead of per row by SQLAlchemy (hundreds of thousands
    of answers and audit rows for a large import)."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    compiled = table.insert().compile(dialect=dialect, column_keys=columns)
    processors = {c: table.c[c].type._cached_bind_processor(dialect) for c in columns}  # noqa: SLF001
    cache: dict[tuple[str, object], object] = {}

    def bind(column: str, value: object) -> object:
        processor = processors[column]
        if processor is None or value is None:
            return value
        key = (column, value)
        if key not in cache:
            cache[key] = processor(value)
        return cache[key]

    order = list(compiled.positiontup) if compiled.positional else columns
    processed = frozenset(c for c in order if processors[c] is not None)
    if compiled.positional:
        params = [tuple(bind(c, row[c]) if c in processed else row[c] for c in order) for row in rows]
    else:
        params = [{c: bind(c, row[c]) if c in processed else row[c] for c in order} for row in rows]
    for start in range(0, len(params), 20000):
        connection.exec_driver_sql(compiled.string, params[start:start + 20000])


# ------------------------------------------------------------------ staging for the two-step UI
def stage(data: bytes, filename: str) -> str:
    """Keep an uploaded file between the preview and the confirmation; returns its token."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ACCEPTED:
        raise ServiceError(Refusal.SUBMISSIONS_UNSUPPORTED_FILE, filename=filename, accepted=", ".join(ACCEPTED))
    return staging.stage(data, PurePath(filename).name)


def staged(token: str) -> tuple[bytes, str]:
    """The staged file's bytes and name, or NotFound."""
    found = staging.staged(token or "")
    if found is None:
        raise NotFound(Refusal.SUBMISSIONS_STAGED_NOT_FOUND)
    return found


def discard(token: str) -> None:
    """Forget a staged file once applied."""
    staging.discard(token)
    db.session.commit()
