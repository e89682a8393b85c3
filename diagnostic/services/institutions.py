"""Institutions (sujetos obligados): the registry, campaign rosters and the CSV/XLSX import.

An institution (key, name, state, order, type) is shared by every campaign that includes
it; a campaign's roster entry is its `Participation`. An import into one campaign never
changes what another campaign sees:

- rows are matched by key (clave) first, then by exact name within the state; the key
  given in the file is kept (adopted by an institution matched by name, unless another
  campaign uses that institution under its current key: then the row is an error);
- an institution only this campaign uses (or none) is updated in place, field by field;
- an institution another campaign also uses keeps its name, order and type (the preview
  says so), and contact data from the file goes to this campaign's roster entry only;
- `plan_import` computes exactly what will be created, updated (field by field, old → new)
  or left alone, and every bad row (row number, column label, why), writing nothing;
  `apply_import` applies a plan only if re-planning the same file gives the same
  fingerprint (nothing changed in between); every change lands in the audit log.

An import is all or nothing: every bad row is reported by its row number in the file
(the header is row 1) and nothing is written unless every row is good.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePath

import sqlalchemy as sa

from diagnostic import labels
from diagnostic.extensions import db
from diagnostic.models import (
    Campaign,
    Institution,
    InstrumentPurpose,
    Invitation,
    Order,
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
    spreadsheets,
    staging,
    states,
)
from diagnostic.services.audit import SYSTEM, Actor, record
from diagnostic.services.refusals import Both, RowProblem, current_lang
from scoring.io import decode_lines

# Canonical institution types (methodology §2) and the spellings accepted on import.
TYPES: dict[str, tuple[str, ...]] = {
    "ejecutivo": ("ejecutivo", "ejecutivo estatal", "ejecutivo federal", "poder ejecutivo", "dependencia"),
    "legislativo": ("legislativo", "poder legislativo", "congreso"),
    "judicial": ("judicial", "poder judicial", "tribunal"),
    "autonomo": ("autonomo", "organismo autonomo", "organo autonomo"),
    "municipio": ("municipio", "ayuntamiento", "municipal"),
    "partido": ("partido", "partido politico"),
    "sindicato": ("sindicato",),
    "fideicomiso": ("fideicomiso", "fondo publico", "fideicomiso/fondo publico", "fideicomiso o fondo publico"),
    "universidad": ("universidad", "universidad publica"),
    "descentralizado": ("descentralizado", "organismo descentralizado"),
}
ORDERS = {"federal": Order.FEDERAL, "estatal": Order.ESTATAL, "state": Order.ESTATAL,
          "municipal": Order.MUNICIPAL}

# Column names accepted in the header (Spanish or English) → our field.
COLUMNS = {
    "key": "key", "clave": "key", "id": "key",
    "name": "name", "nombre": "name", "institucion": "name", "sujeto obligado": "name",
    "state": "state", "estado": "state", "entidad": "state", "entidad federativa": "state",
    "order": "order", "orden": "order", "orden de gobierno": "order",
    "type": "type", "tipo": "type",
    "contact_name": "contact_name", "contacto": "contact_name", "nombre de contacto": "contact_name",
    "contact_email": "contact_email", "correo": "contact_email", "email": "contact_email",
    "correo de contacto": "contact_email",
    "responsable_estatal": "state_respondent", "responsable estatal": "state_respondent",
    "state_respondent": "state_respondent", "condiciones": "state_respondent",
}
# What each field is called in the interface and in error reports (never its code).
FIELD_LABELS: dict[str, Both] = {
    "key": Both("Clave", "Key"),
    "name": Both("Nombre", "Name"),
    "state": Both("Estado", "State"),
    "state_code": Both("Estado", "State"),
    "order": Both("Orden de gobierno", "Order of government"),
    "type": Both("Tipo", "Type"),
    "contact_name": Both("Contacto", "Contact"),
    "contact_email": Both("Correo", "E-mail"),
    "state_respondent": Both("Responsable estatal", "State respondent"),
    "withdrawn": Both("Retirada", "Withdrawn"),
}
# Roster status of an institution in a campaign, from what the data records.
STATUS_LABELS: dict[str, Both] = {
    "not_invited": Both("Sin invitar", "Not invited"),
    "invited": Both("Invitada", "Invited"),
    "opened": Both("Abrió el enlace", "Opened the link"),
    "draft": Both("Borrador", "Draft"),
    "submitted": Both("Enviada", "Submitted"),
    "verified": Both("Verificada", "Verified"),
    "withdrawn": Both("Retirada", "Withdrawn"),
}
IDENTITY = ("key", "name", "state_code", "order", "type")
CONTACT = ("contact_name", "contact_email")


def field_label(name: str, lang: str | None = None) -> str:
    """A field's label in `lang` (the request's language by default)."""
    label = FIELD_LABELS.get(name)
    return label.text(lang or current_lang()) if label else name


def type_label(code: str, lang: str | None = None) -> str:
    """An institution type's label (diagnostic/data/labels.yaml)."""
    return labels.label(code, "type", lang)


def order_label(code: object, lang: str | None = None) -> str:
    """An order of government's label (diagnostic/data/labels.yaml)."""
    return labels.label(getattr(code, "value", code), "order", lang)


YES = {"si", "sí", "s", "yes", "y", "x", "1", "true", "verdadero"}
NO = {"", "no", "n", "0", "false", "falso"}
REQUIRED = ("name", "state", "order", "type")
MAX_ROWS = 20000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class RowError:
    """One rejected row: its number in the file, the column and what is wrong (a coded problem)."""

    row: int
    column: str
    problem: RowProblem
    params: dict = field(default_factory=dict)

    def message_for(self, lang: str) -> str:
        """What is wrong, in `lang`."""
        return self.problem.render(lang, **self.params)

    @property
    def message(self) -> str:
        """What is wrong, in the interface language of the current request (Spanish outside one)."""
        return self.message_for(current_lang())

    def label_for(self, lang: str) -> str:
        """The column's label in `lang` (never its code)."""
        return field_label(self.column, lang)

    @property
    def label(self) -> str:
        """The column's label in the interface language."""
        return self.label_for(current_lang())

    def format(self, lang: str) -> str:
        """`fila N: Column label: message` in `lang`."""
        return f"{'row' if lang == 'en' else 'fila'} {self.row}: {self.label_for(lang)}: {self.message_for(lang)}"

    def __str__(self) -> str:
        return self.format("es")


class ImportRejected(ServiceError):
    """The file was rejected; `errors` lists every bad row and nothing was written."""

    def __init__(self, refusal: Refusal, errors: list[RowError], **params: object):
        super().__init__(refusal, status=422, details=errors, **params)
        self.errors = errors


@dataclass
class ImportReport:
    """What an accepted import did."""

    created: int = 0
    updated: int = 0
    added_to_campaign: int = 0
    state_respondents: int = 0
    institutions: list[Institution] = field(default_factory=list)


def _norm(text: object) -> str:
    from scoring.states import normalise

    return normalise(text)


def normalise_type(value: object) -> str | None:
    """Canonical type code for a spelling (`Partido político` → `partido`), else None."""
    key = _norm(value)
    for code, spellings in TYPES.items():
        if key in {_norm(s) for s in spellings}:
            return code
    return None


def _read_rows(data: bytes, filename: str) -> list[list[str]]:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xlsx":
        try:
            return spreadsheets.read_xlsx(data)
        except ServiceError as exc:
            raise ImportRejected(exc.refusal, [], **exc.params) from None
    if suffix == ".csv":
        if b"\x00" in data[:4096]:
            raise ImportRejected(Refusal.CSV_BINARY, [])
        # Line by line: UTF-8 with or without BOM, Windows-1252/Latin-1 from Excel, or a mix.
        lines, _encoding, _repairs, _bom = decode_lines(data)
        text = "\n".join(lines)
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        rows = []
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if len(rows) > MAX_ROWS + 1:
                raise ImportRejected(Refusal.IMPORT_TOO_MANY_ROWS, [], maximum=MAX_ROWS)
            rows.append([c.strip() for c in row])
        return rows
    raise ImportRejected(Refusal.IMPORT_UNSUPPORTED_FILE, [])


# Longest value of a column (the table's limits; the name has its own message).
CELL_LIMITS = {"key": 64, "contact_name": 200, "contact_email": 200}


def parse_file(data: bytes, filename: str) -> list[dict]:
    """Read and check every row; raise ImportRejected listing all bad rows."""
    parsed, errors = check_rows(data, filename)
    if errors:
        raise ImportRejected(Refusal.IMPORT_ROWS_REJECTED, errors, count=len({e.row for e in errors}))
    if not parsed:
        raise ImportRejected(Refusal.IMPORT_NO_ROWS, [])
    return parsed


def check_rows(data: bytes, filename: str) -> tuple[list[dict], list[RowError]]:
    """The good rows and every bad row's problems; ImportRejected for a file that cannot be read."""
    rows = _read_rows(data, filename)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ImportRejected(Refusal.IMPORT_EMPTY, [])
    header = [COLUMNS.get(_norm_header(h)) for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportRejected(Refusal.IMPORT_MISSING_COLUMNS,
                             [RowError(1, c, RowProblem.COLUMN_MISSING) for c in missing], columns=", ".join(missing))
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRejected(Refusal.IMPORT_TOO_MANY_ROWS, [], maximum=MAX_ROWS)
    errors: list[RowError] = []
    parsed: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    seen_keys: dict[str, int] = {}
    seen_state_respondents: dict[str, int] = {}
    for number, raw in enumerate(rows[1:], start=2):
        if not any(raw):
            continue
        record_ = {col: (raw[i] if i < len(raw) else "") for i, col in enumerate(header) if col}
        row_errors = []
        for column, value in record_.items():  # NUL cannot be stored (PostgreSQL) nor migrated (SQLite)
            if "\x00" in value:
                row_errors.append(RowError(number, column, RowProblem.CONTROL_CHARACTER))
                record_[column] = value.replace("\x00", "")
            elif len(value) > CELL_LIMITS.get(column, 10**9):
                row_errors.append(RowError(number, column, RowProblem.VALUE_TOO_LONG,
                                           {"maximum": CELL_LIMITS[column]}))
        name = record_.get("name", "").strip()
        if not name:
            row_errors.append(RowError(number, "name", RowProblem.NAME_EMPTY))
        elif len(name) > 300:
            row_errors.append(RowError(number, "name", RowProblem.NAME_TOO_LONG))
        state = states.resolve(record_.get("state"))
        if state is None:
            row_errors.append(RowError(number, "state", RowProblem.STATE_UNKNOWN, {"value": record_.get("state", "")}))
        order = ORDERS.get(_norm(record_.get("order")))
        if order is None:
            row_errors.append(RowError(number, "order", RowProblem.ORDER_UNKNOWN, {"value": record_.get("order", "")}))
        kind = normalise_type(record_.get("type"))
        if kind is None:
            row_errors.append(RowError(number, "type", RowProblem.TYPE_UNKNOWN,
                                       {"value": record_.get("type", ""), "types": ", ".join(TYPES)}))
        email = (record_.get("contact_email") or "").strip()
        if email and not EMAIL.match(email):
            row_errors.append(RowError(number, "contact_email", RowProblem.EMAIL_INVALID, {"value": email}))
        key = (record_.get("key") or "").strip()
        if key and key in seen_keys:
            row_errors.append(RowError(number, "key", RowProblem.KEY_REPEATED, {"row": seen_keys[key]}))
        if state and name:
            ident = (state, _norm(name))
            if ident in seen:
                row_errors.append(RowError(number, "name", RowProblem.INSTITUTION_REPEATED, {"row": seen[ident]}))
            seen[ident] = number
        if key:
            seen_keys[key] = number
        flag = _norm(record_.get("state_respondent") or "")
        responds_for_state = flag in YES
        if flag not in YES | NO:
            row_errors.append(RowError(number, "state_respondent", RowProblem.YES_NO_UNKNOWN,
                                       {"value": record_.get("state_respondent")}))
        elif responds_for_state and state:
            if state in seen_state_respondents:
                row_errors.append(RowError(number, "state_respondent", RowProblem.STATE_RESPONDENT_TAKEN,
                                           {"row": seen_state_respondents[state]}))
            else:
                seen_state_respondents[state] = number
        errors.extend(row_errors)
        if not row_errors:
            parsed.append({"row": number, "key": key, "name": name, "state_code": state, "order": order,
                           "type": kind, "contact_name": (record_.get("contact_name") or "").strip() or None,
                           "contact_email": email or None, "state_respondent": responds_for_state})
    return parsed, errors


def _norm_header(text: str) -> str:
    from scoring.states import normalise

    cleaned = normalise(text)
    for name in COLUMNS:
        if normalise(name) == cleaned:
            return name
    return cleaned


def make_key(state_code: str, name: str) -> str:
    """A stable key for an institution without one: state code + a slug of the name."""
    slug = re.sub(r"[^a-z0-9]+", "-", _norm_spaced(name)).strip("-")[:50]
    return f"{state_code}-{slug}"


def _norm_spaced(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


# ------------------------------------------------------------------ import: plan, then apply
@dataclass
class Change:
    """One field that an import or an edit changes: where (the institution or this campaign's roster entry)."""

    field: str
    old: str | None
    new: str | None
    scope: str = "institution"  # or "campaign": the roster entry of this campaign only

    @property
    def label(self) -> str:
        """The field's label in the interface language."""
        return field_label(self.field)


@dataclass
class RowPlan:
    """What one good row of the file will do."""

    row: int
    action: str  # "create", "update" or "unchanged"
    key: str
    name: str
    state_code: str
    order: str
    type: str
    contact_name: str | None = None
    contact_email: str | None = None
    institution_id: int | None = None
    joins: bool = False  # new to this campaign's roster
    state_respondent: bool = False
    changes: list[Change] = field(default_factory=list)
    notes: list[Both] = field(default_factory=list)

    def signature(self) -> list:
        """Everything this row will write, as plain data (for the plan's fingerprint)."""
        return [self.row, self.action, self.key, self.name, self.state_code, self.order, self.type,
                self.contact_name, self.contact_email, self.institution_id, self.joins, self.state_respondent,
                [[c.field, c.old, c.new, c.scope] for c in self.changes]]


@dataclass
class ImportPlan:
    """Everything an import would do, computed without writing; `errors` lists every bad row."""

    filename: str
    sha256: str
    campaign_id: int | None
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def of(self, action: str) -> list[RowPlan]:
        """The rows with this action."""
        return [r for r in self.rows if r.action == action]

    @property
    def created(self) -> list[RowPlan]:
        return self.of("create")

    @property
    def updated(self) -> list[RowPlan]:
        return self.of("update")

    @property
    def unchanged(self) -> list[RowPlan]:
        return self.of("unchanged")

    @property
    def joining(self) -> list[RowPlan]:
        """Rows whose institution is new to the campaign's roster."""
        return [r for r in self.rows if r.joins]

    @property
    def bad_rows(self) -> int:
        """How many rows have at least one problem."""
        return len({e.row for e in self.errors})

    @property
    def fingerprint(self) -> str:
        """sha256 of the file and of everything the plan would write."""
        body = json.dumps([self.sha256, self.campaign_id, [r.signature() for r in self.rows]],
                          ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def summary(self, lang: str = "es") -> str:
        """One line: how many rows are created, updated, added to the campaign, left alone."""
        if lang == "en":
            return (f"{len(self.created)} new, {len(self.updated)} updated, {len(self.joining)} added to the "
                    f"campaign, {len(self.unchanged)} unchanged, {self.bad_rows} rows with errors")
        return (f"{len(self.created)} nuevas, {len(self.updated)} actualizadas, {len(self.joining)} añadidas a la "
                f"campaña, {len(self.unchanged)} sin cambios, {self.bad_rows} filas con errores")


def _other_campaigns(institution_id: int, campaign: Campaign | None) -> list[str]:
    """Names of the other campaigns whose roster has this institution."""
    query = (sa.select(Campaign.name).join(Participation, Participation.campaign_id == Campaign.id)
             .where(Participation.institution_id == institution_id).order_by(Campaign.name))
    if campaign is not None:
        query = query.where(Campaign.id != campaign.id)
    return list(db.session.scalars(query))


def _campaign_list(names: list[str]) -> str:
    return ", ".join(f"«{n}»" for n in names)


def plan_import(data: bytes, filename: str, *, campaign: Campaign | None = None) -> ImportPlan:
    """What importing this file would do, row by row, without writing anything.

    Raises ImportRejected for a file that cannot be read as a whole (type, columns, size);
    bad rows are listed in `plan.errors`.
    """
    parsed, errors = check_rows(data, filename)
    plan = ImportPlan(filename=filename, sha256=hashlib.sha256(data).hexdigest(),
                      campaign_id=campaign.id if campaign else None, errors=list(errors))
    if campaign is None:
        plan.errors.extend(RowError(row["row"], "state_respondent", RowProblem.NO_CAMPAIGN)
                           for row in parsed if row["state_respondent"])
    if not parsed and not errors:
        raise ImportRejected(Refusal.IMPORT_NO_ROWS, [])
    roster: dict[int, Participation] = {}
    if campaign is not None:
        roster = {p.institution_id: p for p in db.session.scalars(
            sa.select(Participation).where(Participation.campaign_id == campaign.id))}
    registry = _Registry(parsed, campaign)
    claimed: dict[int, int] = {}  # institution id → row that matched it
    new_keys: dict[str, int] = {}
    for row in parsed:
        if campaign is None and row["state_respondent"]:
            continue
        step = _plan_row(row, campaign, roster, plan, claimed, new_keys, registry)
        if step is not None:
            plan.rows.append(step)
    return plan


class _Registry:
    """The institutions a file's rows can match (by key, by state and name), loaded in a few queries."""

    def __init__(self, rows: list[dict], campaign: Campaign | None):
        keys = {row["key"] for row in rows if row["key"]} | {make_key(row["state_code"], row["name"]) for row in rows}
        names = {row["name"] for row in rows}
        found: list[Institution] = []
        for chunk in _chunks(sorted(keys)):
            found.extend(db.session.scalars(sa.select(Institution).where(Institution.key.in_(chunk))))
        for chunk in _chunks(sorted(names)):
            found.extend(db.session.scalars(sa.select(Institution).where(Institution.name.in_(chunk))))
        self.by_key = {i.key: i for i in found}
        self.by_name = {(i.state_code, i.name): i for i in found}
        ids = sorted({i.id for i in found})
        self.campaigns: dict[int, list[str]] = {}
        for chunk in _chunks(ids):
            query = (sa.select(Participation.institution_id, Campaign.name)
                     .join(Campaign, Campaign.id == Participation.campaign_id)
                     .where(Participation.institution_id.in_(chunk)).order_by(Campaign.name))
            if campaign is not None:
                query = query.where(Campaign.id != campaign.id)
            for institution_id, name in db.session.execute(query):
                self.campaigns.setdefault(institution_id, []).append(name)

    def key_taken(self, key: str) -> bool:
        """True when an institution has this key (every key a row can take was loaded)."""
        return key in self.by_key


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _plan_row(row: dict, campaign: Campaign | None, roster: dict[int, Participation], plan: ImportPlan,
              claimed: dict[int, int], new_keys: dict[str, int], registry: _Registry) -> RowPlan | None:
    number = row["row"]
    by_key = registry.by_key.get(row["key"]) if row["key"] else None
    by_name = registry.by_name.get((row["state_code"], row["name"]))
    existing = by_key or by_name
    step = RowPlan(row=number, action="unchanged", key=row["key"], name=row["name"], state_code=row["state_code"],
                   order=row["order"].value, type=row["type"], contact_name=row["contact_name"],
                   contact_email=row["contact_email"], state_respondent=row["state_respondent"])
    if existing is None:
        key = row["key"] or make_key(row["state_code"], row["name"])
        if registry.key_taken(key) or key in new_keys:
            key = f"{key}-{number}"
        new_keys[key] = number
        step.key, step.action, step.joins = key, "create", campaign is not None
        return step
    if existing.id in claimed:
        plan.errors.append(RowError(number, "key" if by_key else "name", RowProblem.SAME_INSTITUTION,
                                    {"row": claimed[existing.id]}))
        return None
    claimed[existing.id] = number
    if by_key is not None and by_name is not None and by_name.id != by_key.id:
        plan.errors.append(RowError(number, "name", RowProblem.KEY_OF_ANOTHER,
                                    {"name": row["name"], "other": by_name.key}))
        return None
    others = registry.campaigns.get(existing.id, [])
    step.institution_id, step.key = existing.id, existing.key
    if row["key"] and row["key"] != existing.key:  # matched by name: keep the file's key
        if others:
            plan.errors.append(RowError(number, "key", RowProblem.KEY_DIFFERS_SHARED, {
                "name": existing.name, "existing": existing.key, "campaigns": _campaign_list(others)}))
            return None
        step.changes.append(Change("key", existing.key, row["key"]))
        step.key = row["key"]
    identity = {"name": (existing.name, row["name"]), "state_code": (existing.state_code, row["state_code"]),
                "order": (existing.order.value, row["order"].value), "type": (existing.type, row["type"])}
    differing = [f for f, (old, new) in identity.items() if old != new]
    participation = roster.get(existing.id)
    if others:
        if differing:
            kept = ", ".join(FIELD_LABELS[f].es for f in differing)
            kept_en = ", ".join(FIELD_LABELS[f].en for f in differing)
            step.notes.append(Both(
                RowProblem.SHARED_KEPT.render("es", campaigns=_campaign_list(others), fields=kept),
                RowProblem.SHARED_KEPT.render("en", campaigns=_campaign_list(others), fields=kept_en)))
        step.name, step.state_code = existing.name, existing.state_code
        step.order, step.type = existing.order.value, existing.type
        for name in CONTACT:
            new = row[name]
            if not new:
                continue
            if campaign is None:
                if new != getattr(existing, name):
                    step.notes.append(RowProblem.SHARED_NO_CAMPAIGN.both(campaigns=_campaign_list(others)))
                continue
            current = (getattr(participation, name) if participation else None) or getattr(existing, name)
            if new != current:
                step.changes.append(Change(name, current, new, scope="campaign"))
    else:
        for name in differing:
            step.changes.append(Change(name, *identity[name]))
        for name in CONTACT:
            new = row[name]
            current = getattr(existing, name)
            if participation is not None and getattr(participation, name):
                current = getattr(participation, name)  # a campaign-only value set earlier
                if new and new != current:
                    step.changes.append(Change(name, current, new, scope="campaign"))
                continue
            if new and new != current:
                step.changes.append(Change(name, current, new))
    if campaign is not None:
        if participation is None:
            step.joins = True
        elif participation.withdrawn_at is not None:
            step.changes.append(Change("withdrawn", "sí", "no", scope="campaign"))
        if row["state_respondent"] and not (participation is not None and participation.state_respondent):
            step.changes.append(Change("state_respondent", "no", "sí", scope="campaign"))
    step.action = "update" if step.changes else "unchanged"
    return step


def describe_plan(plan: ImportPlan, lang: str = "es") -> list[str]:
    """The plan as lines of text: each created row, each changed field (old → new), each note."""
    lines = []
    for step in plan.rows:
        if step.action == "create":
            lines.append(f"{'row' if lang == 'en' else 'fila'} {step.row}: + {step.key} {step.name}")
        for change in step.changes:
            where = (" (this campaign only)" if lang == "en" else " (solo esta campaña)") if change.scope == "campaign" else ""
            lines.append(f"{'row' if lang == 'en' else 'fila'} {step.row}: {step.key}: {field_label(change.field, lang)}: "
                         f"{change.old or '—'} → {change.new or '—'}{where}")
        lines.extend(f"{'row' if lang == 'en' else 'fila'} {step.row}: {step.key}: {note.text(lang)}" for note in step.notes)
    return lines


def staged(digest: str) -> tuple[bytes, str]:
    """The bytes and name of a staged upload; refused when it is gone."""
    found = staging.staged(digest)
    if found is None:
        raise Conflict(Refusal.IMPORT_PREVIEW_EXPIRED)
    return found


def preview(data: bytes, filename: str, *, campaign: Campaign | None = None) -> ImportPlan:
    """Plan an upload and, when it has no bad row, stage it for confirmation. Writes no institution."""
    plan = plan_import(data, filename, campaign=campaign)
    if not plan.errors:
        staging.stage(data, filename)
    return plan


def confirm(digest: str, fingerprint: str, *, campaign: Campaign | None = None, actor: Actor = SYSTEM) -> ImportReport:
    """Apply a staged upload exactly as previewed: refused if re-planning it gives another plan."""
    data, filename = staged(digest)
    plan = plan_import(data, filename, campaign=campaign)
    if plan.errors:
        raise ImportRejected(Refusal.IMPORT_HAS_ERRORS, plan.errors)
    if plan.fingerprint != fingerprint:
        raise PlanChanged(plan)
    report = apply_import(plan, campaign=campaign, actor=actor)
    staging.discard(digest)
    db.session.commit()
    return report


class PlanChanged(ServiceError):
    """The data changed between the preview and the confirmation; `plan` is the new preview."""

    def __init__(self, plan: ImportPlan):
        super().__init__(Refusal.IMPORT_PLAN_CHANGED)
        self.plan = plan


def apply_import(plan: ImportPlan, *, campaign: Campaign | None = None, actor: Actor = SYSTEM) -> ImportReport:
    """Write a plan without errors in one transaction, every change audited with its old and new value."""
    if plan.errors:
        raise ImportRejected(Refusal.IMPORT_ROWS_REJECTED, plan.errors, count=plan.bad_rows)
    report = ImportReport()
    reason = plan.filename
    try:
        for step in plan.rows:
            if step.action == "create":
                institution = Institution(key=step.key, name=step.name, state_code=step.state_code,
                                          order=Order(step.order), type=step.type, contact_name=step.contact_name,
                                          contact_email=step.contact_email)
                db.session.add(institution)
                report.created += 1
            else:
                institution = db.session.get(Institution, step.institution_id)
                if step.action == "update":
                    report.updated += 1
            report.institutions.append(institution)
        db.session.flush()
        for step, institution in zip(plan.rows, report.institutions, strict=True):
            if step.action == "create":
                record(actor, "institution.create", "institution", institution.id, new=step.key, reason=reason)
        if campaign is not None:
            report.added_to_campaign = add_to_campaign(campaign, report.institutions, commit=False)
            db.session.flush()
        roster = {}
        if campaign is not None:
            roster = {p.institution_id: p for p in db.session.scalars(
                sa.select(Participation).where(Participation.campaign_id == campaign.id))}
        for step, institution in zip(plan.rows, report.institutions, strict=True):
            participation = roster.get(institution.id)
            for change in step.changes:
                _apply_change(institution, participation, change, actor, reason)
            if step.state_respondent and campaign is not None:
                _designate(campaign, institution, actor)
                report.state_respondents += 1
        record(actor, "institutions.import", "campaign" if campaign else "institution",
               campaign.id if campaign else None,
               new=f"{report.created} nuevas, {report.updated} actualizadas, "
                   f"{report.added_to_campaign} añadidas a la campaña", reason=reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _apply_change(institution: Institution, participation: Participation | None, change: Change,
                  actor: Actor, reason: str | None) -> None:
    if change.field == "state_respondent":
        return  # designated (and audited) by _designate
    if change.field == "withdrawn":
        participation.withdrawn_at, participation.withdrawn_reason = None, None
        record(actor, "campaign.reinstate", "participation", participation.id, field="withdrawn",
               old="sí", new="no", reason=reason)
        return
    if change.scope == "campaign":
        setattr(participation, change.field, change.new)
        record(actor, "roster.update", "participation", participation.id, field=change.field,
               old=change.old, new=change.new, reason=reason)
        return
    value = Order(change.new) if change.field == "order" else change.new
    setattr(institution, change.field, value)
    record(actor, "institution.update", "institution", institution.id, field=change.field,
           old=change.old, new=change.new, reason=reason)


def import_file(data: bytes, filename: str, *, campaign: Campaign | None = None,
                actor: Actor = SYSTEM) -> ImportReport:
    """Plan and apply in one go (all or nothing): the CLI without --dry-run, the demo and tests."""
    plan = plan_import(data, filename, campaign=campaign)
    if plan.errors:
        raise rejection(plan)
    return apply_import(plan, campaign=campaign, actor=actor)


def rejection(plan: ImportPlan) -> ImportRejected:
    """The refusal for a plan with bad rows."""
    if all(e.problem is RowProblem.NO_CAMPAIGN for e in plan.errors):
        return ImportRejected(Refusal.IMPORT_STATE_RESPONDENT_WITHOUT_CAMPAIGN, plan.errors)
    return ImportRejected(Refusal.IMPORT_ROWS_REJECTED, plan.errors, count=plan.bad_rows)


def add_to_campaign(campaign: Campaign, institutions: list[Institution], *, commit: bool = True) -> int:
    """Include institutions in a campaign's sample; returns how many were new to it."""
    present = set(db.session.scalars(sa.select(Participation.institution_id)
                                     .where(Participation.campaign_id == campaign.id)))
    added = 0
    for inst in institutions:
        if inst.id not in present:
            db.session.add(Participation(campaign_id=campaign.id, institution_id=inst.id))
            present.add(inst.id)
            added += 1
    if commit:
        db.session.commit()
    return added


def in_campaign(campaign: Campaign, state_code: str | None = None, *,
                include_withdrawn: bool = False) -> list[Institution]:
    """The institutions of a campaign's sample, by state then name (withdrawn ones left out)."""
    query = (sa.select(Institution).join(Participation, Participation.institution_id == Institution.id)
             .where(Participation.campaign_id == campaign.id)
             .order_by(Institution.state_code, Institution.name))
    if not include_withdrawn:
        query = query.where(Participation.withdrawn_at.is_(None))
    if state_code:
        query = query.where(Institution.state_code == state_code)
    return list(db.session.scalars(query))


def get(institution_id: int) -> Institution | None:
    """The institution with this id, if any."""
    return db.session.get(Institution, institution_id)


def count() -> int:
    """How many institutions the registry holds."""
    return db.session.scalar(sa.select(sa.func.count(Institution.id))) or 0


def set_state_respondent(campaign: Campaign, institution: Institution, actor: Actor = SYSTEM) -> None:
    """Make an institution of the campaign the one answering its state's conditions questionnaire."""
    _designate(campaign, institution, actor)
    db.session.commit()


def _designate(campaign: Campaign, institution: Institution, actor: Actor) -> None:
    """Mark the state respondent (and unmark the state's others), audited; no commit."""
    rows = list(db.session.scalars(
        sa.select(Participation).join(Institution, Institution.id == Participation.institution_id)
        .where(Participation.campaign_id == campaign.id, Institution.state_code == institution.state_code)))
    chosen = next((p for p in rows if p.institution_id == institution.id), None)
    if chosen is None:
        raise ServiceError(Refusal.NOT_IN_CAMPAIGN, institution=institution.name)
    for participation in rows:
        participation.state_respondent = participation is chosen
    record(actor, "campaign.state_respondent", "campaign", campaign.id, field=institution.state_code,
           new=institution.key)


def is_state_respondent(campaign: Campaign, institution: Institution) -> bool:
    """True when the institution answers its state's conditions questionnaire in this campaign."""
    return bool(db.session.scalar(sa.select(Participation.state_respondent).where(
        Participation.campaign_id == campaign.id, Participation.institution_id == institution.id)))


# ------------------------------------------------------------------ a campaign's roster
@dataclass
class RosterEntry:
    """One institution of a campaign's roster with its status and the other campaigns using it."""

    institution: Institution
    participation: Participation
    status: str
    shared_with: list[str] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        """The status in the interface language."""
        return STATUS_LABELS[self.status].text(current_lang())

    @property
    def contact_name(self) -> str | None:
        return self.participation.effective_contact_name

    @property
    def contact_email(self) -> str | None:
        return self.participation.effective_contact_email


def _status(participation: Participation, invitation: Invitation | None, response: ResponseStatus | None) -> str:
    if participation.withdrawn_at is not None:
        return "withdrawn"
    if response is not None:
        return response.value
    if invitation is None:
        return "not_invited"
    return "opened" if invitation.last_used_at is not None else "invited"


def roster(campaign: Campaign, *, search: str | None = None, state_code: str | None = None,
           type_code: str | None = None, status: str | None = None) -> list[RosterEntry]:
    """A campaign's roster by state then name; `search` matches names ignoring case and accents."""
    query = (
        sa.select(Participation, Institution, Invitation, Response.status)
        .join(Institution, Institution.id == Participation.institution_id)
        .outerjoin(Invitation, sa.and_(Invitation.institution_id == Institution.id,
                                       Invitation.campaign_id == campaign.id))
        .outerjoin(Response, sa.and_(Response.institution_id == Institution.id, Response.campaign_id == campaign.id,
                                     Response.purpose == InstrumentPurpose.INSTITUTION))
        .where(Participation.campaign_id == campaign.id)
        .order_by(Institution.state_code, Institution.name))
    if state_code:
        query = query.where(Institution.state_code == state_code)
    if type_code:
        query = query.where(Institution.type == type_code)
    wanted = _norm(search) if search else ""
    shared: dict[int, list[str]] = {}
    for institution_id, name in db.session.execute(
            sa.select(Participation.institution_id, Campaign.name)
            .join(Campaign, Campaign.id == Participation.campaign_id)
            .where(Participation.campaign_id != campaign.id,
                   Participation.institution_id.in_(sa.select(Participation.institution_id)
                                                    .where(Participation.campaign_id == campaign.id)))):
        shared.setdefault(institution_id, []).append(name)
    entries = []
    for participation, institution, invitation, response_status in db.session.execute(query):
        if wanted and wanted not in _norm(institution.name) and wanted != _norm(institution.key):
            continue
        entry = RosterEntry(institution, participation, _status(participation, invitation, response_status),
                            sorted(shared.get(institution.id, [])))
        if status and entry.status != status:
            continue
        entries.append(entry)
    return entries


def roster_entry(campaign: Campaign, institution_id: int) -> RosterEntry:
    """One institution of the campaign's roster; NotFound when it is not in it."""
    institution = db.session.get(Institution, institution_id)
    participation = db.session.scalar(sa.select(Participation).where(
        Participation.campaign_id == campaign.id, Participation.institution_id == institution_id))
    if institution is None or participation is None:
        raise NotFound(Refusal.INSTITUTION_NOT_FOUND)
    invitation = db.session.scalar(sa.select(Invitation).where(
        Invitation.campaign_id == campaign.id, Invitation.institution_id == institution_id))
    response = db.session.scalar(sa.select(Response.status).where(
        Response.campaign_id == campaign.id, Response.institution_id == institution_id,
        Response.purpose == InstrumentPurpose.INSTITUTION))
    return RosterEntry(institution, participation, _status(participation, invitation, response),
                       _other_campaigns(institution_id, campaign))


def edit(campaign: Campaign, institution_id: int, values: dict[str, str | None], *,
         actor: Actor = SYSTEM) -> list[Change]:
    """Edit a roster institution: name, order, type, contact name and e-mail, each change audited.

    Name, order and type of an institution another campaign also uses are not changed from
    here (refused); its contact data is then kept on this campaign's roster entry only.
    """
    entry = roster_entry(campaign, institution_id)
    institution, participation = entry.institution, entry.participation
    name = (values.get("name") or "").strip()
    if not name or len(name) > 300:
        raise ServiceError(Refusal.INSTITUTION_FIELD_INVALID, field=FIELD_LABELS["name"],
                           problem=(RowProblem.NAME_EMPTY if not name else RowProblem.NAME_TOO_LONG).both())
    order = ORDERS.get(_norm(values.get("order")))
    if order is None:
        raise ServiceError(Refusal.INSTITUTION_FIELD_INVALID, field=FIELD_LABELS["order"],
                           problem=RowProblem.ORDER_UNKNOWN.both(value=values.get("order") or ""))
    kind = values.get("type") if values.get("type") in TYPES else normalise_type(values.get("type"))
    if kind is None:
        raise ServiceError(Refusal.INSTITUTION_FIELD_INVALID, field=FIELD_LABELS["type"],
                           problem=RowProblem.TYPE_UNKNOWN.both(value=values.get("type") or "", types=", ".join(TYPES)))
    contact = {"contact_name": (values.get("contact_name") or "").strip() or None,
               "contact_email": (values.get("contact_email") or "").strip() or None}
    if contact["contact_email"] and not EMAIL.match(contact["contact_email"]):
        raise ServiceError(Refusal.INSTITUTION_FIELD_INVALID, field=FIELD_LABELS["contact_email"],
                           problem=RowProblem.EMAIL_INVALID.both(value=contact["contact_email"]))
    if contact["contact_name"] and len(contact["contact_name"]) > 200:
        raise ServiceError(Refusal.INSTITUTION_FIELD_INVALID, field=FIELD_LABELS["contact_name"],
                           problem=RowProblem.NAME_TOO_LONG.both())
    identity = {"name": (institution.name, name), "order": (institution.order.value, order.value),
                "type": (institution.type, kind)}
    changes = [Change(f, old, new) for f, (old, new) in identity.items() if old != new]
    if changes and entry.shared_with:
        raise Conflict(Refusal.INSTITUTION_SHARED, institution=institution.name,
                       campaigns=_campaign_list(entry.shared_with))
    if name != institution.name and db.session.scalar(sa.select(Institution.id).where(
            Institution.state_code == institution.state_code, Institution.name == name,
            Institution.id != institution.id)) is not None:
        raise Conflict(Refusal.INSTITUTION_NAME_TAKEN, name=name)
    for f, new in contact.items():
        if entry.shared_with or getattr(participation, f):
            old = getattr(participation, f) or getattr(institution, f)
            if new != old:
                changes.append(Change(f, old, new, scope="campaign"))
        elif new != getattr(institution, f):
            changes.append(Change(f, getattr(institution, f), new))
    for change in changes:
        _apply_change(institution, participation, change, actor, None)
    db.session.commit()
    return changes


def withdraw(campaign: Campaign, institution_id: int, *, reason: str | None = None,
             actor: Actor = SYSTEM) -> None:
    """Take an institution out of a campaign: no invitation, no progress count, no score.

    Refused when it has already submitted a response in the campaign (the answer stays
    part of the record); its invitation link stops working; nothing is deleted, and
    importing it again brings it back.
    """
    entry = roster_entry(campaign, institution_id)
    if entry.participation.withdrawn_at is not None:
        raise Conflict(Refusal.ALREADY_WITHDRAWN, institution=entry.institution.name)
    sent = db.session.scalar(sa.select(sa.func.count(Response.id)).where(
        Response.campaign_id == campaign.id, Response.institution_id == institution_id,
        Response.status.in_([ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED])))
    if sent:
        raise Conflict(Refusal.WITHDRAW_SUBMITTED, institution=entry.institution.name)
    now = utcnow()
    entry.participation.withdrawn_at = now
    entry.participation.withdrawn_reason = (reason or "").strip()[:500] or None
    entry.participation.state_respondent = False
    for invitation in db.session.scalars(sa.select(Invitation).where(
            Invitation.campaign_id == campaign.id, Invitation.institution_id == institution_id,
            Invitation.revoked_at.is_(None))):
        invitation.revoked_at = now
    record(actor, "campaign.withdraw", "participation", entry.participation.id, field="withdrawn",
           old="no", new="sí", reason=entry.participation.withdrawn_reason)
    db.session.commit()
