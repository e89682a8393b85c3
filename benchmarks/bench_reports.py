"""Reports on the demo campaign (issue 10 §4): every state report in HTML and in PDF, the
national report, and a state report served warm from storage, each beside the time to
compute the campaign's scores alone (the baseline measured in the same run); and the first
state report on a cold cache at 2,000 institutions beside the scores alone at that size, each
in a fresh process on a fresh cache folder (a worker that has built nothing yet)."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import Measurement

INSTITUTIONS = 1200
QUICK_INSTITUTIONS = 300
COLD_INSTITUTIONS = 2000
COLD_STATE = "22"

# Run in a fresh interpreter: time the scores alone, or the first state report, of the demo
# campaign in the database at argv[1], with an empty cache folder argv[3].
_COLD = """
import json, sys, time
from diagnostic import create_app
from diagnostic.reports import routes
from diagnostic.services import campaigns, demo, scores
db, what, cache, state = sys.argv[1:5]
app = create_app({"DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "bench", "REPORT_CACHE_DIR": cache})
app.instance_path = cache + "-instance"
with app.test_request_context("/", query_string={"lang": "es"}):
    campaign = campaigns.get_by_slug(demo.SLUG)
    start = time.perf_counter()
    if what == "scores":
        computed = scores.compute(campaign)
        computed.table("state")
        computed.table("nation")
    else:
        routes.state_bytes(campaign, state, "html")
    print(json.dumps(time.perf_counter() - start))
"""


def _setup(root: Path, n: int):
    from diagnostic import create_app, database
    from diagnostic.services import campaigns, demo

    url = f"sqlite:///{root / 'bench.db'}"
    database.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REPORT_CACHE_DIR": str(root / "cache")})
    app.instance_path = str(root / "instance")
    with app.app_context():
        demo.build(n_institutions=n)
        campaign = campaigns.get_by_slug(demo.SLUG)
        campaigns.set_status(campaign, "closed")
        campaign.reply_days = 0  # no right-of-reply window to wait for (methodology §9.5)
        campaigns.set_status(campaign, "in_review")
        campaigns.set_status(campaign, "published")
    return app, demo.SLUG


def cold(root: Path, what: str, repeat: int = 2) -> float:
    """Best of `repeat` fresh processes, each on an empty cache folder: `scores` (scores with
    intervals, tests and ranks) or `report` (the first state report, HTML)."""
    best = float("inf")
    for i in range(repeat):
        cache = root / f"cold-{what}-{i}"
        out = subprocess.run([sys.executable, "-c", _COLD, str(root / "bench.db"), what, str(cache), COLD_STATE],
                             capture_output=True, text=True, check=True)
        best = min(best, json.loads(out.stdout.strip().splitlines()[-1]))
    return best


def run_cold(quick: bool = False) -> list[Measurement]:
    """The first state report on a cold cache at 2,000 institutions (300 when quick)."""
    n = QUICK_INSTITUTIONS if quick else COLD_INSTITUTIONS
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _setup(root, n)
        alone = cold(root, "scores")
        first = cold(root, "report")
    return [Measurement(f"reports: state report, cold cache ({n} inst., fresh process)", first,
                        f"scores alone, with intervals, tests, ranks ({n} inst., fresh process)", alone,
                        "≤ 3 s (2,000 inst.)", None if quick else first <= 3)]


def run(quick: bool = False) -> list[Measurement]:
    from diagnostic.reports import routes
    from diagnostic.services import campaigns, report, report_cache, scores

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        app, slug = _setup(root, QUICK_INSTITUTIONS if quick else INSTITUTIONS)
        with app.test_request_context("/", query_string={"lang": "es"}):
            campaign = campaigns.get_by_slug(slug)
            start = time.perf_counter()
            computed = scores.compute(campaign)
            computed.table("state")  # the intervals, tests and rank intervals every report reads
            computed.table("nation")
            compute = time.perf_counter() - start
            codes = [r["state"] for r in report.state_summaries(campaign) if r["state"] != "00"]
            start = time.perf_counter()
            for code in codes:
                routes.state_bytes(campaign, code, "html")
            html_all = time.perf_counter() - start
            start = time.perf_counter()
            routes.national_bytes(campaign, "html")
            national = time.perf_counter() - start
            pdf_codes = codes[:4] if quick else codes
            start = time.perf_counter()
            for code in pdf_codes:
                routes.state_bytes(campaign, code, "pdf")
            pdf_all = time.perf_counter() - start
        client = app.test_client()
        client.get(f"/resultados/{slug}/22")
        start = time.perf_counter()
        client.get(f"/resultados/{slug}/22")
        warm = time.perf_counter() - start
        with app.app_context():
            report_cache.clear()
    base = f"scores alone, with intervals, tests, ranks ({QUICK_INSTITUTIONS if quick else INSTITUTIONS} inst.)"
    return [
        Measurement(f"reports: {len(codes)} state reports, HTML", html_all, base, compute, "≤ 20 s", html_all <= 20),
        Measurement(f"reports: {len(pdf_codes)} state reports, PDF", pdf_all, base, compute,
                    "≤ 90 s (32 states)", None if quick else pdf_all <= 90),
        Measurement("reports: national report, HTML", national, base, compute, "≤ 10 s", national <= 10),
        Measurement("reports: state report from storage (warm)", warm, base, compute, "≤ 300 ms", warm <= 0.3),
        *run_cold(quick),
    ]
