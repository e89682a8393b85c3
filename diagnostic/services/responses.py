"""Responses and answers: page saves, autosave, submission, reopening and verification.

Answers are stored long form, one row per (response, field, repeat index), exactly as
`surveys.flatten` writes them. Every write is one transaction that first locks the
response row, then upserts the changed rows and appends one audit row per change.
Drafts keep what the respondent typed (even invalid values); submission stores the
validated values (`surveys.validate(...).values`: coerced, relevant only, calculations
included) and a fingerprint of them.
"""
from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so

import surveys
from diagnostic.extensions import db
from diagnostic.models import (
    Answer,
    Campaign,
    CampaignStatus,
    Institution,
    InstrumentPurpose,
    Response,
    ResponseStatus,
    User,
    utcnow,
)
from diagnostic.services import Conflict, NotFound, Refusal, ServiceError, campaigns, instruments
from diagnostic.services.audit import Actor, record
from diagnostic.services.refusals import Both
from surveys import paths
from surveys.coerce import is_blank

MAX_VALUE = 10000
MAX_REPEAT = 200
MAX_FIELD_NAME = 120  # the width of `answers.field` and `audit_log.field`


class Incomplete(ServiceError):
    """Submission refused: `errors` are the remaining validation errors (required, constraints)."""

    status = 422

    def __init__(self, errors: list):
        super().__init__(Refusal.INCOMPLETE, details=errors)
        self.errors = errors


@dataclass
class SaveResult:
    """Outcome of a save: the validation of the whole draft, how many rows changed, and the
    stored answers after the save (what `answers_of` would read back)."""

    validation: object
    changed: int = 0
    answers: dict | None = None
    # Fields another tab (or person) changed since the version the save was based on, and that
    # this save would have overwritten with a different value: path → the stored value (kept).
    conflicts: dict[str, object] = field(default_factory=dict)
    version: int = 0  # the response's version after the save
    stale: bool = False  # an older save of a tab that already saved something newer: ignored


@dataclass(frozen=True)
class SaveMark:
    """Which browser tab sends a save, and its sequence number there (autosaves and page saves)."""

    tab: str
    seq: int

    @classmethod
    def parse(cls, tab: object, seq: object) -> SaveMark | None:
        """A mark from what a client sent, or None when it sent none (or nonsense)."""
        if not isinstance(tab, str) or not tab or len(tab) > 40 or not tab.replace("-", "").isalnum():
            return None
        try:
            number = int(seq)
        except (TypeError, ValueError):
            return None
        return cls(tab, number) if 0 <= number < 2**31 else None

    def newer_than(self, stored: str) -> bool:
        """False when `stored` is a mark of the same tab with this or a later sequence number."""
        tab, _, seq = (stored or "").partition(":")
        return tab != self.tab or not seq.isdigit() or self.seq > int(seq)

    def __str__(self) -> str:
        return f"{self.tab}:{self.seq}"


def check_path(path: str, definition=None) -> tuple[str | None, int | None, str]:
    """The parts of a field path received from a form or a client (`surveys.paths` grammar),
    refused when malformed, longer than MAX_FIELD_NAME, past MAX_REPEAT, or (given the
    `definition`) naming a field the questionnaire does not ask where the path puts it."""
    if isinstance(path, str) and len(path) > MAX_FIELD_NAME:
        raise ServiceError(Refusal.FIELD_NAME_TOO_LONG, maximum=MAX_FIELD_NAME, start=path[:40])
    try:
        repeat, index, name = paths.parse_path(path)
    except paths.PathError:
        raise ServiceError(Refusal.INVALID_FIELD, path=path) from None
    if index is not None and index >= MAX_REPEAT:
        raise ServiceError(Refusal.TOO_MANY_REPEATS, repeat=repeat)
    if definition is not None:
        question = definition.fields.get(name)
        if (question is None or question.type in ("note", "calculate") or question.read_only
                or question.repeat != repeat):
            raise ServiceError(Refusal.UNKNOWN_FIELD, path=path)
    return repeat, index, name


def _label(definition, path: str) -> Both:
    """A field's label in both languages (its path when it has none), for messages naming it."""
    question = definition.fields.get(paths.parse_path(path)[2]) if definition is not None else None
    label = question.label if question is not None else None
    if isinstance(label, dict) and label:
        es = label.get("es") or next(iter(label.values()))
        return Both(f"{es} ({path})", f"{label.get('en') or es} ({path})")
    return Both(path, path)


def check_values(values: dict[str, object], definition=None) -> None:
    """Refuse, naming the field, values that cannot be stored as typed: a NUL character (PostgreSQL
    refuses it; SQLite would store it and break a later migration), text longer than MAX_VALUE
    (never cut silently), or something that is not text, a number or a list of them."""
    for path, value in values.items():
        check_path(path, definition)
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if item is None or isinstance(item, bool):
                if isinstance(item, bool):
                    raise ServiceError(Refusal.VALUE_NOT_TEXT, field=_label(definition, path))
                continue
            if not isinstance(item, (str, int, float)):
                raise ServiceError(Refusal.VALUE_NOT_TEXT, field=_label(definition, path))
            text = str(item)
            if "\x00" in text:
                raise ServiceError(Refusal.VALUE_HAS_NUL, field=_label(definition, path))
            if len(text) > MAX_VALUE:
                raise ServiceError(Refusal.VALUE_TOO_LONG, field=_label(definition, path),
                                   length=len(text), maximum=MAX_VALUE)
        if isinstance(value, (list, tuple)) and len(" ".join(str(v) for v in value)) > MAX_VALUE:
            raise ServiceError(Refusal.VALUE_TOO_LONG, field=_label(definition, path),
                               length=len(" ".join(str(v) for v in value)), maximum=MAX_VALUE)


def set_path(answers: dict, path: str, value: object) -> None:
    """Set (or, for a blank value, remove) a value at a field path received from outside (see `check_path`)."""
    check_path(path)
    paths.set_path(answers, path, value)


def _text(value: object) -> object:
    """A value as stored (lengths were checked by `check_values`: nothing is cut here)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if not is_blank(v)]
    return None if value is None else str(value)


def canonical(value: object) -> str:
    """A value as one comparable text: a list of options as the stored space-separated text,
    blank as ''. What the conflict check compares (the form's base, the store and the save)."""
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value if not is_blank(v))
    return "" if is_blank(value) else str(value)


def rows_of(response: Response, *, effective: bool = False) -> dict[tuple[str, int | None], str]:
    """Stored answers as {(field, repeat_index): text}; `effective` uses analysts' corrections."""
    return {(a.field, a.repeat_index): (a.effective_value if effective else a.value)
            for a in response.answers if (a.effective_value if effective else a.value) is not None}


def _to_nested(rows: dict[tuple[str, int | None], str]) -> dict:
    return surveys.unflatten([(f, i, v) for (f, i), v in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] if kv[0][1] is not None else -1))])


def _to_rows(answers: dict) -> dict[tuple[str, int | None], str]:
    rows: dict[tuple[str, int | None], str] = {}
    for row in surveys.flatten(answers):
        field_name, index, value = row[0], row[1], row[2]
        if value is None or value == "":
            continue
        rows[(field_name, None if index is None else int(index))] = str(value)
    return rows


def answers_of(response: Response, *, effective: bool = False) -> dict:
    """The stored answers as a nested dict, what `surveys.validate` takes."""
    return _to_nested(rows_of(response, effective=effective))


def definition_of(response: Response):
    """The `surveys` Definition the response answers."""
    return instruments.definition(response.instrument_version)


def validate(response: Response, *, partial: bool = True, answers: dict | None = None):
    """Validate the stored (or the given) answers of a response with `surveys.validate`."""
    if answers is None:
        answers = answers_of(response)
    return surveys.validate(definition_of(response), answers, partial=partial)


def fingerprint(rows: dict[tuple[str, int | None], str]) -> str:
    """sha256 of the canonical JSON of the answer rows (field, repeat index, text), sorted."""
    canonical = sorted([f, -1 if i is None else i, v] for (f, i), v in rows.items())
    payload = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def get(response_id: int) -> Response:
    """The response with this id, or NotFound."""
    response = db.session.get(Response, response_id)
    if response is None:
        raise NotFound(Refusal.RESPONSE_NOT_FOUND)
    return response


def find(campaign: Campaign, purpose: InstrumentPurpose | str, institution: Institution) -> Response | None:
    """The response of an institution to a campaign's questionnaire for a purpose, if started."""
    return db.session.scalar(sa.select(Response).where(
        Response.campaign_id == campaign.id, Response.purpose == InstrumentPurpose(purpose),
        Response.institution_id == institution.id))


def get_or_create(campaign: Campaign, purpose: InstrumentPurpose | str, institution: Institution,
                  *, evaluator: User | None = None, commit: bool = True) -> Response:
    """The response for (campaign, purpose, institution), created as an empty draft if new
    (`commit=False`: flushed inside the caller's transaction)."""
    response = find(campaign, purpose, institution)
    if response is not None:
        return response
    version = campaigns.instrument(campaign, purpose)
    if version is None:
        raise Conflict(Refusal.NO_INSTRUMENT_FOR_PURPOSE)
    response = Response(campaign_id=campaign.id, purpose=InstrumentPurpose(purpose), instrument_version_id=version.id,
                        institution_id=institution.id, evaluator_id=evaluator.id if evaluator else None)
    db.session.add(response)
    if not commit:
        db.session.flush()
        return response
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # created concurrently by another request
        db.session.rollback()
        response = find(campaign, purpose, institution)
    return response


def unsaved(campaign: Campaign, purpose: InstrumentPurpose | str, institution: Institution) -> Response:
    """An empty draft that is not stored (not added to the session): what a respondent who has
    only opened the link sees. Opening a link or reading a page changes nothing; the first save
    stores the response (`get_or_create`)."""
    version = campaigns.instrument(campaign, purpose)
    if version is None:
        raise Conflict(Refusal.NO_INSTRUMENT_FOR_PURPOSE)
    response = Response(purpose=InstrumentPurpose(purpose), status=ResponseStatus.DRAFT, last_page=0, version=0,
                        save_mark="", campaign_id=campaign.id, institution_id=institution.id,
                        instrument_version_id=version.id)
    # Set the related objects without the relationship events (which could cascade it into the session).
    so.attributes.set_committed_value(response, "campaign", campaign)
    so.attributes.set_committed_value(response, "institution", institution)
    so.attributes.set_committed_value(response, "instrument_version", version)
    so.attributes.set_committed_value(response, "answers", [])
    return response


_SQLITE_WRITERS = threading.Lock()


@contextmanager
def write_lock():
    """Serialise this process's SQLite writers on a lock (SQLite's own busy wait polls in
    sleeps of up to 100 ms); PostgreSQL needs nothing more than its row locks."""
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    with _SQLITE_WRITERS:
        yield


def _lock(response: Response, actor: Actor) -> None:
    """Take the response row's write lock first (PostgreSQL row lock; SQLite write lock)."""
    # One round trip: the UPDATE returns the locked row, which replaces what was read before.
    db.session.execute(sa.update(Response).where(Response.id == response.id)
                       .values(updated_by=actor.label[:80])  # `updated_at` follows (onupdate)
                       .returning(Response), execution_options={"populate_existing": True})
    db.session.expire(response, ["answers"])


def _ensure_editable(response: Response) -> None:
    if response.status != ResponseStatus.DRAFT:
        raise Conflict(Refusal.RESPONSE_SUBMITTED)
    if response.campaign.status != CampaignStatus.OPEN:
        raise Conflict(Refusal.CAMPAIGN_NOT_OPEN)


def _apply(response: Response, new_rows: dict, actor: Actor, *, reason: str | None = None,
           only: set[tuple[str, int | None]] | None = None, action: str = "answer.set") -> int:
    """Upsert changed rows and delete removed ones (restricted to `only` keys), with audit rows."""
    current = {(a.field, a.repeat_index): a for a in response.answers}
    keys = set(current) | set(new_rows)
    if only is not None:
        keys &= only
    now = utcnow()
    changed = 0
    for key in sorted(keys, key=lambda k: (k[0], -1 if k[1] is None else k[1])):
        old = current[key].value if key in current else None
        new = new_rows.get(key)
        if old == new:
            continue
        if new is None:
            db.session.delete(current[key])
            response.answers.remove(current[key])
        elif key in current:
            current[key].value = new
            current[key].updated_at = now
        else:
            response.answers.append(Answer(field=key[0], repeat_index=key[1], value=new, updated_at=now))
        record(actor, action, "answer", None, response_id=response.id, field=key[0],
               repeat_index=key[1], old=old, new=new, reason=reason)
        changed += 1
    return changed


def _merge(response: Response, values: dict[str, object], actor: Actor, *, partial: bool = True,
           page: int | None = None, base: dict[str, object] | None = None, version: int | None = None,
           mark: SaveMark | None = None, commit: bool = True) -> SaveResult:
    definition = definition_of(response)
    with write_lock():
        _lock(response, actor)
        _ensure_editable(response)
        rows = rows_of(response)
        answers = _to_nested(rows)
        if mark is not None and not mark.newer_than(response.save_mark):
            db.session.rollback()  # a late save of a tab that already saved something newer
            return SaveResult(surveys.validate(definition, answers, partial=partial), 0, answers,
                              version=response.version, stale=True)
        conflicts: dict[str, object] = {}
        if base is not None and (version is None or version != response.version):
            # Three-way merge per field: what the tab was shown (base), what is stored now
            # (theirs), what it sends (mine). A field changed elsewhere since is kept; it is a
            # conflict when this save would replace it with something else.
            for path in list(values):
                if path not in base:
                    continue
                theirs = canonical(paths.get_path(answers, path))
                if theirs == canonical(base[path]):
                    continue
                if canonical(values[path]) != theirs and canonical(values[path]) != canonical(base[path]):
                    conflicts[path] = paths.get_path(answers, path)
                values.pop(path)
        before = _to_rows(answers)
        for path, value in values.items():
            paths.set_path(answers, path, _text(value))  # checked by save_page
        after = _to_rows(answers)
        touched = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        changed = _apply(response, after, actor, only=touched)
        if changed:
            response.version = (response.version or 0) + 1
        if page is not None:
            response.last_page = page
        if mark is not None:
            response.save_mark = str(mark)
        new_version = response.version
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    # What is now stored, without reading it back: the rows untouched, and the touched ones as saved.
    stored = {k: v for k, v in rows.items() if k not in touched}
    stored.update((k, after[k]) for k in touched if k in after)
    # Validation reads only the answers in hand: done after the commit, outside the write lock.
    return SaveResult(surveys.validate(definition, answers, partial=partial), changed, _to_nested(stored),
                      conflicts=conflicts, version=new_version)


def save_page(response: Response, values: dict[str, object], actor: Actor, *, page: int | None = None,
              base: dict[str, object] | None = None, version: int | None = None,
              mark: SaveMark | None = None, commit: bool = True) -> SaveResult:
    """Save one page's fields (path → value; empty clears) in one transaction and validate the draft.

    With `base` (path → the value the tab was shown) a field changed elsewhere since is never
    overwritten: it is kept and returned in `conflicts` when this save would have changed it.
    With `mark`, a save older than one the same tab already made is ignored (`stale`).
    `commit=False` leaves the transaction open for a caller that saves several responses at once.
    """
    definition = definition_of(response)
    check_values(values, definition)
    if page is not None and not 0 <= page < len(definition.pages):
        page = None
    try:
        return _merge(response, dict(values), actor, page=page, base=base, version=version, mark=mark,
                      commit=commit)
    except Exception:
        db.session.rollback()
        raise


def autosave(response: Response, changes: dict[str, object], actor: Actor, *, page: int | None = None,
             base: dict[str, object] | None = None, version: int | None = None,
             mark: SaveMark | None = None) -> SaveResult:
    """Save fields typed so far (validated with partial=True; invalid drafts are kept, errors returned)."""
    if not isinstance(changes, dict) or len(changes) > 500:
        raise ServiceError(Refusal.INVALID_CHANGES)
    return save_page(response, changes, actor, page=page, base=base, version=version, mark=mark)


def remove_instance(response: Response, repeat: str, index: int, actor: Actor) -> SaveResult:
    """Delete one instance of a repeat group (later instances move up)."""
    try:
        with write_lock():
            return _remove_instance(response, repeat, index, actor)
    except Exception:
        db.session.rollback()
        raise


def _remove_instance(response: Response, repeat: str, index: int, actor: Actor) -> SaveResult:
    _lock(response, actor)
    _ensure_editable(response)
    answers = answers_of(response)
    instances = answers.get(repeat)
    if not isinstance(instances, list) or not 0 <= index < len(instances):
        raise NotFound(Refusal.REPEAT_NOT_FOUND)
    instances.pop(index)
    if not instances:
        answers.pop(repeat)
    changed = _apply(response, _to_rows(answers), actor, reason=f"eliminó {repeat}[{index}]")
    response.version = (response.version or 0) + 1
    db.session.commit()
    return SaveResult(surveys.validate(definition_of(response), answers, partial=True), changed)


def set_last_page(response: Response, page: int) -> None:
    """Remember the page a respondent is on, to resume there (navigation, not an edit:
    `updated_at` is kept)."""
    if response.last_page != page and response.status == ResponseStatus.DRAFT:
        table = Response.__table__  # a plain UPDATE: nothing in the session needs synchronising
        db.session.execute(table.update().where(table.c.id == response.id)
                           .values(last_page=page, updated_at=table.c.updated_at))
        db.session.commit()


def submit(response: Response, actor: Actor, *, commit: bool = True) -> str:
    """Validate fully, store the validated values, mark submitted and return the fingerprint
    (`commit=False`: flushed, for a caller that submits several responses in one transaction)."""
    try:
        with write_lock():
            return _submit(response, actor, commit=commit)
    except Exception:
        db.session.rollback()
        raise


def _submit(response: Response, actor: Actor, *, commit: bool = True) -> str:
    _lock(response, actor)
    _ensure_editable(response)
    result = surveys.validate(definition_of(response), answers_of(response), partial=False)
    if not result.ok:
        raise Incomplete(list(result.errors))
    final = _to_rows(result.values)
    _apply(response, final, actor, reason="envío: valores validados", action="answer.finalise")
    old = response.status
    response.status = ResponseStatus.SUBMITTED
    response.submitted_at = utcnow()
    response.submitted_by = actor.label[:80]
    response.fingerprint = fingerprint(final)
    response.version = (response.version or 0) + 1
    record(actor, "response.status", "response", response.id, response_id=response.id,
           old=old.value, new=response.status.value, reason=response.fingerprint)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return response.fingerprint


def reopen(response: Response, actor: Actor, reason: str) -> None:
    """Send a submitted (or verified) response back to draft so the respondent can edit it."""
    if not (reason or "").strip():
        raise ServiceError(Refusal.REOPEN_REASON_REQUIRED)
    if response.status == ResponseStatus.DRAFT:
        raise Conflict(Refusal.ALREADY_DRAFT)
    from diagnostic.services import second_verification

    second_verification.refuse_frozen(response)
    old = response.status
    response.status = ResponseStatus.DRAFT
    response.verified_at = None
    response.verified_by_id = None
    record(actor, "response.status", "response", response.id, response_id=response.id,
           old=old.value, new=ResponseStatus.DRAFT.value, reason=reason.strip())
    db.session.commit()


def stored_answer(response: Response, field_name: str, repeat_index: int | None) -> Answer | None:
    """The stored answer of a response at one field and repeat index, if any."""
    return next((a for a in response.answers if a.field == field_name and a.repeat_index == repeat_index), None)


def check_correction(response: Response, field_name: str, repeat_index: int | None, value: str, *,
                     effective: bool = True, partial: bool = False) -> None:
    """Refuse (INVALID_CORRECTION, with the questionnaire's own messages) a value the field's
    rules reject, read together with the response's other answers (the values scores use, or
    the respondent's own with `effective=False`)."""
    rows = rows_of(response, effective=effective)
    rows[(field_name, repeat_index)] = value
    result = surveys.validate(definition_of(response), _to_nested(rows), partial=partial)
    mine = [e for e in result.errors if _matches(e.path, field_name, repeat_index)]
    if mine:
        raise ServiceError(Refusal.INVALID_CORRECTION, errors=Both("; ".join(e.message_es for e in mine),
                                                                 "; ".join(e.message_en for e in mine)))


def verify_answer(response: Response, field_name: str, repeat_index: int | None, actor: Actor, *,
                  corrected: object | None = None, reason: str | None = None) -> Answer:
    """Accept an answer as is (`corrected=None`) or correct it with a reason; both are kept."""
    if response.status == ResponseStatus.DRAFT:
        raise Conflict(Refusal.VERIFY_ONLY_SUBMITTED)
    answer = stored_answer(response, field_name, repeat_index)
    if corrected is None:
        if answer is None:
            raise NotFound(Refusal.NO_VALUE_IN_FIELD)
        old_state = answer.verification
        answer.verification, answer.verified_value = "accepted", answer.value
        answer.verification_reason = reason
        new_text = answer.value
    else:
        if not (reason or "").strip():
            raise ServiceError(Refusal.CORRECTION_REASON_REQUIRED)
        new_text = str(corrected)
        check_correction(response, field_name, repeat_index, new_text)
        if answer is None:
            answer = Answer(field=field_name, repeat_index=repeat_index, value=None)
            response.answers.append(answer)
        old_state = answer.verified_value
        answer.verification, answer.verified_value = "corrected", new_text
        answer.verification_reason = reason.strip()
    answer.verified_by_id = actor.user_id
    answer.verified_at = utcnow()
    record(actor, "answer.verify", "answer", answer.id, response_id=response.id, field=field_name,
           repeat_index=repeat_index, old=old_state, new=new_text, reason=reason)
    db.session.commit()
    return answer


def _matches(path: str, field_name: str, repeat_index: int | None) -> bool:
    repeat, index, name = paths.parse_path(path)
    if repeat_index is None:
        return path == field_name
    return index == repeat_index and (field_name in (name, f"{repeat}.{name}"))


def mark_verified(response: Response, actor: Actor) -> None:
    """Close verification of a submitted response (status verified)."""
    if response.status != ResponseStatus.SUBMITTED:
        raise Conflict(Refusal.VERIFIED_ONLY_SUBMITTED)
    response.status = ResponseStatus.VERIFIED
    response.verified_at = utcnow()
    response.verified_by_id = actor.user_id
    record(actor, "response.status", "response", response.id, response_id=response.id,
           old=ResponseStatus.SUBMITTED.value, new=ResponseStatus.VERIFIED.value)
    db.session.commit()


def for_campaign(campaign: Campaign, purpose: InstrumentPurpose | str | None = None) -> list[Response]:
    """Every response of a campaign (optionally of one purpose's instrument)."""
    query = sa.select(Response).where(Response.campaign_id == campaign.id).order_by(Response.id)
    if purpose is not None:
        query = query.where(Response.purpose == InstrumentPurpose(purpose))
    return list(db.session.scalars(query))


def long_form(campaign: Campaign, purpose: InstrumentPurpose | str = InstrumentPurpose.INSTITUTION,
              *, statuses: tuple[ResponseStatus, ...] = (ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED)) -> list[dict]:
    """Answers in the long form `scoring.score` takes (institution key, field, repeat_index, value).

    Uses the verified value where an analyst corrected one.
    """
    rows = db.session.execute(
        sa.select(Institution.key, Answer.field, Answer.repeat_index, Answer.value, Answer.verified_value,
                  Answer.verification)
        .join(Response, Response.id == Answer.response_id)
        .join(Institution, Institution.id == Response.institution_id)
        .where(Response.campaign_id == campaign.id, Response.purpose == InstrumentPurpose(purpose),
               Response.status.in_(statuses)))
    return [{"institution": key, "field": f, "repeat_index": i,
             "value": verified if verification == "corrected" else value}
            for key, f, i, value, verified, verification in rows
            if (verified if verification == "corrected" else value) is not None]
