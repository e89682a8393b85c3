"""Labels of stored codes (campaign and response statuses, who answers, orders, types, roles,
model levels) in the reader's language, from `diagnostic/data/labels.yaml`.

Templates write `{{ campaign.status|label }}` (an enum finds its kind by its class) or
`{{ institution.type|label('type') }}`; services and the CLI call `label(value, kind, lang)`.
"""
from __future__ import annotations

import enum
from functools import cache
from importlib import resources

import yaml
from flask import Flask

from diagnostic.models import CampaignStatus, InstrumentPurpose, Order, ResponseStatus, Role
from diagnostic.services.refusals import Both, current_lang

KIND_OF = {CampaignStatus: "campaign_status", ResponseStatus: "response_status", InstrumentPurpose: "purpose",
           Order: "order", Role: "role"}


@cache
def table() -> dict[str, dict[str, dict[str, str]]]:
    """kind → code → {es, en}, read once."""
    text = resources.files("diagnostic").joinpath("data", "labels.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def both(value: object, kind: str | None = None) -> Both:
    """The label of a code in Spanish and English (the code itself when it has none)."""
    if kind is None and isinstance(value, enum.Enum):
        kind = KIND_OF.get(type(value))
    code = value.value if isinstance(value, enum.Enum) else str(value)
    entry = table().get(kind or "", {}).get(code)
    if entry is None:
        return Both(code, code)
    return Both(entry["es"], entry.get("en") or entry["es"])


def label(value: object, kind: str | None = None, lang: str | None = None) -> str:
    """The label of a code in `lang` (the interface language by default)."""
    if value is None:
        return ""
    return both(value, kind).text(lang or current_lang())


def choices(kind: str, lang: str | None = None) -> list[tuple[str, str]]:
    """(code, label) pairs of a kind, in file order (for select fields and filters)."""
    return [(code, label(code, kind, lang)) for code in table().get(kind, {})]


def init_app(app: Flask) -> None:
    """Register the `label` template filter."""
    app.add_template_filter(label, "label")
