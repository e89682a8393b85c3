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
    record(actor, "evidence.attach", "evidence_file", row.id, response_id=response.id, field=field,
           repeat_index=repeat_index, new=f"{stored.filename} sha256:{stored.sha256}")
    return row


def _citations(campaign: Campaign) -> list[tuple[str, str]]:
    """(address, citing institution's state) of every evidence item of the campaign's submitted or
    verified responses that holds a web address (the verified value where a verifier corrected it)."""
    from diagnostic.models import Institution

    rows = db.session.execute(
        sa.select(Answer.value, Answer.verified_value, Answer.verification, Institution.state_code)
        .join(Response, Answer.response_id == Response.id)
        .join(Institution, Response.institution_id == Institution.id)
        .where(Response.campaign_id == campaign.id,
               Response.status.in_([ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED]),
               Answer.field.like(f"%{EVIDENCE_SUFFIX}")))
    out = []
    for value, verified_value, verification, state in rows:
        url = ((verified_value if verification == "corrected" else value) or "").strip()
        if _is_link(url):
            out.append((url, state))
    return out


def cited_links(campaign: Campaign) -> dict[str, int]:
    """Every web address cited as evidence in the campaign's submitted or verified responses,
    with how many items cite it."""
    counts: dict[str, int] = {}
    for url, _state in _citations(campaign):
        counts[url] = counts.get(url, 0) + 1
    return counts


def check_campaign_links(campaign: Campaign, *, stage: str = "submitted",
                         checker: Callable[..., LinkCheck] = check,
                         progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Check each distinct cited address once and record the result; counts by outcome."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    bounds = _bounds()
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
    _record_run(campaign.id, stage, summary)
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


# ------------------------------------------------------------------ checks of one response's links
# When: a response's links are checked at submission and at verification. The respondent never
# waits: the receipt is sent first and the same worker then checks that response's links within
# EVIDENCE_CHECK_BUDGET seconds in all (each within LINKCHECK_TIMEOUT); whatever is left, and
# the "published" stage of a published campaign, stays *pending* and is checked by
# `apertura evidence check --pending` (run it from cron). Pending is computed, never stored: a
# link of a submitted response with no check of that stage since the response was submitted
# (verified: since it was verified; published: none at all).
@dataclass(frozen=True)
class LinkStatus:
    """The latest check of one evidence link of a response, as the review page shows it."""

    path: str
    url: str
    check: EvidenceCheck | None

    @property
    def state(self) -> str:
        """works | dead | unchecked."""
        if self.check is None:
            return "unchecked"
        ok = self.check.error is None and self.check.status is not None and 200 <= self.check.status < 300
        return "works" if ok else "dead"


def _is_link(value: str | None) -> bool:
    return bool(value) and value.strip().lower().startswith(("http://", "https://"))


def response_links(response: Response) -> list[tuple[str, str]]:
    """(answer path, address) of every evidence link a response cites (the verified value where
    a verifier corrected it)."""
    from diagnostic.services.responses import definition_of

    link_fields = {name for name, question in definition_of(response).fields.items()
                   if question.type == "url" or name.endswith(EVIDENCE_SUFFIX)}
    rows = db.session.execute(
        sa.select(Answer.field, Answer.repeat_index, Answer.value, Answer.verified_value, Answer.verification)
        .where(Answer.response_id == response.id).order_by(Answer.id))
    out = []
    for field, index, value, verified_value, verification in rows:
        if field.rpartition(".")[2] not in link_fields:
            continue
        url = (verified_value if verification == "corrected" else value) or ""
        if _is_link(url):
            path = field if index is None else f"{field.partition('.')[0]}[{index}].{field.partition('.')[2]}"
            out.append((path, url.strip()))
    return out


def link_statuses(response: Response) -> list[LinkStatus]:
    """Each evidence link of a response with its latest check in the campaign (or none yet)."""
    links = response_links(response)
    if not links:
        return []
    latest: dict[str, EvidenceCheck] = {}
    for row in db.session.scalars(sa.select(EvidenceCheck)
                                  .where(EvidenceCheck.campaign_id == response.campaign_id,
                                         EvidenceCheck.url.in_({url for _p, url in links}))
                                  .order_by(EvidenceCheck.checked_at, EvidenceCheck.id)):
        latest[row.url] = row
    return [LinkStatus(path, url, latest.get(url)) for path, url in links]


def _since(response: Response, stage: str):
    return {"submitted": response.submitted_at, "verified": response.verified_at}.get(stage)


def pending_for_response(response: Response, stage: str) -> list[str]:
    """The response's links with no check of `stage` since the response reached it."""
    since = _since(response, stage)
    urls = sorted({url for _p, url in response_links(response)})
    if not urls or (stage in ("submitted", "verified") and since is None):
        return []
    query = sa.select(EvidenceCheck.url).where(EvidenceCheck.campaign_id == response.campaign_id,
                                               EvidenceCheck.stage == stage, EvidenceCheck.url.in_(urls))
    if since is not None:
        query = query.where(EvidenceCheck.checked_at >= since)
    done = set(db.session.scalars(query))
    return [url for url in urls if url not in done]


def _bounds() -> dict:
    config = current_app.config
    return {"timeout": float(config["LINKCHECK_TIMEOUT"]),
            "max_bytes": int(config["LINKCHECK_MAX_MB"]) * 1024 * 1024,
            "max_redirects": int(config["LINKCHECK_MAX_REDIRECTS"]),
            "allow_private": bool(config["LINKCHECK_ALLOW_PRIVATE"])}


def _check_urls(campaign_id: int, urls: list[str], stage: str, *, budget: float | None,
                checker: Callable[..., LinkCheck]) -> dict[str, int]:
    """Check `urls` at `stage` within `budget` seconds in all (None: no total bound); commit."""
    import time

    started = time.monotonic()
    bounds = _bounds()
    summary = {"checked": 0, "reachable": 0, "unreachable": 0, "left": 0}
    for position, url in enumerate(urls):
        if budget is not None:
            remaining = budget - (time.monotonic() - started)
            if remaining < 0.5:
                summary["left"] = len(urls) - position
                break
            bounds["timeout"] = min(float(current_app.config["LINKCHECK_TIMEOUT"]), remaining)
        found = checker(url, **bounds)
        db.session.add(EvidenceCheck(campaign_id=campaign_id, url=url, stage=stage, checked_at=found.checked_at,
                                     status=found.status, final_url=found.final_url, sha256=found.sha256,
                                     size=found.size, error=found.error))
        db.session.commit()  # each result kept as it comes: a cut run loses nothing checked
        summary["checked"] += 1
        summary["reachable" if found.reachable else "unreachable"] += 1
    _record_run(campaign_id, stage, summary)
    return summary


def _record_run(campaign_id: int, stage: str, summary: dict[str, int]) -> None:
    """One audit row per run of checks (the log, and the report fingerprint, see that links changed)."""
    from diagnostic.services.audit import SYSTEM

    if summary["checked"]:
        record(SYSTEM, "evidence.check", "campaign", campaign_id,
               new=f"{stage}: {summary['checked']} / {summary['reachable']}")
        db.session.commit()


def check_response(response: Response, stage: str, *, budget: float | None = None,
                   checker: Callable[..., LinkCheck] = check, only_pending: bool = True) -> dict[str, int]:
    """Check a response's evidence links at `stage` (only those still pending, unless told)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    urls = pending_for_response(response, stage) if only_pending else sorted({u for _p, u in response_links(response)})
    return _check_urls(response.campaign_id, urls, stage, budget=budget, checker=checker)


def pending_checks(campaign: Campaign) -> dict[str, list[str]]:
    """Every link of the campaign still waiting for its check, by stage."""
    from diagnostic.models import CampaignStatus

    out: dict[str, set[str]] = {stage: set() for stage in STAGES}
    for response in db.session.scalars(sa.select(Response).where(
            Response.campaign_id == campaign.id,
            Response.status.in_([ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED]))):
        out["submitted"].update(pending_for_response(response, "submitted"))
        if response.status == ResponseStatus.VERIFIED:
            out["verified"].update(pending_for_response(response, "verified"))
    if campaign.status == CampaignStatus.PUBLISHED:
        cited = set(cited_links(campaign))
        done = set(db.session.scalars(sa.select(EvidenceCheck.url).where(
            EvidenceCheck.campaign_id == campaign.id, EvidenceCheck.stage == "published")))
        out["published"] = cited - done
    return {stage: sorted(urls) for stage, urls in out.items()}


def check_pending(campaign: Campaign, *, checker: Callable[..., LinkCheck] = check,
                  budget: float | None = None) -> dict[str, dict[str, int]]:
    """Check every pending link of the campaign, stage by stage (`apertura evidence check --pending`)."""
    return {stage: _check_urls(campaign.id, urls, stage, budget=budget, checker=checker)
            for stage, urls in pending_checks(campaign).items() if urls}


def check_after_response(response_id: int, stage: str) -> None:
    """Once this request's answer is sent, check the response's pending links at `stage` within
    EVIDENCE_CHECK_BUDGET seconds (0: leave them all to `apertura evidence check --pending`)."""
    import logging

    from flask import after_this_request

    budget = float(current_app.config.get("EVIDENCE_CHECK_BUDGET") or 0)
    if budget <= 0:
        return
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                response = db.session.get(Response, response_id)
                if response is not None:
                    check_response(response, stage, budget=budget)
            except Exception:  # never the respondent's problem: the links stay pending
                logging.getLogger(__name__).exception("evidence checks after response %s failed", response_id)
                db.session.rollback()
            finally:
                db.session.remove()

    @after_this_request
    def later(reply):
        reply.call_on_close(run)
        return reply


# ------------------------------------------------------------------ the report's annex
def cited_by_state(campaign: Campaign) -> dict[str, set[str]]:
    """Every evidence address cited in the campaign's submitted or verified responses, with the
    states of the institutions citing it."""
    out: dict[str, set[str]] = {}
    for url, state in _citations(campaign):
        out.setdefault(url, set()).add(state)
    return out


def _report_checks(campaign: Campaign) -> tuple[str, dict[str, EvidenceCheck]]:
    """The checks the report reads: those made at publication when there are any, else the
    latest check of each address ('published' or 'latest')."""
    published: dict[str, EvidenceCheck] = {}
    for row in db.session.scalars(sa.select(EvidenceCheck).where(EvidenceCheck.campaign_id == campaign.id,
                                                                 EvidenceCheck.stage == "published")
                                  .order_by(EvidenceCheck.checked_at, EvidenceCheck.id)):
        published[row.url] = row
    return ("published", published) if published else ("latest", latest_checks(campaign))


def _works(row: EvidenceCheck) -> bool:
    return row.error is None and row.status is not None and 200 <= row.status < 300


def report_section(campaign: Campaign, state: str) -> dict:
    """What the state report's annex says about evidence: links cited by the state's institutions
    and the nation's, how many were checked and still worked (at publication, or at their latest
    check), and how many files are kept by their hash."""
    from diagnostic.models import Institution

    cited = cited_by_state(campaign)
    basis, used = _report_checks(campaign)

    def part(urls: set[str]) -> dict:
        checked = [used[url] for url in urls if url in used]
        reachable = sum(1 for row in checked if _works(row))
        return {"cited": len(urls), "checked": len(checked), "reachable": reachable,
                "share": reachable / len(checked) if checked else None}

    dates = [row.checked_at for url, row in used.items() if url in cited]
    files = db.session.execute(
        sa.select(Institution.state_code, sa.func.count(EvidenceFile.id))
        .join(Response, EvidenceFile.response_id == Response.id)
        .join(Institution, Response.institution_id == Institution.id)
        .where(Response.campaign_id == campaign.id,
               Response.status.in_([ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED]))
        .group_by(Institution.state_code)).all()
    return {"basis": basis, "state": part({u for u, states in cited.items() if state in states}),
            "nation": part(set(cited)), "first": min(dates) if dates else None, "last": max(dates) if dates else None,
            "files_state": sum(n for code, n in files if code == state), "files_nation": sum(n for _c, n in files)}


def report_digest(campaign: Campaign) -> str:
    """A digest of what the evidence annex shows (a new check or file rebuilds stored reports)."""
    cited = cited_by_state(campaign)
    basis, used = _report_checks(campaign)
    parts = [basis] + [f"{url}|{sorted(states)}|{_works(used[url]) if url in used else '-'}|"
                       f"{used[url].checked_at.date() if url in used else ''}" for url, states in sorted(cited.items())]
    files = db.session.scalar(sa.select(sa.func.count(EvidenceFile.id)).join(Response, EvidenceFile.response_id == Response.id)
                              .where(Response.campaign_id == campaign.id))
    parts.append(f"files:{files}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
