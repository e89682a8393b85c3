"""`apertura survey ...`: check and show questionnaire definitions."""
import click


@click.group()
def survey() -> None:
    """Check and show questionnaire definitions."""
