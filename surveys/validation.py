"""Validate an answer set against a definition: coercion, relevance, calculations, checks.

Everything a definition needs (closures, choice sets, evaluation order) is compiled once
and cached on the `Definition`. Defaults apply to questions absent from the answers (a
question sent empty stays empty). Answers to irrelevant questions are dropped. In drafts
(`partial=True`) required errors are skipped, and so are constraints and choice filters
that read another question still unanswered (they are checked on the final submission).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from surveys import constants as K
from surveys.coerce import COERCERS, CoercionError, is_blank, range_value
from surveys.expressions import POSITION_KEY
from surveys.expressions.runtime import finish, format_number, to_bool, to_number
from surveys.graph import HEAD, build_graph, topological_order
from surveys.model import Definition, Group, Question, Repeat


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one answer: its path (`x`, `r[0].y`), field name, code and messages."""

    path: str
    field: str
    code: str
    message_es: str
    message_en: str

    def message(self, lang: str = "es") -> str:
        """The message in `lang`."""
        return self.message_en if lang == "en" else self.message_es


@dataclass(slots=True)
class ValidationResult:
    """Coerced and calculated values of relevant fields, relevance by path, and errors."""

    values: dict[str, Any] = field(default_factory=dict)
    relevant: dict[str, bool] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors

    def by_path(self) -> dict[str, list[FieldError]]:
        """Errors grouped by path."""
        out: dict[str, list[FieldError]] = {}
        for error in self.errors:
            out.setdefault(error.path, []).append(error)
        return out


MESSAGES = {
    "unknown_field": ("campo desconocido: no es una pregunta del cuestionario", "unknown field: not a question of the questionnaire"),
    "required": ("esta respuesta es obligatoria", "this answer is required"),
    "constraint": ("la respuesta no cumple la condición {expr}", "the answer does not meet the condition {expr}"),
    "not_in_list": ("'{value}' no es una opción de la lista '{list}'", "'{value}' is not an option of list '{list}'"),
    "choice_filter": ("la opción '{value}' no está disponible con las respuestas dadas", "option '{value}' is not available given the other answers"),
    "range": ("debe estar entre {start} y {end}", "must be between {start} and {end}"),
    "step": ("debe ir en pasos de {step} a partir de {start}", "must go in steps of {step} from {start}"),
    "repeat_count": ("se esperaban {expected} registros y hay {count}", "{expected} entries were expected and there are {count}"),
    "min_count": ("se necesitan al menos {min} registros y hay {count}", "at least {min} entries are needed and there are {count}"),
    "max_count": ("se admiten como máximo {max} registros y hay {count}", "at most {max} entries are allowed and there are {count}"),
    "repeat_type": ("debe ser una lista de registros", "must be a list of entries"),
    "answers_type": ("las respuestas deben ser un mapeo campo: valor", "answers must be a mapping field: value"),
}


def _error(path: str, name: str, code: str, **params: object) -> FieldError:
    es, en = MESSAGES[code]
    return FieldError(path, name, code, es.format(**params), en.format(**params))


class FieldPlan:
    """Everything needed to process one question, precomputed."""

    __slots__ = (
        "name", "type", "coerce", "relevant", "parent", "calculation", "default", "has_default",
        "required", "required_fn", "constraint", "constraint_text", "message_es", "message_en",
        "choices", "choice_props", "choice_filter", "list_name", "params", "is_calc", "is_note",
        "is_multiple", "checks", "constraint_refs", "filter_refs",
    )

    def __init__(self, q: Question, definition: Definition, parent: str | None) -> None:
        self.name = q.name
        self.type = q.type
        self.coerce = COERCERS[q.type]
        self.relevant = q.relevant._fn if q.relevant is not None else None
        self.parent = parent
        self.calculation = q.calculation._fn if q.calculation is not None else None
        self.is_calc = q.type == K.CALCULATE or q.calculation is not None
        self.is_note = q.type == K.NOTE
        self.is_multiple = q.type == K.SELECT_MULTIPLE
        self.has_default = q.default is not None and not is_blank(q.default) and not self.is_calc and not self.is_note
        self.default = self.coerce(q.default) if self.has_default else None
        if q.type == K.RANGE and self.has_default:
            self.default = range_value(self.default, q.parameters)
        self.required = q.required is True
        self.required_fn = None if isinstance(q.required, bool) else q.required._fn
        self.constraint = q.constraint._fn if q.constraint is not None else None
        self.constraint_text = q.constraint.text if q.constraint is not None else ""
        self.constraint_refs = tuple(sorted(q.constraint.references)) if q.constraint is not None else ()
        self.filter_refs = tuple(sorted(q.choice_filter.references)) if q.choice_filter is not None else ()
        languages = definition.settings.languages
        cm = q.constraint_message
        self.message_es = cm.get("es") or (cm.get(languages[0]) if cm else None)
        self.message_en = cm.get("en") or self.message_es
        choice_list = definition.choice_list(q)
        self.list_name = q.list_name
        self.choices = frozenset(choice_list.names) if choice_list is not None else None
        self.choice_props = (
            {c.name: {"name": c.name, **c.properties} for c in choice_list.choices} if choice_list is not None else {}
        )
        self.choice_filter = q.choice_filter._fn if q.choice_filter is not None else None
        self.params = dict(q.parameters) if q.type == K.RANGE else None


class RepeatPlan:
    """A repeat: its head (relevance, count) and its children's plans in evaluation order."""

    __slots__ = ("name", "relevant", "parent", "count", "min_count", "max_count", "steps", "fields", "children")

    def __init__(self, r: Repeat, parent: str | None) -> None:
        self.name = r.name
        self.relevant = r.relevant._fn if r.relevant is not None else None
        self.parent = parent
        self.count = r.repeat_count if isinstance(r.repeat_count, int) else (
            r.repeat_count._fn if r.repeat_count is not None else None
        )
        self.min_count = r.min_count
        self.max_count = r.max_count
        self.steps: list[tuple] = []
        self.fields: dict[str, FieldPlan] = {}
        self.children: list[str] = []


class Plan:
    """The compiled form of a definition used by `validate`."""

    def __init__(self, definition: Definition) -> None:
        parents: dict[str, str | None] = {}
        elements = {}

        def walk(items, parent):
            for e in items:
                parents[e.name] = parent
                elements[e.name] = e
                if isinstance(e, Group | Repeat):
                    walk(e.children, e.name + HEAD if isinstance(e, Repeat) else e.name)

        walk(definition.survey, None)
        deps, order = build_graph(definition)
        ordered = topological_order(deps, order)
        self.top_fields: dict[str, FieldPlan] = {}
        self.repeats: dict[str, RepeatPlan] = {}
        self.steps: list[tuple] = []
        self.output_order: list[str] = []
        for name, e in elements.items():
            if isinstance(e, Repeat):
                self.repeats[name] = RepeatPlan(e, parents[name])
        for node in ordered:
            if node.endswith(HEAD):
                rp = self.repeats[node.removesuffix(HEAD)]
                self.steps.append(("head", rp))
                continue
            e = elements[node]
            inner = getattr(e, "repeat", None)
            if isinstance(e, Repeat):
                self.steps.append(("repeat", self.repeats[node]))
                continue
            parent = parents[node]
            if inner is not None:
                rp = self.repeats[inner]
                # Inside a repeat the parent relevance of direct children is the instance's.
                local_parent = None if parent == inner + HEAD else parent
                if isinstance(e, Group):
                    rp.steps.append(("group", node, e.relevant._fn if e.relevant is not None else None, local_parent))
                else:
                    fp = FieldPlan(e, definition, local_parent)
                    rp.fields[node] = fp
                    rp.steps.append(("field", fp))
                continue
            if isinstance(e, Group):
                self.steps.append(("group", node, e.relevant._fn if e.relevant is not None else None, parent))
            else:
                fp = FieldPlan(e, definition, parent)
                self.top_fields[node] = fp
                self.steps.append(("field", fp))
        for e in definition.elements():
            if isinstance(e, Question) and e.repeat is None:
                self.output_order.append(e.name)
            if isinstance(e, Question) and e.repeat is not None:
                self.repeats[e.repeat].children.append(e.name)
        self.group_names = frozenset(e.name for e in definition.elements() if isinstance(e, Group))
        # Consecutive field/group steps run as one batch.
        self.segments: list[tuple] = []
        for step in self.steps:
            if step[0] in ("field", "group"):
                if self.segments and self.segments[-1][0] == "batch":
                    self.segments[-1][1].append(step)
                else:
                    self.segments.append(("batch", [step]))
            else:
                self.segments.append(step)
        self.check_order = [self.top_fields[n] for n in self.output_order]


def plan_for(definition: Definition) -> Plan:
    """The compiled plan of a definition (built once, cached on it)."""
    plan = definition._cache.get("plan")
    if plan is None:
        plan = Plan(definition)
        definition._cache["plan"] = plan
    return plan


def _coerce_into(fields: Mapping[str, FieldPlan], answers: Mapping, vals: dict, bad: dict, prefix: str, errors: list) -> None:
    for key, raw in answers.items():
        fp = fields.get(key)
        if fp is None:
            errors.append(_error(f"{prefix}{key}", key, "unknown_field"))
            continue
        if fp.is_calc or raw is None:
            continue
        if raw.__class__ is str:
            if not raw or raw.isspace():
                continue
        elif is_blank(raw):
            continue
        try:
            value = fp.coerce(raw)
        except CoercionError as err:
            bad[key] = err
            continue
        if fp.params is not None:
            value = range_value(value, fp.params)
        vals[key] = value


def _run_steps(steps, vals: dict, rel: dict, answers: Mapping, prefix: str) -> None:
    for step in steps:
        kind = step[0]
        if kind == "field":
            fp = step[1]
            parent = fp.parent
            ok = rel[parent] if parent is not None else True
            if ok and fp.relevant is not None:
                ok = to_bool(fp.relevant(vals, None))
            name = fp.name
            rel[name] = ok
            if not ok:
                vals.pop(name, None)
                continue
            if fp.calculation is not None:
                value = finish(fp.calculation(vals, None))
                if value == "" or value is None:
                    vals.pop(name, None)
                else:
                    vals[name] = value
            elif fp.has_default and name not in answers:
                vals[name] = fp.default
        elif kind == "group":
            _, name, fn, parent = step
            ok = rel[parent] if parent is not None else True
            if ok and fn is not None:
                ok = to_bool(fn(vals, None))
            rel[name] = ok


def _waits_for(refs: tuple[str, ...], values: dict) -> bool:
    """In a draft, a check that reads an unanswered question waits until it is answered."""
    for ref in refs:
        v = values.get(ref)
        if v is None or v == "":
            return True
    return False


def _check_field(fp: FieldPlan, vals: dict, current_ctx: dict, path: str, bad: dict, errors: list, partial: bool) -> None:
    name = fp.name
    if name in bad:
        err = bad[name]
        errors.append(FieldError(path, name, err.code, err.message_es, err.message_en))
        return
    value = vals.get(name)
    if value is None:
        if partial or fp.is_calc:
            return
        if fp.required or (fp.required_fn is not None and to_bool(fp.required_fn(current_ctx, None))):
            errors.append(_error(path, name, "required"))
        return
    if fp.choices is not None:
        items = value if fp.is_multiple else (value,)
        for item in items:
            if item not in fp.choices:
                errors.append(_error(path, name, "not_in_list", value=item, list=fp.list_name))
                return
            if (
                fp.choice_filter is not None
                and not (partial and _waits_for(fp.filter_refs, current_ctx))
                and not to_bool(fp.choice_filter(current_ctx, fp.choice_props[item]))
            ):
                errors.append(_error(path, name, "choice_filter", value=item))
                return
    if fp.params is not None:
        p = fp.params
        if not (p["start"] <= value <= p["end"]):
            errors.append(_error(path, name, "range", start=format_number(p["start"]), end=format_number(p["end"])))
            return
        steps = (value - p["start"]) / p["step"]
        if abs(steps - round(steps)) > 1e-9:
            errors.append(_error(path, name, "step", step=format_number(p["step"]), start=format_number(p["start"])))
            return
    if (
        fp.constraint is not None
        and not (partial and _waits_for(fp.constraint_refs, current_ctx))
        and not to_bool(fp.constraint(current_ctx, value))
    ):
        if fp.message_es:
            errors.append(FieldError(path, name, "constraint", fp.message_es, fp.message_en or fp.message_es))
        else:
            errors.append(_error(path, name, "constraint", expr=fp.constraint_text))


def validate(definition: Definition, answers: Mapping[str, Any] | None, *, partial: bool = False) -> ValidationResult:
    """Coerce, compute relevance and calculations, and check an answer set (drafts: `partial=True`)."""
    plan = plan_for(definition)
    result = ValidationResult()
    errors = result.errors
    if answers is None:
        answers = {}
    if not isinstance(answers, Mapping):
        errors.append(_error("", "", "answers_type"))
        return result
    vals: dict[str, Any] = {}
    bad: dict[str, CoercionError] = {}
    repeat_answers: dict[str, Any] = {}
    top = {}
    for key, raw in answers.items():
        if key in plan.repeats:
            repeat_answers[key] = raw
        else:
            top[key] = raw
    _coerce_into(plan.top_fields, top, vals, bad, "", errors)
    rel: dict[str, bool] = {}
    repeat_out: dict[str, list] = {}
    for step in plan.segments:
        kind = step[0]
        if kind == "batch":
            _run_steps(step[1], vals, rel, top, "")
        elif kind == "head":
            rp = step[1]
            ok = rel[rp.parent] if rp.parent is not None else True
            if ok and rp.relevant is not None:
                ok = to_bool(rp.relevant(vals, None))
            rel[rp.name + HEAD] = ok
        else:
            _run_repeat(step[1], vals, rel, repeat_answers.get(step[1].name), result, repeat_out, partial)
    for fp in plan.check_order:
        if rel.get(fp.name):
            _check_field(fp, vals, vals, fp.name, bad, errors, partial)
    values = result.values
    relevant = result.relevant
    for name in plan.output_order:
        ok = rel.get(name, False)
        relevant[name] = ok
        if ok:
            v = vals.get(name)
            if v is not None:
                values[name] = v
    for name, rows in repeat_out.items():
        values[name] = rows
    groups = plan.group_names
    for name, ok in rel.items():
        if name in groups:
            relevant[name] = ok
        elif name.endswith(HEAD):
            relevant[name[: -len(HEAD)]] = ok
    return result


def _run_repeat(rp: RepeatPlan, vals: dict, rel: dict, raw: Any, result: ValidationResult, out: dict, partial: bool) -> None:
    errors = result.errors
    ok = rel.get(rp.name + HEAD, True)
    rel[rp.name] = ok
    for child in rp.children:
        vals.pop(child, None)
    if not ok:
        vals.pop(rp.name, None)
        return
    if raw is None or raw == "":
        instances: list = []
    elif isinstance(raw, list | tuple) and all(isinstance(x, Mapping) for x in raw):
        instances = list(raw)
    else:
        errors.append(_error(rp.name, rp.name, "repeat_type"))
        instances = []
    count = len(instances)
    expected = None
    if rp.count is not None:
        expected = rp.count if isinstance(rp.count, int) else to_number(rp.count(vals, None))
        if isinstance(expected, float):
            expected = None if math.isnan(expected) or math.isinf(expected) else int(expected)
    if expected is not None and (count > expected or (count < expected and not partial)):
        errors.append(_error(rp.name, rp.name, "repeat_count", expected=expected, count=count))
    if rp.min_count is not None and count < rp.min_count and not partial:
        errors.append(_error(rp.name, rp.name, "min_count", min=rp.min_count, count=count))
    if rp.max_count is not None and count > rp.max_count:
        errors.append(_error(rp.name, rp.name, "max_count", max=rp.max_count, count=count))
    rows: list[dict] = []
    columns: dict[str, list] = {c: [] for c in rp.children}
    for i, inst in enumerate(instances):
        prefix = f"{rp.name}[{i}]."
        own: dict = {}
        bad: dict = {}
        _coerce_into(rp.fields, inst, own, bad, prefix, errors)
        ctx = dict(vals)
        for child in rp.children:
            ctx.pop(child, None)
        ctx.update(own)
        ctx[POSITION_KEY] = i + 1
        irel: dict = {}
        _run_steps(rp.steps, ctx, irel, inst, prefix)
        row = {}
        for child in rp.children:
            fp = rp.fields[child]
            ok = irel.get(child, False)
            result.relevant[prefix + child] = ok
            if ok:
                _check_field(fp, ctx, ctx, prefix + child, bad, errors, partial)
                v = ctx.get(child)
                if v is not None:
                    row[child] = v
            columns[child].append(ctx.get(child, "") if ok else "")
        rows.append(row)
    for child, column in columns.items():
        vals[child] = column
    vals[rp.name] = rows
    out[rp.name] = rows
