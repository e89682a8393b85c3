"""Spanish first, English second: every interface message has an English translation."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_interface_message_has_an_english_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "extract", "-F",
                    str(ROOT / "diagnostic" / "babel.cfg"), "-o", str(pot), str(ROOT)],
                   check=True, capture_output=True, timeout=120, cwd=ROOT)
    with pot.open("rb") as fh:
        template = read_po(fh)
    with (ROOT / "diagnostic" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        english = read_po(fh)
    ids = [m.id for m in template if m.id]
    assert len(ids) > 200  # the extraction really read the templates and views
    missing = [i for i in ids if i not in english or not english[i].string]
    assert missing == []


# Refusals whose English is, by nature, the same text as the Spanish (none today).
SAME_IN_BOTH: set[str] = {"INSTITUTION_FIELD_INVALID"}  # "{field}: {problem}": both parts are translated


def test_every_service_refusal_has_spanish_and_english_with_the_same_parameters():
    from diagnostic.services.refusals import Refusal, RowProblem, placeholders

    members = [*Refusal, *RowProblem]
    assert len(members) > 70  # the catalogue really is the services' refusals
    untranslated = [m.name for m in members if not m.es.strip() or not m.en.strip()
                    or (m.en == m.es and m.name not in SAME_IN_BOTH)]
    assert untranslated == []
    mismatched = [m.name for m in members if placeholders(m.es) != placeholders(m.en)]
    assert mismatched == []
