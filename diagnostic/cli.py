"""The `apertura` command: the Flask CLI of this app (`apertura X` = `flask --app wsgi X`).

Every command of the app lives here, each a thin wrapper around a service; the pure
libraries' commands (`survey`, `rollup`, `model`) come from `surveys.cli` and `scoring.cli`.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from diagnostic.services import ServiceError, scores


def init_app(app: Flask) -> None:
    """Register every command (the only place that does)."""
    from scoring.cli import model_group, rollup
    from surveys.cli import survey

    for command in (survey, rollup, model_group, db_group, users_group, institutions_group, invitations_group,
                    demo_command, score_command, api_group, backup_command, restore_command, privacy_group):
        app.cli.add_command(command)


def refusals_exit(command: Callable) -> Callable:
    """A service's refusal ends the command with its message and details (exit 1), not a trace."""

    @wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ServiceError as exc:
            raise click.ClickException("\n  ".join([exc.message, *exc.details_for("es")])) from None

    return wrapped


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
@refusals_exit
def users_create(email: str, role: str, name: str, password: str) -> None:
    """Create a staff account."""
    from diagnostic.services import users

    user = users.create(email, name or email, role, password)
    click.echo(f"created {user.email} ({user.role.value})")


@users_group.command("deactivate")
@click.argument("email")
@with_appcontext
@refusals_exit
def users_deactivate(email: str) -> None:
    """Deactivate an account: no sign-in, no API, its open sessions end at once."""
    from diagnostic.services import users

    user = users.set_active(email, False)
    click.echo(f"deactivated {user.email}")


@users_group.command("activate")
@click.argument("email")
@with_appcontext
@refusals_exit
def users_activate(email: str) -> None:
    """Reactivate a deactivated account."""
    from diagnostic.services import users

    user = users.set_active(email, True)
    click.echo(f"activated {user.email}")


# ------------------------------------------------------------------ institutions
@click.group("institutions")
def institutions_group() -> None:
    """The institution registry."""


@institutions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "slug", help="Also include the institutions in this campaign.")
@with_appcontext
@refusals_exit
def institutions_import(file: Path, slug: str | None) -> None:
    """Import institutions from CSV or XLSX (every bad row reported; nothing half-imported)."""
    from diagnostic.services import campaigns, institutions

    try:
        campaign = campaigns.get_by_slug(slug) if slug else None
        report = institutions.import_file(file.read_bytes(), file.name, campaign=campaign)
    except institutions.ImportRejected as exc:
        for error in exc.errors:
            click.echo(f"{file.name}:{error}", err=True)
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
@refusals_exit
def invitations_export(slug: str, out: Path | None, reissue: bool, base_url: str | None) -> None:
    """Issue links for the campaign's institutions and write them as CSV (shown only once)."""
    from diagnostic.services import campaigns, institutions, invitations

    campaign = campaigns.get_by_slug(slug)
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


# ------------------------------------------------------------------ scores
def run_score(slug: str, *, by: str = "state", level: str = scores.HEADLINE, fmt: str = "csv",
              seed: int = scores.DEFAULT_SEED) -> str:
    """The text `apertura score` prints: the score table of a campaign as CSV or JSON."""
    from diagnostic.services import campaigns, exports

    campaign = campaigns.get_by_slug(slug)
    computed = scores.compute(campaign, seed=seed)
    if fmt == "json":
        return exports.scores_json(campaign, computed, by, level)
    return exports.scores_csv(computed, by, level)


@click.command("score")
@click.option("--campaign", "slug", required=True, help="Campaign slug / identificador de la campaña.")
@click.option("--by", type=click.Choice(scores.GROUPINGS), default="state", show_default=True)
@click.option("--level", default=scores.HEADLINE, show_default=True,
              help="headline (index, dimensions, sub-indices) or a model level (component, item…).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
@click.option("--seed", type=int, default=scores.DEFAULT_SEED, show_default=True,
              help="Seed of the resampling (bootstrap) behind intervals.")
@with_appcontext
@refusals_exit
def score_command(slug: str, by: str, level: str, fmt: str, out: str | None, seed: int) -> None:
    """Score a campaign by institution, state, type, order or for the nation."""
    text = run_score(slug, by=by, level=level, fmt=fmt, seed=seed)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


# ------------------------------------------------------------------ api
@click.group("api")
def api_group() -> None:
    """The JSON API (/api/v1)."""


@api_group.command("token")
@click.argument("email")
@with_appcontext
@refusals_exit
def token_command(email: str) -> None:
    """Issue an API token for a staff account (replaces the previous one) and print it once."""
    from diagnostic.services import tokens

    click.echo(tokens.issue_for_email(email))


# ------------------------------------------------------------------ backup / restore
@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@refusals_exit
def backup_command(out: Path) -> None:
    """Write a consistent snapshot of the database to OUT (SQLite online backup or pg_dump)."""
    from diagnostic.services import backup

    backup.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], out)
    click.echo(f"backup written to {out}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: replace the current database.")
@with_appcontext
@refusals_exit
def restore_command(source: Path, yes: bool) -> None:
    """Replace the whole database by the back-up SOURCE (stop the app first)."""
    from diagnostic.services import backup

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not yes:
        click.confirm(f"Replace every table of {url.rsplit('@', 1)[-1]} by {source}?", abort=True)
    from diagnostic.extensions import db

    db.engine.dispose()
    backup.restore(url, source)
    click.echo(f"restored from {source}")


# ------------------------------------------------------------------ personal data
@click.group("privacy")
def privacy_group() -> None:
    """Contacts' personal data: erasure on request and retention periods."""


@privacy_group.command("erase-contact")
@click.argument("key")
@click.option("--reason", default="request", show_default=True, help="Why (kept in the audit log).")
@with_appcontext
@refusals_exit
def erase_contact_command(key: str, reason: str) -> None:
    """Erase the contact name and e-mail of the institution KEY (the audit log keeps that, not them)."""
    from diagnostic.services import privacy

    institution = privacy.erase_contact(key, reason=reason)
    click.echo(f"contact of {institution.key} erased")


@privacy_group.command("retention")
@click.option("--campaign", "slug", required=True)
@click.argument("days", required=False, type=int)
@click.option("--forever", is_flag=True, help="No retention period (keep until erased by hand).")
@with_appcontext
@refusals_exit
def retention_command(slug: str, days: int | None, forever: bool) -> None:
    """Set how many DAYS after the close date the campaign's contacts are kept."""
    from diagnostic.services import campaigns, privacy

    campaign = privacy.set_retention(campaigns.get_by_slug(slug), None if forever else days)
    shown = "no period" if campaign.retention_days is None else f"{campaign.retention_days} days after closing"
    click.echo(f"{campaign.slug}: contacts kept {shown}")


@privacy_group.command("apply")
@click.option("--dry-run", is_flag=True, help="Only list what would be erased.")
@with_appcontext
def apply_retention_command(dry_run: bool) -> None:
    """Erase contacts of institutions whose every campaign is past its retention period."""
    from diagnostic.services import privacy

    report = privacy.apply_retention(dry_run=dry_run)
    verb = "would erase" if dry_run else "erased"
    click.echo(f"{len(report.expired_campaigns)} campaigns past retention; {verb} {len(report.erased)} contacts")
    for key in report.erased:
        click.echo(f"  {key}")
