"""Views of the respondent flow: the questionnaire views behind a secret link, and its guards."""
from __future__ import annotations

import logging
from functools import partial, wraps

from flask import abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from diagnostic.extensions import csrf
from diagnostic.models import InstrumentPurpose, ResponseStatus
from diagnostic.questionnaire import views
from diagnostic.questionnaire.controller import Flow
from diagnostic.respond import bp
from diagnostic.services import campaigns, institutions, invitations, responses
from diagnostic.services.audit import Actor

log = logging.getLogger(__name__)
# The secret link is the respondent's only credential: no cookie authenticates them, so a
# cross-site page cannot act for them without knowing the link, and there is no session to
# expire mid-questionnaire. Flask-WTF's session-bound token would add nothing but that risk.
csrf.exempt(bp)


@bp.before_request
def refuse_cross_site_writes():
    """Defence in depth: a browser marks a POST sent by another site; refuse it before any work."""
    if request.method == "POST" and request.headers.get("Sec-Fetch-Site") == "cross-site":
        log.warning("cross-site POST refused on %s", request.endpoint)
        message = _("Este formulario solo puede enviarse desde Apertura.")
        if request.is_json or request.path.endswith("/autosave"):
            return jsonify(error="cross_site", message=message), 403
        return render_template("error.html", message=message, code=403), 403
    return None


@bp.after_request
def private(response):
    """Respondent pages carry a secret link: never cached by shared proxies, never sent as Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# Views that read the stored answers before any write: the answers come in the link's one query
# (any other view loads them when it first reads them, in a query of their own).
READS_ANSWERS = {views.landing, views.page, views.save_page, views.review, views.receipt}
# Views that show a submitted response's proof (reachable after the campaign closes).
PROOF = {views.receipt, views.landing, views.resume, views.evidence_download}


def _state_link(campaign, institution) -> bool:
    """True when the campaign has a state questionnaire and the institution answers it."""
    return (campaigns.instrument(campaign, InstrumentPurpose.STATE) is not None
            and institutions.is_state_respondent(campaign, institution))


def with_flow(view, *, purpose: InstrumentPurpose = InstrumentPurpose.INSTITUTION):
    """Resolve the token to an invitation and its response; a clear 404/410 page otherwise.

    With `purpose=STATE` the flow is the state conditions questionnaire, open only to the
    campaign's designated respondent of the institution's state.
    """

    @wraps(view)
    def wrapped(token: str, *args, **kwargs):
        try:
            try:
                invitation, response = invitations.resolve(token, purpose, with_answers=view in READS_ANSWERS)
            except invitations.InvitationError as exc:
                # The receipt is the institution's proof of submission: it stays reachable once the
                # campaign closes or the link expires (never when the link was replaced).
                if view is views.landing and exc.status == 410 and (to_reply := landing_redirect(token)):
                    return to_reply  # in review: the link shows the institution's scores (right of reply)
                if view not in PROOF or exc.status != 410:
                    raise
                invitation, response = invitations.resolve(token, purpose, with_answers=True, closed_ok=True)
                if response is None or response.status == ResponseStatus.DRAFT:
                    raise
        except invitations.InvitationError as exc:
            log.warning("invitation refused (%s) for %s", exc.status, request.path.split("/")[1])
            if request.is_json or request.path.endswith("/autosave"):
                return jsonify(error="invitation", message=exc.message), exc.status
            return render_template("questionnaire/invalid_link.html", message=exc.message, code=exc.status), exc.status
        if view is views.landing:  # the send log's "opened" (its own row; nothing else changes)
            from diagnostic.services.mailings import record_opened

            record_opened(invitation.id)
        campaign, institution = invitation.campaign, invitation.institution
        state = purpose == InstrumentPurpose.STATE
        if state and not _state_link(campaign, institution):
            abort(404)
        if response is None:  # not started: nothing is stored until the first save (Flow.started)
            response = responses.unsaved(campaign, purpose, institution)

        def other_questionnaire() -> str | None:
            """The link to the other questionnaire on this link, if the institution answers both
            (asked only by the pages that show it: one query fewer on every other request)."""
            if not (state or _state_link(campaign, institution)):
                return None
            return url_for("respond.landing" if state else "respond.state_landing", token=token)

        flow = Flow(response, Actor.for_invitation(invitation.id), "respond", {"token": token},
                    {"invitation": invitation, "other_questionnaire": other_questionnaire,
                     "state_questionnaire": state}, prefix="state_" if state else "", csrf=False)
        return view(flow, *args, **kwargs)

    return wrapped


# The institution questionnaire, and the state conditions questionnaire on the same link
# (designated respondents only).
views.register(bp, "/<token>", with_flow)
views.register(bp, "/<token>/estado", partial(with_flow, purpose=InstrumentPurpose.STATE), prefix="state_")


from diagnostic.respond.reply import landing_redirect  # noqa: E402  (its routes join this blueprint)
