"""Results portal: campaign overview, per-state report (HTML, PDF) and open data downloads."""
from __future__ import annotations

from flask import Response, abort, render_template, request

from diagnostic.reports import bp
from diagnostic.security import results_campaign
from diagnostic.services import exports, report


@bp.get("/<slug>/")
def portal(slug: str):
    """All states of a campaign with their index, interval and rank interval."""
    campaign = results_campaign(slug)
    return render_template("reports/portal.html", campaign=campaign, rows=report.state_summaries(campaign))


@bp.get("/<slug>/<state>")
def state_html(slug: str, state: str):
    """The diagnostic report of one state."""
    built = report.build(results_campaign(slug), state)
    return render_template("reports/state.html", r=built, for_pdf=False)


@bp.get("/<slug>/<state>.pdf")
def state_pdf(slug: str, state: str):
    """The same report as a PDF (WeasyPrint)."""
    built = report.build(results_campaign(slug), state)
    html = render_template("reports/state.html", r=built, for_pdf=True)
    body = report.pdf(html, base_url=request.url_root)
    filename = f"apertura-{built.campaign.slug}-{built.abbr.lower()}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.get("/<slug>/datos-<by>.csv")
def open_data(slug: str, by: str):
    """Open data: the score table by institution, state, type, order or nation (CSV, UTF-8)."""
    campaign = results_campaign(slug)
    from diagnostic.services import scores

    if by not in scores.GROUPINGS:
        abort(404)
    body = exports.scores_csv(scores.compute(campaign), by)
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="apertura-{slug}-{by}.csv"'})
