"""Evidence files as people attach, list, remove and download them (issue 12 §4, methodology §9.6).

The store itself (type from content, size limit, content hash) is `services/evidence.py`; this
module is what a page needs around it:

- which questions take a file (`takes_files`, from `diagnostic/data/evidence.yaml`: every
  evidence link question, and the items listed per instrument, such as the acknowledgement of
  an evaluator's information request);
- `upload` (store + attach + audit + commit, or a refusal naming the question and why),
  `remove` (only while the response is a draft), `files_by_item` and `file_views` for pages;
- who may download a file (`staff_may_read`, `link_may_read`) and `send` (always an
  attachment, with the type found from the content, `nosniff`, never rendered inline).

Reusable by other areas (the right of reply attaches an institution's new evidence to the
contested item with `upload(..., locked_ok=True)` and lists it with the `file_list` macro of
`templates/evidence/_macros.html`).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
import yaml
from flask import send_file
from werkzeug.datastructures import FileStorage

from diagnostic.extensions import db
from diagnostic.models import (
    EvidenceFile,
    Institution,
    InstrumentPurpose,
    Response,
    ResponseStatus,
    Role,
)
from diagnostic.services import ServiceError
from diagnostic.services.audit import Actor, record
from diagnostic.services.evidence import attach, path_for, store
from diagnostic.services.refusals import Refusal
from surveys.paths import PathError, parse_path

FILE_INPUT_PREFIX = "evidence_file:"  # name of a page's file input: evidence_file:<answer path>
ACCEPT = "application/pdf,image/png,image/jpeg,image/gif,image/webp"


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    """`diagnostic/data/evidence.yaml`: which questions take files."""
    text = resources.files("diagnostic").joinpath("data", "evidence.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return {"types": set(data.get("types") or []), "suffixes": tuple(data.get("suffixes") or ()),
            "fields": {str(k): set(v or []) for k, v in (data.get("fields") or {}).items()}}


def takes_files(definition, question) -> bool:
    """True when `question` of `definition` takes an attached evidence file."""
    found = rules()
    if question.type in found["types"] or (found["suffixes"] and question.name.endswith(found["suffixes"])):
        return True
    return question.name in found["fields"].get(definition.settings.id, set())


def item_of(path: str) -> tuple[str, int | None]:
    """An answer path as the stored (field, repeat_index): `req[1].folio` → ('req.folio', 1)."""
    repeat, index, name = parse_path(path)
    return (f"{repeat}.{name}" if repeat else name), index


def path_of(field: str, repeat_index: int | None) -> str:
    """The inverse of `item_of`."""
    if repeat_index is None:
        return field
    repeat, _sep, name = field.partition(".")
    return f"{repeat}[{repeat_index}].{name}"


def label_of(definition, path: str, lang: str) -> str:
    """The question's label at `path` (its name when it has none)."""
    from diagnostic.questionnaire.pages import text

    try:
        name = parse_path(path)[2]
    except PathError:
        return path
    question = definition.fields.get(name)
    return (text(question.label, lang) if question is not None else "") or name


def upload(file: FileStorage, *, response: Response, path: str, definition, actor: Actor,
           lang: str = "es", locked_ok: bool = False) -> EvidenceFile:
    """Keep one uploaded file as evidence of the item at `path` of `response` and commit.

    Refuses (ServiceError, nothing kept) a question that takes no file, a response no longer in
    draft (unless `locked_ok`: a later stage such as the right of reply), an empty file, a file
    over the size limit or whose bytes are not a PDF or an image; the message names the question.
    """
    try:
        name = parse_path(path)[2]
    except PathError:
        raise ServiceError(Refusal.EVIDENCE_NOT_ACCEPTED, question=str(path)[:80]) from None
    question = definition.fields.get(name)
    label = label_of(definition, path, lang)
    if question is None or not takes_files(definition, question):
        raise ServiceError(Refusal.EVIDENCE_NOT_ACCEPTED, question=label)
    if response.status != ResponseStatus.DRAFT and not locked_ok:
        raise ServiceError(Refusal.EVIDENCE_LOCKED)
    stored = store(file.stream, file.filename)
    field, index = item_of(path)
    row = attach(response, field, stored, actor, repeat_index=index)
    db.session.commit()
    return row


def remove(response: Response, file_id: int, actor: Actor) -> EvidenceFile:
    """Take a file off a draft response (audited); the stored copy goes when nothing else cites it."""
    row = db.session.get(EvidenceFile, file_id)
    if row is None or row.response_id != response.id:
        raise ServiceError(Refusal.EVIDENCE_FILE_NOT_FOUND)
    if response.status != ResponseStatus.DRAFT:
        raise ServiceError(Refusal.EVIDENCE_LOCKED)
    record(actor, "evidence.remove", "evidence_file", row.id, response_id=response.id, field=row.field,
           repeat_index=row.repeat_index, old=f"{row.filename} sha256:{row.sha256}")
    sha256 = row.sha256
    db.session.delete(row)
    db.session.commit()
    if not db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceFile).where(EvidenceFile.sha256 == sha256)):
        path_for(sha256).unlink(missing_ok=True)
    return row


def files_of(response: Response) -> list[EvidenceFile]:
    """Every file attached to a response, oldest first."""
    if response.id is None:
        return []
    return list(db.session.scalars(sa.select(EvidenceFile).where(EvidenceFile.response_id == response.id)
                                   .order_by(EvidenceFile.id)))


def files_by_item(response: Response) -> dict[tuple[str, int | None], list[EvidenceFile]]:
    """A response's files by (field, repeat_index)."""
    out: dict[tuple[str, int | None], list[EvidenceFile]] = {}
    for row in files_of(response):
        out.setdefault((row.field or "", row.repeat_index), []).append(row)
    return out


def size_text(size: int) -> str:
    """A file size as people read it: 820 B, 35 KB, 1.4 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


TYPE_LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
               "image/webp": "WebP"}


@dataclass(frozen=True)
class FileView:
    """One attached file as a page lists it."""

    id: int
    filename: str
    size: str
    kind: str
    url: str
    uploaded_at: Any


def file_views(rows: list[EvidenceFile], url_for_file) -> list[FileView]:
    """Files as pages list them (`url_for_file(id)` → the download address for this reader)."""
    return [FileView(r.id, r.filename, size_text(r.size), TYPE_LABELS.get(r.media_type, r.media_type),
                     url_for_file(r.id), r.uploaded_at) for r in rows]


@dataclass
class Slot:
    """What a questionnaire page shows under a question that takes files."""

    input_name: str
    files: list[FileView]
    accept: str = ACCEPT


def decorate(fields, response: Response, definition, url_for_file) -> None:
    """Set `f.evidence` (a `Slot`) on every page field whose question takes files."""
    by_item = None
    for f in fields:
        if f.widget in ("note", "calculate") or not takes_files(definition, f.question):
            continue
        if by_item is None:
            by_item = files_by_item(response)
        rows = by_item.get(item_of(f.path), [])
        f.evidence = Slot(FILE_INPUT_PREFIX + f.path, file_views(rows, url_for_file))


def posted_files(files) -> list[tuple[str, FileStorage]]:
    """The (answer path, file) pairs a page form carries (empty file inputs left out)."""
    out = []
    for key, file in files.items(multi=True):
        if key.startswith(FILE_INPUT_PREFIX) and file and (file.filename or "").strip():
            out.append((key[len(FILE_INPUT_PREFIX):], file))
    return out


# ------------------------------------------------------------------ who may download
def get(file_id: int) -> EvidenceFile:
    """A file by id, or the 404 refusal."""
    row = db.session.get(EvidenceFile, file_id)
    if row is None or row.response_id is None:
        raise ServiceError(Refusal.EVIDENCE_FILE_NOT_FOUND)
    return row


def staff_may_read(row: EvidenceFile, user, scope) -> bool:
    """Admins and analysts: files of institutions within their state scope. Evaluators: files
    of their own evaluations only. Nobody else (published campaigns publish links, not files:
    files were never checked for personal data and an evaluator's acknowledgements name them)."""
    response = db.session.get(Response, row.response_id)
    if response is None:
        return False
    role = getattr(user, "role", None)
    if role in (Role.ADMIN, Role.ANALYST):
        institution = db.session.get(Institution, response.institution_id)
        return scope.allows(institution.state_code if institution else None)
    if role == Role.EVALUATOR:
        return response.purpose == InstrumentPurpose.EVALUATOR and response.evaluator_id == user.id
    return False


def link_may_read(row: EvidenceFile, response: Response | None) -> bool:
    """An invitation link reads the files of its own response only."""
    return response is not None and response.id is not None and row.response_id == response.id


def send(row: EvidenceFile):
    """The file as a download: its content-checked type, `attachment`, `nosniff`, never inline."""
    path = path_for(row.sha256)
    if not path.is_file():
        raise ServiceError(Refusal.EVIDENCE_FILE_MISSING, filename=row.filename)
    media_type = row.media_type if row.media_type in TYPE_LABELS else "application/octet-stream"
    # Read whole (at most EVIDENCE_MAX_MB): no file handle outlives the request.
    reply = send_file(io.BytesIO(path.read_bytes()), mimetype=media_type, as_attachment=True, download_name=row.filename,
                      conditional=False, etag=False, max_age=0)
    reply.headers["X-Content-Type-Options"] = "nosniff"
    reply.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    reply.headers["Cache-Control"] = "private, no-store"
    return reply
