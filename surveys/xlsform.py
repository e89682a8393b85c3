"""XLSForm import through pyxform's own XLSForm-to-JSON step, mapped onto Apertura's model.

pyxform reads the workbook (`.xlsx`, `.xls`, `.csv`, markdown) and normalises it in
`pyxform.xls2json.workbook_to_json`: column and type aliases, language columns in every
spelling, settings, `or_other`, loops, groups and repeats. This module only maps that
normalised survey dict onto the native document (nested groups, choice lists, settings),
each mapping remembering its sheet and row; the document is then built and checked exactly
like YAML. What Apertura does not use is a located *warning* (builder columns, unknown
settings, metadata questions, appearances it does not render); what it cannot collect on
the web (geopoints, media, barcodes, external instances, `pulldata`) is a located *error*.

Apertura's own types travel through pyxform in the column `apertura_type` (`yes_no`,
`yes_no_na`, `url`, `likert`), with `apertura_min_count` / `apertura_max_count` on repeats
and the setting `apertura_title::<language>`: what `surveys.xlsform_export` writes, so an
instrument exported and imported again is the same instrument.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from io import BytesIO
from pathlib import Path

import yaml

from surveys import constants as K
from surveys.issues import Issue, IssueCode, make_issue
from surveys.loader import LocatedDict, LocatedList

APERTURA_TYPE = "apertura_type"
APERTURA_MIN = "apertura_min_count"
APERTURA_MAX = "apertura_max_count"
APERTURA_TITLE = "apertura_title"
# Apertura's types pyxform does not know: written to pyxform as these, with `apertura_type`.
OWN_TYPES = {K.YES_NO: "text", K.YES_NO_NA: "text", K.URL: "text", K.LIKERT: "select_one"}

_LANG_IN_PARENS = re.compile(r"\(\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\s*\)\s*\Z")
_ROW = re.compile(r"\[row\s*:\s*(\d+)\]|\brow\s*(?:#|number)?\s*(\d+)", re.IGNORECASE)
_SHEET = re.compile(r"\b(survey|choices|settings|external_choices|entities|osm)\b['\"]?\s+sheet|sheet\s+['\"]?(survey|choices|settings)", re.IGNORECASE)
_EXTERNAL = re.compile(r"\b(pulldata|instance|jr:choice-name|digest|version|uuid|once)\s*\(")
_PARENT_REF = re.compile(r"\.\./([A-Za-z_][A-Za-z0-9_.\-]*)")
_SINGLE_COLON = re.compile(r"(label|hint|constraint_message|constraint message|jr:constraintmsg)\s*:\s*([^:].*)\Z", re.IGNORECASE)

TYPES = {
    "text": K.TEXT, "string": K.TEXT, "integer": K.INTEGER, "int": K.INTEGER, "decimal": K.DECIMAL,
    "date": K.DATE, "note": K.NOTE, "calculate": K.CALCULATE, "range": K.RANGE,
    "select one": K.SELECT_ONE, "select all that apply": K.SELECT_MULTIPLE,
}
# Metadata pyxform records on the phone; Apertura records dates and authorship itself.
METADATA_TYPES = frozenset({
    "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "phone number",
    "username", "email", "audit", "start-geopoint", "imei", "uri:deviceid", "uri:email", "uri:username",
    "uri:phonenumber", "uri:subscriberid", "uri:simserial", "background-geopoint",
})
_MEDIA_COLUMNS = frozenset({"media", "image", "audio", "video", "big-image"})
_UNSUPPORTED_SHEETS = ("external_choices", "osm", "entities")
# Appearances the web questionnaire renders (diagnostic/questionnaire/pages.py).
RENDERED_APPEARANCES = frozenset({"minimal", "multiline", "field-list", "likert"})
# Settings Apertura reads (raw sheet headers, snake-cased); any other is a warning.
_USED_SETTINGS = frozenset({"form_id", "id_string", "form_title", "title", "version", "default_language", "unit",
                            "clean_text_values"})  # the last one pyxform's
_STRUCTURE_KEYS = frozenset({"type", "name", "title", "id_string", "sms_keyword", "default_language", "children", "choices"})
_QUIET_KEYS = frozenset({"itemset", "list_name", "choices", "_dynamic_default", "actions", "sms_field"})


@cache
def language_names() -> dict[str, str]:
    path = Path(__file__).resolve().parent / "data" / "languages.yaml"
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(name).lower(): code for code, names in table.items() for name in names}


def language_code(name: str) -> str:
    """A code for an XLSForm language name: `English (en)` → `en`, `español` → `es`,
    `chinese` → `zh`, `es` → `es`; a name with no known code is kept as written."""
    name = " ".join(str(name).split())
    m = _LANG_IN_PARENS.search(name)
    if m:
        return m.group(1).lower() if "-" not in m.group(1) else m.group(1)
    lowered = name.lower()
    names = language_names()
    if lowered in names:
        return names[lowered]
    if K.LANGUAGE_CODE.match(lowered) and len(lowered) <= 3:
        return lowered
    return name


def _snake(value: object) -> str:
    return "_".join(str(value).split()).lower()


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def _locate_message(text: str) -> tuple[str, int]:
    row_m = _ROW.search(text)
    sheet_m = _SHEET.search(text)
    sheet = (sheet_m.group(1) or sheet_m.group(2)).lower() if sheet_m else "survey"
    row = int(row_m.group(1) or row_m.group(2)) if row_m else 1
    return sheet, row


class _Reader:
    """Maps pyxform's normalised survey dict onto the native document, collecting issues."""

    def __init__(self, file: str, workbook) -> None:
        self.file = file
        self.issues: list[Issue] = []
        self.languages: list[str] = []
        self.default_lang = "es"
        self.rows = self._survey_rows(workbook.survey or [])
        self.pointer = 0
        self.last_row = 2
        self.choice_rows = self._choice_rows(workbook.choices or [])
        self.ignored: dict[tuple[str, str], list[int]] = {}
        self.own_lists: set[str] = set()

    # -- locating ------------------------------------------------------------------------
    @staticmethod
    def _survey_rows(rows) -> list[str | None]:
        out: list[str | None] = []
        for row in rows:
            name = next((str(v).strip() for k, v in row.items() if _snake(k) in ("name", "value") and v not in (None, "")), None)
            out.append(name)
        return out

    @staticmethod
    def _choice_rows(rows) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for i, row in enumerate(rows):
            list_name = next((str(v).strip() for k, v in row.items() if _snake(k) in ("list_name", "list name")), None)
            name = next((str(v).strip() for k, v in row.items() if _snake(k) in ("name", "value")), None)
            if list_name is not None and name is not None:
                out.setdefault((list_name, name), i + 2)
        return out

    def locate(self, name: object) -> int:
        """The sheet row of the next element called `name` (rows are in document order)."""
        if isinstance(name, str):
            for i in range(self.pointer, len(self.rows)):
                if self.rows[i] == name:
                    self.pointer = i + 1
                    self.last_row = i + 2
                    return self.last_row
        return self.last_row

    def add(self, code: IssueCode, sheet: str, row: int | None, field: str | None = None, **params) -> None:
        self.issues.append(make_issue(code, self.file, sheet=sheet, row=row, field=field, **params))

    def ignore(self, sheet: str, row: int, column: str) -> None:
        self.ignored.setdefault((sheet, column), []).append(row)

    def flush_ignored(self) -> None:
        for (sheet, column), rows in self.ignored.items():
            self.add(IssueCode.IGNORED_COLUMN, sheet, rows[0], None, column=column)

    # -- values --------------------------------------------------------------------------
    def lang(self, name: str) -> str:
        code = self.default_lang if name == "default" else language_code(name)
        if code not in self.languages:
            self.languages.append(code)
        return code

    def label(self, value: object) -> object:
        if isinstance(value, Mapping):
            out: dict[str, object] = {}
            for lang, text in value.items():
                if isinstance(text, Mapping):  # media::image::lang and the like
                    continue
                out[self.lang(str(lang))] = text
            return out
        return value

    def merge_label(self, node: LocatedDict, key: str, value: object) -> None:
        """Add texts to a label that single-colon columns may already have started."""
        current = node.get(key)
        if current is None:
            node[key] = value
            return
        merged = dict(current) if isinstance(current, Mapping) else {self.default_lang: current}
        merged.update(value if isinstance(value, Mapping) else {self.default_lang: value})
        node[key] = merged

    def expression(self, value: object, sheet: str, row: int, name: str | None, column: str) -> object:
        if not isinstance(value, str):
            return value
        m = _EXTERNAL.search(value)
        if m:
            self.add(IssueCode.UNSUPPORTED_FEATURE, sheet, row, name, column=column,
                     feature=f"{m.group(1)}() (instancias externas)", feature_en=f"{m.group(1)}() (external instances)")
            return None
        return _PARENT_REF.sub(r"${\1}", value)

    # -- elements ------------------------------------------------------------------------
    def elements(self, items: list, out: LocatedList) -> None:
        items = [i for i in items if isinstance(i, Mapping)]
        skip: set[int] = set()
        for i, item in enumerate(items):
            # pyxform turns `repeat_count: 3` into a generated calculate `<repeat>_count`
            # just before the repeat; fold it back into the repeat's count.
            nxt = items[i + 1] if i + 1 < len(items) else None
            if (nxt is not None and item.get("type") == "calculate" and nxt.get("type") == "repeat"
                    and item.get("name") == f"{nxt.get('name')}_count" and item.get("name") not in self.rows
                    and (nxt.get("control") or {}).get("jr:count") == f"${{{item.get('name')}}}"):
                count = (item.get("bind") or {}).get("calculate")
                items[i + 1] = {**nxt, "control": {**nxt["control"], "jr:count": count}}
                skip.add(i)
        for i, item in enumerate(items):
            if i not in skip:
                self.element(item, out)

    def element(self, item: Mapping, out: LocatedList) -> None:
        kind = str(item.get("type", ""))
        name = item.get("name")
        row = self.locate(name)
        if kind == "group" and name == "meta" and (item.get("control") or {}).get("bodyless"):
            for child in item.get("children") or []:  # pyxform's instanceID and moved metadata
                if isinstance(child, Mapping) and child.get("type") in METADATA_TYPES:
                    self.add(IssueCode.IGNORED_QUESTION, "survey", self.locate(child.get("name")), child.get("name"), type=child["type"])
            return
        if kind in METADATA_TYPES:
            self.add(IssueCode.IGNORED_QUESTION, "survey", row, name, type=kind)
            return
        node = LocatedDict(sheet="survey", row=row)
        node[K.NAME] = name
        own = item.get(APERTURA_TYPE)
        if kind == "loop":
            self.loop(item, row, out)
            return
        if kind in ("group", "repeat"):
            node[K.TYPE] = kind
        elif kind in TYPES:
            base = TYPES[kind]
            if base in (K.SELECT_ONE, K.SELECT_MULTIPLE):
                list_name = item.get("itemset") or item.get("list_name")
                if isinstance(list_name, str) and "." in list_name and list_name.rsplit(".", 1)[-1] in ("csv", "xml", "geojson"):
                    self.add(IssueCode.UNSUPPORTED_TYPE, "survey", row, name, type=f"{kind} from file")
                    return
                if own == K.LIKERT and base == K.SELECT_ONE:
                    base = K.LIKERT
                if own in (K.YES_NO, K.YES_NO_NA) and base == K.SELECT_ONE:
                    node[K.TYPE] = own  # Apertura's built-in list, written out for phones
                else:
                    node[K.TYPE] = f"{base} {list_name}" if list_name else base
            elif own in (K.YES_NO, K.YES_NO_NA, K.URL) and base == K.TEXT:
                node[K.TYPE] = own
            else:
                node[K.TYPE] = base
        else:
            self.add(IssueCode.UNSUPPORTED_TYPE, "survey", row, name, type=kind)
            return
        self.columns(item, node, row, name)
        if kind in ("group", "repeat"):
            children = LocatedList(line=None)
            self.elements(list(item.get("children") or []), children)
            node[K.CHILDREN] = children
        out.append(node)

    def columns(self, item: Mapping, node: LocatedDict, row: int, name: str | None) -> None:
        kind = str(item.get("type", ""))
        for key, value in item.items():
            if key in ("type", "name", "children", APERTURA_TYPE) or key in _QUIET_KEYS or value in (None, "", {}):
                continue
            if key in (K.LABEL, K.HINT):
                self.merge_label(node, key, self.label(value))
            elif key == "bind":
                self.bind(value, node, row, name)
            elif key == "control":
                self.control(value, node, row, name, kind)
            elif key in (K.DEFAULT,):
                node[K.DEFAULT] = self.expression(value, "survey", row, name, key)
            elif key == K.CHOICE_FILTER:
                node[K.CHOICE_FILTER] = self.expression(value, "survey", row, name, key)
            elif key == K.PARAMETERS:
                if kind == "range":
                    node[K.PARAMETERS] = dict(value) if isinstance(value, Mapping) else value
                else:
                    self.ignore("survey", row, "parameters")
            elif key in (APERTURA_MIN, APERTURA_MAX) and kind == "repeat":
                node[K.MIN_COUNT if key == APERTURA_MIN else K.MAX_COUNT] = value
            elif key == "media" or str(key).lower() in _MEDIA_COLUMNS:
                self.ignore("survey", row, "media")  # images or sound beside a label: not shown
            elif isinstance(key, str) and _SINGLE_COLON.match(key):
                base, lang = _SINGLE_COLON.match(key).groups()
                target = {"label": K.LABEL, "hint": K.HINT}.get(base.lower(), K.CONSTRAINT_MESSAGE)
                self.merge_label(node, target, {self.lang(lang): value})
            else:
                self.ignore("survey", row, str(key))

    def bind(self, bind: object, node: LocatedDict, row: int, name: str | None) -> None:
        if not isinstance(bind, Mapping):
            return
        for key, value in bind.items():
            if value in (None, ""):
                continue
            if key == "relevant":
                node[K.RELEVANT] = self.expression(value, "survey", row, name, K.RELEVANT)
            elif key == "required":
                node[K.REQUIRED] = self.expression(value, "survey", row, name, K.REQUIRED)
            elif key == "constraint":
                node[K.CONSTRAINT] = self.expression(value, "survey", row, name, K.CONSTRAINT)
            elif key == "calculate":
                node[K.CALCULATION] = self.expression(value, "survey", row, name, K.CALCULATION)
            elif key == "jr:constraintMsg":
                node[K.CONSTRAINT_MESSAGE] = self.label(value)
            elif key == "readonly":
                node[K.READ_ONLY] = value
            elif key == "jr:preload":
                continue
            else:
                self.ignore("survey", row, f"bind::{key}")

    def control(self, control: object, node: LocatedDict, row: int, name: str | None, kind: str) -> None:
        if not isinstance(control, Mapping):
            return
        for key, value in control.items():
            if value in (None, ""):
                continue
            if key == "appearance":
                words = str(value).split()
                kept = [w for w in words if w in RENDERED_APPEARANCES]
                for word in words:
                    if word not in RENDERED_APPEARANCES:
                        self.add(IssueCode.IGNORED_APPEARANCE, "survey", row, name, appearance=word)
                if kept:
                    node[K.APPEARANCE] = " ".join(kept)
            elif key == "jr:count" and kind == "repeat":
                node[K.REPEAT_COUNT] = self.expression(value, "survey", row, name, K.REPEAT_COUNT)
            elif key == "jr:count":
                self.ignore("survey", row, "repeat_count")
            else:
                self.ignore("survey", row, f"body::{key}")

    def loop(self, item: Mapping, row: int, out: LocatedList) -> None:
        """`begin loop over LIST`: one group per choice, names suffixed with the choice's."""
        columns = [c for c in item.get("columns") or [] if isinstance(c, Mapping) and c.get("name")]
        name = item.get("name")
        self.add(IssueCode.LOOP_EXPANDED, "survey", row, name, name=name, count=len(columns))
        start = self.pointer
        for column in columns:
            suffix = str(column["name"])
            col_label = self.label(column.get("label") or suffix)
            group = LocatedDict(sheet="survey", row=row)
            group[K.TYPE] = K.GROUP
            group[K.NAME] = f"{name}_{suffix}"
            group[K.LABEL] = col_label
            children = LocatedList(line=None)
            self.pointer = start
            for child in item.get("children") or []:
                if not isinstance(child, Mapping):
                    continue
                copy = dict(child)
                copy["name"] = f"{child.get('name')}_{suffix}"
                for key in (K.LABEL, K.HINT):
                    if key in copy:
                        copy[key] = _fill(copy[key], column, col_label, self)
                self.pointer = max(self.pointer, start)
                child_row = self.locate(child.get("name"))
                before = len(children)
                self.element({**copy, "name": copy["name"]}, children)
                for node in children[before:]:
                    if isinstance(node, LocatedDict):
                        node.row = child_row
            group[K.CHILDREN] = children
            out.append(group)


def _fill(value: object, column: Mapping, col_label: object, reader: _Reader) -> object:
    """A loop child's label with `%(name)s` / `%(label)s` filled for one column."""
    def one(text: object, lang: str | None) -> object:
        if not isinstance(text, str):
            return text
        label = col_label.get(lang, next(iter(col_label.values()), "")) if isinstance(col_label, Mapping) else col_label
        return text.replace("%(name)s", str(column.get("name"))).replace("%(label)s", str(label))
    if isinstance(value, Mapping):
        return {lang: one(text, reader.lang(str(lang))) for lang, text in value.items()}
    return one(value, None)


def _own_types(workbook) -> None:
    """Apertura's own types (yes_no, yes_no_na, url, likert LIST) as pyxform types plus
    the `apertura_type` column, so pyxform normalises the rest of the row as usual."""
    rows = workbook.survey or []
    changed = False
    for row in rows:
        type_key = next((k for k in row if _snake(k) == "type"), None)
        if type_key is None or not isinstance(row.get(type_key), str):
            continue
        words = row[type_key].split()
        if words and words[0].lower() in OWN_TYPES:
            own = words[0].lower()
            row[type_key] = " ".join([OWN_TYPES[own], *words[1:]])
            row[APERTURA_TYPE] = own
            changed = True
    if changed and workbook.survey_header:
        workbook.survey_header[0].setdefault(APERTURA_TYPE, None)


def read_xlsform(data: bytes, file: str, suffix: str) -> tuple[LocatedDict | None, list[Issue]]:
    """The native document built from an XLSForm's bytes, plus the issues found reading it."""
    try:
        from pyxform.errors import PyXFormError
        from pyxform.xls2json import workbook_to_json
        from pyxform.xls2json_backends import get_xlsform
    except ImportError:
        return None, [make_issue(IssueCode.PYXFORM_MISSING, file)]
    if suffix in (".csv", ".md") and b"\x00" in data[:8192]:
        return None, [make_issue(IssueCode.BINARY_FILE, file, line=1)]
    stem = Path(file).stem.replace(" ", "_") or "form"
    try:
        workbook = get_xlsform(BytesIO(data), file_type=suffix)
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's, reported located
        return None, [make_issue(IssueCode.XLSFORM_READ, file, sheet="survey", row=1, problem=_first_line(err))]
    issues: list[Issue] = []
    for name in workbook.sheet_names or []:
        if str(name).lower() in _UNSUPPORTED_SHEETS and getattr(workbook, str(name).lower(), None):
            issues.append(make_issue(IssueCode.UNSUPPORTED_SHEET, file, sheet=str(name), row=1, sheet_name=name))
    _own_types(workbook)
    reader = _Reader(file, workbook)
    warnings: list[str] = []
    try:
        form = workbook_to_json(workbook, form_name="data", fallback_form_name=stem, warnings=warnings)
    except PyXFormError as err:
        sheet, row = _locate_message(str(err))
        return None, [*issues, make_issue(IssueCode.PYXFORM_ERROR, file, sheet=sheet, row=row, message=_first_line(err))]
    except Exception as err:  # noqa: BLE001 - pyxform failing on odd input is still the input's problem
        sheet, row = _locate_message(str(err))
        return None, [*issues, make_issue(IssueCode.XLSFORM_READ, file, sheet=sheet, row=row, problem=_first_line(err))]
    for text in warnings:
        sheet, row = _locate_message(text)
        issues.append(make_issue(IssueCode.PYXFORM_WARNING, file, sheet=sheet, row=row, message=" ".join(str(text).split())[:300]))
    document = _document(reader, form, workbook, stem)
    reader.flush_ignored()
    return document, issues + reader.issues


def _document(reader: _Reader, form: Mapping, workbook, stem: str) -> LocatedDict:
    raw_settings = (workbook.settings or [{}])[0] if workbook.settings else {}
    default_raw = form.get("default_language")
    if default_raw and default_raw != "default":
        reader.default_lang = language_code(str(default_raw))
    settings = LocatedDict(sheet="settings", row=2)
    form_id = form.get("id_string") or stem
    settings["id"] = str(form_id).replace(" ", "_")
    if form.get("version") not in (None, ""):
        settings["version"] = str(form["version"])
    if form.get("unit") not in (None, ""):
        settings["unit"] = form["unit"]
    for key in raw_settings:
        base = _snake(str(key).split("::")[0].split(":")[0])
        if base not in _USED_SETTINGS and base != APERTURA_TITLE:
            reader.add(IssueCode.IGNORED_SETTING, "settings", 2, None, column=str(key))
    survey = LocatedList(line=None)
    reader.elements(list(form.get("children") or []), survey)
    choices = LocatedDict(sheet="choices", row=2)
    for list_name, items in (form.get("choices") or {}).items():
        out = LocatedList(line=None)
        for item in items:
            if not isinstance(item, Mapping):
                continue
            row = reader.choice_rows.get((str(list_name), str(item.get("name"))), 2)
            choice = LocatedDict(sheet="choices", row=row)
            for key, value in item.items():
                if key == K.NAME:
                    choice[K.NAME] = value
                elif key == K.LABEL:
                    choice[K.LABEL] = reader.label(value)
                elif str(key).startswith(("$", "_")) or value is None or isinstance(value, Mapping):
                    reader.ignore("choices", row, str(key))
                else:
                    choice[str(key)] = str(value)
            out.append(choice)
        choices[str(list_name)] = out
    _own_lists(survey, choices)
    title = form.get("title") if "form_title" in {_snake(k) for k in raw_settings} or "title" in {_snake(k) for k in raw_settings} else None
    if not default_raw or default_raw == "default":
        # No default language set: the first language written is the default, or Spanish
        # for forms with plain `label` columns only.
        reader.default_lang = reader.languages[0] if reader.languages else "es"
    languages = list(dict.fromkeys([reader.default_lang, *reader.languages]))
    settings["languages"] = languages
    settings["default_language"] = reader.default_lang
    translations = form.get(APERTURA_TITLE)
    if isinstance(title, str) and isinstance(translations, Mapping):  # written by surveys.xlsform_export
        settings["title"] = {reader.default_lang: title}
        settings["title"].update({language_code(str(k)): v for k, v in translations.items() if isinstance(v, str)})
    elif isinstance(title, str):
        settings["title"] = dict.fromkeys(languages, title)
    document = LocatedDict(sheet="survey", row=1)
    document["settings"] = settings
    document["choices"] = choices
    document["survey"] = survey
    return document


def _own_lists(survey: list, choices: LocatedDict) -> None:
    """Drop the `yes_no` / `yes_no_na` lists an export writes for ODK when every question
    using them is Apertura's own yes_no type (they are Apertura's built-in lists)."""
    used_by_selects: set[str] = set()

    def walk(nodes) -> None:
        for node in nodes:
            parts = str(node.get(K.TYPE, "")).split()
            if len(parts) == 2:
                used_by_selects.add(parts[1])
            walk(node.get(K.CHILDREN) or [])
    walk(survey)
    for builtin, items in K.BUILTIN_LISTS.items():
        listed = choices.get(builtin)
        if listed is not None and builtin not in used_by_selects and [c.get(K.NAME) for c in listed] == [n for n, _ in items]:
            del choices[builtin]
