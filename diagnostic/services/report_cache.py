"""Built reports kept in storage, keyed by the fingerprint of what they were built from.

A report (HTML or PDF, a state or the nation, in a language) is built once per *report
fingerprint* and then served from files under `REPORT_CACHE_DIR` (default
`instance/report-cache/`), which every gunicorn worker on the host shares. The fingerprint is
the sha256 of: the scores' data fingerprint (submitted and verified answers with analysts'
corrections, the sample, the model's hash and the seed), the state conditions answers, the
report settings (`diagnostic/data/report.yaml`) and the report templates. So a new answer,
a verification or a settings change gives a new fingerprint, and nothing else does (page
visits, logins, drafts being typed).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from flask import current_app

from diagnostic.models import Campaign, InstrumentPurpose
from diagnostic.services import evidence, reply, responses, scores, second_verification

_known: OrderedDict[tuple, str] = OrderedDict()  # scores.data_version → report fingerprint
_lock = threading.Lock()
TEMPLATES = ("_layout.html", "state.html", "national.html", "_reply.html", "_evidence.html", "_agreement.html")


def _templates_digest() -> str:
    folder = Path(current_app.root_path).parent / "templates" / "reports"
    digest = hashlib.sha256()
    for name in TEMPLATES:
        path = folder / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(campaign: Campaign, seed: int = scores.DEFAULT_SEED) -> str:
    """The report fingerprint of a campaign (see the module docstring)."""
    from diagnostic.services import report

    version = (*scores.data_version(campaign), int(seed))
    with _lock:
        known = _known.get(version)
    if known is not None:
        return known
    answers, insts = scores.campaign_frames(campaign)
    stored = campaign.index_model
    data = scores.fingerprint(answers, insts, stored.content_hash if stored else "", int(seed))
    state_rows = pd.DataFrame(responses.long_form(campaign, InstrumentPurpose.STATE),
                              columns=["institution", "field", "repeat_index", "value"])
    digest = hashlib.sha256()
    digest.update(data.encode())
    digest.update(pd.util.hash_pandas_object(
        state_rows.astype(str).sort_values(["institution", "field", "repeat_index"], kind="stable"),
        index=False).to_numpy().tobytes())
    digest.update(report.settings_text().encode())
    digest.update(_templates_digest().encode())
    digest.update(reply.report_digest(campaign).encode())
    digest.update(evidence.report_digest(campaign).encode())
    digest.update(second_verification.report_digest(campaign).encode())
    out = digest.hexdigest()
    with _lock:
        _known[version] = out
        while len(_known) > 256:
            _known.popitem(last=False)
    return out


def folder() -> Path:
    """Where built reports are kept (shared by the workers of one host)."""
    configured = current_app.config.get("REPORT_CACHE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "report-cache"


def get_or_build(campaign: Campaign, name: str, ext: str, build: Callable[[], bytes],
                 seed: int = scores.DEFAULT_SEED) -> bytes:
    """The stored report `name`.`ext` for the campaign's current fingerprint, built (and stored,
    replacing older builds of the same report) when missing."""
    key = fingerprint(campaign, seed)[:32]
    where = folder() / f"{campaign.id}-{campaign.slug}"
    path = where / f"{name}.{key}.{ext}"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    body = build()
    where.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=where, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(body)
    os.replace(tmp, path)
    for old in where.glob(f"{name}.*.{ext}"):
        if old != path:
            old.unlink(missing_ok=True)
    return body


def clear(campaign: Campaign | None = None) -> int:
    """Remove stored reports (of one campaign, or all); how many files were removed."""
    base = folder()
    if not base.exists():
        return 0
    pattern = f"{campaign.id}-{campaign.slug}/*" if campaign else "*/*"
    removed = 0
    for path in base.glob(pattern):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
