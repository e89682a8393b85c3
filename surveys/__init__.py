"""Apertura's questionnaire engine: definitions, expressions, checks and answer validation."""
from __future__ import annotations

from pathlib import Path

from surveys.builder import Builder
from surveys.checks import check_definition
from surveys.issues import CheckReport, DefinitionError, Issue, IssueCode, make_issue
from surveys.loader import decode, parse_yaml
from surveys.model import Choice, ChoiceList, Definition, Group, Question, Repeat, Settings, Source
from surveys.serialize import content_hash, flatten, to_dict, unflatten
from surveys.validation import FieldError, ValidationResult, validate

__all__ = [
    "CheckReport",
    "Choice",
    "ChoiceList",
    "Definition",
    "DefinitionError",
    "FieldError",
    "Group",
    "Issue",
    "IssueCode",
    "Question",
    "Repeat",
    "Settings",
    "Source",
    "ValidationResult",
    "check",
    "check_text",
    "content_hash",
    "flatten",
    "load",
    "load_text",
    "shipped",
    "to_dict",
    "unflatten",
    "validate",
]

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
YAML_SUFFIXES = (".yaml", ".yml")
XLSFORM_SUFFIXES = (".xlsx", ".xls", ".csv", ".md")


def _finish(report: CheckReport, data: object) -> CheckReport:
    builder = Builder(report.file)
    definition = builder.build(data)
    report.issues.extend(builder.issues)
    if definition is not None:
        semantic = check_definition(definition)
        if any(i.is_error for i in report.issues):
            # Elements dropped for errors already reported would make the survey look empty.
            semantic = [i for i in semantic if i.code is not IssueCode.EMPTY_SURVEY]
        report.issues.extend(semantic)
        if report.ok:
            report.definition = definition
    return report


def check_text(text: str, *, filename: str = "<string>") -> CheckReport:
    """Check native YAML text; never raises for bad input."""
    report = CheckReport(filename)
    data, issues = parse_yaml(text, filename)
    report.issues.extend(issues)
    if data is None and issues:
        return report
    return _finish(report, data)


def check(path: str | Path) -> CheckReport:
    """Check a definition file (.yaml/.yml, or XLSForm .xlsx, .xls, .csv, .md); never raises for bad input."""
    path = Path(path)
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in YAML_SUFFIXES + XLSFORM_SUFFIXES:
        return CheckReport(file, [make_issue(IssueCode.UNSUPPORTED_FILE, file, suffix=suffix or "(none)")])
    try:
        data = path.read_bytes()
    except OSError:
        return CheckReport(file, [make_issue(IssueCode.FILE_NOT_FOUND, file)])
    if suffix in XLSFORM_SUFFIXES:
        from surveys.xlsform import read_xlsform

        report = CheckReport(file)
        document, issues = read_xlsform(data, file, suffix)
        report.issues.extend(issues)
        if document is None:
            return report
        return _finish(report, document)
    text, issues = decode(data, file)
    if text is None:
        return CheckReport(file, issues)
    return check_text(text, filename=file)


def _raise_or_return(report: CheckReport) -> Definition:
    if report.definition is None:
        raise DefinitionError(report.issues)
    return report.definition


def load(path: str | Path) -> Definition:
    """Load a definition file; raises `DefinitionError` (with `.issues`) when it has errors."""
    return _raise_or_return(check(path))


def load_text(text: str, *, filename: str = "<string>") -> Definition:
    """Load a definition from native YAML text; raises `DefinitionError` on errors."""
    return _raise_or_return(check_text(text, filename=filename))


def shipped(name: str) -> Path:
    """Path of a shipped definition: surveys/definitions/<name>.yaml."""
    return DEFINITIONS_DIR / f"{name}.yaml"
