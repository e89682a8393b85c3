"""Views of the respondent flow: thin wrappers around `diagnostic.flow.Flow`."""
from __future__ import annotations

import logging
from functools import wraps

from flask import abort, current_app, jsonify, redirect, render_template, request, session, url_for

from diagnostic.cache import LRU
from diagnostic.extensions import csrf
from diagnostic.flow import PAGE_CACHE, Flow, lang, page_cache_key, response_version, with_csrf
from diagnostic.models import InstrumentPurpose
from diagnostic.respond import bp
from diagnostic.services import campaigns, institutions, invitations, responses
from diagnostic.services.audit import Actor

log = logging.getLogger(__name__)
csrf.exempt(bp)  # checked inside each POST view so an expired session loses nothing

# token hash → response id of links resolved in the last RESPONDENT_CACHE_SECONDS (read-only
# page views only; every write resolves the link again).
LINKS = LRU(size=8192, ttl=5.0)


@bp.after_request
def private(response):
    """Respondent pages carry a secret link: never cached by shared proxies, never sent as Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def cached_page(token: str, n: int) -> str | None:
    """A respondent's page from the page cache, checking only the response's current version."""
    if "_flashes" in session or "_user_id" in session or request.args:
        return None
    LINKS.ttl = current_app.config["RESPONDENT_CACHE_SECONDS"]
    response_id = LINKS.get(invitations.hash_token(token))
    if response_id is None:
        return None
    version = response_version(response_id)
    if version is None:
        return None
    html = PAGE_CACHE.get(page_cache_key(response_id, version, "respond", n, lang(), None))
    return with_csrf(html) if html is not None else None


def with_flow(view=None, *, purpose: InstrumentPurpose = InstrumentPurpose.INSTITUTION):
    """Resolve the token to an invitation and its response; a clear 404/410 page otherwise.

    With `purpose=STATE` the flow is the state conditions questionnaire, open only to the
    campaign's designated respondent of the institution's state.
    """
    if view is None:
        return lambda v: with_flow(v, purpose=purpose)

    @wraps(view)
    def wrapped(token: str, *args, **kwargs):
        try:
            invitation = invitations.resolve(token)
        except invitations.InvitationError as exc:
            log.warning("invitation refused (%s) for %s", exc.status, request.path.split("/")[1])
            if request.is_json or request.path.endswith("/autosave"):
                return jsonify(error="invitation", message=exc.message), exc.status
            return render_template("questionnaire/invalid_link.html", message=exc.message, code=exc.status), exc.status
        campaign, institution = invitation.campaign, invitation.institution
        state_link = (campaigns.instrument(campaign, InstrumentPurpose.STATE) is not None
                      and institutions.is_state_respondent(campaign, institution))
        if purpose == InstrumentPurpose.STATE and not state_link:
            abort(404)
        response = responses.get_or_create(campaign, purpose, institution)
        if purpose == InstrumentPurpose.INSTITUTION and current_app.config["RESPONDENT_CACHE_SECONDS"]:
            LINKS.set(invitations.hash_token(token), response.id)
        prefix = "state_" if purpose == InstrumentPurpose.STATE else ""
        other = None
        if state_link:
            other = url_for("respond.landing" if prefix else "respond.state_landing", token=token)
        flow = Flow(response, Actor.for_invitation(invitation.id), "respond", {"token": token},
                    {"invitation": invitation, "other_questionnaire": other,
                     "state_questionnaire": purpose == InstrumentPurpose.STATE}, prefix=prefix)
        return view(flow, *args, **kwargs)

    return wrapped


@bp.get("/<token>")
@with_flow
def landing(flow: Flow):
    """Landing page of an invitation."""
    return flow.landing()


@bp.get("/<token>/resume")
@with_flow
def resume(flow: Flow):
    """Continue where the respondent left off."""
    if flow.readonly:
        return redirect(flow.url("receipt"))
    return redirect(flow.url("page", n=flow.response.last_page))


@bp.get("/<token>/p/<int:n>")
def page(token: str, n: int):
    """One page of the questionnaire (served from the page cache when nothing changed)."""
    return cached_page(token, n) or _page(token, n)


@with_flow
def _page(flow: Flow, n: int):
    return flow.page(n)


@bp.post("/<token>/p/<int:n>")
@with_flow
def save_page(flow: Flow, n: int):
    """Save one page and move on."""
    return flow.post_page(n)


@bp.post("/<token>/autosave")
@with_flow
def autosave(flow: Flow):
    """Background save of fields typed so far (JSON)."""
    return flow.autosave()


@bp.get("/<token>/review")
@with_flow
def review(flow: Flow):
    """Pending questions and the submit button."""
    return flow.review()


@bp.post("/<token>/submit")
@with_flow
def submit(flow: Flow):
    """Submit the response."""
    return flow.submit()


@bp.get("/<token>/receipt")
@with_flow
def receipt(flow: Flow):
    """Printable receipt with the answers' fingerprint."""
    return flow.receipt()


# The state conditions questionnaire on the same link (designated respondents only).
STATE = InstrumentPurpose.STATE


@bp.get("/<token>/estado")
@with_flow(purpose=STATE)
def state_landing(flow: Flow):
    """Landing page of the state conditions questionnaire."""
    return flow.landing()


@bp.get("/<token>/estado/resume")
@with_flow(purpose=STATE)
def state_resume(flow: Flow):
    """Continue the state questionnaire where it was left."""
    if flow.readonly:
        return redirect(flow.url("receipt"))
    return redirect(flow.url("page", n=flow.response.last_page))


@bp.get("/<token>/estado/p/<int:n>")
@with_flow(purpose=STATE)
def state_page(flow: Flow, n: int):
    """One page of the state questionnaire."""
    return flow.page(n)


@bp.post("/<token>/estado/p/<int:n>")
@with_flow(purpose=STATE)
def state_save_page(flow: Flow, n: int):
    """Save one page of the state questionnaire."""
    return flow.post_page(n)


@bp.post("/<token>/estado/autosave")
@with_flow(purpose=STATE)
def state_autosave(flow: Flow):
    """Background save of the state questionnaire (JSON)."""
    return flow.autosave()


@bp.get("/<token>/estado/review")
@with_flow(purpose=STATE)
def state_review(flow: Flow):
    """Pending questions of the state questionnaire."""
    return flow.review()


@bp.post("/<token>/estado/submit")
@with_flow(purpose=STATE)
def state_submit(flow: Flow):
    """Submit the state questionnaire."""
    return flow.submit()


@bp.get("/<token>/estado/receipt")
@with_flow(purpose=STATE)
def state_receipt(flow: Flow):
    """Receipt of the state questionnaire."""
    return flow.receipt()
