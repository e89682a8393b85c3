"""The `apertura` command: the Flask CLI of this app (`apertura X` = `flask --app wsgi X`)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def init_app(app: Flask) -> None:
    """Register the pure libraries' commands and the app's own."""
    from scoring.cli import rollup
    from surveys.cli import survey

    app.cli.add_command(survey)
    app.cli.add_command(rollup)


def _create_app() -> Flask:
    from diagnostic import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Apertura: diagnostic of institutional openness."""
