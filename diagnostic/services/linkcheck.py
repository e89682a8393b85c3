"""Checking an evidence link, bounded in time, size and redirects (methodology §9.6).

`check(url)` answers what a verifier needs to know about a cited web address: did it
answer, with which status, at which final address after redirects, and what was the
fingerprint (SHA-256) of the body it served. It never reads more than `max_bytes`, never
spends more than `timeout` seconds in all, follows at most `max_redirects` redirects, and,
unless `allow_private` is set (tests on loopback), refuses addresses that resolve to
private, loopback, link-local or reserved networks, at every hop, so a respondent cannot
make the server probe its own network.

The result is plain data; `diagnostic.services.evidence` stores it.
"""
from __future__ import annotations

import hashlib
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

USER_AGENT = "Apertura-evidence-check/1.0 (+https://github.com/apertura)"
REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class LinkCheck:
    """What one check of one address found."""

    url: str
    checked_at: datetime
    status: int | None = None          # HTTP status of the last answer, None if none came
    final_url: str | None = None       # address after redirects
    sha256: str | None = None          # fingerprint of the body read (None if cut or absent)
    size: int | None = None            # bytes read
    error: str | None = None           # machine code: refused, timeout, too_many_redirects, too_large, unreachable, invalid
    redirects: list[str] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        """The address served a successful answer (2xx) in full."""
        return self.error is None and self.status is not None and 200 <= self.status < 300


class _Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _public_only(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise _Refused("unreachable") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (address.is_private or address.is_loopback or address.is_link_local
                or address.is_reserved or address.is_multicast or address.is_unspecified):
            raise _Refused("refused")


def check(url: str, *, timeout: float = 10.0, max_bytes: int = 5 * 1024 * 1024,
          max_redirects: int = 5, allow_private: bool = False) -> LinkCheck:
    """Fetch `url` once within the bounds and report what it served."""
    started = time.monotonic()
    now = datetime.now(UTC)
    current = url.strip()
    hops: list[str] = []
    status: int | None = None
    try:
        for _ in range(max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _Refused("invalid")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if not allow_private:
                _public_only(parts.hostname, port)
            remaining = timeout - (time.monotonic() - started)
            if remaining <= 0:
                raise _Refused("timeout")
            if parts.scheme == "https":
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    parts.hostname, port, timeout=remaining, context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(parts.hostname, port, timeout=remaining)
            try:
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                conn.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
                answer = conn.getresponse()
                status = answer.status
                if status in REDIRECTS and answer.getheader("Location"):
                    hops.append(current)
                    current = urljoin(current, answer.getheader("Location"))
                    continue
                digest, size = hashlib.sha256(), 0
                while True:
                    left = timeout - (time.monotonic() - started)
                    if left <= 0:
                        raise _Refused("timeout")
                    if conn.sock is not None:
                        conn.sock.settimeout(left)
                    chunk = answer.read1(64 * 1024) if hasattr(answer, "read1") else answer.read(64 * 1024)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        return LinkCheck(url, now, status, current, None, size, "too_large", hops)
                    digest.update(chunk)
                return LinkCheck(url, now, status, current, digest.hexdigest(), size, None, hops)
            finally:
                conn.close()
        return LinkCheck(url, now, status, current, None, None, "too_many_redirects", hops)
    except _Refused as refused:
        return LinkCheck(url, now, status, current, None, None, refused.code, hops)
    except TimeoutError:
        return LinkCheck(url, now, status, current, None, None, "timeout", hops)
    except (OSError, http.client.HTTPException, ValueError):
        return LinkCheck(url, now, status, current, None, None, "unreachable", hops)
