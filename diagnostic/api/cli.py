"""`apertura api token EMAIL`: issue (or replace) a user's API token and print it once."""
from __future__ import annotations

import click

from diagnostic.api import bp
from diagnostic.services import ServiceError, tokens


@bp.cli.command("token")
@click.argument("email")
def token_command(email: str) -> None:
    """Issue an API token for a staff account (replaces the previous one) and print it."""
    try:
        token = tokens.issue_for_email(email)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(token)
