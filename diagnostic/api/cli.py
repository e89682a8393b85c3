"""`apertura api token EMAIL`: issue (or replace) a user's API token and print it once
(registered by `diagnostic.cli`)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from diagnostic.services import ServiceError, tokens


@click.group("api")
def api_group() -> None:
    """The JSON API (/api/v1)."""


@api_group.command("token")
@click.argument("email")
@with_appcontext
def token_command(email: str) -> None:
    """Issue an API token for a staff account (replaces the previous one) and print it."""
    try:
        token = tokens.issue_for_email(email)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(token)
