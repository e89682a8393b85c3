"""Turn a parsed document (YAML, or XLSForm rows reshaped alike) into the model, with issues."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping

from surveys import constants as K
from surveys.expressions import Expression, ExpressionError, parse
from surveys.issues import Issue, IssueCode, make_issue
from surveys.loader import LocatedDict, LocatedList
from surveys.model import Choice, ChoiceList, Definition, Group, Question, Repeat, Settings, Source

_PARAM = re.compile(r"\s*([A-Za-z_]+)\s*=\s*(\S+)")


class Builder:
    """Builds a `Definition` from a located document, collecting issues instead of raising."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[Issue] = []
        self.languages: tuple[str, ...] = K.DEFAULT_LANGUAGES

    # -- issue helpers -------------------------------------------------------------------
    def where(self, node: object, key: str | None = None) -> dict:
        if isinstance(node, LocatedDict):
            if node.sheet is not None:
                return {"sheet": node.sheet, "row": node.row}
            return {"line": node.key_lines.get(key, node.line) if key else node.line}
        if isinstance(node, LocatedList):
            return {"line": node.line}
        return {"line": None}

    def add(self, code: IssueCode, node: object, at: str | None = None, field: str | None = None, **params: object) -> None:
        self.issues.append(make_issue(code, self.file, field=field, **self.where(node, at), **params))

    def source(self, node: object) -> Source:
        if isinstance(node, LocatedDict):
            return Source(line=node.line, sheet=node.sheet, row=node.row, key_lines=dict(node.key_lines))
        return Source(line=getattr(node, "line", None))

    def wrong_type(self, node: object, key: str, field: str | None, expected: str, expected_en: str) -> None:
        self.add(IssueCode.WRONG_TYPE, node, key, field, key=key, expected=expected, expected_en=expected_en)

    # -- pieces --------------------------------------------------------------------------
    def label(self, node: Mapping, key: str, field: str | None) -> dict[str, str]:
        value = node.get(key)
        if value is None:
            return {}
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return {lang: str(value) for lang in self.languages}
        if isinstance(value, Mapping):
            out: dict[str, str] = {}
            for lang, text in value.items():
                if not isinstance(text, str | int | float) or isinstance(text, bool):
                    self.wrong_type(value, str(lang), field, "texto", "text")
                    continue
                out[str(lang)] = str(text)
            return out
        self.wrong_type(node, key, field, "texto o un mapeo idioma: texto", "text or a mapping language: text")
        return {}

    def expression(self, node: Mapping, key: str, field: str | None) -> Expression | None:
        value = node.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool | int | float):
            value = str(value).lower() if isinstance(value, bool) else str(value)
            value = f"{value}()" if value in ("true", "false") else value
        if not isinstance(value, str):
            self.wrong_type(node, key, field, "una expresión (texto)", "an expression (text)")
            return None
        try:
            return parse(value)
        except ExpressionError as err:
            self.add(
                IssueCode.EXPRESSION_SYNTAX, node, key, field,
                key=key, message=err.message_es, message_en=err.message_en, column=err.column,
            )
            return None

    def flag(self, node: Mapping, key: str, field: str | None) -> bool | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in K.TRUE_WORDS:
            return True
        if text in K.FALSE_WORDS:
            return False
        return None

    def optional_text(self, node: Mapping, key: str, field: str | None) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.wrong_type(node, key, field, "texto", "text")
            return None
        return value

    def count(self, node: Mapping, key: str, field: str | None) -> int | None:
        value = node.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.wrong_type(node, key, field, "un entero no negativo", "a non-negative integer")
            return None
        return value

    def name_of(self, node: Mapping, field_hint: str | None = None) -> str | None:
        value = node.get(K.NAME)
        if value is None or value == "":
            self.add(IssueCode.MISSING_KEY, node, None, field_hint, key=K.NAME)
            return None
        if not isinstance(value, str) or not K.NAME_PATTERN.match(value):
            self.add(IssueCode.INVALID_NAME, node, K.NAME, None, name=value)
            return None
        return value

    # -- sections ------------------------------------------------------------------------
    def build(self, data: object) -> Definition | None:
        """The definition, or None when the document's shape is too broken to build."""
        if not isinstance(data, Mapping):
            self.add(IssueCode.NOT_MAPPING, data if isinstance(data, LocatedList) else None)
            if not self.issues[-1].line:
                self.issues[-1] = make_issue(IssueCode.NOT_MAPPING, self.file, line=1)
            return None
        for key in data:
            if key not in K.TOP_KEYS:
                self.add(IssueCode.UNKNOWN_KEY, data, str(key), None, key=key)
        settings = self.settings(data)
        choices = self.choices(data)
        survey_raw = data.get(K.SURVEY)
        if survey_raw is None:
            self.add(IssueCode.MISSING_KEY, data, None, None, key=K.SURVEY)
            survey: tuple = ()
        elif not isinstance(survey_raw, list):
            self.wrong_type(data, K.SURVEY, None, "una lista de preguntas", "a list of questions")
            survey = ()
        else:
            survey = self.elements(survey_raw, "", None)
        if settings is None:
            return None
        for name, items in K.BUILTIN_LISTS.items():
            if name not in choices:
                choices[name] = ChoiceList(
                    name,
                    tuple(Choice(n, {lang: lab.get(lang, lab["en"]) for lang in self.languages}) for n, lab in items),
                    builtin=True,
                )
        return Definition(settings=settings, survey=survey, choices=choices, file=self.file)

    def settings(self, data: Mapping) -> Settings | None:
        raw = data.get(K.SETTINGS)
        if raw is None:
            self.add(IssueCode.MISSING_KEY, data, None, None, key=K.SETTINGS)
            return Settings(id="")
        if not isinstance(raw, Mapping):
            self.wrong_type(data, K.SETTINGS, None, "un mapeo", "a mapping")
            return Settings(id="")
        for key in raw:
            if key not in K.SETTINGS_KEYS:
                self.add(IssueCode.UNKNOWN_KEY, raw, str(key), None, key=key)
        languages = raw.get("languages")
        if languages is None:
            default = raw.get("default_language")
            languages = [default] if isinstance(default, str) else list(K.DEFAULT_LANGUAGES)
        if not isinstance(languages, list) or not languages or not all(isinstance(x, str) and (K.LANGUAGE_CODE.match(x) or K.LANGUAGE_NAME.match(x)) for x in languages):
            self.wrong_type(raw, "languages", None, "una lista de códigos de idioma (es, en)", "a list of language codes (es, en)")
            languages = list(K.DEFAULT_LANGUAGES)
        self.languages = tuple(dict.fromkeys(languages))
        default_language = raw.get("default_language", self.languages[0])
        if default_language not in self.languages:
            self.add(IssueCode.INVALID_SETTING, raw, "default_language", None, key="default_language",
                     reason="no está en languages", reason_en="not in languages")
            default_language = self.languages[0]
        form_id = raw.get("id")
        if form_id is None:
            self.add(IssueCode.MISSING_KEY, raw, None, None, key="id")
            form_id = ""
        elif not isinstance(form_id, str) or not K.NAME_PATTERN.match(form_id):
            self.add(IssueCode.INVALID_NAME, raw, "id", None, name=form_id)
            form_id = str(form_id)
        version = raw.get("version", "")
        if not isinstance(version, str):
            self.wrong_type(raw, "version", None, "texto (entre comillas, p. ej. \"2025.1\")", "text (quoted, e.g. \"2025.1\")")
            version = str(version)
        unit = raw.get("unit", "institution")
        if unit not in K.UNITS:
            self.add(IssueCode.INVALID_SETTING, raw, "unit", None, key="unit",
                     reason=f"debe ser uno de {sorted(K.UNITS)}", reason_en=f"must be one of {sorted(K.UNITS)}")
            unit = "institution"
        title = self.label(raw, "title", None)
        return Settings(id=form_id, version=version, title=title, languages=self.languages,
                        default_language=default_language, unit=unit)

    def choices(self, data: Mapping) -> dict[str, ChoiceList]:
        raw = data.get(K.CHOICES)
        out: dict[str, ChoiceList] = {}
        if raw is None:
            return out
        if not isinstance(raw, Mapping):
            self.wrong_type(data, K.CHOICES, None, "un mapeo de listas", "a mapping of lists")
            return out
        for list_name, items in raw.items():
            list_name = str(list_name)
            if not K.NAME_PATTERN.match(list_name):
                self.add(IssueCode.INVALID_NAME, raw, list_name, None, name=list_name)
                continue
            if not isinstance(items, list):
                self.wrong_type(raw, list_name, None, "una lista de opciones", "a list of choices")
                continue
            choices: list[Choice] = []
            seen: set[str] = set()
            for item in items:
                if not isinstance(item, Mapping):
                    self.wrong_type(items, list_name, None, "una lista de opciones {name, label}", "a list of choices {name, label}")
                    continue
                name = item.get(K.NAME)
                if isinstance(name, bool) or not isinstance(name, str | int | float) or str(name).strip() == "" or any(ch.isspace() for ch in str(name)):
                    self.add(IssueCode.INVALID_NAME, item, K.NAME, None, name=name)
                    continue
                name = str(name)
                if name in seen:
                    self.add(IssueCode.DUPLICATE_CHOICE, item, K.NAME, None, choice=name, list=list_name)
                    continue
                seen.add(name)
                label = self.label(item, K.LABEL, None)
                props = {str(k): ("" if v is None else str(v)) for k, v in item.items() if k not in (K.NAME, K.LABEL)}
                choices.append(Choice(name, label, props, self.source(item)))
            if not choices:
                self.add(IssueCode.EMPTY_LIST, raw, list_name, None, list=list_name)
            src = Source(line=raw.key_lines.get(list_name) if isinstance(raw, LocatedDict) else None,
                         sheet=getattr(raw, "sheet", None), row=getattr(raw, "row", None))
            out[list_name] = ChoiceList(list_name, tuple(choices), source=src)
        return out

    def elements(self, items: list, parent_path: str, repeat: str | None) -> tuple:
        out = []
        for item in items:
            element = self.element(item, items, parent_path, repeat)
            if element is not None:
                out.append(element)
        return tuple(out)

    def element(self, node: object, parent: object, parent_path: str, repeat: str | None):
        if not isinstance(node, Mapping):
            self.wrong_type(parent, "survey", None, "una lista de mapeos (type, name, ...)", "a list of mappings (type, name, ...)")
            return None
        raw_type = node.get(K.TYPE)
        name = self.name_of(node)
        if raw_type is None:
            self.add(IssueCode.MISSING_KEY, node, None, name, key=K.TYPE)
            return None
        if not isinstance(raw_type, str) or not raw_type.split():
            self.wrong_type(node, K.TYPE, name, "texto", "text")
            return None
        parts = raw_type.split()
        base = parts[0]
        if base in (K.GROUP, K.REPEAT):
            return self.container(node, base, name, parent_path, repeat)
        if base in K.UNSUPPORTED_TYPES:
            self.add(IssueCode.UNSUPPORTED_TYPE, node, K.TYPE, name, type=base)
            return None
        if base not in K.QUESTION_TYPES or (len(parts) > 1 and base not in K.LIST_TYPES) or len(parts) > 2:
            self.add(IssueCode.UNKNOWN_TYPE, node, K.TYPE, name, type=raw_type)
            return None
        list_name = None
        if base in K.LIST_TYPES:
            if len(parts) < 2:
                self.add(IssueCode.MISSING_LIST, node, K.TYPE, name, type=base)
                return None
            list_name = parts[1]
        elif base in (K.YES_NO, K.YES_NO_NA):
            list_name = base
        for key in node:
            if key not in K.QUESTION_KEYS:
                self.add(IssueCode.UNKNOWN_KEY, node, str(key), name, key=key)
        if name is None:
            return None
        required_raw = node.get(K.REQUIRED)
        required: bool | Expression = False
        if required_raw is not None:
            flag = self.flag(node, K.REQUIRED, name)
            if flag is not None:
                required = flag
            else:
                required = self.expression(node, K.REQUIRED, name) or False
        calculation = self.expression(node, K.CALCULATION, name)
        if base == K.CALCULATE and calculation is None and K.CALCULATION not in node:
            self.add(IssueCode.MISSING_CALCULATION, node, K.TYPE, name)
        parameters = self.parameters(node, base, name)
        default = node.get(K.DEFAULT)
        return Question(
            name=name,
            type=base,
            path=f"{parent_path}/{name}" if parent_path else name,
            list_name=list_name,
            label=self.label(node, K.LABEL, name),
            hint=self.label(node, K.HINT, name),
            required=required,
            relevant=self.expression(node, K.RELEVANT, name),
            constraint=self.expression(node, K.CONSTRAINT, name),
            constraint_message=self.label(node, K.CONSTRAINT_MESSAGE, name),
            calculation=calculation,
            default=default,
            choice_filter=self.expression(node, K.CHOICE_FILTER, name),
            appearance=self.optional_text(node, K.APPEARANCE, name),
            parameters=parameters,
            read_only=bool(self.flag(node, K.READ_ONLY, name)),
            repeat=repeat,
            source=self.source(node),
        )

    def parameters(self, node: Mapping, base: str, name: str | None) -> dict[str, float]:
        raw = node.get(K.PARAMETERS)
        if base != K.RANGE:
            if raw not in (None, ""):
                self.add(IssueCode.INVALID_PARAMETERS, node, K.PARAMETERS, name, value=raw,
                         reason="solo las preguntas 'range' llevan parámetros", reason_en="only 'range' questions take parameters")
            return {}
        params: dict[str, float] = {"start": 1.0, "end": 10.0, "step": 1.0}
        if raw in (None, ""):
            return params
        pairs: list[tuple[str, object]]
        if isinstance(raw, Mapping):
            pairs = [(str(k), v) for k, v in raw.items()]
        elif isinstance(raw, str):
            pairs = _PARAM.findall(raw)
            if not pairs or _PARAM.sub("", raw).strip():
                self.add(IssueCode.INVALID_PARAMETERS, node, K.PARAMETERS, name, value=raw,
                         reason="use 'start=0 end=100 step=1'", reason_en="use 'start=0 end=100 step=1'")
                return params
        else:
            self.add(IssueCode.INVALID_PARAMETERS, node, K.PARAMETERS, name, value=raw,
                     reason="use 'start=0 end=100 step=1'", reason_en="use 'start=0 end=100 step=1'")
            return params
        for key, value in pairs:
            if key not in params:
                self.add(IssueCode.INVALID_PARAMETERS, node, K.PARAMETERS, name, value=raw,
                         reason=f"parámetro desconocido '{key}'", reason_en=f"unknown parameter '{key}'")
                continue
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                number = math.nan
            if math.isnan(number) or math.isinf(number) or isinstance(value, bool):
                self.add(IssueCode.INVALID_PARAMETERS, node, K.PARAMETERS, name, value=raw,
                         reason=f"'{key}' debe ser un número", reason_en=f"'{key}' must be a number")
                continue
            params[key] = number
        if params["step"] <= 0 or params["start"] >= params["end"]:
            self.add(IssueCode.INVALID_PARAMETERS, node, K.PARAMETERS, name, value=raw,
                     reason="se requiere start < end y step > 0", reason_en="start < end and step > 0 are required")
        return params

    def container(self, node: Mapping, kind: str, name: str | None, parent_path: str, repeat: str | None):
        allowed = K.REPEAT_KEYS if kind == K.REPEAT else K.GROUP_KEYS
        for key in node:
            if key not in allowed:
                self.add(IssueCode.UNKNOWN_KEY, node, str(key), name, key=key)
        if kind == K.REPEAT and repeat is not None:
            self.add(IssueCode.NESTED_REPEAT, node, K.TYPE, name)
            return None
        children_raw = node.get(K.CHILDREN)
        path = f"{parent_path}/{name}" if parent_path else (name or "")
        if children_raw is None:
            children_raw = []
        if not isinstance(children_raw, list):
            self.wrong_type(node, K.CHILDREN, name, "una lista de preguntas", "a list of questions")
            children_raw = []
        inner_repeat = name if kind == K.REPEAT else repeat
        children = self.elements(children_raw, path, inner_repeat)
        if not children_raw:
            self.add(IssueCode.EMPTY_GROUP, node, K.TYPE, name, name=name)
        if name is None:
            return None
        common = {
            "name": name,
            "path": path,
            "label": self.label(node, K.LABEL, name),
            "hint": self.label(node, K.HINT, name),
            "relevant": self.expression(node, K.RELEVANT, name),
            "children": children,
            "appearance": self.optional_text(node, K.APPEARANCE, name),
            "source": self.source(node),
        }
        if kind == K.GROUP:
            return Group(repeat=repeat, **common)
        count_raw = node.get(K.REPEAT_COUNT)
        repeat_count: int | Expression | None = None
        if isinstance(count_raw, int) and not isinstance(count_raw, bool) or (isinstance(count_raw, str) and count_raw.strip().isdigit()):
            repeat_count = self.count(node, K.REPEAT_COUNT, name)
        elif count_raw not in (None, ""):
            repeat_count = self.expression(node, K.REPEAT_COUNT, name)
        min_count = self.count(node, K.MIN_COUNT, name)
        max_count = self.count(node, K.MAX_COUNT, name)
        if min_count is not None and max_count is not None and min_count > max_count:
            self.add(IssueCode.INVALID_COUNT, node, K.MIN_COUNT, name, key=K.MIN_COUNT,
                     reason="min_count es mayor que max_count", reason_en="min_count is greater than max_count")
        if isinstance(repeat_count, int) and (
            (min_count is not None and repeat_count < min_count) or (max_count is not None and repeat_count > max_count)
        ):
            self.add(IssueCode.INVALID_COUNT, node, K.REPEAT_COUNT, name, key=K.REPEAT_COUNT,
                     reason="repeat_count está fuera de min_count..max_count", reason_en="repeat_count is outside min_count..max_count")
        return Repeat(repeat_count=repeat_count, min_count=min_count, max_count=max_count, **common)

