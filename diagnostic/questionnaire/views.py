"""The questionnaire views, registered once for every blueprint that serves a questionnaire.

Each blueprint supplies a `with_flow` decorator that resolves its URL arguments (a secret
link, or a signed-in evaluator's assignment) to a `Flow`, or refuses; the views themselves
are the same everywhere.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint

from diagnostic.questionnaire.controller import Flow


def landing(flow: Flow):
    """Landing page: institution, campaign, deadline, progress."""
    return flow.landing()


def resume(flow: Flow):
    """Continue where the response was left."""
    return flow.resume()


def page(flow: Flow, n: int):
    """One page of the questionnaire."""
    return flow.page(n)


def save_page(flow: Flow, n: int):
    """Save one page and move on."""
    return flow.post_page(n)


def autosave(flow: Flow):
    """Background save of the fields typed so far (JSON)."""
    return flow.autosave()


def review(flow: Flow):
    """Pending questions and the submit button."""
    return flow.review()


def submit(flow: Flow):
    """Submit the response."""
    return flow.submit()


def receipt(flow: Flow):
    """Printable receipt with the answers' fingerprint."""
    return flow.receipt()


def evidence_download(flow: Flow, file_id: int):
    """One of this response's evidence files, as a download."""
    return flow.evidence_download(file_id)


# (URL suffix, endpoint name, method, view)
VIEWS = (
    ("", "landing", "GET", landing),
    ("/resume", "resume", "GET", resume),
    ("/p/<int:n>", "page", "GET", page),
    ("/p/<int:n>", "save_page", "POST", save_page),
    ("/autosave", "autosave", "POST", autosave),
    ("/review", "review", "GET", review),
    ("/submit", "submit", "POST", submit),
    ("/receipt", "receipt", "GET", receipt),
    ("/evidencia/<int:file_id>", "evidence_download", "GET", evidence_download),
)


def register(bp: Blueprint, rule: str, with_flow: Callable[[Callable], Callable], prefix: str = "") -> None:
    """Add the questionnaire views to `bp` under `rule` (e.g. `/<token>`), each resolved by
    `with_flow`, as endpoints `<prefix><name>` (e.g. `respond.state_page`)."""
    for suffix, name, method, view in VIEWS:
        bp.add_url_rule(rule + suffix, prefix + name, with_flow(view), methods=[method])
