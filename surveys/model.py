"""The questionnaire model: frozen dataclasses shared by the YAML and XLSForm readers."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from surveys.expressions import Expression

Label = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Source:
    """Where an element was written: YAML line, or XLSForm sheet and row; per-key lines."""

    line: int | None = None
    sheet: str | None = None
    row: int | None = None
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int | None:
        """The line of `key` (falls back to the element's line)."""
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a choice list; `properties` are extra columns used by choice_filter."""

    name: str
    label: Label
    properties: Mapping[str, str] = field(default_factory=dict)
    source: Source = field(default_factory=Source, compare=False)


@dataclass(frozen=True, slots=True)
class ChoiceList:
    """A named list of options."""

    name: str
    choices: tuple[Choice, ...]
    builtin: bool = False
    source: Source = field(default_factory=Source, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        """The option names in order."""
        return tuple(c.name for c in self.choices)


@dataclass(frozen=True, slots=True)
class Settings:
    """Instrument settings."""

    id: str
    version: str = ""
    title: Label = field(default_factory=dict)
    languages: tuple[str, ...] = ("es",)
    default_language: str = "es"
    unit: str = "institution"


@dataclass(frozen=True, slots=True)
class Question:
    """One question (or note, or calculation)."""

    name: str
    type: str
    path: str
    list_name: str | None = None
    label: Label = field(default_factory=dict)
    hint: Label = field(default_factory=dict)
    required: bool | Expression = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: Label = field(default_factory=dict)
    calculation: Expression | None = None
    default: Any = None
    choice_filter: Expression | None = None
    appearance: str | None = None
    parameters: Mapping[str, float] = field(default_factory=dict)
    read_only: bool = False
    repeat: str | None = None
    source: Source = field(default_factory=Source, compare=False)

    @property
    def type_text(self) -> str:
        """The type as written: `select_one LIST` for list types."""
        return f"{self.type} {self.list_name}" if self.list_name and self.type in ("select_one", "select_multiple", "likert") else self.type


@dataclass(frozen=True, slots=True)
class Group:
    """A group of elements; a top-level group is a page."""

    name: str
    path: str
    label: Label = field(default_factory=dict)
    hint: Label = field(default_factory=dict)
    relevant: Expression | None = None
    children: tuple[Element, ...] = ()
    appearance: str | None = None
    repeat: str | None = None
    source: Source = field(default_factory=Source, compare=False)


@dataclass(frozen=True, slots=True)
class Repeat:
    """A repeated block (one level): fixed, expression or open count."""

    name: str
    path: str
    label: Label = field(default_factory=dict)
    hint: Label = field(default_factory=dict)
    relevant: Expression | None = None
    children: tuple[Element, ...] = ()
    appearance: str | None = None
    repeat_count: int | Expression | None = None
    min_count: int | None = None
    max_count: int | None = None
    source: Source = field(default_factory=Source, compare=False)


Element = Question | Group | Repeat


def iter_elements(elements: tuple[Element, ...]) -> Iterator[Element]:
    """Every element, depth first, in document order."""
    for element in elements:
        yield element
        if isinstance(element, Group | Repeat):
            yield from iter_elements(element.children)


@dataclass(frozen=True, slots=True, eq=False)
class Definition:
    """A whole instrument: settings, choice lists, survey tree (identity-hashed; see content_hash)."""

    settings: Settings
    survey: tuple[Element, ...]
    choices: Mapping[str, ChoiceList]
    file: str = "<string>"
    _cache: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def elements(self) -> Iterator[Element]:
        """Every group, repeat and question in document order."""
        return iter_elements(self.survey)

    @property
    def fields(self) -> dict[str, Question]:
        """Questions by name in document order (including those inside repeats)."""
        cached = self._cache.get("fields")
        if cached is None:
            cached = {e.name: e for e in self.elements() if isinstance(e, Question)}
            self._cache["fields"] = cached
        return cached

    @property
    def repeats(self) -> dict[str, Repeat]:
        """Repeats by name."""
        cached = self._cache.get("repeats")
        if cached is None:
            cached = {e.name: e for e in self.elements() if isinstance(e, Repeat)}
            self._cache["repeats"] = cached
        return cached

    @property
    def groups(self) -> dict[str, Group]:
        """Groups by name."""
        return {e.name: e for e in self.elements() if isinstance(e, Group)}

    @property
    def pages(self) -> tuple[Group | Repeat, ...]:
        """Top-level groups and repeats; consecutive top-level questions form their own page."""
        cached = self._cache.get("pages")
        if cached is None:
            pages: list[Group | Repeat] = []
            loose: list[Question] = []

            def flush() -> None:
                if loose:
                    first = loose[0]
                    pages.append(
                        Group(name=f"_page_{len(pages) + 1}", path=f"_page_{len(pages) + 1}", children=tuple(loose), source=first.source)
                    )
                    loose.clear()

            for element in self.survey:
                if isinstance(element, Question):
                    loose.append(element)
                else:
                    flush()
                    pages.append(element)
            flush()
            cached = tuple(pages)
            self._cache["pages"] = cached
        return cached

    def choice_list(self, question: Question) -> ChoiceList | None:
        """The choice list a question draws from (built-in for yes_no / yes_no_na)."""
        if question.list_name is None:
            return None
        return self.choices.get(question.list_name)
