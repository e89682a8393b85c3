"""Page view-models: one page per top-level group, fields with values, errors and choices.

Relevance expressions are also exported as a small JSON syntax tree that `static/respond.js`
evaluates in the browser for live skip logic; the server always re-checks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from surveys.coerce import is_blank
from surveys.constants import CHOICE_TYPES
from surveys.expressions.export import json_tree
from surveys.model import Definition, Group, Question, Repeat
from surveys.paths import get_path

NON_INPUT = {"note", "calculate"}
BUILTIN_LABELS = {
    "yes": {"es": "Sí", "en": "Yes"},
    "no": {"es": "No", "en": "No"},
    "na": {"es": "No aplica", "en": "Not applicable"},
}


def is_email(question: Question) -> bool:
    """A text question that asks for an e-mail address (appearance `email`, or a constraint that
    checks for an @): rendered as `type=email`."""
    if "email" in (question.appearance or ""):
        return True
    constraint = getattr(question.constraint, "text", "") or ""
    return "regex" in constraint and "@" in constraint


def text(label, lang: str = "es") -> str:
    """A label in `lang`, falling back to Spanish, then to any language."""
    if not label:
        return ""
    if isinstance(label, str):
        return label
    return label.get(lang) or label.get("es") or next(iter(label.values()), "")


def dom_id(path: str) -> str:
    """A safe HTML id for a field path: `requests[0].sent` → `f-requests-0-sent`."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", path).strip("-")


@dataclass
class Choice:
    """One option of a choice question."""

    name: str
    label: str


@dataclass
class FieldView:
    """A question as rendered at one path (what a template asks of it is computed once)."""

    question: Question
    path: str
    label: str
    hint: str
    value: object
    relevant: bool
    required: bool
    errors: list[str]
    choices: list[Choice]
    relevant_ast: object | None
    repeat: str | None = None
    kind: str = "question"
    evidence: object | None = None  # attachments.Slot when the question takes evidence files

    @cached_property
    def id(self) -> str:
        """The input's HTML id."""
        return dom_id(self.path)

    @property
    def described_by(self) -> str:
        """Ids of the hint and error paragraphs that describe the input (`aria-describedby`)."""
        ids = ([f"{self.id}-hint"] if self.hint or self.widget == "number" else []) + (
            [f"{self.id}-error"] if self.errors else [])
        return " ".join(ids)

    @cached_property
    def widget(self) -> str:
        """How to render it: radio, checkbox, select, textarea, number, date, url, text, note, calculate."""
        qtype = self.question.type
        if qtype in NON_INPUT:
            return qtype
        if qtype == "select_multiple":
            return "checkbox"
        if qtype in CHOICE_TYPES:
            if len(self.choices) > 12 or (self.question.appearance or "").startswith("minimal"):
                return "select"
            return "radio"
        if qtype == "text" and "multiline" in (self.question.appearance or ""):
            return "textarea"
        if qtype == "text" and is_email(self.question):
            return "email"
        return {"integer": "number", "decimal": "number", "range": "number", "date": "date",
                "url": "url"}.get(qtype, "text")

    @cached_property
    def suggestion(self) -> str:
        """For a web address typed without its scheme (`www.example.gob.mx`), the address with
        `https://` to suggest; '' otherwise."""
        if self.widget != "url" or is_blank(self.value):
            return ""
        value = str(self.value).strip()
        if "://" in value or " " in value or "." not in value.split("/")[0]:
            return ""
        return "https://" + value.lstrip("/")

    @cached_property
    def selected(self) -> set[str]:
        """Selected option names (for choice widgets)."""
        if is_blank(self.value):
            return set()
        if isinstance(self.value, (list, tuple)):
            return {str(v) for v in self.value}
        return set(str(self.value).split()) if self.question.type == "select_multiple" else {str(self.value)}

    @cached_property
    def display(self) -> str:
        """The value as text for read-only pages and receipts."""
        if is_blank(self.value):
            return ""
        if self.choices:
            known = [c.label for c in self.choices if c.name in self.selected]
            unknown = sorted(self.selected - {c.name for c in self.choices})
            return ", ".join(known + unknown)
        return str(self.value)


@dataclass
class GroupView:
    """A nested group (rendered as a fieldset with a legend)."""

    path: str
    label: str
    hint: str
    relevant: bool
    relevant_ast: object | None
    items: list = field(default_factory=list)
    kind: str = "group"


@dataclass
class RepeatView:
    """A repeat group with its instances."""

    name: str
    label: str
    hint: str
    relevant: bool
    relevant_ast: object | None
    instances: list[list] = field(default_factory=list)
    can_add: bool = False
    removable: bool = False
    min_count: int = 0
    kind: str = "repeat"


@dataclass
class PageView:
    """One page of the questionnaire."""

    index: int
    count: int
    title: str
    hint: str
    relevant: bool
    items: list
    fields: list[FieldView]

    @property
    def paths(self) -> list[str]:
        """Every input path on the page."""
        return [f.path for f in self.fields if f.widget not in NON_INPUT]


def _choices(definition: Definition, question: Question, lang: str) -> list[Choice]:
    if question.type not in CHOICE_TYPES:
        return []
    choice_list = definition.choice_list(question)
    if choice_list is not None:
        return [Choice(c.name, text(c.label, lang) or text(BUILTIN_LABELS.get(c.name), lang) or c.name)
                for c in choice_list.choices]
    names = {"yes_no": ["yes", "no"], "yes_no_na": ["yes", "no", "na"]}.get(question.type, [])
    return [Choice(n, text(BUILTIN_LABELS[n], lang)) for n in names]


def instance_count(definition: Definition, repeat: Repeat, answers: dict, extra: int = 0,
                   minimum: int = 0) -> int:
    """How many instances of a repeat to show: stored (+ extra), posted, fixed or minimum count (≥ 1)."""
    stored = answers.get(repeat.name)
    stored_n = len(stored) if isinstance(stored, list) else 0
    fixed = repeat.repeat_count if isinstance(repeat.repeat_count, int) else 0
    n = max(stored_n + extra, minimum, fixed, repeat.min_count or 0, 1)
    if repeat.max_count:
        n = min(n, repeat.max_count)
    return n


class PageBuilder:
    """Builds PageViews for a definition, the raw answers and a ValidationResult."""

    def __init__(self, definition: Definition, answers: dict, validation, lang: str = "es",
                 extra_instances: dict[str, int] | None = None, posted_instances: dict[str, int] | None = None):
        self.definition = definition
        self.answers = answers
        self.validation = validation
        self.lang = lang
        self.errors = validation.by_path()
        self.extra = extra_instances or {}
        self.posted = posted_instances or {}

    @property
    def count(self) -> int:
        """Number of pages."""
        return len(self.definition.pages)

    def page(self, index: int) -> PageView:
        """The view of page `index` (0-based)."""
        element = self.definition.pages[index]
        collected: list[FieldView] = []
        if isinstance(element, Repeat):
            items = [self._repeat(element, collected)]
            relevant = True
        else:
            items = self._children(element.children, None, None, collected)
            relevant = self._relevant(element.path, element.name)
        return PageView(index, self.count, text(element.label, self.lang) or f"{index + 1}",
                        text(element.hint, self.lang), relevant, items, collected)

    def pages(self) -> list[PageView]:
        """Every page."""
        return [self.page(i) for i in range(self.count)]

    def _relevant(self, *candidates: str) -> bool:
        relevant = self.validation.relevant
        for candidate in candidates:
            if candidate in relevant:
                return bool(relevant[candidate])
        return True

    def _children(self, children, repeat: Repeat | None, index: int | None, collected: list) -> list:
        items = []
        for child in children:
            if isinstance(child, Question):
                path = child.name if repeat is None else f"{repeat.name}[{index}].{child.name}"
                value = get_path(self.answers, path)
                if child.type == "calculate":
                    value = get_path(self.validation.values, path)
                view = FieldView(
                    question=child, path=path, label=text(child.label, self.lang) or child.name,
                    hint=text(child.hint, self.lang), value=value, relevant=self._relevant(path),
                    required=child.required is True,
                    errors=[e.message_en if self.lang == "en" else e.message_es for e in self.errors.get(path, [])],
                    choices=_choices(self.definition, child, self.lang), relevant_ast=json_tree(child.relevant),
                    repeat=repeat.name if repeat else None)
                collected.append(view)
                items.append(view)
            elif isinstance(child, Repeat):
                items.append(self._repeat(child, collected))
            elif isinstance(child, Group):
                path = child.name if repeat is None else f"{repeat.name}[{index}].{child.name}"
                items.append(GroupView(path, text(child.label, self.lang), text(child.hint, self.lang),
                                       self._relevant(path, child.path, child.name), json_tree(child.relevant),
                                       self._children(child.children, repeat, index, collected)))
        return items

    def _repeat(self, repeat: Repeat, collected: list) -> RepeatView:
        n = instance_count(self.definition, repeat, self.answers, self.extra.get(repeat.name, 0),
                           self.posted.get(repeat.name, 0))
        view = RepeatView(repeat.name, text(repeat.label, self.lang), text(repeat.hint, self.lang),
                          self._relevant(repeat.name, repeat.path), json_tree(repeat.relevant),
                          min_count=max(repeat.min_count or 0, repeat.repeat_count if isinstance(repeat.repeat_count, int) else 0))
        for i in range(n):
            view.instances.append(self._children(repeat.children, repeat, i, collected))
        view.removable = repeat.repeat_count is None
        view.can_add = view.removable and (repeat.max_count is None or n < repeat.max_count)
        return view


def _shown(children, relevant: dict, repeat: Repeat | None) -> bool:
    """True when some input question (or note) among `children` is relevant now."""
    for child in children:
        if isinstance(child, Question):
            if child.type == "calculate":
                continue
            if repeat is None:
                if relevant.get(child.name, True):
                    return True
            else:
                suffix = f"].{child.name}"
                flags = [v for k, v in relevant.items() if k.startswith(f"{repeat.name}[") and k.endswith(suffix)]
                if not flags or any(flags):
                    return True
        elif isinstance(child, Repeat):
            if relevant.get(child.name, relevant.get(child.path, True)) and _shown(child.children, relevant, child):
                return True
        elif isinstance(child, Group):
            if relevant.get(child.name, relevant.get(child.path, True)) and _shown(child.children, relevant, repeat):
                return True
    return False


def shown_pages(definition: Definition, validation) -> list[int]:
    """Indexes of the pages that have something relevant now (skip logic never shows an empty
    page: not in next/previous, the page list, nor the progress). Page 0 when none has."""
    relevant = validation.relevant
    shown = []
    for index, element in enumerate(definition.pages):
        if not relevant.get(element.name, relevant.get(element.path, True)):
            continue
        if _shown(element.children, relevant, element if isinstance(element, Repeat) else None):
            shown.append(index)
    return shown or [0]


def progress(definition: Definition, answers: dict, validation) -> tuple[int, int]:
    """(answered, total) over relevant input questions, counting every repeat instance shown.

    Walks the definition once, without building the pages' views.
    """
    relevant = validation.relevant
    counts = [0, 0]  # answered, total

    def questions(children, repeat: Repeat | None, index: int | None, values: dict) -> None:
        for child in children:
            if isinstance(child, Question):
                if child.type in NON_INPUT or child.read_only:
                    continue
                path = child.name if repeat is None else f"{repeat.name}[{index}].{child.name}"
                if not relevant.get(path, True):
                    continue
                counts[1] += 1
                if not is_blank(values.get(child.name)):
                    counts[0] += 1
            elif isinstance(child, Repeat):
                instances(child)
            elif isinstance(child, Group):
                questions(child.children, repeat, index, values)

    def instances(repeat: Repeat) -> None:
        stored = answers.get(repeat.name)
        stored = stored if isinstance(stored, list) else []
        for i in range(instance_count(definition, repeat, answers)):
            values = stored[i] if i < len(stored) and isinstance(stored[i], dict) else {}
            questions(repeat.children, repeat, i, values)

    for element in definition.pages:
        if isinstance(element, Repeat):
            instances(element)
        else:
            questions(element.children, None, None, answers)
    return counts[0], counts[1]
