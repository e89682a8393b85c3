"""Evidence that lasts: files kept by content hash with their type checked from their bytes,
and evidence links checked within bounds against a real server on loopback."""
from __future__ import annotations

import io
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from diagnostic.services import ServiceError
from diagnostic.services.linkcheck import check

from .conftest import seed_scored

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class _Handler(BaseHTTPRequestHandler):
    """200, 404, a redirect, a redirect loop, a slow body and an oversized body."""

    def log_message(self, *_args):  # keep the test output clean
        pass

    def _send(self, status: int, body: bytes = b"", **headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path == "/ok":
            self._send(200, b"transparencia")
        elif self.path == "/moved":
            self._send(301, Location="/ok")
        elif self.path.startswith("/loop"):
            self._send(302, Location="/loop")
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(50):  # 2 bytes per 0.2 s: 10 s in all if nobody stops reading
                try:
                    self.wfile.write(b"..")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
        elif self.path == "/big":
            self._send(200, b"x" * (300 * 1024))
        else:
            self._send(404, b"no")


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_working_link_reports_status_final_address_and_fingerprint(site):
    found = check(f"{site}/moved", allow_private=True)
    assert found.reachable and found.status == 200
    assert found.final_url == f"{site}/ok" and found.redirects == [f"{site}/moved"]
    import hashlib
    assert found.sha256 == hashlib.sha256(b"transparencia").hexdigest() and found.size == 13


def test_a_dead_link_a_redirect_loop_a_slow_body_and_a_huge_body_are_bounded(site):
    missing = check(f"{site}/gone", allow_private=True)
    assert (missing.status, missing.reachable) == (404, False)
    loop = check(f"{site}/loop", allow_private=True, max_redirects=3)
    assert loop.error == "too_many_redirects" and len(loop.redirects) == 4
    started = time.monotonic()
    slow = check(f"{site}/slow", allow_private=True, timeout=1.0)
    assert slow.error == "timeout" and not slow.reachable
    assert time.monotonic() - started < 5  # stopped at its bound, not after the 10 s body
    big = check(f"{site}/big", allow_private=True, max_bytes=100 * 1024)
    assert big.error == "too_large" and big.sha256 is None


def test_private_and_loopback_addresses_are_refused_unless_allowed(site):
    assert check(f"{site}/ok").error == "refused"
    assert check("http://10.0.0.1/").error == "refused"
    assert check("file:///etc/passwd").error == "invalid"
    assert check("http://no-such-host.invalid/").error in ("unreachable", "refused")


@pytest.fixture
def evidence_app(app, tmp_path):
    app.config.update(EVIDENCE_DIR=str(tmp_path / "evidence"), EVIDENCE_MAX_MB=1)
    return app


def test_a_pdf_is_kept_once_by_content_hash_with_a_safe_name(evidence_app, tmp_path):
    from diagnostic.services import evidence

    with evidence_app.app_context():
        first = evidence.store(io.BytesIO(PDF), "../../etc/Acta de sesión.pdf")
        again = evidence.store(io.BytesIO(PDF), "copia.pdf")
        assert first.sha256 == again.sha256 and first.media_type == "application/pdf"
        assert first.filename == "Acta de sesión.pdf"
        stored = evidence.path_for(first.sha256)
        assert stored.read_bytes() == PDF
        assert stored.is_relative_to(tmp_path / "evidence")
        files = [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]
        assert files == [stored]  # one copy, no temporary file left behind
        image = evidence.store(io.BytesIO(PNG), "foto.PDF")  # the bytes decide, not the name
        assert (image.media_type, image.filename) == ("image/png", "foto.png")


@pytest.mark.parametrize("name,payload,code", [
    ("informe.pdf", b"<html><script>alert(1)</script></html>", "evidence_type"),
    ("datos.pdf", None, "evidence_type"),  # a zip (bomb or not) is not evidence
    ("grande.pdf", PDF + b"0" * (2 * 1024 * 1024), "evidence_too_large"),
    ("vacio.pdf", b"", "evidence_empty"),
])
def test_hostile_or_wrong_files_are_refused_and_nothing_is_kept(evidence_app, tmp_path, name, payload, code):
    from diagnostic.services import evidence

    if payload is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("bomb.txt", b"0" * (5 * 1024 * 1024))
        payload = buffer.getvalue()
    with evidence_app.app_context(), evidence_app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ServiceError) as refused:
            evidence.store(io.BytesIO(payload), name)
        assert refused.value.code == code and name in refused.value.message
    root = tmp_path / "evidence"
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_campaign_links_are_checked_once_each_and_summarised(evidence_app, site):
    from diagnostic.extensions import db
    from diagnostic.models import Answer, Campaign, EvidenceCheck
    from diagnostic.services import evidence

    scored = seed_scored(evidence_app)
    evidence_app.config.update(LINKCHECK_ALLOW_PRIVATE=True, LINKCHECK_TIMEOUT=2.0)
    with evidence_app.app_context():
        # Q1 cites a working page and a dead one; everything else points at example.org.
        q1 = scored.responses["Q1"]
        for field, url in (("ai_unit_evidence", f"{site}/ok"), ("ai_guide_evidence", f"{site}/gone")):
            answer = db.session.scalar(sa.select(Answer).where(Answer.response_id == q1, Answer.field == field))
            answer.value = url
        db.session.commit()
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == scored.slug))
        cited = evidence.cited_links(campaign)
        assert cited[f"{site}/ok"] == 1 and cited[f"{site}/gone"] == 1
        assert all(url.startswith(("http://", "https://")) for url in cited)

        def only_loopback(url, **bounds):  # the example.org addresses are not ours to fetch
            if url.startswith(site):
                return check(url, **bounds)
            return check(f"{site}/gone", **bounds)

        summary = evidence.check_campaign_links(campaign, stage="verified", checker=only_loopback)
        assert summary["checked"] == len(cited) and summary["reachable"] == 1
        rows = db.session.scalars(sa.select(EvidenceCheck).where(EvidenceCheck.url == f"{site}/ok")).all()
        assert [(r.stage, r.status, r.error) for r in rows] == [("verified", 200, None)]
        share = evidence.link_summary(campaign)
        assert share["cited"] == len(cited) and share["reachable"] == 1
        assert share["share_reachable"] == pytest.approx(1 / len(cited))
