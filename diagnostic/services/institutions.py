"""Institutions (sujetos obligados): the registry and its CSV/XLSX import.

An import is all or nothing: every bad row is reported by its row number in the file
(the header is row 1) and nothing is written unless every row is good.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import Campaign, Institution, Order, Participation
from diagnostic.services import Refusal, ServiceError, states
from diagnostic.services.audit import SYSTEM, Actor, record
from diagnostic.services.refusals import RowProblem, current_lang
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

    def format(self, lang: str) -> str:
        """`fila N: column: message` in `lang`."""
        return f"{'row' if lang == 'en' else 'fila'} {self.row}: {self.column}: {self.message_for(lang)}"

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
        import openpyxl

        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise ImportRejected(Refusal.XLSX_INVALID, [])
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for broken files
            raise ImportRejected(Refusal.XLSX_UNREADABLE, [], problem=exc) from None
        sheet = book.worksheets[0]
        rows = [["" if v is None else str(v).strip() for v in row]
                for row in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    if suffix == ".csv":
        if b"\x00" in data[:4096]:
            raise ImportRejected(Refusal.CSV_BINARY, [])
        # Line by line: UTF-8 with or without BOM, Windows-1252/Latin-1 from Excel, or a mix.
        lines, _encoding, _repairs, _bom = decode_lines(data)
        text = "\n".join(lines)
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    raise ImportRejected(Refusal.IMPORT_UNSUPPORTED_FILE, [])


# Longest value of a column (the table's limits; the name has its own message).
CELL_LIMITS = {"key": 64, "contact_name": 200, "contact_email": 200}


def parse_file(data: bytes, filename: str) -> list[dict]:
    """Read and check every row; raise ImportRejected listing all bad rows."""
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
    if errors:
        raise ImportRejected(Refusal.IMPORT_ROWS_REJECTED, errors, count=len({e.row for e in errors}))
    if not parsed:
        raise ImportRejected(Refusal.IMPORT_NO_ROWS, [])
    return parsed


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


def import_file(data: bytes, filename: str, *, campaign: Campaign | None = None,
                actor: Actor = SYSTEM) -> ImportReport:
    """Create or update institutions from a CSV/XLSX file in one transaction (all or nothing)."""
    rows = parse_file(data, filename)
    designated = [row for row in rows if row["state_respondent"]]
    if designated and campaign is None:
        raise ImportRejected(Refusal.IMPORT_STATE_RESPONDENT_WITHOUT_CAMPAIGN,
                             [RowError(row["row"], "state_respondent", RowProblem.NO_CAMPAIGN) for row in designated])
    report = ImportReport()
    try:
        for row in rows:
            existing = None
            if row["key"]:
                existing = db.session.scalar(sa.select(Institution).where(Institution.key == row["key"]))
            if existing is None:
                existing = db.session.scalar(sa.select(Institution).where(
                    Institution.state_code == row["state_code"], Institution.name == row["name"]))
            if existing is None:
                key = row["key"] or make_key(row["state_code"], row["name"])
                if db.session.scalar(sa.select(Institution.id).where(Institution.key == key)) is not None:
                    key = f"{key}-{row['row']}"
                existing = Institution(key=key, name=row["name"], state_code=row["state_code"],
                                       order=row["order"], type=row["type"],
                                       contact_name=row["contact_name"], contact_email=row["contact_email"])
                db.session.add(existing)
                report.created += 1
            else:
                existing.name, existing.state_code = row["name"], row["state_code"]
                existing.order, existing.type = row["order"], row["type"]
                existing.contact_name = row["contact_name"] or existing.contact_name
                existing.contact_email = row["contact_email"] or existing.contact_email
                report.updated += 1
            report.institutions.append(existing)
        db.session.flush()
        if campaign is not None:
            report.added_to_campaign = add_to_campaign(campaign, report.institutions, commit=False)
            db.session.flush()
            for row, institution in zip(rows, report.institutions, strict=True):
                if row["state_respondent"]:
                    _designate(campaign, institution, actor)
                    report.state_respondents += 1
        record(actor, "institutions.import", "campaign" if campaign else "institution",
               campaign.id if campaign else None,
               new=f"{report.created} nuevas, {report.updated} actualizadas", reason=filename)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


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


def in_campaign(campaign: Campaign, state_code: str | None = None) -> list[Institution]:
    """The institutions of a campaign's sample, by state then name."""
    query = (sa.select(Institution).join(Participation, Participation.institution_id == Institution.id)
             .where(Participation.campaign_id == campaign.id)
             .order_by(Institution.state_code, Institution.name))
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
