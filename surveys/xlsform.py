"""XLSForm import (.xlsx, .csv, markdown tables) through pyxform's readers, into the same model.

The rows are reshaped into the native document (nested groups, choice lists, settings),
each mapping remembering its sheet and row, and then built and checked exactly like YAML.
Whatever Apertura does not collect becomes an issue naming the sheet, row and column.
"""
from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from surveys import constants as K
from surveys.issues import Issue, IssueCode, make_issue
from surveys.loader import LocatedDict, LocatedList, decode

_LANG_IN_PARENS = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*\Z")
_TYPE_ALIASES = {
    "select one": "select_one",
    "select multiple": "select_multiple",
    "select all that apply": "select_multiple",
    "int": "integer",
    "string": "text",
    "begin_group": "begin group",
    "end_group": "end group",
    "begin_repeat": "begin repeat",
    "end_repeat": "end repeat",
}
_MEDIA = frozenset({"image", "audio", "video", "big-image", "media::image", "media::audio", "media::video", "media::big-image"})
_EXTERNAL = re.compile(r"\b(pulldata|instance|jr:choice-name|digest|version|uuid|once)\s*\(")
_UNSUPPORTED_SHEETS = ("external_choices", "osm", "entities")


def _language(name: str) -> str | None:
    """A language code from `Spanish (es)`, `es`, `Español`."""
    name = name.strip()
    m = _LANG_IN_PARENS.search(name)
    if m:
        return m.group(1).lower()
    lowered = name.lower()
    if lowered in K.LANGUAGE_NAMES:
        return K.LANGUAGE_NAMES[lowered]
    if K.LANGUAGE_CODE.match(lowered):
        return lowered
    return None


def _normalise_type(text: str) -> str:
    text = " ".join(text.strip().split())
    lowered = text.lower()
    for alias, real in _TYPE_ALIASES.items():
        if lowered == alias or lowered.startswith(alias + " "):
            return real + text[len(alias):]
    return text


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[Issue] = []
        self.languages: list[str] = []

    def add(self, code: IssueCode, sheet: str, row: int | None, field: str | None = None, **params) -> None:
        self.issues.append(make_issue(code, self.file, sheet=sheet, row=row, field=field, **params))

    def columns(self, sheet: str, rows: list[dict], known: frozenset[str], default_lang: str | None) -> dict[str, tuple[str, str | None]]:
        """Map each column header to (key, language); report unsupported ones per row used."""
        headers: list[str] = []
        for row in rows:
            for key in row:
                if key not in headers:
                    headers.append(key)
        mapping: dict[str, tuple[str, str | None]] = {}
        for header in headers:
            raw = str(header).strip()
            lowered = raw.lower()
            base, _, lang_part = raw.partition("::")
            base_l = base.strip().lower()
            base_l = K.XLS_COLUMN_ALIASES.get(base_l, base_l)
            lowered = K.XLS_COLUMN_ALIASES.get(lowered, lowered)
            if lowered in known and not lang_part:
                mapping[header] = (lowered, None)
                continue
            if base_l in K.XLS_TRANSLATABLE and lang_part:
                lang = _language(lang_part)
                if lang is not None:
                    mapping[header] = (base_l, lang)
                    if lang not in self.languages:
                        self.languages.append(lang)
                    continue
            feature = None
            if base_l in _MEDIA or lowered in _MEDIA or base_l == "media":
                feature = ("archivos multimedia", "media files")
            for i, row in enumerate(rows):
                if row.get(header) not in (None, ""):
                    if feature:
                        self.add(IssueCode.UNSUPPORTED_FEATURE, sheet, i + 2, row.get("name"), column=raw,
                                 feature=feature[0], feature_en=feature[1])
                    else:
                        self.add(IssueCode.UNSUPPORTED_COLUMN, sheet, i + 2, row.get("name"), column=raw)
        return mapping

    def survey(self, rows: list[dict], default_lang: str) -> LocatedList:
        mapping = self.columns("survey", rows, K.XLS_SURVEY_COLUMNS, default_lang)
        top = LocatedList(line=None)
        stack: list[tuple[str, LocatedDict, int]] = []
        for i, row in enumerate(rows):
            row_n = i + 2
            if not row:
                continue
            node = LocatedDict(sheet="survey", row=row_n)
            for header, value in row.items():
                if header not in mapping:
                    continue
                key, lang = mapping[header]
                if key in K.XLS_TRANSLATABLE:
                    node.setdefault(key, {})[lang or default_lang] = value
                else:
                    node[key] = value
            for key in K.EXPRESSION_KEYS + (K.REQUIRED, K.REPEAT_COUNT, K.DEFAULT):
                value = node.get(key)
                if isinstance(value, str) and _EXTERNAL.search(value):
                    fn = _EXTERNAL.search(value).group(1)
                    self.add(IssueCode.UNSUPPORTED_FEATURE, "survey", row_n, node.get("name"), column=key,
                             feature=f"{fn}() (instancias externas)", feature_en=f"{fn}() (external instances)")
                    node.pop(key)
            raw_type = node.get(K.TYPE)
            if isinstance(raw_type, str):
                node[K.TYPE] = _normalise_type(raw_type)
            kind = str(node.get(K.TYPE, "")).lower()
            if kind in ("begin group", "begin repeat"):
                node[K.TYPE] = "group" if kind == "begin group" else "repeat"
                node[K.CHILDREN] = LocatedList(line=None)
                if kind == "begin group" and K.REPEAT_COUNT in node:
                    self.add(IssueCode.UNSUPPORTED_COLUMN, "survey", row_n, node.get("name"), column=K.REPEAT_COUNT)
                    node.pop(K.REPEAT_COUNT)
                (stack[-1][1][K.CHILDREN] if stack else top).append(node)
                stack.append((node[K.TYPE], node, row_n))
                continue
            if kind in ("end group", "end repeat"):
                expected = "group" if kind == "end group" else "repeat"
                if not stack or stack[-1][0] != expected:
                    self.add(IssueCode.UNMATCHED_END, "survey", row_n, node.get("name"), type=kind)
                else:
                    stack.pop()
                continue
            (stack[-1][1][K.CHILDREN] if stack else top).append(node)
        for kind, node, row_n in stack:
            self.add(IssueCode.UNCLOSED_GROUP, "survey", row_n, node.get("name"), name=node.get("name") or kind)
        return top


def _choice_columns(rows: list[dict]) -> frozenset[str]:
    headers: set[str] = set()
    for row in rows:
        headers.update(row)
    media = {h for h in headers if h.strip().lower() in _MEDIA or h.strip().lower().startswith("media::")}
    return frozenset(h.strip().lower() for h in headers if "::" not in h and h not in media)


def read_xlsform(data: bytes, file: str, suffix: str) -> tuple[LocatedDict | None, list[Issue]]:
    """The native document built from an XLSForm's bytes, plus the issues found reading it."""
    try:
        from pyxform.errors import PyXFormError
        from pyxform.xls2json_backends import csv_to_dict, md_to_dict, xlsx_to_dict
    except ImportError:
        return None, [make_issue(IssueCode.PYXFORM_MISSING, file)]
    if suffix in (".csv", ".md"):
        text, issues = decode(data, file)
        if text is None:
            return None, issues
    reader_fn = {".xlsx": xlsx_to_dict, ".csv": csv_to_dict, ".md": md_to_dict}[suffix]
    try:
        book = reader_fn(BytesIO(data))
    except (PyXFormError, ValueError, KeyError, OSError, TypeError, IndexError) as err:
        problem = str(err).splitlines()[0] if str(err) else type(err).__name__
        return None, [make_issue(IssueCode.XLSFORM_READ, file, sheet="survey", row=1, problem=problem)]
    reader = _Reader(file)
    for name in book.get("sheet_names", []):
        if name.lower() in _UNSUPPORTED_SHEETS:
            reader.add(IssueCode.UNSUPPORTED_SHEET, name, 1, None, sheet_name=name)
    settings_rows = [r for r in book.get("settings") or [] if r]
    settings_raw = settings_rows[0] if settings_rows else {}
    settings = LocatedDict(sheet="settings", row=2)
    for key, value in settings_raw.items():
        k = key.strip().lower()
        if k == "form_id":
            settings["id"] = value
        elif k == "form_title":
            settings["title"] = value
        elif k == "version":
            settings["version"] = value
        elif k == "default_language":
            settings["default_language"] = _language(value) or value
        elif k == "unit":
            settings["unit"] = value
        elif k in K.XLS_IGNORED_SETTINGS:
            continue
        else:
            reader.add(IssueCode.UNSUPPORTED_COLUMN, "settings", 2, None, column=key)
    default_lang = settings.get("default_language") or "es"
    survey_rows = list(book.get("survey") or [])
    choices_rows = list(book.get("choices") or [])
    survey = reader.survey(survey_rows, default_lang)
    extra = _choice_columns(choices_rows) - {"list_name", "list name", "name", "label"}
    known = frozenset({"list_name", K.NAME, K.LABEL} | extra)
    choices = _read_choices(reader, choices_rows, default_lang, known)
    languages = list(reader.languages)
    if default_lang not in languages:
        languages.insert(0, default_lang)
    else:
        languages.remove(default_lang)
        languages.insert(0, default_lang)
    settings.setdefault("id", Path(file).stem.replace(" ", "_") or "form")
    settings["languages"] = languages
    settings["default_language"] = default_lang
    if isinstance(settings.get("title"), str):
        settings["title"] = dict.fromkeys(languages, settings["title"])
    document = LocatedDict(sheet="survey", row=1)
    document["settings"] = settings
    document["choices"] = choices
    document["survey"] = survey
    return document, reader.issues


def _read_choices(reader: _Reader, rows: list[dict], default_lang: str, known: frozenset[str]) -> LocatedDict:
    mapping = reader.columns("choices", rows, known, default_lang)
    out = LocatedDict(sheet="choices", row=2)
    for i, row in enumerate(rows):
        if not row:
            continue
        row_n = i + 2
        choice = LocatedDict(sheet="choices", row=row_n)
        list_name = None
        for header, value in row.items():
            if header not in mapping:
                continue
            key, lang = mapping[header]
            if key in ("list_name", "list name"):
                list_name = value
            elif key == K.LABEL:
                choice.setdefault(K.LABEL, {})[lang or default_lang] = value
            else:
                choice[key] = value
        if list_name is None:
            reader.add(IssueCode.MISSING_KEY, "choices", row_n, row.get("name"), key="list_name")
            continue
        if list_name not in out:
            out[list_name] = LocatedList(line=None)
        out[list_name].append(choice)
    return out
