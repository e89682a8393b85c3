"""Domain rules enforced below the views: immutability, the audit log, verification, concurrency."""
from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import Answer, AuditEvent, InstrumentVersion, Response, ResponseStatus, User
from diagnostic.services import Conflict, ServiceError, campaigns, invitations, responses
from diagnostic.services.audit import Actor


def _response(app, setup) -> int:
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        invitation, _response = invitations.resolve(setup.token)
        return responses.get_or_create(campaign, "institution", invitation.institution).id


def _complete(response) -> None:
    actor = Actor("test")
    responses.save_page(response, {"has_unit": "no", "received": "4", "answered": "4",
                                   "examples[0].topic": "Agua"}, actor)


def test_an_instrument_used_by_an_open_campaign_cannot_change(app, setup):
    with app.app_context():
        version = db.session.scalar(sa.select(InstrumentVersion))
        assert version.locked
        version.title = "Otro título"
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(Conflict):
            campaigns.set_instrument(campaigns.get_by_slug(setup.slug), "institution", version)


def test_the_audit_log_is_append_only(app, setup):
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent))
        event.reason = "rewritten"
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(PermissionError):
            db.session.delete(db.session.scalar(sa.select(AuditEvent)))
            db.session.commit()
        db.session.rollback()


def test_verification_keeps_both_values_and_the_reason(app, setup):
    response_id = _response(app, setup)
    with app.app_context():
        response = db.session.get(Response, response_id)
        _complete(response)
        responses.submit(response, Actor("test"))
        analyst = db.session.scalar(sa.select(User).where(User.email == setup.analyst))
        actor = Actor.for_user(analyst)
        with pytest.raises(ServiceError):
            responses.verify_answer(response, "received", None, actor, corrected="5")  # no reason
        with pytest.raises(ServiceError):
            responses.verify_answer(response, "answered", None, actor, corrected="9", reason="typo")  # > received
        responses.verify_answer(response, "received", None, actor, corrected="6", reason="Según el informe anual")
        responses.verify_answer(response, "has_unit", None, actor)
        responses.mark_verified(response, actor)
        answer = db.session.scalar(sa.select(Answer).where(Answer.field == "received"))
        assert (answer.value, answer.verified_value, answer.verification) == ("4", "6", "corrected")
        assert answer.verification_reason == "Según el informe anual"
        assert response.status == ResponseStatus.VERIFIED
        rows = {r["field"]: r["value"] for r in responses.long_form(campaigns.get_by_slug(setup.slug))}
        assert rows["received"] == "6"
        assert responses.fingerprint(responses.rows_of(response)) == response.fingerprint  # respondent's values kept


def test_refused_links_are_logged(client, setup, caplog):
    with caplog.at_level(logging.WARNING):
        assert client.get("/r/not-a-real-token").status_code == 404
    assert any("invitation refused (404)" in r.getMessage() for r in caplog.records)


def test_concurrent_autosaves_of_one_response_lose_nothing(app, setup):
    response_id = _response(app, setup)
    errors: list[BaseException] = []

    def save(path: str, value: str) -> None:
        try:
            with app.app_context():
                response = db.session.get(Response, response_id)
                responses.autosave(response, {path: value}, Actor("test"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(f"examples[{i}].topic", f"Tema {i}")) for i in range(3)]
    threads += [threading.Thread(target=save, args=("received", "7")), threading.Thread(target=save, args=("has_unit", "yes"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with app.app_context():
        stored = {(a.field, a.repeat_index): a.value for a in db.session.scalars(sa.select(Answer))}
    assert stored == {("examples.topic", 0): "Tema 0", ("examples.topic", 1): "Tema 1", ("examples.topic", 2): "Tema 2",
                      ("received", None): "7", ("has_unit", None): "yes"}
