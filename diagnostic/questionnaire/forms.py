"""Posted-form parsing: a page's values by answer path, and the repeat instances a form carries."""
from __future__ import annotations

import json
import re

from diagnostic.questionnaire.pages import NON_INPUT, PageView

POSTED_INSTANCE = re.compile(r"^([A-Za-z_][\w.-]*)\[(\d{1,3})\]\.")
# Digits grouped by thousands as people type them: `1,250`, `1 250`, `12 500.5` (es-MX writes the
# decimal point as a point; a comma followed by three digits groups thousands).
GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+(?:\.\d+)?$")
NUMERIC_TYPES = {"integer", "decimal", "range"}


def posted_instances(form) -> dict[str, int]:
    """Instances per repeat that a posted form carries (`rep[2].x` → rep: 3)."""
    counts: dict[str, int] = {}
    for key in form.keys():
        match = POSTED_INSTANCE.match(key)
        if match:
            counts[match.group(1)] = max(counts.get(match.group(1), 0), int(match.group(2)) + 1)
    return counts


def normalise(question_type: str | None, value: object) -> object:
    """A number typed with thousands separators (`1,250`, `1 250`) as the number (`1250`);
    anything else as it came."""
    if question_type in NUMERIC_TYPES and isinstance(value, str):
        stripped = value.strip()
        if GROUPED.match(stripped):
            return re.sub(r"[ ,\u00a0\u202f]", "", stripped)
        return stripped
    return value


def rendered_fields(form) -> set[str] | None:
    """The field paths the page rendered as inputs (its hidden `_fields` list), or None when the
    form carries no list (a client posting only what it changes)."""
    if "_fields" not in form:
        return None
    return set(filter(None, form.get("_fields", "").split(" ")))


def posted_base(form) -> dict[str, object] | None:
    """What the page showed for each field when it was rendered (`_base`, JSON), or None."""
    raw = form.get("_base")
    if not raw:
        return None
    try:
        base = json.loads(raw)
    except ValueError:
        return None
    return base if isinstance(base, dict) else None


def posted_version(form) -> int | None:
    """The response version the page was rendered from (`_version`), or None."""
    raw = form.get("_version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def form_values(page: PageView, form) -> dict[str, object]:
    """The page's posted values by path. Only fields the page rendered and listed in `_fields`
    are taken: an unchecked checkbox or an emptied field among them clears the answer; a field
    the form does not list (another page's, or one a cut request lost) is left as stored. A form
    without `_fields` changes only the fields it carries."""
    listed = rendered_fields(form)
    values: dict[str, object] = {}
    for f in page.fields:
        if f.widget in NON_INPUT or f.question.read_only:
            continue
        if listed is not None and f.path not in listed:
            continue
        if listed is None and f.path not in form:
            continue
        if f.widget == "checkbox":
            values[f.path] = [v for v in form.getlist(f.path) if v]
        else:
            values[f.path] = normalise(f.question.type, form.get(f.path, ""))
    return values
