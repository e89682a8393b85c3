"""Nothing saved is lost, and bad input gets a clear answer (issue 13 §1, §3; issue 9 §2–3):
opening a link or reading a page stores nothing, cut requests and stale tabs change nothing
they should not, transient database errors answer 503, edge values are refused by name."""
from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from diagnostic import create_app
from diagnostic.extensions import db
from diagnostic.models import Response, ResponseStatus
from diagnostic.services import campaigns
from tests.web.test_respond import complete, page_url, post_page, response_status, stored

ROOT = Path(__file__).resolve().parents[2]


def page_form(client, setup, n: int) -> dict:
    """The hidden fields a page's form carries (what a browser posts back with the inputs)."""
    html = client.get(page_url(setup, n)).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="(_\w+)" value="([^"]*)"', html))
    hidden["_base"] = json.loads(hidden["_base"].replace("&#34;", '"').replace("&quot;", '"'))
    return hidden


def posted(hidden: dict, values: dict, action: str = "next") -> dict:
    return {**{k: v for k, v in hidden.items() if k != "_base"}, "_base": json.dumps(hidden["_base"]),
            **values, "action": action}


# ---------------------------------------------------------------- opening and reading store nothing

def test_opening_a_link_and_reading_pages_stores_nothing(app, client, setup):
    for url in (f"/r/{setup.token}", f"/r/{setup.token}/resume", page_url(setup, 0), page_url(setup, 1),
                f"/r/{setup.token}/review"):
        assert client.get(url, follow_redirects=True).status_code == 200, url
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 0  # no "Borrador" for a mail scanner
        progress = campaigns.progress(campaigns.get_by_slug(setup.slug))
    assert progress["responses"] == {}
    post_page(client, setup, 0, {"has_unit": "no"}, action="save")  # the first save starts the response
    assert response_status(app) == ResponseStatus.DRAFT


def test_reading_a_page_works_while_the_database_is_locked_and_a_save_gets_503(setup, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("an SQLite write lock held by another process")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": database_url,
                      "SQLITE_BUSY_TIMEOUT_MS": 200})
    app.instance_path = str(tmp_path / "instance")
    client = app.test_client()
    post_page(client, setup, 0, {"has_unit": "no"}, action="save")
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
    try:
        read = client.get(page_url(setup, 2))
        assert read.status_code == 200  # reading writes nothing (it used to write last_page)
        save = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "4"}})
        assert save.status_code == 503 and save.headers["Retry-After"].isdigit()
        assert "Vuelva a intentarlo" in save.get_json()["message"]
        page = post_page(client, setup, 1, {"received": "4"})
        assert page.status_code == 503 and "Retry-After" in page.headers
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "4"}}).status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- a page save clears only what it rendered

def test_a_page_save_clears_only_the_fields_the_page_rendered_and_listed(app, client, setup):
    client.post(f"/r/{setup.token}/autosave", json={"answers": {"has_unit": "yes", "unit_url": "https://ut.example/",
                                                                "channels": ["pnt"]}})
    hidden = page_form(client, setup, 0)
    assert hidden["_fields"].split() == ["has_unit", "unit_url", "channels"]
    # A form whose list names only has_unit (what a cut or foreign form carries) leaves the rest alone.
    client.post(page_url(setup, 0), data={**posted(hidden, {"has_unit": "yes"}), "_fields": "has_unit"})
    assert stored(app) == {"has_unit": "yes", "unit_url": "https://ut.example/", "channels": "pnt"}
    # The page's own form, with the checkbox unticked: the listed field is cleared, as the person asked.
    client.post(page_url(setup, 0), data=posted(page_form(client, setup, 0),
                                                {"has_unit": "yes", "unit_url": "https://ut.example/"}))
    assert stored(app) == {"has_unit": "yes", "unit_url": "https://ut.example/"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_server(app, setup, database_url, tmp_path):
    """The app under gunicorn (a real server that hands the app whatever part of a body arrived)."""
    port = _free_port()
    env = {**os.environ, "APERTURA_DATABASE_URL": database_url, "APERTURA_SECRET_KEY": "test-secret"}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                                "--chdir", str(tmp_path), "diagnostic:create_app()"],
                               env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a loaded machine boots the worker slowly
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as ready:
                    if ready.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def raw_post(port: int, path: str, body: bytes, send: int) -> bytes:
    """POST `body` declaring its full length, send only `send` bytes, close our side; the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body[:send])
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def test_a_request_cut_half_way_is_refused_and_changes_nothing(app, client, setup, gunicorn_server):
    client.post(f"/r/{setup.token}/autosave", json={"answers": {"has_unit": "yes", "unit_url": "https://keep.example/",
                                                                "channels": ["pnt", "email"]}})
    before = stored(app)
    from urllib.parse import urlencode
    body = urlencode({"has_unit": "yes", "unit_url": "https://new.example/a/long/path", "channels": "pnt",
                      "action": "next", "_fields": "has_unit unit_url channels"}).encode()
    answer = raw_post(gunicorn_server, page_url(setup, 0), body, send=len(body) * 2 // 3)
    status = int(answer.split(b" ", 2)[1])
    assert status == 400, answer[:300]
    assert b"incompleta" in answer
    assert stored(app) == before
    whole = raw_post(gunicorn_server, page_url(setup, 0), body, send=len(body))
    assert int(whole.split(b" ", 2)[1]) == 302
    assert stored(app)["unit_url"] == "https://new.example/a/long/path"


# ---------------------------------------------------------------- two tabs, ordered autosaves

def test_a_stale_tab_never_overwrites_what_another_tab_saved(app, setup):
    tab_a, tab_b = app.test_client(), app.test_client()
    post_page(tab_a, setup, 0, {"has_unit": "yes", "unit_url": "https://uno.example/"}, action="save")
    form_a = page_form(tab_a, setup, 0)  # tab A shows the page, then tab B edits the same field
    saved = tab_b.post(f"/r/{setup.token}/autosave", json={"answers": {"unit_url": "https://dos.example/"}})
    assert saved.status_code == 200
    # Tab A saves its page untouched: B's newer value stays (a stale page is not a clearing).
    kept = tab_a.post(page_url(setup, 0), data=posted(form_a, {"has_unit": "yes", "unit_url": "https://uno.example/"},
                                                      action="save"))
    assert kept.status_code == 302
    assert stored(app)["unit_url"] == "https://dos.example/"
    # Tab A had typed something else: a conflict, shown with the stored value, nothing overwritten.
    clash = tab_a.post(page_url(setup, 0), data=posted(form_a, {"has_unit": "yes", "unit_url": "https://tres.example/"},
                                                       action="save"))
    assert clash.status_code == 409
    html = clash.get_data(as_text=True)
    assert "otra pestaña" in html and "https://dos.example/" in html
    assert 'value="https://tres.example/"' in html  # what the person typed is still in the form
    assert stored(app)["unit_url"] == "https://dos.example/"
    # Saving again from the re-shown form is a deliberate choice: it wins.
    again = page_form_from(html)
    assert tab_a.post(page_url(setup, 0), data=posted(again, {"has_unit": "yes", "unit_url": "https://tres.example/"},
                                                      action="save")).status_code == 302
    assert stored(app)["unit_url"] == "https://tres.example/"


def page_form_from(html: str) -> dict:
    hidden = dict(re.findall(r'<input type="hidden" name="(_\w+)" value="([^"]*)"', html))
    hidden["_base"] = json.loads(hidden["_base"].replace("&#34;", '"').replace("&quot;", '"'))
    return hidden


def test_an_autosave_conflict_is_returned_not_written(app, client, setup):
    client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "10"}})
    other = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "12"}, "base": {"received": "10"}})
    assert other.get_json()["conflicts"] == {}
    late = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "11"}, "base": {"received": "10"}})
    body = late.get_json()
    assert body["conflicts"] == {"received": "12"} and body["saved"] == 0
    assert stored(app)["received"] == "12"


def test_a_late_autosave_of_a_tab_never_overwrites_its_newer_page_save(app, client, setup):
    first = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "1"}, "tab": "t1", "seq": 1})
    assert first.get_json()["stale"] is False
    # The page save (seq 3) reaches the server before the in-flight autosave (seq 2) does.
    form = page_form(client, setup, 1)
    client.post(page_url(setup, 1), data=posted(form, {"received": "30", "answered": "3", "_tab": "t1", "_seq": "3"},
                                                action="save"))
    late = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "2"}, "tab": "t1", "seq": 2})
    assert late.status_code == 200 and late.get_json()["stale"] is True
    assert stored(app)["received"] == "30"
    other_tab = client.post(f"/r/{setup.token}/autosave", json={"answers": {"answered": "4"}, "tab": "t2", "seq": 1})
    assert other_tab.get_json()["stale"] is False and stored(app)["answered"] == "4"


# ---------------------------------------------------------------- bad input: a clear answer, never a 500

def test_edge_values_are_refused_by_name_and_nothing_is_stored(app, client, setup):
    url = f"/r/{setup.token}/autosave"
    nul = client.post(url, json={"answers": {"received": "4\x00"}})
    assert nul.status_code == 400 and "NUL" in nul.get_json()["message"]
    assert "Solicitudes recibidas" in nul.get_json()["message"]
    long_name = client.post(url, json={"answers": {"x" * 200: "1"}})
    assert long_name.status_code == 400 and "120" in long_name.get_json()["message"]
    unknown = client.post(url, json={"answers": {"not_in_questionnaire": "1"}})
    assert unknown.status_code == 400 and "not_in_questionnaire" in unknown.get_json()["message"]
    misplaced = client.post(url, json={"answers": {"received[0].topic": "1"}})
    assert misplaced.status_code == 400
    too_long = client.post(url, json={"answers": {"examples[0].topic": "a" * 10001}})
    assert too_long.status_code == 422
    message = too_long.get_json()["message"]
    assert "Tema" in message and "10001" in message and "10000" in message
    page = post_page(client, setup, 0, {"has_unit": "yes", "unit_url": "https://x.example/\x00"})
    assert page.status_code == 400 and "Enlace de evidencia" in page.get_data(as_text=True)
    assert stored(app) == {}
    assert response_status(app) in (None, ResponseStatus.DRAFT)


def test_page_numbers_beyond_the_integer_range_are_404(client, setup):
    huge = 2**70
    assert client.get(page_url(setup, huge)).status_code == 404
    assert post_page(client, setup, huge, {"received": "1"}).status_code == 404
    assert client.post(page_url(setup, 1), data={"received": "1", "action": f"goto:{huge}"}).status_code in (302, 404)


# ---------------------------------------------------------------- the respondent's questionnaire

def test_numbers_as_people_type_them_are_accepted(app, client, setup):
    post_page(client, setup, 1, {"received": "1,250", "answered": "1 200"}, action="save")
    assert stored(app) == {"received": "1250", "answered": "1200"}
    client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "2,500"}})
    assert stored(app)["received"] == "2500"
    html = client.get(page_url(setup, 1)).get_data(as_text=True)
    assert "1,250 o 1 250" in html  # the hint says so


def test_a_web_address_without_its_scheme_gets_a_suggestion(client, setup):
    post_page(client, setup, 0, {"has_unit": "yes", "unit_url": "www.finanzas.gob.mx/transparencia"}, action="save")
    html = client.get(page_url(setup, 0)).get_data(as_text=True)
    assert "¿Quiso decir" in html and "https://www.finanzas.gob.mx/transparencia" in html


def test_one_problem_is_singular(client, setup):
    html = post_page(client, setup, 1, {"received": "5", "answered": "9"}).get_data(as_text=True)
    assert "Hay 1 problema en esta página" in html


def test_a_required_question_left_empty_is_flagged_on_its_page_when_moving_on(app, client, setup):
    form = page_form(client, setup, 1)
    flagged = client.post(page_url(setup, 1), data=posted(form, {"received": "", "answered": "2"}))
    assert flagged.status_code == 422
    html = flagged.get_data(as_text=True)
    assert 'href="#f-received"' in html and "Continuar sin completar" in html
    assert stored(app) == {"answered": "2"}  # what was typed is kept
    onward = client.post(page_url(setup, 1), data=posted(form, {"received": "", "answered": "2"}, action="next_anyway"))
    assert onward.status_code == 302 and onward.headers["Location"].endswith("/p/2")


def test_enter_submits_the_forward_button_first(client, setup):
    html = client.get(page_url(setup, 1)).get_data(as_text=True)
    buttons = re.findall(r'<button type="submit" name="action" value="([^"]+)"', html)
    assert buttons[0] == "next" and "prev" in buttons  # the browser's default button is the first


def test_review_summarises_the_answers_and_submission_asks_for_confirmation(client, setup):
    complete(client, setup)
    html = client.get(f"/r/{setup.token}/review").get_data(as_text=True)
    assert "Resumen de sus respuestas" in html and "https://ut.example/" in html and "Presupuesto" in html
    assert re.search(r'<input type="checkbox" id="confirm-submit" name="confirm" value="1" required>', html)


def test_the_receipt_stays_reachable_after_the_campaign_closes_in_mexico_city_time(app, client, setup):
    complete(client, setup)
    assert client.post(f"/r/{setup.token}/submit").status_code == 302
    with app.app_context():
        submitted = db.session.scalar(sa.select(Response.submitted_at))
        campaigns.set_status(campaigns.get_by_slug(setup.slug), "closed")
    receipt = client.get(f"/r/{setup.token}/receipt")
    assert receipt.status_code == 200
    html = receipt.get_data(as_text=True)
    from datetime import UTC
    from zoneinfo import ZoneInfo
    local = submitted.replace(tzinfo=submitted.tzinfo or UTC).astimezone(ZoneInfo("America/Mexico_City"))
    assert local.strftime("%Y-%m-%d %H:%M") in html and "Ciudad de México" in html
    assert client.get(page_url(setup, 0)).status_code == 410  # editing stays closed


def test_a_draft_gets_no_receipt_after_the_campaign_closes(app, client, setup):
    post_page(client, setup, 0, {"has_unit": "no"}, action="save")
    with app.app_context():
        campaigns.set_status(campaigns.get_by_slug(setup.slug), "closed")
    assert client.get(f"/r/{setup.token}/receipt").status_code == 410
