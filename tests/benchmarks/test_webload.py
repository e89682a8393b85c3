"""The web benchmark's respondents walk the real questionnaire: every request they send is
one the app accepts, so `make bench` measures the flow people use, not error pages."""
from __future__ import annotations

import random

import pytest

from benchmarks.webload import Fixed, Reply, Request, Respondent, Stats
from diagnostic import create_app, database
from diagnostic.models import InstrumentPurpose
from diagnostic.services import campaigns, institutions, instruments, invitations


@pytest.fixture
def gobierno(tmp_path):
    """An app on SQLite with an open campaign on the shipped `gobierno` questionnaire, and one link."""
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    database.upgrade(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        campaign = campaigns.create("Bench", 2025, slug="bench")
        campaigns.set_instrument(campaign, InstrumentPurpose.INSTITUTION, instruments.store_shipped("gobierno"))
        report = institutions.import_file("nombre,estado,orden,tipo\nSecretaría de Finanzas,22,estatal,ejecutivo\n"
                                          .encode(), "bench.csv", campaign=campaign)
        campaigns.set_status(campaign, "open")
        token = invitations.create(campaign, report.institutions[0])
    return app, token


def send(client, request: Request) -> Reply:
    """What the benchmark's HTTP client would get, through the test client."""
    headers = {"Content-Type": request.content_type} if request.content_type else {}
    response = client.open(request.path, method=request.method, data=request.body, headers=headers)
    return Reply(response.status_code, response.headers.get("Location", ""), response.data)


def test_a_respondent_walks_every_page_to_the_review(gobierno):
    app, token = gobierno
    client = app.test_client()
    pages = next(n for n in range(50) if client.get(f"/r/{token}/p/{n}").status_code == 404)
    respondent = Respondent(token, random.Random(3), pages)
    respondent.next = Request("page", "GET", f"/r/{token}")
    stats, seen = Stats(), []
    for _ in range(400):
        request = respondent.request()
        reply = send(client, request)
        _, ok = respondent.after(request, reply)
        stats.add(request.kind, 0.0, ok, f"{request.method} {request.path}: {reply.status}")
        seen.append((request.kind, request.path, reply.status))
        if request.path.endswith("/review"):
            break
    assert stats.error_count == 0, stats.samples
    assert seen[-1] == ("page", f"/r/{token}/review", 200)
    views = [path for kind, path, status in seen if kind == "page" and status == 200]
    walked = [int(path.rsplit("/", 1)[1]) for path in views if "/p/" in path]
    assert views[0] == f"/r/{token}" and walked[0] == 0
    # Forward only, every page at most once: pages that skip logic leaves empty are never shown.
    assert walked == sorted(set(walked)) and walked[-1] < pages
    autosaves = [status for kind, _, status in seen if kind == "autosave"]
    saves = [status for kind, _, status in seen if kind == "save"]
    assert len(autosaves) > 2 * len(walked) and set(autosaves) == {200}
    assert len(saves) == len(walked) and saves.count(302) >= len(walked) - 2  # a choice filter may refuse one


def test_percentiles_are_nearest_rank():
    stats = Stats()
    for ms in range(1, 101):
        stats.add("page", ms / 1000, True)
    assert [round(stats.percentile("page", q) * 1000) for q in (0.5, 0.95, 0.99)] == [50, 95, 99]
    assert Fixed("/").after(Request("bare", "GET", "/"), Reply(500, "", b"")) == (0.0, False)
