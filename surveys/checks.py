"""Checks on a built definition: names, lists, references, repeat rules, cycles, labels, defaults."""
from __future__ import annotations

from surveys import constants as K
from surveys.coerce import COERCERS, CoercionError, is_blank
from surveys.graph import build_graph, find_cycles
from surveys.issues import Issue, IssueCode, make_issue
from surveys.model import Definition, Group, Question, Repeat, Source


def _loc(source: Source, key: str | None = None) -> dict:
    if source.sheet is not None:
        return {"sheet": source.sheet, "row": source.row}
    return {"line": source.line_of(key) if key else source.line}


def _where(source: Source) -> str:
    if source.sheet is not None:
        return f"{source.sheet}:{source.row}"
    return f"línea {source.line}" if source.line else "?"


def _where_en(source: Source) -> str:
    if source.sheet is not None:
        return f"{source.sheet}:{source.row}"
    return f"line {source.line}" if source.line else "?"


def check_definition(definition: Definition) -> list[Issue]:
    """Every semantic issue of a built definition."""
    file = definition.file
    issues: list[Issue] = []

    def add(code: IssueCode, source: Source, at: str | None, field: str | None, **params) -> None:
        issues.append(make_issue(code, file, field=field, **_loc(source, at), **params))

    elements = list(definition.elements())
    if not any(isinstance(e, Question) for e in elements):
        issues.append(make_issue(IssueCode.EMPTY_SURVEY, file, line=1))

    # Unique names across questions, groups and repeats.
    first: dict[str, Source] = {}
    for element in elements:
        if element.name in first:
            src = first[element.name]
            add(IssueCode.DUPLICATE_NAME, element.source, K.NAME, element.name,
                name=element.name, where=_where(src), where_en=_where_en(src))
        else:
            first[element.name] = element.source

    fields = definition.fields
    repeats = definition.repeats
    groups = {e.name for e in elements if isinstance(e, Group)}
    languages = definition.settings.languages

    def check_refs(expr, key: str, element, context_repeat: str | None, choice_list=None) -> None:
        for ref in sorted(expr.references):
            if ref in groups:
                add(IssueCode.GROUP_REFERENCE, element.source, key, element.name, key=key, ref=ref)
            elif ref in repeats:
                if ref in expr.scalar_references:
                    add(IssueCode.REPEAT_REFERENCE, element.source, key, element.name, key=key, ref=ref, repeat=ref)
            elif ref not in fields:
                add(IssueCode.UNKNOWN_REFERENCE, element.source, key, element.name, key=key, ref=ref)
            else:
                target = fields[ref].repeat
                if target is None or target == context_repeat:
                    continue
                if context_repeat is None and ref not in expr.scalar_references:
                    continue
                add(IssueCode.REPEAT_REFERENCE, element.source, key, element.name, key=key, ref=ref, repeat=target)
        if key != K.CHOICE_FILTER:
            for column in sorted(expr.columns):
                add(IssueCode.BARE_NAME, element.source, key, element.name, key=key, ref=column)
        elif choice_list is not None:
            known = {"name", "label"}
            for choice in choice_list.choices:
                known.update(choice.properties)
            for column in sorted(expr.columns - known):
                add(IssueCode.UNKNOWN_CHOICE_COLUMN, element.source, key, element.name, list=choice_list.name, ref=column)
        if expr.uses_current and key in (K.RELEVANT, K.CALCULATION, K.REPEAT_COUNT):
            add(IssueCode.CURRENT_NOT_ALLOWED, element.source, key, element.name, key=key)

    for element in elements:
        if isinstance(element, Repeat):
            context = None
        else:
            context = element.repeat
        if element.relevant is not None:
            check_refs(element.relevant, K.RELEVANT, element, context)
        if isinstance(element, Repeat) and element.repeat_count is not None and not isinstance(element.repeat_count, int):
            check_refs(element.repeat_count, K.REPEAT_COUNT, element, None)
        if isinstance(element, Question):
            choice_list = None
            if element.list_name is not None:
                choice_list = definition.choices.get(element.list_name)
                if choice_list is None:
                    add(IssueCode.UNKNOWN_LIST, element.source, K.TYPE, element.name, list=element.list_name)
            for key in (K.CONSTRAINT, K.CALCULATION, K.CHOICE_FILTER):
                expr = getattr(element, key)
                if expr is not None:
                    check_refs(expr, key, element, context, choice_list)
            if not isinstance(element.required, bool):
                check_refs(element.required, K.REQUIRED, element, context)
            _check_default(element, choice_list, add)

    deps, order = build_graph(definition)
    for cycle in find_cycles(deps, order):
        element = next((e for e in elements if e.name == cycle[0]), None)
        source = element.source if element is not None else Source()
        add(IssueCode.CYCLE, source, None, cycle[0], cycle=" → ".join(cycle))

    _check_labels(definition, elements, languages, add)
    return issues


def _check_default(question: Question, choice_list, add) -> None:
    default = question.default
    if default is None or (isinstance(default, str) and default == ""):
        return
    if question.type in K.NO_ANSWER_TYPES:
        add(IssueCode.INVALID_DEFAULT, question.source, K.DEFAULT, question.name, value=default,
            reason=f"las preguntas '{question.type}' no llevan valor por omisión",
            reason_en=f"'{question.type}' questions take no default")
        return
    try:
        value = COERCERS[question.type](default)
    except CoercionError as err:
        add(IssueCode.INVALID_DEFAULT, question.source, K.DEFAULT, question.name, value=default,
            reason=err.message_es, reason_en=err.message_en)
        return
    if choice_list is not None and not is_blank(value):
        names = set(choice_list.names)
        chosen = value if isinstance(value, list) else [value]
        for item in chosen:
            if item not in names:
                add(IssueCode.INVALID_DEFAULT, question.source, K.DEFAULT, question.name, value=default,
                    reason=f"'{item}' no está en la lista '{choice_list.name}'",
                    reason_en=f"'{item}' is not in list '{choice_list.name}'")
    if question.type == K.RANGE and question.parameters:
        p = question.parameters
        if not (p["start"] <= value <= p["end"]):
            add(IssueCode.INVALID_DEFAULT, question.source, K.DEFAULT, question.name, value=default,
                reason="fuera del rango", reason_en="out of range")


def _check_labels(definition: Definition, elements, languages, add) -> None:
    def check(label, source: Source, key: str, field: str | None, needed: bool) -> None:
        if not label:
            if needed:
                add(IssueCode.MISSING_LABEL, source, None, field)
            return
        for lang in label:
            if lang not in languages:
                add(IssueCode.UNKNOWN_LANGUAGE, source, key, field, key=key, lang=lang)
        for lang in languages:
            if not label.get(lang, "").strip():
                add(IssueCode.MISSING_TRANSLATION, source, key, field, key=key, lang=lang)

    for element in elements:
        needs_label = not (isinstance(element, Question) and element.type == K.CALCULATE)
        check(element.label, element.source, K.LABEL, element.name, needs_label)
        check(element.hint, element.source, K.HINT, element.name, False)
        if isinstance(element, Question):
            check(element.constraint_message, element.source, K.CONSTRAINT_MESSAGE, element.name, False)
    for choice_list in definition.choices.values():
        if choice_list.builtin:
            continue
        for choice in choice_list.choices:
            check(choice.label, choice.source, K.LABEL, f"{choice_list.name}/{choice.name}", True)
