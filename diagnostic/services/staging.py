"""Uploads kept between their preview and the analyst's confirmation, in the database (so every
worker, on any machine, finds them), by the sha256 of their bytes; a day later they are gone.

Used by the institution import and the offline submissions import: the confirmation re-reads
the staged bytes and applies only what the preview showed.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import StagedImport, utcnow

KEPT = timedelta(days=1)


def stage(data: bytes, filename: str) -> str:
    """Keep an upload until it is confirmed; returns the sha256 of its bytes."""
    digest = hashlib.sha256(data).hexdigest()
    db.session.execute(sa.delete(StagedImport).where(StagedImport.created_at < utcnow() - KEPT))
    if db.session.scalar(sa.select(StagedImport.id).where(StagedImport.sha256 == digest)) is None:
        db.session.add(StagedImport(sha256=digest, filename=filename[:200], data=data))
    db.session.commit()
    return digest


def staged(digest: str) -> tuple[bytes, str] | None:
    """The bytes and name of a staged upload, or None when it is gone (or never was)."""
    item = db.session.scalar(sa.select(StagedImport).where(StagedImport.sha256 == digest))
    return (item.data, item.filename) if item is not None else None


def discard(digest: str) -> None:
    """Forget a staged upload once applied (the caller commits)."""
    db.session.execute(sa.delete(StagedImport).where(StagedImport.sha256 == digest))
