"""Results portal: campaign overview, per-state report (HTML, PDF) and open data downloads."""
from __future__ import annotations

from flask import Response, abort, render_template, request

from diagnostic.reports import bp, pdf
from diagnostic.security import results_campaign
from diagnostic.services import exports, report, scores


@bp.get("/<slug>/")
def portal(slug: str):
    """All states of a campaign with their index, interval and rank interval."""
    campaign = results_campaign(slug)
    return render_template("reports/portal.html", campaign=campaign, rows=report.state_summaries(campaign))


def _state_page(slug: str, state: str, for_pdf: bool) -> tuple[report.StateReport, str]:
    # matplotlib takes 0.4 s to import: loaded when a report is first drawn, not at every worker's start
    from diagnostic.reports import charts

    built = report.build(results_campaign(slug), state)
    return built, render_template("reports/state.html", r=built, chart_svg=charts.headline_chart(built.headline),
                                  for_pdf=for_pdf)


@bp.get("/<slug>/<state>")
def state_html(slug: str, state: str):
    """The diagnostic report of one state."""
    return _state_page(slug, state, for_pdf=False)[1]


@bp.get("/<slug>/<state>.pdf")
def state_pdf(slug: str, state: str):
    """The same report as a PDF."""
    built, html = _state_page(slug, state, for_pdf=True)
    filename = f"apertura-{built.campaign.slug}-{built.abbr.lower()}.pdf"
    return Response(pdf.render(html, base_url=request.url_root), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.get("/<slug>/datos-<by>.csv")
def open_data(slug: str, by: str):
    """Open data: the score table by institution, state, type, order or nation (CSV, UTF-8)."""
    campaign = results_campaign(slug)
    if by not in scores.GROUPINGS:
        abort(404)
    body = exports.scores_csv(scores.compute(campaign), by)
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="apertura-{slug}-{by}.csv"'})
