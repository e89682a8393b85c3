"""Evidence that lasts (methodology §9.6): files kept by content hash, links checked and recorded.

Files. `store` reads an upload within a size limit, decides its type from its first bytes
(never from the name or the browser's claim), accepts PDF and common images only, and
writes it once under ``<EVIDENCE_DIR>/<aa>/<sha256>``; `attach` records which item of which
response it backs. A file is always served back as a download with the type found here,
so an HTML page disguised as a PDF is refused at upload and nothing uploaded is ever
rendered by the browser.

Links. `check_campaign_links` checks every evidence address cited in the campaign's
submitted responses (bounded by `linkcheck`), once per distinct address, and records what
each answered at a stage (submitted, verified, published); `link_summary` gives the share
still reachable at the latest check, which the report states.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app

from diagnostic.extensions import db
from diagnostic.models import (
    Answer,
    Campaign,
    EvidenceCheck,
    EvidenceFile,
    Response,
    ResponseStatus,
)
from diagnostic.services import ServiceError
from diagnostic.services.audit import Actor, record
from diagnostic.services.linkcheck import LinkCheck, check
from diagnostic.services.refusals import Refusal

STAGES = ("submitted", "verified", "published")
EVIDENCE_SUFFIX = "_evidence"

# Leading bytes of the accepted types: (prefix, offset, media type).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg",
              "image/gif": ".gif", "image/webp": ".webp"}


@dataclass(frozen=True)
class StoredFile:
    """A file written to the evidence store."""

    sha256: str
    size: int
    media_type: str
    filename: str


def sniff(head: bytes) -> str | None:
    """The media type the first bytes show, among the accepted ones; None otherwise."""
    for prefix, offset, media_type in _SIGNATURES:
        if head[offset:offset + len(prefix)] == prefix:
            if media_type == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return media_type
    return None


def safe_filename(name: str | None, media_type: str) -> str:
    """A display name without any path, control character or surprise, ending in the type's extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    stem = os.path.splitext(base)[0][:80] or "evidencia"
    return stem + EXTENSIONS[media_type]


def store_dir() -> Path:
    """Where the evidence files of this app live."""
    configured = current_app.config.get("EVIDENCE_DIR") or os.path.join(current_app.instance_path, "evidence")
    return Path(configured)


def path_for(sha256: str, root: Path | None = None) -> Path:
    """The stored file of a content hash."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return (root or store_dir()) / sha256[:2] / sha256


def store(stream: BinaryIO, filename: str | None, *, root: Path | None = None,
          max_bytes: int | None = None) -> StoredFile:
    """Read an upload within the limit, check its type from its content, keep it by hash."""
    root = root or store_dir()
    limit = max_bytes if max_bytes is not None else int(float(current_app.config["EVIDENCE_MAX_MB"]) * 1024 * 1024)
    shown = (filename or "")[-120:]
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle = tempfile.NamedTemporaryFile(dir=root, prefix=".upload-", delete=False)
    try:
        with handle:
            head = b""
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise ServiceError(Refusal.EVIDENCE_TOO_LARGE, filename=shown,
                                       limit_mb=f"{limit / 1024 / 1024:.3g}")
                if len(head) < 16:
                    head += chunk[:16]
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise ServiceError(Refusal.EVIDENCE_EMPTY, filename=shown)
        media_type = sniff(head)
        if media_type is None:
            raise ServiceError(Refusal.EVIDENCE_TYPE, filename=shown)
        sha256 = digest.hexdigest()
        target = path_for(sha256, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(handle.name)
        else:
            os.replace(handle.name, target)
        return StoredFile(sha256, size, media_type, safe_filename(filename, media_type))
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise


def attach(response: Response, field: str, stored: StoredFile, actor: Actor,
           repeat_index: int | None = None) -> EvidenceFile:
    """Record that a stored file backs one item of a response (the caller commits)."""
    row = EvidenceFile(sha256=stored.sha256, size=stored.size, media_type=stored.media_type,
                       filename=stored.filename, response_id=response.id, field=field,
                       repeat_index=repeat_index, uploaded_by=actor.label)
    db.session.add(row)
    db.session.flush()
    record(actor, "evidence_file", "evidence_file", row.id, response_id=response.id, field=field,
           repeat_index=repeat_index, new=f"{stored.filename} sha256:{stored.sha256}")
    return row


def cited_links(campaign: Campaign) -> dict[str, int]:
    """Every web address cited as evidence in the campaign's submitted or verified responses,
    with how many items cite it."""
    rows = db.session.execute(
        sa.select(Answer.value, Answer.verified_value, Answer.verification)
        .join(Response, Answer.response_id == Response.id)
        .where(Response.campaign_id == campaign.id,
               Response.status.in_([ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED]),
               Answer.field.like(f"%{EVIDENCE_SUFFIX}")))
    counts: dict[str, int] = {}
    for value, verified_value, verification in rows:
        url = (verified_value if verification == "corrected" else value) or ""
        url = url.strip()
        if url.lower().startswith(("http://", "https://")):
            counts[url] = counts.get(url, 0) + 1
    return counts


def check_campaign_links(campaign: Campaign, *, stage: str = "submitted",
                         checker: Callable[..., LinkCheck] = check,
                         progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Check each distinct cited address once and record the result; counts by outcome."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    config = current_app.config
    bounds = {"timeout": float(config["LINKCHECK_TIMEOUT"]),
              "max_bytes": int(config["LINKCHECK_MAX_MB"]) * 1024 * 1024,
              "max_redirects": int(config["LINKCHECK_MAX_REDIRECTS"]),
              "allow_private": bool(config["LINKCHECK_ALLOW_PRIVATE"])}
    links = sorted(cited_links(campaign))
    summary = {"checked": 0, "reachable": 0, "unreachable": 0}
    for done, url in enumerate(links, start=1):
        found = checker(url, **bounds)
        db.session.add(EvidenceCheck(campaign_id=campaign.id, url=url, stage=stage,
                                     checked_at=found.checked_at, status=found.status,
                                     final_url=found.final_url, sha256=found.sha256,
                                     size=found.size, error=found.error))
        summary["checked"] += 1
        summary["reachable" if found.reachable else "unreachable"] += 1
        if progress:
            progress(done, len(links))
    db.session.commit()
    return summary


def latest_checks(campaign: Campaign) -> dict[str, EvidenceCheck]:
    """The most recent check of each address of the campaign."""
    latest: dict[str, EvidenceCheck] = {}
    for row in db.session.scalars(sa.select(EvidenceCheck).where(EvidenceCheck.campaign_id == campaign.id)
                                  .order_by(EvidenceCheck.checked_at, EvidenceCheck.id)):
        latest[row.url] = row
    return latest


def link_summary(campaign: Campaign) -> dict[str, float | int | None]:
    """Cited addresses, how many were checked, how many still worked at their latest check."""
    cited = cited_links(campaign)
    latest = latest_checks(campaign)
    checked = [latest[url] for url in cited if url in latest]
    reachable = sum(1 for row in checked if row.error is None and row.status and 200 <= row.status < 300)
    return {"cited": len(cited), "checked": len(checked), "reachable": reachable,
            "share_reachable": (reachable / len(checked)) if checked else None}
