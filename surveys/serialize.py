"""Plain-data views of definitions and answers: to_dict, content_hash, flatten, unflatten."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from surveys.expressions import Expression
from surveys.expressions.runtime import to_str
from surveys.model import Definition, Question, Repeat


def _expr(value: Expression | None) -> str | None:
    return value.canonical if value is not None else None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _element(element) -> dict:
    out: dict[str, Any] = {"name": element.name}
    if isinstance(element, Question):
        out["type"] = element.type_text
        items = {
            "label": dict(element.label),
            "hint": dict(element.hint),
            "required": element.required if isinstance(element.required, bool) else element.required.canonical,
            "relevant": _expr(element.relevant),
            "constraint": _expr(element.constraint),
            "constraint_message": dict(element.constraint_message),
            "calculation": _expr(element.calculation),
            "default": _plain(element.default),
            "choice_filter": _expr(element.choice_filter),
            "appearance": element.appearance,
            "parameters": dict(element.parameters),
            "read_only": element.read_only,
        }
    else:
        out["type"] = "repeat" if isinstance(element, Repeat) else "group"
        items = {
            "label": dict(element.label),
            "hint": dict(element.hint),
            "relevant": _expr(element.relevant),
            "appearance": element.appearance,
        }
        if isinstance(element, Repeat):
            count = element.repeat_count
            items["repeat_count"] = count if isinstance(count, int) or count is None else count.canonical
            items["min_count"] = element.min_count
            items["max_count"] = element.max_count
        items["children"] = [_element(c) for c in element.children]
    for key, value in items.items():
        if value not in (None, {}, [], False) or key == "required" and value is True:
            out[key] = value
    return out


def to_dict(definition: Definition) -> dict:
    """The normalised definition as plain data (no lines, no comments, canonical expressions)."""
    s = definition.settings
    return {
        "settings": {
            "id": s.id,
            "version": s.version,
            "title": dict(s.title),
            "languages": list(s.languages),
            "default_language": s.default_language,
            "unit": s.unit,
        },
        "choices": {
            name: [
                {"name": c.name, "label": dict(c.label), **({"properties": dict(c.properties)} if c.properties else {})}
                for c in cl.choices
            ]
            for name, cl in definition.choices.items()
            if not cl.builtin
        },
        "survey": [_element(e) for e in definition.survey],
    }


def content_hash(definition: Definition) -> str:
    """`sha256:` + hex digest of the canonical JSON of `to_dict(definition)`."""
    cached = definition._cache.get("hash")
    if cached is None:
        text = json.dumps(to_dict(definition), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        cached = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        definition._cache["hash"] = cached
    return cached


def value_text(value: Any) -> str:
    """Text form of a value: plain decimals, ISO dates, select_multiple space-separated."""
    return to_str(value)


def flatten(values: Mapping[str, Any]) -> list[tuple[str, int | None, str]]:
    """Long-form rows `(field, repeat_index, text)`; repeat fields are named `repeat.field`."""
    rows: list[tuple[str, int | None, str]] = []
    for name, value in values.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for i, instance in enumerate(value):
                if not instance:
                    rows.append((name, i, ""))
                for child, v in instance.items():
                    rows.append((f"{name}.{child}", i, value_text(v)))
        elif isinstance(value, list) and not value:
            continue
        else:
            rows.append((name, None, value_text(value)))
    return rows


def unflatten(rows: Iterable[tuple[str, int | None, str]]) -> dict[str, Any]:
    """The inverse of `flatten` (values stay text; `validate` coerces them)."""
    out: dict[str, Any] = {}
    for field, index, text in rows:
        if index is None:
            out[field] = text
            continue
        repeat, _, child = field.partition(".")
        instances = out.setdefault(repeat, [])
        while len(instances) <= index:
            instances.append({})
        if child:
            instances[index][child] = text
    return out
