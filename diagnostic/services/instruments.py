"""Stored instrument versions (questionnaires) and index models.

A version is stored once per content hash; once a campaign uses it, it is locked and
never changes (a change is a new version). Definitions are rebuilt from the stored
source with `surveys` and cached per process by hash.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path, PurePath
from threading import Lock

import sqlalchemy as sa
import yaml

import surveys
from diagnostic.extensions import db
from diagnostic.models import IndexModelVersion, InstrumentVersion
from diagnostic.services import NotFound, Refusal, ServiceError
from diagnostic.services.refusals import Both

ACCEPTED = (".yaml", ".yml", ".xlsx", ".xls", ".csv", ".md")
_cache: dict[str, object] = {}
_cache_lock = Lock()


class InstrumentInvalid(ServiceError):
    """The uploaded definition has errors; `details` holds them as `FILE:LINE: field: message`."""

    status = 422


def _title(definition_dict: dict) -> str:
    settings = definition_dict.get("settings", definition_dict)
    title = settings.get("title") or settings.get("id") or ""
    if isinstance(title, dict):
        return title.get("es") or next(iter(title.values()), "")
    return str(title)


def _load(source: bytes, filename: str):
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return surveys.load_text(source.decode("utf-8"), filename=filename)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / PurePath(filename).name
        path.write_bytes(source)
        return surveys.load(path)


def check(source: bytes, filename: str) -> list[Both]:
    """Errors of a definition file in Spanish and English, located as `apertura survey check`
    prints them (empty = fine)."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ACCEPTED:
        return [Refusal.DEFINITION_UNSUPPORTED_FILE.both(filename=filename, accepted=", ".join(ACCEPTED))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / PurePath(filename).name
        path.write_bytes(source)
        report = surveys.check(path)
    name = PurePath(filename).name
    return [Both(i.format("es").replace(str(path), name), i.format("en").replace(str(path), name))
            for i in report.issues if getattr(i, "severity", "error") == "error"]


def store(source: bytes, filename: str) -> InstrumentVersion:
    """Check and store a definition; the same content returns the existing version."""
    errors = check(source, filename)
    if errors:
        raise InstrumentInvalid(Refusal.DEFINITION_INVALID, details=errors, filename=filename, count=len(errors))
    definition = _load(source, filename)
    content_hash = surveys.content_hash(definition)
    existing = db.session.scalar(sa.select(InstrumentVersion).where(InstrumentVersion.content_hash == content_hash))
    if existing is not None:
        return existing
    as_dict = surveys.to_dict(definition)
    settings = as_dict.get("settings", {})
    version = InstrumentVersion(
        instrument_id=str(settings.get("id") or PurePath(filename).stem),
        version=str(settings.get("version") or ""), title=_title(as_dict)[:300],
        content_hash=content_hash, filename=PurePath(filename).name, source=source,
        definition_json=json.dumps(as_dict, ensure_ascii=False, sort_keys=True))
    db.session.add(version)
    db.session.commit()
    with _cache_lock:
        _cache[content_hash] = definition
    return version


def store_shipped(name: str) -> InstrumentVersion:
    """Store a definition shipped under `surveys/definitions/` (gobierno, ciudadana, condiciones)."""
    path = Path(surveys.shipped(name))
    return store(path.read_bytes(), path.name)


def definition(version: InstrumentVersion):
    """The `surveys` Definition of a stored version (cached per process by content hash)."""
    cached = _cache.get(version.content_hash)
    if cached is None:
        cached = _load(version.source, version.filename)
        with _cache_lock:
            _cache[version.content_hash] = cached
    return cached


def get(version_id: int) -> InstrumentVersion:
    """The stored version with this id, or NotFound."""
    version = db.session.get(InstrumentVersion, version_id)
    if version is None:
        raise NotFound(Refusal.INSTRUMENT_VERSION_NOT_FOUND)
    return version


def all_versions() -> list[InstrumentVersion]:
    """Every stored version, newest first."""
    return list(db.session.scalars(sa.select(InstrumentVersion).order_by(InstrumentVersion.id.desc())))


def lock(version: InstrumentVersion) -> None:
    """Mark a version as used by a campaign: immutable from now on (the caller commits)."""
    version.locked = True


def store_index_model(source: str, filename: str) -> IndexModelVersion:
    """Store an index model file (YAML with `model: {id, version}`); the same content is reused."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise InstrumentInvalid(Refusal.INDEX_MODEL_YAML_INVALID, details=[f"{filename}: {exc}"], filename=filename) from None
    model = (data or {}).get("model") if isinstance(data, dict) else None
    if not isinstance(model, dict) or not model.get("id"):
        raise InstrumentInvalid(Refusal.INDEX_MODEL_WITHOUT_ID, filename=filename,
                                details=[Both(f"{filename}:1: model: falta id", f"{filename}:1: model: id is missing")])
    content_hash = "sha256:" + hashlib.sha256(source.encode("utf-8")).hexdigest()
    existing = db.session.scalar(sa.select(IndexModelVersion).where(IndexModelVersion.content_hash == content_hash))
    if existing is not None:
        return existing
    stored = IndexModelVersion(model_id=str(model["id"]), version=str(model.get("version") or ""),
                               content_hash=content_hash, filename=PurePath(filename).name, source=source)
    db.session.add(stored)
    db.session.commit()
    return stored


def store_shipped_index_model(name: str = "apertura") -> IndexModelVersion | None:
    """Store `surveys/definitions/<name>.model.yaml` when it is shipped (None otherwise)."""
    path = Path(surveys.__file__).parent / "definitions" / f"{name}.model.yaml"
    if not path.exists():
        return None
    return store_index_model(path.read_text(encoding="utf-8"), path.name)
