"""Web benchmark: the respondent flow under gunicorn on 127.0.0.1, PostgreSQL and SQLite.

Each database gets the demo campaign (`apertura demo`: 1,200 institutions, most already
answered) and 200 respondents among the institutions that have not submitted, each with
a fresh link. gunicorn serves the app with 2 workers x 4 threads (gthread), every page a
full render. The respondents walk the government questionnaire (`gobierno`) as people do
(`benchmarks/webload.py`: landing, pages in order, autosaves while typing, page saves with
plausible values, think time), arriving open-loop at 50 requests/s in total (about 2,000
institutions active in the same hour of a deadline day). Printed: p50/p95/p99 of page
views, autosaves and page saves, and errors; then the saturation throughput (closed loop,
16 clients, no think time). Beside them, from the same run: a bare one-line Flask app
served the same way, under the same open-loop rate and the same saturation load.
Last, on each database, the in-process render of a `gobierno` page: median of 200
`app.test_client()` GETs cycling through a respondent's pages (beside a bare Flask app's
test-client GET).

Targets (2-core machine): page p95 <= 150 ms and autosave p95 <= 100 ms at 50 requests/s;
saturation >= 150 requests/s; in-process render median <= 5 ms. `BENCH_QUICK=1` (or
`--quick`) shortens every phase. `python -m benchmarks.bench_web --profile` builds an
SQLite demo and prints the render's cProfile hot spots.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import Measurement
from benchmarks.webload import Fixed, Respondent, Stats, closed_loop, open_loop

ROOT = Path(__file__).resolve().parents[1]
BARE_APP = '''from flask import Flask
app = Flask(__name__)


@app.get("/")
def index():
    return "ok"
'''
WORKERS, THREADS = 2, 4
INSTITUTIONS, RESPONDENTS = 1200, 200
RATE = 50.0  # requests per second, all respondents together
SATURATION_CLIENTS = 16
PAGE_P95, AUTOSAVE_P95, SATURATION_RPS, RENDER_MEDIAN = 0.150, 0.100, 150.0, 0.005
RENDER_GETS = 200
KINDS = (("page", "page views"), ("autosave", "autosaves"), ("save", "page saves"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app_spec: str, env: dict, cwd: Path) -> tuple[subprocess.Popen, int]:
    """Start gunicorn on 127.0.0.1 and wait until every worker has booted."""
    port = _free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "--workers", str(WORKERS), "--threads", str(THREADS), "--worker-class", "gthread",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(cwd), app_spec],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.1)
    else:
        _stop(process)
        raise RuntimeError("gunicorn did not start within 60 s")
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
    """Wait until every worker has finished importing the app (all spawned, CPU idle)."""
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
    if process.stderr is not None:
        process.stderr.close()


def _app_env(db_url: str) -> dict:
    """The environment of the app's processes: the caller's, plus the database to use."""
    return {**os.environ, "APERTURA_DATABASE_URL": db_url, "APERTURA_SECRET_KEY": "bench",
            "PYTHONPATH": str(ROOT)}


def _subprocess(args: list[str], env: dict, timeout: int) -> str:
    return _finish(_start(args, env), timeout)


def _start(args: list[str], env: dict) -> subprocess.Popen:
    """`python -m benchmarks.bench_web ARGS` in the background (stdout: its JSON answer)."""
    return subprocess.Popen([sys.executable, "-m", "benchmarks.bench_web", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen, timeout: int) -> str:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError(f"{process.args[3:5]} took more than {timeout} s") from None
    if process.returncode:
        raise RuntimeError(f"{process.args[3:5]} failed:\n{err[-3000:]}")
    return out


def prepare(db_url: str, instance_dir: str) -> dict:
    """Migrate, build the demo campaign, and issue fresh links to the respondents (not yet submitted)."""
    import sqlalchemy as sa

    from diagnostic import create_app, database
    from diagnostic.extensions import db
    from diagnostic.models import Institution, InstrumentPurpose, Response, ResponseStatus
    from diagnostic.services import campaigns, demo, invitations

    database.upgrade(db_url)
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "bench"})
    app.instance_path = instance_dir  # demo.build writes its links file there, not in the project
    with app.app_context():
        demo.build(n_institutions=INSTITUTIONS)
        campaign = campaigns.get_by_slug(demo.SLUG)
        answered = sa.select(Response.institution_id).where(
            Response.campaign_id == campaign.id, Response.purpose == InstrumentPurpose.INSTITUTION,
            Response.status != ResponseStatus.DRAFT)
        chosen = list(db.session.scalars(sa.select(Institution).where(Institution.id.not_in(answered))
                                         .order_by(Institution.id).limit(RESPONDENTS)))
        tokens = [link.token for link in invitations.issue(campaign, chosen, reissue=True)]
    client = app.test_client()
    pages = next(n for n in range(100) if client.get(f"/r/{tokens[0]}/p/{n}").status_code == 404)
    with app.app_context():  # close this process's connections before the servers take over
        db.session.remove()
        db.engine.dispose()
    return {"tokens": tokens, "pages": pages}


def render(count: int, token: str, pages: int, profile: bool = False) -> dict:
    """Median seconds of in-process GETs of the questionnaire pages, and of a bare Flask app's GET."""
    from flask import Flask

    from diagnostic import create_app

    app = create_app()  # configured from the environment, as under gunicorn
    client = app.test_client()
    paths = [f"/r/{token}/p/{n}" for n in range(pages)]
    for path in paths:  # warm: templates compiled, definition parsed
        if client.get(path).status_code != 200:
            raise RuntimeError(f"GET {path} failed")
    times: dict[str, list[float]] = {p: [] for p in paths}
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    for i in range(count):
        path = paths[i % pages]
        start = time.perf_counter()
        client.get(path)
        times[path].append(time.perf_counter() - start)
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue(), file=sys.stderr)
    bare = Flask("bare")
    bare.add_url_rule("/", "index", lambda: "ok")
    bare_client = bare.test_client()
    bare_times = []
    for _ in range(count):
        start = time.perf_counter()
        bare_client.get("/")
        bare_times.append(time.perf_counter() - start)
    return {"median": statistics.median([t for ts in times.values() for t in ts]),
            "slowest_page": max(statistics.median(ts) for ts in times.values() if ts),
            "bare": statistics.median(bare_times)}


def _verdict(value: float, limit: float, *, at_least: bool = False, unit: str = "ms", scale: float = 1000) -> tuple[bool, str]:
    """(passed, wording) of a figure against its target; a miss says by how much."""
    passed = value >= limit if at_least else value <= limit
    sign = ">=" if at_least else "<="
    text = f"target {sign} {limit * scale:.0f} {unit}: "
    if passed:
        return True, text + "PASS"
    gap = (limit - value) if at_least else (value - limit)
    return False, text + f"FAIL ({gap * scale:.0f} {unit} {'short' if at_least else 'over'})"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def _run_database(label: str, db_url: str, prep: dict, bare: dict, timing: dict) -> list[Measurement]:
    """Open loop and saturation on one database; prints the figures, returns the table rows."""
    server, port = _serve("wsgi:app", _app_env(db_url), ROOT)
    try:
        tokens, pages = prep["tokens"], prep["pages"]
        respondents = [Respondent(t, random.Random(i), pages) for i, t in enumerate(tokens)]
        # Not measured: every respondent opens the page it is on (or the landing page), which
        # also warms the workers; the measured walk then starts with everyone mid-page.
        primed = closed_loop(port, respondents, 8, 60, per_client=-(-len(respondents) // 8))
        cpu = [_children_cpu(server.pid)[1]]
        load = open_loop(port, respondents, RATE, timing["open"], seed=7)
        cpu.append(_children_cpu(server.pid)[1])
        saturation = closed_loop(port, respondents, SATURATION_CLIENTS, timing["saturation"])
        cpu.append(_children_cpu(server.pid)[1])
    finally:
        _stop(server)
    tick = 1000 / os.sysconf("SC_CLK_TCK")  # ms
    cpu_ms = [(cpu[1] - cpu[0]) * tick / max(load.count, 1), (cpu[2] - cpu[1]) * tick / max(saturation.count, 1)]
    rows: list[Measurement] = []
    print(f"  {label}: {len(tokens)} respondents walking `gobierno` ({pages} pages), gunicorn {WORKERS} workers x "
          f"{THREADS} threads (gthread), full renders; open loop at {RATE:.0f} req/s: {load.scheduled} arrivals "
          f"scheduled over {load.offered_span:.1f} s, {load.count} answered by {load.elapsed:.1f} s; arrivals that "
          f"waited for a free respondent: {load.late}")
    targets = {"page": PAGE_P95, "autosave": AUTOSAVE_P95}
    for kind, name in KINDS:
        p50, p95, p99 = (load.percentile(kind, q) for q in (0.5, 0.95, 0.99))
        line = f"    {name:<11} n={len(load.latencies.get(kind, [])):>5}  p50 {_ms(p50)}  p95 {_ms(p95)}  p99 {_ms(p99)}"
        if kind in targets:
            passed, text = _verdict(p95, targets[kind])
            print(f"{line}   p95 {text}")
            rows.append(Measurement(f"web {label}: {name} p95 at {RATE:.0f} req/s", p95,
                                    f"bare endpoint p95, same rate ({bare['open'].percentile('bare', 0.95) * 1000:.1f} ms)",
                                    bare["open"].percentile("bare", 0.95), f"p95 {text}", passed))
        else:
            print(f"{line}   (no target)")
    errors_ok = primed.error_count == load.error_count == saturation.error_count == 0
    print(f"    errors: {load.error_count} of {load.count} at {RATE:.0f} req/s, {saturation.error_count} of "
          f"{saturation.count} at saturation, {primed.error_count} of {primed.count} first page loads "
          f"(target 0: {'PASS' if errors_ok else 'FAIL'})"
          + (f"; e.g. {'; '.join((primed.samples + load.samples + saturation.samples)[:3])}" if not errors_ok else ""))
    rps = saturation.rate()
    passed, text = _verdict(rps, SATURATION_RPS, at_least=True, unit="req/s", scale=1)
    mix = ", ".join(f"{name} {len(saturation.latencies.get(kind, [])) / max(saturation.count, 1):.0%}"
                    for kind, name in KINDS)
    print(f"    saturation, closed loop ({SATURATION_CLIENTS} clients, no think time, {timing['saturation']:.0f} s): "
          f"{rps:.0f} req/s ({mix}; page view p50 {saturation.percentile('page', 0.5) * 1000:.0f} ms)   {text}")
    print(f"    server CPU per request (gunicorn workers, user+sys{'; PostgreSQL not counted' if 'Postgre' in label else ''}): "
          f"{cpu_ms[0]:.1f} ms at {RATE:.0f} req/s, {cpu_ms[1]:.1f} ms at saturation; {WORKERS} workers on {WORKERS} free cores: "
          f"about {WORKERS * 1000 / max(cpu_ms[1], 0.1):.0f} req/s")
    bare_rps = bare["saturation"].rate()
    print(f"    informational: {rps / bare_rps:.2f} of the bare endpoint's {bare_rps:.0f} req/s; page view p50 "
          f"{load.percentile('page', 0.5) / bare['open'].percentile('bare', 0.5):.1f}x the bare endpoint's")
    rows.append(Measurement(f"web {label}: saturation, s/request ({rps:.0f} req/s)", 1 / rps if rps else float("inf"),
                            f"bare endpoint, same load ({bare_rps:.0f} req/s)", 1 / bare_rps if bare_rps else float("inf"),
                            text, passed))
    if not errors_ok:
        rows.append(Measurement(f"web {label}: requests with errors", load.error_count + saturation.error_count
                                + primed.error_count, "requests", load.count + saturation.count + primed.count,
                                "target 0: FAIL", False))
    sys.stdout.flush()
    return rows


def _bare(tmp: Path, timing: dict) -> dict[str, Stats]:
    """The bare Flask endpoint under the same gunicorn settings, open loop and saturation."""
    (tmp / "bare_wsgi.py").write_text(BARE_APP, encoding="utf-8")
    server, port = _serve("bare_wsgi:app", _app_env(""), tmp)
    try:
        closed_loop(port, [Fixed("/") for _ in range(8)], 8, 5, per_client=20)
        result = {"open": open_loop(port, [Fixed("/") for _ in range(RESPONDENTS)], RATE, timing["bare_open"], seed=3),
                  "saturation": closed_loop(port, [Fixed("/") for _ in range(SATURATION_CLIENTS)],
                                            SATURATION_CLIENTS, timing["saturation"])}
    finally:
        _stop(server)
    o = result["open"]
    print(f"  baseline, bare Flask endpoint (same gunicorn settings): at {RATE:.0f} req/s p50 "
          f"{_ms(o.percentile('bare', 0.5))}  p95 {_ms(o.percentile('bare', 0.95))}  p99 "
          f"{_ms(o.percentile('bare', 0.99))}; saturation {result['saturation'].rate():.0f} req/s; "
          f"errors {o.error_count + result['saturation'].error_count}")
    return result


def _postgres():
    """A throwaway PostgreSQL server from Debian's packages (the test suite's), or None."""
    sys.path.insert(0, str(ROOT))
    from tests import pgserver

    try:
        return pgserver.start_server()
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"  PostgreSQL: NOT MEASURED ({exc})")
        return None


def run(quick: bool = False) -> list[Measurement]:
    """The respondent flow on SQLite and PostgreSQL, the bare baseline, and the in-process render."""
    quick = quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    timing = ({"open": 8.0, "saturation": 4.0, "bare_open": 4.0} if quick
              else {"open": 30.0, "saturation": 10.0, "bare_open": 10.0})
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="apertura-bench-web-"))
    server = None
    preparing: list[subprocess.Popen] = []
    rows: list[Measurement] = []
    try:
        # both databases are built at once, before anything is measured
        sqlite_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        (tmp / "sqlite").mkdir()
        preparing.append(_start(["--prepare", sqlite_url, str(tmp / "sqlite")], _app_env(sqlite_url)))
        server = _postgres()
        pg_url = ""
        if server is not None:
            pg_url = server.create_database("apertura_bench")
            (tmp / "pg").mkdir()
            preparing.append(_start(["--prepare", pg_url, str(tmp / "pg")], _app_env(pg_url)))
        preps = [json.loads(_finish(p, 600)) for p in preparing]
        prepared = time.monotonic()
        bare = _bare(tmp, timing)
        rows += _run_database("SQLite", sqlite_url, preps[0], bare, timing)
        renders = [("SQLite", _render(sqlite_url, preps[0]))]
        if server is not None:
            rows += _run_database("PostgreSQL", pg_url, preps[1], bare, timing)
            renders.append(("PostgreSQL", _render(pg_url, preps[1])))
        else:
            rows.append(Measurement("web PostgreSQL: not measured (no server binaries)", float("nan"), "-",
                                    float("nan"), "FAIL: not measured", False))
        for label, rendered in renders:
            passed, text = _verdict(rendered["median"], RENDER_MEDIAN)
            print(f"  in-process render of a `gobierno` page ({label}; app.test_client GET, {RENDER_GETS} GETs over "
                  f"{preps[0]['pages']} pages): median {_ms(rendered['median'])} (slowest page's median "
                  f"{_ms(rendered['slowest_page'])})   {text}; bare Flask test-client GET {_ms(rendered['bare'])}")
            rows.append(Measurement(f"web {label}: in-process render of a gobierno page, median", rendered["median"],
                                    "bare Flask app, test-client GET", rendered["bare"], text, passed))
        print(f"  (web benchmark: {time.monotonic() - began:.0f} s, of which {prepared - began:.0f} s building the "
              f"demo databases{'; quick mode' if quick else ''})")
        sys.stdout.flush()
        return rows
    finally:
        for process in preparing:
            if process.poll() is None:
                process.kill()
                process.wait()
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _render(db_url: str, prep: dict) -> dict:
    """The in-process render figures of one database (a respondent's pages, after the load run)."""
    return json.loads(_subprocess(["--render", str(RENDER_GETS), prep["tokens"][0], str(prep["pages"])],
                                  _app_env(db_url), 300))


def _profile() -> None:
    """Build an SQLite demo in a temporary directory and print the render's cProfile hot spots."""
    tmp = Path(tempfile.mkdtemp(prefix="apertura-bench-profile-"))
    try:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        prep = json.loads(_subprocess(["--prepare", url, str(tmp)], _app_env(url), 600))
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_web", "--render", str(RENDER_GETS),
                              prep["tokens"][0], str(prep["pages"]), "--with-profile"],
                             cwd=ROOT, env=_app_env(url), capture_output=True, text=True, timeout=300, check=True)
        print(out.stderr)
        print(out.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        print(json.dumps(prepare(sys.argv[2], sys.argv[3])))
    elif sys.argv[1:2] == ["--render"]:
        print(json.dumps(render(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), "--with-profile" in sys.argv)))
    elif sys.argv[1:2] == ["--profile"]:
        _profile()
    else:
        for measurement in run(quick="--quick" in sys.argv):
            print(measurement)
