"""Posted-form parsing: a page's values by answer path, and the repeat instances a form carries."""
from __future__ import annotations

import re

from diagnostic.questionnaire.pages import NON_INPUT, PageView

POSTED_INSTANCE = re.compile(r"^([A-Za-z_][\w.-]*)\[(\d{1,3})\]\.")


def posted_instances(form) -> dict[str, int]:
    """Instances per repeat that a posted form carries (`rep[2].x` → rep: 3)."""
    counts: dict[str, int] = {}
    for key in form.keys():
        match = POSTED_INSTANCE.match(key)
        if match:
            counts[match.group(1)] = max(counts.get(match.group(1), 0), int(match.group(2)) + 1)
    return counts


def form_values(page: PageView, form) -> dict[str, object]:
    """The page's posted values by path (unchecked checkboxes and cleared fields become empty)."""
    values: dict[str, object] = {}
    for f in page.fields:
        if f.widget in NON_INPUT or f.question.read_only:
            continue
        if f.widget == "checkbox":
            values[f.path] = [v for v in form.getlist(f.path) if v]
        else:
            values[f.path] = form.get(f.path, "")
    return values
