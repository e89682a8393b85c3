"""`apertura score --campaign SLUG`: the campaign's score tables, as the web shows them
(registered by `diagnostic.cli`)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from diagnostic.services import ServiceError, campaigns, exports, scores


def run_score(slug: str, *, by: str = "state", level: str = scores.HEADLINE, fmt: str = "csv",
              seed: int = scores.DEFAULT_SEED) -> str:
    """The text `apertura score` prints: the score table of a campaign as CSV or JSON."""
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
def score_command(slug: str, by: str, level: str, fmt: str, out: str | None, seed: int) -> None:
    """Score a campaign by institution, state, type, order or for the nation."""
    try:
        text = run_score(slug, by=by, level=level, fmt=fmt, seed=seed)
    except ServiceError as exc:
        details = "".join(f"\n  {d}" for d in exc.details)
        raise click.ClickException(exc.message + details) from exc
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
