"""Web benchmark under gunicorn on 127.0.0.1 (SQLite): a questionnaire page and autosave,
each against a bare Flask endpoint served the same way in the same run.

- page: requests per second of `GET /r/<token>/p/0` (the government questionnaire's first
  page, unchanged since the respondent last saw it) against `GET /` of a one-line Flask app;
  target ≥ 0.5 of the bare endpoint. Printed beside it, for the full picture: the same page
  with the micro-cache off (Flask resolves the link and renders the page every time), and
  first views (every page of every respondent rendered once, each also recording the page
  to resume from).
- autosave: 50 concurrent respondents, each autosaving one field about once a second
  (the browser debounces typing), `POST /r/<token>/autosave`; target p95 < 50 ms.
Bounded: a fixed number of requests per client and a wall-clock cap per phase.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import Measurement

ROOT = Path(__file__).resolve().parents[1]
BARE_APP = '''from flask import Flask
app = Flask(__name__)


@app.get("/")
def index():
    return "ok"
'''
CAP_SECONDS = 60
WORKERS, THREADS = 2, 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app_spec: str, env: dict, cwd: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "--workers", str(WORKERS), "--threads", str(THREADS), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--chdir", str(cwd), app_spec],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"gunicorn did not start: {process.stderr.read().decode()[-2000:]}")
    _wait_until_booted(process.pid, deadline)
    return process, port


def _children_cpu(pid: int) -> tuple[int, int]:
    """(number of worker processes, their CPU ticks so far) of a gunicorn master."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    ticks = 0
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return len(children), ticks


def _wait_until_booted(pid: int, deadline: float) -> None:
    """Wait until every worker has finished importing the app (all spawned, CPU idle).

    The master accepts connections before its workers are ready; measuring then would give
    every keep-alive connection to the first worker up and charge the others' boot to the run.
    """
    previous = (-1, -1)
    while time.monotonic() < deadline:
        current = _children_cpu(pid)
        if current[0] == WORKERS and current == previous:
            return
        previous = current
        time.sleep(0.5)
    raise RuntimeError("gunicorn workers did not settle")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Client:
    """A keep-alive HTTP client with a cookie jar of one session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # the server closed an idle keep-alive connection: reconnect, as a browser does
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, data

    def close(self) -> None:
        self.conn.close()


def _run_clients(port: int, plans: list[list[str]], warm: int = 0) -> float:
    """Requests per second of keep-alive clients, one per plan, each GETting its plan's paths.

    Each client first repeats its first path `warm` times (connection, worker caches), then
    all start together; the rate counts the requests done before the wall-clock cap.
    """
    errors: list[str] = []
    done = [0] * len(plans)

    def worker(i: int, barrier: threading.Barrier) -> None:
        client = Client(port)
        for _ in range(warm):
            client.request("GET", plans[i][0])
        barrier.wait()
        deadline = time.monotonic() + CAP_SECONDS
        for path in plans[i]:
            status, _ = client.request("GET", path)
            if status != 200:
                errors.append(f"{path}: {status}")
                break
            done[i] += 1
            if time.monotonic() > deadline:
                break
        client.close()

    barrier = threading.Barrier(len(plans) + 1)
    threads = [threading.Thread(target=worker, args=(i, barrier)) for i in range(len(plans))]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"benchmark requests failed: {errors[:3]}")
    return sum(done) / elapsed


def _throughput(port: int, paths: list[str], clients: int, per_client: int) -> float:
    """Requests per second of the same GET repeated by each client (paths dealt round-robin)."""
    return _run_clients(port, [[paths[i % len(paths)]] * per_client for i in range(clients)], warm=2 * WORKERS)


def _first_views(port: int, tokens: list[str], pages: int, clients: int) -> float:
    """Requests per second of first views: each (respondent, page) requested once."""
    opener = Client(port)
    for token in tokens:  # the landing page creates each respondent's draft (not timed)
        if opener.request("GET", f"/r/{token}")[0] != 200:
            raise RuntimeError("landing page failed")
    opener.close()
    paths = [f"/r/{t}/p/{n}" for n in range(pages) for t in tokens]
    return _run_clients(port, [paths[i::clients] for i in range(clients)])


def _autosave_latencies(port: int, tokens: list[str], rounds: int, think: tuple[float, float]) -> list[float]:
    """Latencies of autosaves by one respondent per token, each pausing `think` seconds between saves."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def respondent(token: str, seed: int) -> None:
        rng = random.Random(seed)
        client = Client(port)
        status, _ = client.request("GET", f"/r/{token}/p/1")
        if status != 200:
            errors.append(f"page {status}")
            return
        headers = {"Content-Type": "application/json"}  # the link is the credential: no CSRF token
        deadline = time.monotonic() + CAP_SECONDS
        time.sleep(rng.uniform(1.0, 3.0))  # reading the page before typing
        for i in range(rounds):
            body = json.dumps({"answers": {"ta_share": str(rng.randint(0, 100)), "ta_site_links": "yes" if i % 2 else "no"}}).encode()
            start = time.perf_counter()
            status, _ = client.request("POST", f"/r/{token}/autosave", body=body, headers=headers)
            elapsed = time.perf_counter() - start
            if status != 200:
                errors.append(f"autosave {status}")
                break
            with lock:
                latencies.append(elapsed)
            if time.monotonic() > deadline:
                break
            time.sleep(rng.uniform(*think))
        client.close()

    threads = [threading.Thread(target=respondent, args=(t, i)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"autosave failed: {errors[:3]}")
    return latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _prepare(db_url: str, n: int) -> list[str]:
    """An open campaign with the shipped government questionnaire and `n` invited institutions."""
    code = f"""
import json
from diagnostic import create_app, database
from diagnostic.models import InstrumentPurpose
from diagnostic.services import campaigns, institutions, instruments, invitations
database.upgrade({db_url!r})
app = create_app({{"DATABASE_URL": {db_url!r}, "SECRET_KEY": "bench"}})
with app.app_context():
    c = campaigns.create("Bench", 2025, slug="bench")
    campaigns.set_instrument(c, InstrumentPurpose.INSTITUTION, instruments.store_shipped("gobierno"))
    rows = "nombre,estado,orden,tipo\\n" + "".join(f"Institución {{i}},{{1 + i % 32}},estatal,ejecutivo\\n" for i in range({n}))
    report = institutions.import_file(rows.encode(), "bench.csv", campaign=c)
    campaigns.set_status(c, "open")
    links = invitations.issue(c, report.institutions)
    print(json.dumps([link.token for link in links]))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> list[Measurement]:
    """Page and autosave measurements against the bare endpoint, both under gunicorn."""
    tmp = Path(tempfile.mkdtemp(prefix="apertura-bench-web-"))
    processes: list[subprocess.Popen] = []
    try:
        db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        respondents = 50
        tokens = _prepare(db_url, respondents)
        (tmp / "bare_wsgi.py").write_text(BARE_APP, encoding="utf-8")
        env = {**os.environ, "APERTURA_DATABASE_URL": db_url, "APERTURA_SECRET_KEY": "bench",
               "PYTHONPATH": str(ROOT)}
        bare, bare_port = _serve("bare_wsgi:app", env, tmp)
        processes.append(bare)
        app, app_port = _serve("wsgi:app", env, ROOT)
        processes.append(app)
        uncached, uncached_port = _serve("wsgi:app", {**env, "APERTURA_RESPONDENT_PAGE_CACHE": "false"}, ROOT)
        processes.append(uncached)

        clients, per_client = (4, 100) if quick else (8, 400)
        page_paths = [f"/r/{t}/p/0" for t in tokens]
        first_rps = _first_views(app_port, tokens[:20] if quick else tokens, 11, clients)
        # Best of two runs each, interleaved: how the kernel spreads the keep-alive connections
        # over the two workers varies from run to run, for both servers alike.
        bare_runs, page_runs = [], []
        for _ in range(2):
            bare_runs.append(_throughput(bare_port, ["/"], clients, per_client))
            page_runs.append(_throughput(app_port, page_paths, clients, per_client))
        bare_rps, page_rps = max(bare_runs), max(page_runs)
        flask_rps = _throughput(uncached_port, page_paths, clients, per_client)
        _stop(uncached)
        processes.remove(uncached)

        rounds = 4 if quick else 10
        latencies = _autosave_latencies(app_port, tokens, rounds, (0.5, 1.5))
        autosave_p95 = _percentile(latencies, 0.95)
        bare_latencies = _bare_latencies(bare_port, respondents, rounds)
        bare_p95 = _percentile(bare_latencies, 0.95)
        autosave_rps = len(latencies) / max(sum(latencies), 1e-9)
        print(f"  page: {page_rps:.0f} req/s vs bare {bare_rps:.0f} req/s = {page_rps / bare_rps:.2f} of the bare endpoint "
              f"(target >= 0.5; runs: page {', '.join(f'{r:.0f}' for r in page_runs)}, "
              f"bare {', '.join(f'{r:.0f}' for r in bare_runs)})")
        print(f"    same page through Flask (RESPONDENT_PAGE_CACHE=false): {flask_rps:.0f} req/s = {flask_rps / bare_rps:.2f}; "
              f"first views (full render): {first_rps:.0f} req/s = {first_rps / bare_rps:.2f}")
        print(f"  autosave: p95 {autosave_p95 * 1000:.1f} ms, median {_percentile(latencies, 0.5) * 1000:.1f} ms over "
              f"{len(latencies)} saves by {respondents} concurrent respondents (target p95 < 50 ms); "
              f"bare p95 {bare_p95 * 1000:.1f} ms = {autosave_p95 / bare_p95:.1f}x")
        sys.stdout.flush()
        return [
            Measurement("web: questionnaire page, s/request (gunicorn, SQLite)", 1 / page_rps,
                        "bare Flask endpoint, s/request", 1 / bare_rps,
                        f"ratio <= 2 (>= 0.5 of bare rps); rps ratio {page_rps / bare_rps:.2f}"),
            Measurement("web: same page through Flask (micro-cache off)", 1 / flask_rps,
                        "bare Flask endpoint, s/request", 1 / bare_rps, f"informational; rps ratio {flask_rps / bare_rps:.2f}"),
            Measurement("web: first view of a page (full render)", 1 / first_rps,
                        "bare Flask endpoint, s/request", 1 / bare_rps, f"informational; rps ratio {first_rps / bare_rps:.2f}"),
            Measurement("web: autosave p95, 50 concurrent respondents (SQLite)", autosave_p95,
                        "bare Flask endpoint p95, same load", bare_p95,
                        f"p95 < 0.050 s; autosave {autosave_rps:.0f} req/s of service time"),
        ]
    finally:
        for process in processes:
            _stop(process)
        shutil.rmtree(tmp, ignore_errors=True)


def _bare_latencies(port: int, clients: int, rounds: int) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(port)
        time.sleep(rng.uniform(1.0, 3.0))
        for _ in range(rounds):
            start = time.perf_counter()
            client.request("GET", "/")
            with lock:
                latencies.append(time.perf_counter() - start)
            time.sleep(rng.uniform(0.5, 1.5))
        client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies
