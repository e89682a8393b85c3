"""Results portal: campaign overview, per-state and national reports (HTML, PDF) and open data.

Reports are built once per report fingerprint and served from storage
(`services.report_cache`); the views only check who may read the campaign.
"""
from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import get_locale

from diagnostic.reports import bp
from diagnostic.security import results_campaign
from diagnostic.services import national as national_report
from diagnostic.services import opendata, report, report_cache, scores


def _lang() -> str:
    return "en" if str(get_locale() or "es") == "en" else "es"


def render_state(campaign, code: str, for_pdf: bool) -> str:
    """The HTML of a state report (also the source of its PDF)."""
    from diagnostic.reports import charts

    built = report.build(campaign, code)
    return render_template("reports/state.html", r=built, charts=charts.for_state(built, _lang() == "en"),
                           for_pdf=for_pdf)


def render_national(campaign, for_pdf: bool) -> str:
    """The HTML of the national report (also the source of its PDF)."""
    from diagnostic.reports import charts

    built = national_report.build(campaign)
    return render_template("reports/national.html", n=built, charts=charts.for_nation(built, _lang() == "en"),
                           for_pdf=for_pdf)


def state_bytes(campaign, code: str, fmt: str) -> bytes:
    """A state report as stored bytes (built on the first request after the data changed)."""
    from diagnostic.reports import pdf

    lang = _lang()
    if fmt == "pdf":
        return report_cache.get_or_build(campaign, f"state-{code}-{lang}", "pdf",
                                         lambda: pdf.render(render_state(campaign, code, True), request.url_root
                                                            if request else "http://localhost/"))
    return report_cache.get_or_build(campaign, f"state-{code}-{lang}", "html",
                                     lambda: render_state(campaign, code, False).encode())


def national_bytes(campaign, fmt: str) -> bytes:
    """The national report as stored bytes."""
    from diagnostic.reports import pdf

    lang = _lang()
    if fmt == "pdf":
        return report_cache.get_or_build(campaign, f"nation-{lang}", "pdf",
                                         lambda: pdf.render(render_national(campaign, True), request.url_root
                                                            if request else "http://localhost/"))
    return report_cache.get_or_build(campaign, f"nation-{lang}", "html",
                                     lambda: render_national(campaign, False).encode())


@bp.get("/<slug>/")
def portal(slug: str):
    """All states of a campaign with their index, interval and rank interval, sortable without JavaScript."""
    campaign = results_campaign(slug)
    sort = request.args.get("orden", "indice")
    desc = request.args.get("dir", "desc" if sort in ("indice", "n") else "asc") != "asc"
    rows = report.sorted_summaries(report.state_summaries(campaign), sort, desc)
    return render_template("reports/portal.html", campaign=campaign, rows=rows, sort=sort, desc=desc,
                           nation=report.national_summary(campaign), title=report.campaign_title(campaign),
                           for_pdf=False)


@bp.get("/<slug>/nacional")
def national(slug: str):
    """The national report."""
    campaign = results_campaign(slug)
    return Response(national_bytes(campaign, "html"), mimetype="text/html")


@bp.get("/<slug>/nacional.pdf")
def national_pdf(slug: str):
    """The national report as a PDF."""
    campaign = results_campaign(slug)
    return Response(national_bytes(campaign, "pdf"), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="apertura-{campaign.slug}-nacional.pdf"'})


@bp.get("/<slug>/<state>")
def state_html(slug: str, state: str):
    """The diagnostic report of one state."""
    code = report.resolve_state(state)
    campaign = results_campaign(slug, code)  # unpublished: a state account reads its own states only
    return Response(state_bytes(campaign, code, "html"), mimetype="text/html")


@bp.get("/<slug>/<state>.pdf")
def state_pdf(slug: str, state: str):
    """The same report as a PDF."""
    from scoring import states

    code = report.resolve_state(state)
    campaign = results_campaign(slug, code)
    body = state_bytes(campaign, code, "pdf")
    filename = f"apertura-{campaign.slug}-{states.by_code(code).abbr.lower()}.pdf"
    return Response(body, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _csv_download(campaign, slug: str, name: str, build) -> Response:
    """A stored (or built once) CSV of the data package, as a download."""
    body = report_cache.get_or_build(campaign, f"open-{name}", "csv", build)
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="apertura-{slug}-{name}.csv"'})


@bp.get("/<slug>/datos-<by>.csv")
def open_data(slug: str, by: str):
    """Open data: the score table by institution, state, type, order or nation (CSV, UTF-8 with BOM)."""
    campaign = results_campaign(slug)
    if by not in scores.GROUPINGS:
        abort(404)
    return _csv_download(campaign, slug, by, lambda: opendata.scores_csv(campaign, by))


@bp.get("/<slug>/datos/<name>.csv")
def open_resource(slug: str, name: str):
    """Any resource of the data package as CSV (answers, instruments, model, dictionary)."""
    campaign = results_campaign(slug)
    if name not in opendata.RESOURCES:
        abort(404)
    return _csv_download(campaign, slug, name, lambda: opendata.resource_csv(campaign, name))


@bp.get("/<slug>/datos.xlsx")
def open_xlsx(slug: str):
    """Every table of the data package in one workbook."""
    campaign = results_campaign(slug)
    return Response(report_cache.get_or_build(campaign, "open-all", "xlsx", lambda: opendata.workbook(campaign)),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="apertura-{slug}.xlsx"'})


@bp.get("/<slug>/datapackage.json")
def datapackage(slug: str):
    """The Frictionless Data package describing every open-data resource of the campaign."""
    campaign = results_campaign(slug)
    body = report_cache.get_or_build(campaign, "datapackage", "json",
                                     lambda: opendata.datapackage_json(campaign).encode())
    return Response(body, mimetype="application/json")

