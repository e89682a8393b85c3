"""The README is the operator's manual: it must show the two commands and every setting."""
from pathlib import Path

from diagnostic.config import DEFAULTS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_shows_the_two_commands_first():
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_every_configuration_key_is_documented():
    missing = [key for key in DEFAULTS if f"`{key}`" not in README]
    assert missing == []
