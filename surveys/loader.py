"""Read native YAML with line numbers; bad files become located issues, never tracebacks."""
from __future__ import annotations

import yaml

from surveys.issues import Issue, IssueCode, make_issue


class LocatedDict(dict):
    """A mapping that remembers its own line, the line of each key, or an XLSForm row."""

    __slots__ = ("line", "key_lines", "sheet", "row")

    def __init__(self, *args, line: int | None = None, sheet: str | None = None, row: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.sheet = sheet
        self.row = row


class LocatedList(list):
    """A list that remembers its line."""

    __slots__ = ("line",)

    def __init__(self, *args, line: int | None = None) -> None:
        super().__init__(*args)
        self.line = line


class LineLoader(yaml.SafeLoader):
    """SafeLoader that records lines (1-based) and repeated keys."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)
        result = LocatedDict(line=node.start_mark.line + 1)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                key = str(key)
            if key in result:
                self.duplicates.append((str(key), key_node.start_mark.line + 1))
            result[key] = self.construct_object(value_node, deep=deep)
            result.key_lines[str(key)] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node, deep=False):  # noqa: D401 - PyYAML hook
        return LocatedList(
            (self.construct_object(child, deep=deep) for child in node.value),
            line=node.start_mark.line + 1,
        )


def _construct_map(loader, node):
    return loader.construct_mapping(node, deep=True)


def _construct_seq(loader, node):
    return loader.construct_sequence(node, deep=True)


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def decode(data: bytes, file: str) -> tuple[str | None, list[Issue]]:
    """UTF-8 text from bytes, or an issue for binary or non-UTF-8 content."""
    if b"\x00" in data[:8192]:
        return None, [make_issue(IssueCode.BINARY_FILE, file, line=1)]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return None, [make_issue(IssueCode.NOT_UTF8, file, line=line, byte=f"0x{data[err.start]:02x}")]


def parse_yaml(text: str, file: str) -> tuple[object, list[Issue]]:
    """The YAML document with lines recorded, plus syntax and repeated-key issues."""
    issues: list[Issue] = []
    if "\x00" in text:
        return None, [make_issue(IssueCode.BINARY_FILE, file, line=1)]
    try:
        loader = LineLoader(text)
    except yaml.reader.ReaderError as err:
        line = text[: err.position].count("\n") + 1
        return None, [make_issue(IssueCode.YAML_SYNTAX, file, line=line, problem=f"carácter no permitido #x{err.character:04x}")]
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (err.context, err.problem) if p) or "error"
        return None, [make_issue(IssueCode.YAML_SYNTAX, file, line=line, problem=problem)]
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError) as err:
        return None, [make_issue(IssueCode.YAML_SYNTAX, file, line=None, problem=str(err).splitlines()[0] if str(err) else type(err).__name__)]
    finally:
        loader.dispose()
    for key, line in loader.duplicates:
        issues.append(make_issue(IssueCode.DUPLICATE_KEY, file, line=line, key=key))
    return data, issues
