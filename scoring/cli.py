"""`apertura rollup ...`: roll scores up through an index model."""
import click


@click.command()
def rollup() -> None:
    """Roll imported scores up through an index model (being built)."""
    raise click.ClickException("rollup is not available yet")
