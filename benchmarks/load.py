"""`make load`: respondents through the government questionnaire against gunicorn on PostgreSQL
(127.0.0.1 and a unix socket only; bounded in requests and time), then the same under faults.

Each respondent opens its link and walks every page in order the way the browser does
(autosaves while answering, a page save per page), retrying a request that got no answer or a
5xx, as respond.js does. At the end the database is read back: every value of every accepted
page save must be stored once. One line per scenario:

    scenario respondents sent stored lost duplicated 5xx p50 p95 p99

Scenarios: `plain`; `worker-killed` (SIGKILL to a gunicorn worker mid-run); `db-restarted`
(PostgreSQL restarted mid-run); `cut-request` (every respondent also sends one page save cut
half-way, then goes on). Each asserts nothing lost and nothing duplicated (exit 1 otherwise).
LOAD_RESPONDENTS (default 200) and LOAD_SECONDS (cap per scenario, default 600) bound it.
"""
from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import bench_web
from benchmarks.webload import Client, Reply, Request, Respondent, Stats

ROOT = Path(__file__).resolve().parent.parent
REPEAT = re.compile(r"^(?P<group>[^\[\]]+)\[(?P<i>\d+)\]\.(?P<field>.+)$")


class Walker:
    """One respondent from page 0 to the review, recording what each accepted page save sent."""

    def __init__(self, token: str, pages: int, seed: int, cut: bool = False):
        self.token = token
        self.respondent = Respondent(token, random.Random(seed), pages)
        self.respondent.next = Request("page", "GET", f"/r/{token}/p/0")
        self.sent: dict[tuple[str, int | None], str] = {}
        self.cut = cut
        self.done = False

    def record(self, request: Request) -> None:
        from urllib.parse import parse_qsl

        pairs = parse_qsl(request.body.decode(), keep_blank_values=True)
        shown = set((dict(pairs).get("_shown") or "").split())
        values: dict[str, list[str]] = {}
        for name, value in pairs:
            if name not in ("_shown", "action", "csrf_token"):
                values.setdefault(name, []).append(value)
        for name, vals in values.items():
            if not any(v.strip() for v in vals) or (shown and name not in shown and not REPEAT.match(name)):
                continue
            match = REPEAT.match(name)
            key = (match["field"], int(match["i"])) if match else (name, None)
            self.sent[key] = " ".join(vals)


def _send(port: int, client: Client, request: Request, stats: Stats, deadline: float) -> Reply | None:
    """Send with the browser's retries: no answer or a 5xx is tried again with back-off."""
    for attempt in range(8):
        start = time.monotonic()
        try:
            reply = client.send(request)
        except (OSError, http.client.HTTPException):  # a worker killed mid-answer cuts the reply short
            client.close()
            stats.add(request.kind, time.monotonic() - start, False, f"{request.method} {request.path}: no answer")
            reply = None
        else:
            ok = reply.status < 500
            if not ok:
                with stats.lock:
                    stats.server_errors[reply.status] = stats.server_errors.get(reply.status, 0) + 1
            stats.add(request.kind, time.monotonic() - start, ok, f"{request.method} {request.path}: {reply.status}")
            if ok:
                return reply
        if time.monotonic() > deadline:
            return None
        time.sleep(min(0.25 * 2 ** attempt, 4))
    return None


def _cut(port: int, path: str) -> None:
    """A page save whose body stops half-way (the connection closes before the declared length)."""
    body = b"_shown=x&ai_unit=yes&action=next&padding=" + b"x" * 200
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:len(body) // 2])


def walk(port: int, walker: Walker, stats: Stats, deadline: float) -> None:
    client = Client(port)
    respondent = walker.respondent
    cut_done = False
    try:
        for _ in range(400):
            if time.monotonic() > deadline:
                return
            request = respondent.request()
            if walker.cut and not cut_done and request.kind == "save":
                _cut(port, request.path)
                cut_done = True
            reply = _send(port, client, request, stats, deadline)
            if reply is None:
                return
            if request.kind == "save" and reply.status in (302, 303):
                walker.record(request)
            respondent.after(request, reply)
            if request.kind == "page" and request.path.endswith("/review"):
                walker.done = True
                return
    finally:
        client.close()


def stored_answers(db_url: str, tokens: list[str]) -> tuple[dict[str, dict], int]:
    """{token: {(field, repeat): value}} of the respondents' responses, and duplicated rows."""
    import hashlib

    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            hashes = {hashlib.sha256(t.encode()).hexdigest(): t for t in tokens}
            rows = conn.execute(sa.text(
                "SELECT i.token_hash, a.field, a.repeat_index, a.value FROM invitations i "
                "JOIN responses r ON r.campaign_id = i.campaign_id AND r.institution_id = i.institution_id "
                "AND r.purpose = 'institution' JOIN answers a ON a.response_id = r.id")).all()
            duplicated = conn.execute(sa.text(
                "SELECT count(*) FROM (SELECT response_id, field, coalesce(repeat_index, -1) FROM answers "
                "GROUP BY 1, 2, 3 HAVING count(*) > 1) d")).scalar_one()
    finally:
        engine.dispose()
    out: dict[str, dict] = {t: {} for t in tokens}
    for token_hash, field, repeat, value in rows:
        if token_hash in hashes:
            out[hashes[token_hash]][(field, repeat)] = value
    return out, int(duplicated)


def _normal(value: object) -> str:
    text = str(value or "")
    if text.startswith("["):
        import json

        try:
            return " ".join(str(v) for v in json.loads(text))
        except ValueError:
            pass
    return text.strip()


def scenario(name: str, server, port_env: dict, tokens: list[str], pages: int, seconds: float) -> dict:
    """Run one scenario against a fresh gunicorn; the measured line as a dict."""
    process, port = bench_web._serve("wsgi:app", port_env, ROOT)
    stats = Stats()
    stats.server_errors = {}  # status -> count (Stats keeps only a few samples)
    walkers = [Walker(t, pages, seed=i, cut=(name == "cut-request")) for i, t in enumerate(tokens)]
    deadline = time.monotonic() + seconds
    fault = None
    if name == "worker-killed":
        fault = threading.Timer(min(5.0, seconds / 4), _kill_a_worker, args=(process.pid,))
    elif name == "db-restarted":
        fault = threading.Timer(min(5.0, seconds / 4), _restart_db, args=(server,))
    if fault:
        fault.start()
    start = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=min(32, len(walkers))) as pool:
            for future in [pool.submit(walk, port, w, stats, deadline) for w in walkers]:
                future.result()
    finally:
        if fault:
            fault.join()
        bench_web._stop(process)
    elapsed = time.monotonic() - start
    stored, duplicated = stored_answers(port_env["APERTURA_DATABASE_URL"], tokens)
    sent = lost = kept = 0
    for w in walkers:
        for key, value in w.sent.items():
            sent += 1
            if _normal(stored[w.token].get(key)) == _normal(value):
                kept += 1
            else:
                lost += 1
    server_errors = sum(stats.server_errors.values())
    unavailable = stats.server_errors.get(503, 0)
    return {"scenario": name, "respondents": len(walkers), "finished": sum(w.done for w in walkers),
            "sent": sent, "stored": kept, "lost": lost, "duplicated": duplicated, "5xx": server_errors, "503": unavailable,
            "requests": stats.count, "seconds": round(elapsed, 1),
            **{f"p{int(q * 100)}": round(stats.percentile("save", q) * 1000) for q in (0.5, 0.95, 0.99)}}


def _kill_a_worker(master: int) -> None:
    children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == master]
    if children:
        os.kill(children[0], signal.SIGKILL)


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _restart_db(server) -> None:
    """Restart PostgreSQL (fast: open connections are cut), its output to its log, not to our pipe."""
    server._run(os.path.join(server.bindir, "pg_ctl"), "-D", server.datadir, "-m", "fast", "-w", "-t", "60",
                "-l", os.path.join(server.root, "server.log"), "restart")


def line(result: dict) -> str:
    return (f"{result['scenario']:<14} respondents={result['respondents']} finished={result['finished']} "
            f"sent={result['sent']} stored={result['stored']} lost={result['lost']} "
            f"duplicated={result['duplicated']} 5xx={result['5xx']} (503 with Retry-After: {result['503']}) "
            f"save p50/p95/p99={result['p50']}/{result['p95']}/{result['p99']} ms ({result['seconds']} s)")


def run(respondents: int, seconds: float, scenarios: tuple[str, ...]) -> list[dict]:
    from tests import pgserver

    bench_web.RESPONDENTS = respondents
    bench_web.INSTITUTIONS = max(respondents * 6, 60)  # the demo submits many of them: enough left as drafts
    server = pgserver.start_server()
    results = []
    try:
        for n, name in enumerate(scenarios):
            db_url = server.create_database(f"apertura_load_{n}")
            with tempfile.TemporaryDirectory() as instance:
                prepared = bench_web.prepare(db_url, instance)
            if len(prepared["tokens"]) < respondents:
                raise RuntimeError(f"only {len(prepared['tokens'])} of {respondents} respondents could be prepared")
            env = {**bench_web._app_env(db_url), "APERTURA_RATELIMIT_ENABLED": "false"}
            result = scenario(name, server, env, prepared["tokens"], prepared["pages"], seconds)
            print(line(result), flush=True)
            results.append(result)
    finally:
        server.stop()
    return results


SCENARIOS = ("plain", "worker-killed", "db-restarted", "cut-request")


def main() -> int:
    respondents = int(os.environ.get("LOAD_RESPONDENTS", "200"))
    seconds = float(os.environ.get("LOAD_SECONDS", "600"))
    results = run(respondents, seconds, SCENARIOS)
    bad = [r for r in results if r["lost"] or r["duplicated"] or r["finished"] < r["respondents"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
