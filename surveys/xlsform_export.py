"""Apertura's instruments out as XLSForm (.xlsx) for ODK Collect and KoboToolbox.

`to_xlsform(definition)` writes the survey, choices and settings sheets: every language as
`label::<Name> (<code>)` columns, relevance, constraints, calculations, groups and repeats.
pyxform converts the result to an XForm. Apertura's own types become XLSForm types a
phone can collect, with the column `apertura_type` so that `surveys.load` reads back the
same instrument (see surveys/README.md, "XLSForm round trip"):

| Apertura | XLSForm | `apertura_type` |
|---|---|---|
| `yes_no`, `yes_no_na` | `select_one yes_no` / `select_one yes_no_na` (list written to choices) | `yes_no` / `yes_no_na` |
| `url` | `text` | `url` |
| `likert LIST` | `select_one LIST` | `likert` |
| repeat `min_count` / `max_count` | (none in XLSForm) | columns `apertura_min_count` / `apertura_max_count` |
| title in other languages | `form_title` holds the default language's | setting `apertura_title::<Name> (<code>)` |
"""
from __future__ import annotations

from io import BytesIO
from typing import Any

import openpyxl

from surveys import constants as K
from surveys.model import Definition, Group, Question, Repeat
from surveys.xlsform import (
    APERTURA_MAX,
    APERTURA_MIN,
    APERTURA_TITLE,
    APERTURA_TYPE,
    language_names,
)


def language_header(code: str) -> str:
    """`Spanish (es)` for `es` (the first name in surveys/data/languages.yaml); a named
    language (no code) is written as is."""
    if not K.LANGUAGE_CODE.match(code):
        return code
    name = next((n for n, c in language_names().items() if c == code), None)
    return f"{name.title()} ({code})" if name else code


def _expr(value) -> str | None:
    return None if value is None else value.canonical


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Writer:
    def __init__(self, definition: Definition) -> None:
        self.d = definition
        self.langs = list(definition.settings.languages)
        self.headers = {code: language_header(code) for code in self.langs}
        self.rows: list[dict[str, Any]] = []
        self.own_lists: set[str] = set()

    def texts(self, row: dict, key: str, label) -> None:
        for code in self.langs:
            text = label.get(code) if label else None
            if text not in (None, ""):
                row[f"{key}::{self.headers[code]}"] = text

    def element(self, element) -> None:
        if isinstance(element, Group | Repeat):
            kind = "repeat" if isinstance(element, Repeat) else "group"
            row: dict[str, Any] = {"type": f"begin_{kind}", "name": element.name}
            self.texts(row, "label", element.label)
            self.texts(row, "hint", element.hint)
            row["relevant"] = _expr(element.relevant)
            row["appearance"] = element.appearance
            if isinstance(element, Repeat):
                count = element.repeat_count
                row["repeat_count"] = count if isinstance(count, int) or count is None else count.canonical
                row[APERTURA_MIN] = element.min_count
                row[APERTURA_MAX] = element.max_count
            self.rows.append(row)
            for child in element.children:
                self.element(child)
            self.rows.append({"type": f"end_{kind}"})
            return
        q: Question = element
        row = {"name": q.name}
        if q.type in (K.YES_NO, K.YES_NO_NA):
            row["type"] = f"select_one {q.type}"
            row[APERTURA_TYPE] = q.type
            self.own_lists.add(q.type)
        elif q.type == K.URL:
            row["type"] = "text"
            row[APERTURA_TYPE] = K.URL
        elif q.type == K.LIKERT:
            row["type"] = f"select_one {q.list_name}"
            row[APERTURA_TYPE] = K.LIKERT
        else:
            row["type"] = q.type_text
        self.texts(row, "label", q.label)
        self.texts(row, "hint", q.hint)
        if q.required is True:
            row["required"] = "yes"
        elif q.required is not False:
            row["required"] = q.required.canonical
        row["relevant"] = _expr(q.relevant)
        row["constraint"] = _expr(q.constraint)
        self.texts(row, "constraint_message", q.constraint_message)
        row["calculation"] = _expr(q.calculation)
        row["default"] = None if q.default is None else str(q.default)
        row["choice_filter"] = _expr(q.choice_filter)
        row["appearance"] = q.appearance
        if q.type == K.RANGE and q.parameters:
            row["parameters"] = " ".join(f"{k}={_number(v)}" for k, v in q.parameters.items())
        if q.read_only:
            row["read_only"] = "yes"
        self.rows.append(row)


def _sheet(wb, title: str, rows: list[dict[str, Any]], first: list[str]) -> None:
    ws = wb.create_sheet(title)
    headers = list(first)
    for row in rows:
        for key, value in row.items():
            if value not in (None, "") and key not in headers:
                headers.append(key)
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) if row.get(h) not in ("",) else None for h in headers])


def to_xlsform(definition: Definition) -> bytes:
    """The instrument as an XLSForm workbook (.xlsx bytes) that pyxform converts to an XForm."""
    writer = _Writer(definition)
    for element in definition.survey:
        writer.element(element)
    choice_rows: list[dict[str, Any]] = []
    for list_name, choice_list in definition.choices.items():
        if choice_list.builtin and list_name not in writer.own_lists:
            continue
        for choice in choice_list.choices:
            row: dict[str, Any] = {"list_name": list_name, "name": choice.name}
            writer.texts(row, "label", choice.label)
            row.update(choice.properties)
            choice_rows.append(row)
    s = definition.settings
    default = s.default_language
    settings_row: dict[str, Any] = {
        "form_id": s.id, "form_title": s.title.get(default) or next(iter(s.title.values()), None) if s.title else None,
        "version": s.version or None, "default_language": writer.headers.get(default, default),
        "unit": s.unit, "clean_text_values": "no",
    }
    for code in writer.langs:
        if code != default and s.title.get(code):
            settings_row[f"{APERTURA_TITLE}::{writer.headers[code]}"] = s.title[code]
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    label_cols = [f"label::{writer.headers[c]}" for c in writer.langs]
    _sheet(wb, "survey", writer.rows, ["type", "name", *label_cols])
    _sheet(wb, "choices", choice_rows, ["list_name", "name", *label_cols])
    _sheet(wb, "settings", [settings_row], ["form_id", "form_title", "version", "default_language"])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
