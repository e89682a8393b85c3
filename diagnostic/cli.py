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
                    demo_command, score_command, api_group, campaign_group, evidence_group, report_command,
                    responses_group, backup_command, restore_command, privacy_group, second_group):
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


def _add_library_commands() -> None:
    """The pure libraries' commands (`survey`, `rollup`, `model`) belong to `apertura` itself, so
    FlaskGroup finds them without building the app: checking a file never opens a database."""
    from scoring.cli import model_group, rollup
    from surveys.cli import survey

    for command in (survey, rollup, model_group):
        main.add_command(command)


_add_library_commands()


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
@click.option("--state", "states", multiple=True,
              help="Limit an analyst to this state (INEGI code or name; repeatable). None: national.")
@click.password_option("--password", help="At least 8 characters (prompted when omitted).")
@with_appcontext
@refusals_exit
def users_create(email: str, role: str, name: str, states: tuple[str, ...], password: str) -> None:
    """Create a staff account (an analyst with --state sees only those states' institutions)."""
    from diagnostic.services import users

    try:
        user = users.create(email, name or email, role, password, states=states)
    except ServiceError as exc:
        raise click.ClickException(_bilingual(exc)) from None
    click.echo(f"created {user.email} ({user.role.value}, {users.scope_label(user.state_codes, 'en')})")


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """Every staff account: e-mail, role, scope (national or its states), active."""
    from diagnostic.services import users

    for user in users.list_by_role():
        codes = " ".join(sorted(user.state_codes))
        scope = f"{codes} ({users.scope_label(user.state_codes, 'es')})" if codes else users.scope_text(user, "es")
        click.echo(f"{user.email}\t{user.role.value}\t{scope}\t{'activa' if user.active else 'desactivada'}")


@users_group.command("scope")
@click.argument("email")
@click.option("--state", "states", multiple=True, help="A state (INEGI code or name; repeatable).")
@click.option("--national", is_flag=True, help="Remove every state: the account becomes national.")
@with_appcontext
@refusals_exit
def users_scope(email: str, states: tuple[str, ...], national: bool) -> None:
    """Change the states an analyst is limited to (recorded in the audit log)."""
    from diagnostic.services import Refusal, ServiceError, users

    if bool(states) == national:
        raise click.UsageError("give --state CODE (repeatable) or --national / indique --state o --national")
    user = users.get_by_email(email)
    if user is None:
        raise ServiceError(Refusal.NO_ACCOUNT_WITH_EMAIL, email=email)
    try:
        changed = users.set_states(user, () if national else states)
    except ServiceError as exc:
        raise click.ClickException(_bilingual(exc)) from None
    click.echo(f"{user.email}: {users.scope_label(user.state_codes, 'en')}" + ("" if changed else " (unchanged)"))


def _bilingual(exc: ServiceError) -> str:
    """A refusal in Spanish and English (account set-up is often scripted by people of either)."""
    return f"{exc.message_for('es')}\n  {exc.message_for('en')}"


def scope_option(command: Callable) -> Callable:
    """`--user EMAIL`: run as that account, narrowed to its states (default: national operator)."""
    return click.option("--user", "as_user", default=None, metavar="EMAIL",
                        help="Apply this account's state scope (default: national, every institution).")(command)


def scope_for(email: str | None):
    """The scope of the account `--user` names (national without one); refuses an unknown e-mail."""
    from diagnostic.security import NATIONAL, scope_of
    from diagnostic.services import Refusal, ServiceError, users

    if not email:
        return NATIONAL
    user = users.get_by_email(email)
    if user is None or not user.active:
        raise ServiceError(Refusal.NO_ACCOUNT_WITH_EMAIL, email=email)
    return scope_of(user)


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
@click.option("--campaign", "slug", help="Also include the institutions in this campaign's roster.")
@click.option("--dry-run", is_flag=True, help="Show what would be created, updated or left alone; write nothing.")
@with_appcontext
@refusals_exit
def institutions_import(file: Path, slug: str | None, dry_run: bool) -> None:
    """Import institutions from CSV or XLSX: a preview, then (unless --dry-run) the import, all or nothing."""
    from diagnostic.services import campaigns, institutions

    try:
        campaign = campaigns.get_by_slug(slug) if slug else None
        plan = institutions.plan_import(file.read_bytes(), file.name, campaign=campaign)
    except institutions.ImportRejected as exc:
        for error in exc.errors:
            click.echo(f"{file.name}:{error}", err=True)
        raise click.ClickException(exc.message) from None
    for line in institutions.describe_plan(plan):
        click.echo(line)
    click.echo(plan.summary())
    if plan.errors:
        for error in sorted(plan.errors, key=lambda e: e.row):
            click.echo(f"{file.name}:{error}", err=True)
        raise click.ClickException(institutions.rejection(plan).message)
    if dry_run:
        click.echo("dry run: nothing was written")
        return
    report = institutions.apply_import(plan, campaign=campaign)
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
@click.option("--if-empty", is_flag=True,
              help="Only when the database has no campaign (otherwise just migrate it); `make run` uses this.")
@with_appcontext
def demo_command(seed: int, n_institutions: int, password: str, if_empty: bool) -> None:
    """Build a realistic demo campaign (migrates an empty database first)."""
    from diagnostic import database
    from diagnostic.services import campaigns, demo

    database.upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    existing = campaigns.all_campaigns() if if_empty else []
    if existing:
        click.echo(f"database has {len(existing)} campaign(s): migrated, demo not built")
        return
    summary = demo.build(seed=seed, n_institutions=n_institutions, password=password)
    for line in summary.lines():
        click.echo(line)


# ------------------------------------------------------------------ scores
def run_score(slug: str, *, by: str = "state", level: str = scores.HEADLINE, fmt: str = "csv",
              seed: int = scores.DEFAULT_SEED, user: str | None = None) -> str:
    """The text `apertura score` prints: the score table of a campaign as CSV or JSON (with `user`,
    the rows that account's state scope allows, as on its web table)."""
    from diagnostic.services import campaigns, exports

    campaign = campaigns.get_by_slug(slug)
    computed = scores.for_reader(campaign, seed=seed, scope=scope_for(user))
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
@scope_option
@with_appcontext
@refusals_exit
def score_command(slug: str, by: str, level: str, fmt: str, out: str | None, seed: int, as_user: str | None) -> None:
    """Score a campaign by institution, state, type, order or for the nation."""
    text = run_score(slug, by=by, level=level, fmt=fmt, seed=seed, user=as_user)
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


# ------------------------------------------------------------------ evidence
@click.group("evidence")
def evidence_group() -> None:
    """Evidence links and files (methodology §9.6)."""


@evidence_group.command("check")
@click.option("--campaign", "slug", required=True, help="Campaign slug / identificador de la campaña.")
@click.option("--stage", type=click.Choice(["submitted", "verified", "published"]), default="verified",
              show_default=True, help="When this check happens (kept with each result).")
@with_appcontext
@refusals_exit
def evidence_check(slug: str, stage: str) -> None:
    """Check every evidence link cited in the campaign's submitted responses and keep the results."""
    from diagnostic.services import campaigns, evidence

    campaign = campaigns.get_by_slug(slug)
    with click.progressbar(length=max(1, len(evidence.cited_links(campaign))), label="Enlaces") as bar:
        summary = evidence.check_campaign_links(campaign, stage=stage, progress=lambda done, total: bar.update(1))
    click.echo(f"{summary['checked']} enlaces revisados: {summary['reachable']} responden, "
               f"{summary['unreachable']} no responden.")


@evidence_group.command("pending")
@click.option("--campaign", "slug", default=None, help="One campaign (default: every campaign).")
@click.option("--dry-run", is_flag=True, help="Only count the pending checks.")
@with_appcontext
@refusals_exit
def evidence_pending(slug: str | None, dry_run: bool) -> None:
    """Check the evidence links still waiting for their check: at submission, at verification and,
    in a published campaign, at publication (run it from cron; each link bounded)."""
    import sqlalchemy as sa

    from diagnostic.extensions import db
    from diagnostic.models import Campaign
    from diagnostic.services import campaigns, evidence

    targets = [campaigns.get_by_slug(slug)] if slug else list(db.session.scalars(sa.select(Campaign).order_by(Campaign.id)))
    for campaign in targets:
        pending = evidence.pending_checks(campaign)
        counts = ", ".join(f"{stage}: {len(urls)}" for stage, urls in pending.items())
        click.echo(f"{campaign.slug}: pendientes {counts}")
        if dry_run:
            continue
        for stage, summary in evidence.check_pending(campaign).items():
            click.echo(f"  {stage}: {summary['checked']} revisados, {summary['reachable']} responden, "
                       f"{summary['unreachable']} no responden")
# ------------------------------------------------------------------ campaigns
@click.group("campaign")
def campaign_group() -> None:
    """Campaigns: list, show, and choose the index model."""


@campaign_group.command("list")
@with_appcontext
def campaign_list() -> None:
    """Every campaign: identifier, year, status and name."""
    from diagnostic import labels
    from diagnostic.services import campaigns

    for c in campaigns.all_campaigns():
        model = f"{c.index_model.model_id} {c.index_model.version}" if c.index_model else "-"
        click.echo(f"{c.slug}\t{c.year}\t{labels.label(c.status, lang='es')}\t{model}\t{c.name}")


@campaign_group.command("show")
@click.argument("slug")
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
@with_appcontext
@refusals_exit
def campaign_show(slug: str, lang: str) -> None:
    """A campaign's status, questionnaires, index model and checklist before opening."""
    from diagnostic import labels
    from diagnostic.models import InstrumentPurpose
    from diagnostic.services import campaigns

    c = campaigns.get_by_slug(slug)
    click.echo(f"{c.name} ({c.year}) · {c.slug} · {labels.label(c.status, lang=lang)}")
    for purpose in InstrumentPurpose:
        version = campaigns.instrument(c, purpose)
        text = f"{version.title} {version.version} {version.content_hash[:19]}" if version else "-"
        click.echo(f"  {labels.label(purpose, lang=lang)}: {text}")
    model = f"{c.index_model.model_id} {c.index_model.version} {c.index_model.content_hash[:19]}" if c.index_model else "-"
    click.echo(f"  {'index model' if lang == 'en' else 'modelo de índice'}: {model}")
    for item in campaigns.checklist(c, invitation_days=current_app.config["INVITATION_DAYS"]):
        mark = "ok" if item.ok else ("MISSING" if lang == "en" else "FALTA") if item.blocking else ("warning" if lang == "en" else "aviso")
        click.echo(f"  [{mark}] {item.text.text(lang)}")
        for detail in item.details:
            click.echo(f"      {detail.text(lang)}")


@campaign_group.command("model")
@click.argument("slug")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shipped", "shipped", default=None, help="A shipped model: apertura, conditions, metrica-2017.")
@with_appcontext
@refusals_exit
def campaign_model(slug: str, file: Path | None, shipped: str | None) -> None:
    """Give campaign SLUG an index model: a shipped one (--shipped NAME) or a FILE (YAML), checked
    against the campaign's questionnaires with `apertura model check`'s located messages."""
    from diagnostic.services import campaigns, index_models

    if bool(file) == bool(shipped):
        raise click.UsageError("give either --shipped NAME or FILE / indique --shipped NOMBRE o un ARCHIVO")
    c = campaigns.get_by_slug(slug)
    if shipped:
        stored, checked = index_models.choose(c, shipped=shipped)
    else:
        stored, checked = index_models.choose(c, source=file.read_bytes(), filename=file.name)
    for warning in checked.warnings:
        click.echo(f"aviso / warning: {warning.es}", err=True)
    click.echo(f"{c.slug}: index model {stored.model_id} {stored.version} ({stored.content_hash[:19]})")
# ------------------------------------------------------------------ invitations by e-mail
@invitations_group.command("send")
@click.option("--campaign", "slug", required=True, help="Campaign slug / identificador de la campaña.")
@click.option("--remind", is_flag=True, help="Remind institutions already invited that have not submitted.")
@click.option("--state", "state", default=None, help="Only this state (INEGI code, e.g. 22).")
@click.option("--type", "type_", default=None, help="Only this institution type (e.g. municipio).")
@click.option("--lang", type=click.Choice(["es", "en", "es+en"]), default=None,
              help="Language of the messages (default: each institution's, else MAIL_LANGUAGE).")
@click.option("--base-url", default=None, help="Base of the links (default: PUBLIC_URL or http://127.0.0.1:5000).")
@click.option("--dry-run", is_flag=True, help="Only say how many messages would be sent.")
@with_appcontext
@refusals_exit
def invitations_send(slug: str, remind: bool, state: str | None, type_: str | None, lang: str | None,
                     base_url: str | None, dry_run: bool) -> None:
    """E-mail invitations (or, with --remind, reminders) to the campaign's pending institutions.

    Nobody who has submitted gets a message. Without MAIL_SERVER the messages are written to
    the outbox folder (instance/outbox). Exit 1 when any message was refused."""
    from diagnostic.services import campaigns, mail, mailings

    campaign = campaigns.get_by_slug(slug)
    kind = "reminder" if remind else "invitation"
    if state and state.isdigit():
        state = state.zfill(2)
    plan = mailings.plan(campaign, kind, state=state, type_=type_)
    skipped = len(plan.no_email) + len(plan.not_invited) + len(plan.link_unusable)
    if dry_run:
        click.echo(f"{len(plan.targets)} {kind}s would be sent, {skipped} skipped "
                   f"({len(plan.no_email)} without e-mail, {len(plan.not_invited)} never invited, "
                   f"{len(plan.link_unusable)} with a revoked or expired link)")
        return
    report = mailings.send(campaign, kind, state=state, type_=type_, lang=lang,
                           base_url=base_url or current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000")
    for failure in report.failed:
        click.echo(f"failed: {failure.recipient} ({failure.institution}): {failure.reason}", err=True)
    where = f" to the outbox {mail.outbox_dir()}" if mail.uses_outbox() else f" via {report.delivery}" if report.delivery else ""
    click.echo(f"{report.sent} sent{where}, {len(report.failed)} failed, {report.skipped} skipped")
    if report.failed:
        raise SystemExit(1)
# ------------------------------------------------------------------ responses (offline submissions)
@click.group("responses")
def responses_group() -> None:
    """A campaign's responses: offline submissions from KoboToolbox and ODK Central."""


@responses_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "slug", required=True, help="Campaign slug / identificador de la campaña.")
@click.option("--key-column", default="institution", show_default=True,
              help="Column holding the institution key / columna con la clave de la institución.")
@click.option("--purpose", type=click.Choice(["institution", "evaluator", "state"]), default="institution",
              show_default=True, help="Which of the campaign's questionnaires the file answers.")
@click.option("--dry-run", is_flag=True, help="Only show what would change / solo mostrar qué cambiaría.")
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
@scope_option
@with_appcontext
@refusals_exit
def responses_import(file: Path, slug: str, key_column: str, purpose: str, dry_run: bool, lang: str,
                     as_user: str | None) -> None:
    """Import KoboToolbox (XLSX, CSV) or ODK Central (CSV zip, JSON) submissions, all or nothing
    (with --user, as that account: only its states' institutions, and its name in the audit log)."""
    from diagnostic.services import campaigns, submissions, users
    from diagnostic.services.audit import SYSTEM, Actor

    campaign = campaigns.get_by_slug(slug)
    scope = scope_for(as_user)
    actor = Actor.for_user(users.get_by_email(as_user)) if as_user else SYSTEM
    data = file.read_bytes()
    plan = submissions.preview(campaign, data, file.name, key_column=key_column, purpose=purpose, scope=scope)
    en = lang == "en"
    for line in plan.errors:
        click.echo(line.format(lang), err=True)
    if plan.ignored_columns:
        click.echo(("ignored columns: " if en else "columnas ignoradas: ") + ", ".join(plan.ignored_columns), err=True)
    counts = plan.counts()
    click.echo((f"{file.name}: {plan.source_format}, create: {counts['create']}, update: {counts['update']}, "
                f"unchanged: {counts['unchanged']}, errors: {counts['error']}") if en else
               (f"{file.name}: {plan.source_format}, crear: {counts['create']}, actualizar: {counts['update']}, "
                f"sin cambios: {counts['unchanged']}, con errores: {counts['error']}"))
    if not plan.ok:
        raise click.ClickException("nothing imported" if en else "no se importó nada")
    if dry_run:
        return
    applied = submissions.apply(campaign, data, file.name, actor, key_column=key_column, purpose=purpose, scope=scope)
    click.echo(f"imported: {applied.created} created, {applied.updated} updated, {applied.unchanged} unchanged" if en
               else f"importados: {applied.created} creados, {applied.updated} actualizados, {applied.unchanged} sin cambios")
@click.command("report")
@click.option("--campaign", "slug", required=True, help="Campaign slug / identificador de la campaña.")
@click.option("--state", "state", default=None, help="One state (INEGI code or name).")
@click.option("--all", "all_states", is_flag=True, help="Every state of the campaign.")
@click.option("--national", is_flag=True, help="The national report.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write into.")
@scope_option
@with_appcontext
@refusals_exit
def report_command(slug: str, state: str | None, all_states: bool, national: bool, fmt: str, lang: str,
                   out: Path, as_user: str | None) -> None:
    """Write state and national reports (built once per data fingerprint, then served from storage)."""
    import sys
    import time

    from diagnostic.models import CampaignStatus
    from diagnostic.reports import routes
    from diagnostic.services import Refusal, campaigns, report, users
    from scoring import states as state_names

    if not (state or all_states or national):
        raise click.UsageError("give --state CODE, --all or --national")
    campaign = campaigns.get_by_slug(slug)
    codes: list[str] = []
    if state:
        codes.append(report.resolve_state(state))
    if all_states:
        codes.extend(r["state"] for r in report.state_summaries(campaign) if r["state"] not in codes)
    scope = scope_for(as_user)
    if not scope.national and campaign.status != CampaignStatus.PUBLISHED:  # as on the web: own states only
        if national or (state and not scope.allows(report.resolve_state(state))):
            raise ServiceError(Refusal.NATIONAL_STAFF_ONLY, states=users.scope_label(scope.states))
        codes = [c for c in codes if scope.allows(c)]
    out.mkdir(parents=True, exist_ok=True)
    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    jobs = [("nacional", None)] if national else []
    jobs += [(state_names.by_code(c).abbr.lower(), c) for c in codes]
    started = time.perf_counter()
    written = 0
    with current_app.test_request_context("/", base_url=base, query_string={"lang": lang}):
        with click.progressbar(jobs, label=f"{len(jobs)} reports", file=sys.stderr,
                               item_show_func=lambda j: j[0] if j else "") as bar:
            for name, code in bar:
                body = routes.national_bytes(campaign, fmt) if code is None else routes.state_bytes(campaign, code, fmt)
                (out / f"apertura-{campaign.slug}-{name}.{fmt}").write_bytes(body)
                written += len(body)
    click.echo(f"{len(jobs)} reports ({fmt}, {lang}) written to {out}: {written / 1e6:.1f} MB in "
               f"{time.perf_counter() - started:.1f} s", err=True)
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


@click.group("second")
def second_group() -> None:
    """Second verification (methodology §9.2–9.4): sample settings, the draw, agreement."""


@second_group.command("settings")
@click.option("--campaign", "slug", required=True)
@click.option("--share", default=None, help="Share of each state's verified responses (0.10 or 10%).")
@click.option("--min-per-state", "minimum", default=None, help="Minimum per state (the larger of the two wins).")
@click.option("--seed", default=None, help="Seed of the draw (blank: chosen at the draw).")
@click.option("--purpose", type=click.Choice(["institution", "evaluator"]), default="institution", show_default=True,
              help="institution: national re-verification; evaluator: co-assessors double-coding citizen evaluations.")
@with_appcontext
@refusals_exit
def second_settings_command(slug: str, share: str | None, minimum: str | None, seed: str | None, purpose: str) -> None:
    """Show or change the sample settings of a campaign (refused once drawn)."""
    from diagnostic.services import campaigns
    from diagnostic.services import second_verification as second
    from diagnostic.services.audit import SYSTEM

    campaign = campaigns.get_by_slug(slug)
    if share is not None or minimum is not None or seed is not None:
        current = second.settings_of(campaign, purpose)
        second.update_settings(campaign, SYSTEM, share=share, min_per_state=minimum, purpose=purpose,
                               seed=seed if seed is not None else current.seed)
    s = second.settings_of(campaign, purpose)
    drawn = f"drawn {s.drawn_at:%Y-%m-%d %H:%M} UTC" if s.drawn_at else "not drawn"
    click.echo(f"{campaign.slug}: share {s.share:g}, minimum per state {s.min_per_state}, "
               f"seed {s.seed if s.seed is not None else '(at the draw)'}, {drawn}")


@second_group.command("draw")
@click.option("--campaign", "slug", required=True)
@click.option("--by", "email", required=True, help="E-mail of the national staff member drawing.")
@click.option("--purpose", type=click.Choice(["institution", "evaluator"]), default="institution", show_default=True,
              help="institution: national re-verification; evaluator: co-assessors double-coding citizen evaluations.")
@with_appcontext
@refusals_exit
def second_draw_command(slug: str, email: str, purpose: str) -> None:
    """Draw the second-verification sample (once), as a national staff member."""
    from diagnostic.services import NotFound, Refusal, campaigns, users
    from diagnostic.services import second_verification as second

    user = users.get_by_email(email)
    if user is None:
        raise NotFound(Refusal.NO_ACCOUNT_WITH_EMAIL, email=email)
    sample = second.draw(campaigns.get_by_slug(slug), user, purpose)
    click.echo(f"drew {len(sample.members)} of {sample.population} verified responses (seed {sample.seed})")
    for row in second.overview(campaigns.get_by_slug(slug), purpose).states:
        click.echo(f"  {row.code} {row.name}: {row.drawn} of {row.verified}")


@second_group.command("agreement")
@click.option("--campaign", "slug", required=True)
@click.option("--resamples", default=1000, show_default=True, type=int)
@click.option("--purpose", type=click.Choice(["institution", "evaluator"]), default="institution", show_default=True,
              help="institution: national re-verification; evaluator: co-assessors double-coding citizen evaluations.")
@with_appcontext
@refusals_exit
def second_agreement_command(slug: str, resamples: int, purpose: str) -> None:
    """Percent agreement and Cohen's kappa between the two stages, per component and overall."""
    from diagnostic.services import campaigns
    from diagnostic.services import second_verification as second

    data = second.agreement_of(campaigns.get_by_slug(slug), resamples=resamples, purpose=purpose)
    if data is None:
        click.echo("no sample drawn yet")
        return

    def num(x, pct=False):
        return "—" if x is None else (f"{100 * x:.1f}%" if pct else f"{x:.2f}")

    click.echo(f"sample {data['size']} (finished {data['finished']}), seed {data['seed']}; "
               f"disagreements {data['disagreements']} ({data['unresolved']} unresolved)")
    for g in data["groups"]:
        interval = f"[{num(g['kappa_low'])}, {num(g['kappa_high'])}]" if g["kappa_low"] is not None else ""
        note = g["why_en"] or g["interval_why_en"]
        click.echo(f"{g['code'] if not g['overall'] else 'overall':<12} items {g['compared']:>4}  agreement "
                   f"{num(g['percent'], True):>6}  kappa {num(g['kappa'])} {interval} {note}".rstrip())
