"""`apertura survey ...`: check and show questionnaire definitions."""
from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

import surveys
from surveys.issues import CheckReport


def summary(report: CheckReport, lang: str = "es") -> str:
    """One line describing a loaded definition: questions, pages, repeats, languages, hash."""
    d = report.definition
    assert d is not None
    questions = sum(1 for q in d.fields.values() if q.type not in ("note", "calculate"))
    if lang == "en":
        return (
            f"{report.file}: ok — {questions} questions, {len(d.pages)} pages, {len(d.repeats)} repeats, "
            f"languages {', '.join(d.settings.languages)}, {surveys.content_hash(d)}"
        )
    return (
        f"{report.file}: correcto — {questions} preguntas, {len(d.pages)} páginas, {len(d.repeats)} repeticiones, "
        f"idiomas {', '.join(d.settings.languages)}, {surveys.content_hash(d)}"
    )


def is_index_model(path: str) -> bool:
    """Index models live beside questionnaires as `<id>.model.yaml` (see scoring/README.md)."""
    return Path(path).name.endswith((".model.yaml", ".model.yml"))


def check_files(paths: list[str], lang: str = "es") -> tuple[list[str], bool]:
    """The lines `survey check` prints for `paths`, and whether any had errors."""
    lines: list[str] = []
    failed = False
    for path in paths:
        if is_index_model(path):
            lines.append(
                f"{path}: index model, not a questionnaire; check it with `apertura model check`"
                if lang == "en"
                else f"{path}: modelo de índice, no cuestionario; revíselo con `apertura model check`"
            )
            continue
        report = surveys.check(path)
        lines.extend(issue.format(lang) for issue in report.issues)
        if report.ok and report.definition is not None:
            lines.append(summary(report, lang))
        else:
            failed = True
    return lines, failed


def show_text(path: str, fmt: str = "json") -> str:
    """The normalised definition as JSON or YAML text; raises `DefinitionError` on errors."""
    data = surveys.to_dict(surveys.load(path))
    if fmt == "yaml":
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return json.dumps(data, ensure_ascii=False, indent=2)


@click.group()
def survey() -> None:
    """Check and show questionnaire definitions."""


@survey.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
def check_command(files: tuple[Path, ...], lang: str) -> None:
    """Check definition files: print FILE:LINE: field: message per issue; exit 1 on errors."""
    lines, failed = check_files([str(f) for f in files], lang)
    for line in lines:
        click.echo(line)
    if failed:
        raise SystemExit(1)


@survey.command("show")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
def show_command(file: Path, fmt: str, lang: str) -> None:
    """Print the normalised definition."""
    try:
        click.echo(show_text(str(file), fmt))
    except surveys.DefinitionError as err:
        for issue in err.issues:
            click.echo(issue.format(lang), err=True)
        raise SystemExit(1) from None


@survey.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["xlsform"]), default="xlsform", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .xlsx to write (ODK Collect / KoboToolbox).")
@click.option("--lang", type=click.Choice(["es", "en"]), default="es", show_default=True)
def export_command(file: Path, fmt: str, out: Path, lang: str) -> None:
    """Write a definition as an XLSForm (.xlsx) that pyxform converts for ODK and KoboToolbox."""
    from surveys.xlsform_export import to_xlsform

    try:
        definition = surveys.load(str(file))
    except surveys.DefinitionError as err:
        for issue in err.issues:
            click.echo(issue.format(lang), err=True)
        raise SystemExit(1) from None
    out.write_bytes(to_xlsform(definition))
    message = "written" if lang == "en" else "escrito"
    click.echo(f"{out}: {message} — {surveys.content_hash(definition)}")
