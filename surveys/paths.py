"""The answer-path grammar: where a value sits in a nested answers dict.

A path is a field name (`ai_unit`) or a field of one instance of a repeat group
(`requests[1].sent`, 0-based, at most three digits). Answers are the nested dict that
`surveys.validate` takes: `{"ai_unit": "yes", "requests": [{"sent": "2025-03-03"}, ...]}`.
"""
from __future__ import annotations

import re

from surveys.coerce import is_blank

PATH = re.compile(r"^(?:(?P<repeat>[A-Za-z_][\w.-]*)\[(?P<index>\d{1,3})\]\.)?(?P<name>[A-Za-z_][\w.-]*)$")


class PathError(ValueError):
    """A text that is not an answer path."""

    def __init__(self, path: object):
        super().__init__(f"not an answer path: {path!r}")
        self.path = path


def parse_path(path: str) -> tuple[str | None, int | None, str]:
    """`requests[1].sent` → ('requests', 1, 'sent'); `ai_unit` → (None, None, 'ai_unit'); else PathError."""
    match = PATH.match(path or "") if isinstance(path, str) else None
    if match is None:
        raise PathError(path)
    index = match.group("index")
    return match.group("repeat"), (int(index) if index is not None else None), match.group("name")


def get_path(answers: dict, path: str) -> object:
    """The value at a path of a nested answers dict (None when absent)."""
    repeat, index, name = parse_path(path)
    if repeat is None:
        return answers.get(name)
    instances = answers.get(repeat) or []
    if index >= len(instances) or not isinstance(instances[index], dict):
        return None
    return instances[index].get(name)


def set_path(answers: dict, path: str, value: object) -> None:
    """Set (or, for a blank value, remove) the value at a path of a nested answers dict,
    adding empty repeat instances up to the path's index."""
    repeat, index, name = parse_path(path)
    if repeat is None:
        target = answers
    else:
        instances = answers.setdefault(repeat, [])
        if not isinstance(instances, list):
            instances = answers[repeat] = []
        while len(instances) <= index:
            instances.append({})
        target = instances[index]
    if is_blank(value):
        target.pop(name, None)
    else:
        target[name] = value
