"""The `apertura` command: the Flask CLI of this app (`apertura X` = `flask --app wsgi X`)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def init_app(app: Flask) -> None:
    """Register every command: the pure libraries' and the app's (the only place that does)."""
    from diagnostic.analyst.cli import score_command
    from diagnostic.api.cli import api_group
    from scoring.cli import model_group, rollup
    from surveys.cli import survey

    for command in (survey, rollup, model_group, db_group, users_group, institutions_group, invitations_group,
                    demo_command, score_command, api_group):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from diagnostic import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Apertura: diagnostic of institutional openness."""


# ------------------------------------------------------------------ db
@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from diagnostic import database

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    database.upgrade(url, revision)
    click.echo(f"database at revision {database.current(url)}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION (`base` empties it)."""
    from diagnostic import database

    database.downgrade(current_app.config["SQLALCHEMY_DATABASE_URI"], revision)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the revision the database is at."""
    from diagnostic import database

    click.echo(database.current(current_app.config["SQLALCHEMY_DATABASE_URI"]) or "(empty)")


# ------------------------------------------------------------------ users
@click.group("users")
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "analyst", "evaluator"]), required=True)
@click.option("--name", default="", help="Display name (default: the e-mail).")
@click.password_option("--password", help="At least 8 characters (prompted when omitted).")
@with_appcontext
def users_create(email: str, role: str, name: str, password: str) -> None:
    """Create a staff account."""
    from diagnostic.services import ServiceError, users

    try:
        user = users.create(email, name or email, role, password)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {user.email} ({user.role.value})")


# ------------------------------------------------------------------ institutions
@click.group("institutions")
def institutions_group() -> None:
    """The institution registry."""


@institutions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "slug", help="Also include the institutions in this campaign.")
@with_appcontext
def institutions_import(file: Path, slug: str | None) -> None:
    """Import institutions from CSV or XLSX (every bad row reported; nothing half-imported)."""
    from diagnostic.services import ServiceError, campaigns, institutions

    try:
        campaign = campaigns.get_by_slug(slug) if slug else None
        report = institutions.import_file(file.read_bytes(), file.name, campaign=campaign)
    except institutions.ImportRejected as exc:
        for error in exc.errors:
            click.echo(f"{file.name}:{error}", err=True)
        raise click.ClickException(exc.message) from None
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{report.created} created, {report.updated} updated, {report.added_to_campaign} added to campaign"
               + (f", {report.state_respondents} state respondents designated" if report.state_respondents else ""))


# ------------------------------------------------------------------ invitations
@click.group("invitations")
def invitations_group() -> None:
    """Invitation links of respondent institutions."""


@invitations_group.command("export")
@click.option("--campaign", "slug", required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file to write (default: standard output).")
@click.option("--reissue", is_flag=True, help="Replace links already issued (old links stop working).")
@click.option("--base-url", default=None, help="Base of the links (default: PUBLIC_URL or http://127.0.0.1:5000).")
@with_appcontext
def invitations_export(slug: str, out: Path | None, reissue: bool, base_url: str | None) -> None:
    """Issue links for the campaign's institutions and write them as CSV (shown only once)."""
    from diagnostic.services import ServiceError, campaigns, institutions, invitations

    try:
        campaign = campaigns.get_by_slug(slug)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    links = invitations.issue(campaign, institutions.in_campaign(campaign), reissue=reissue,
                              days=current_app.config["INVITATION_DAYS"])
    base = base_url or current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000"
    body = invitations.links_csv(links, base)
    if out is None:
        click.echo(body, nl=False)
    else:
        out.write_text(body, encoding="utf-8")
        click.echo(f"{len(links)} links written to {out}", err=True)
    if not links:
        click.echo("no new links: every institution already has one (use --reissue to replace them)", err=True)


# ------------------------------------------------------------------ demo
@click.command("demo")
@click.option("--seed", type=int, default=2017, show_default=True)
@click.option("--institutions", "n_institutions", type=int, default=1200, show_default=True)
@click.option("--password", default="apertura-demo", show_default=True, help="Password of the demo accounts.")
@with_appcontext
def demo_command(seed: int, n_institutions: int, password: str) -> None:
    """Build a realistic demo campaign (migrates an empty database first)."""
    from diagnostic import database
    from diagnostic.services import demo

    database.upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    summary = demo.build(seed=seed, n_institutions=n_institutions, password=password)
    for line in summary.lines():
        click.echo(line)
