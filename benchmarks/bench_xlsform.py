"""XLSForm in and offline submissions in.

1. Loading a 500-question XLSForm (.xlsx) through pyxform into Apertura's model, beside
   openpyxl merely reading the same workbook's cells. Target ≤ 1 s.
2. Importing 5,000 KoboToolbox-style submissions of the government questionnaire (XLSX,
   group paths, `_uuid`) into a campaign on SQLite: read, match, validate, write all in one
   transaction; beside `surveys.validate` alone on the same answers. Target ≤ 10 s.
"""
from __future__ import annotations

import io
import random
import tempfile
import time
from pathlib import Path

import openpyxl

import surveys
from benchmarks import Measurement, best_of
from surveys.sample import sample_answers
from surveys.xlsform_export import to_xlsform


def big_form(path: Path, questions: int = 500) -> Path:
    """An XLSForm with `questions` questions in groups of 10, skip logic, constraints, choices."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label::Spanish (es)", "label::English (en)", "hint::Spanish (es)", "required",
               "relevant", "constraint", "constraint_message::Spanish (es)"])
    kinds = ["select_one yn", "integer", "text", "select_multiple channels", "decimal", "date"]
    for i in range(questions):
        if i % 10 == 0:
            ws.append(["begin_group", f"g{i // 10}", f"Sección {i // 10}", f"Section {i // 10}"])
        kind = kinds[i % len(kinds)]
        relevant = f"${{q{i - 1}}} = 'yes'" if i % 6 == 1 and i > 0 else None
        constraint = ". >= 0" if kind in ("integer", "decimal") else None
        ws.append([kind, f"q{i}", f"Pregunta {i}", f"Question {i}", f"Ayuda {i}", "yes" if i % 3 == 0 else None,
                   relevant, constraint, "No negativo" if constraint else None])
        if i % 10 == 9:
            ws.append(["end_group"])
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", "label::Spanish (es)", "label::English (en)"])
    for name, es, en in (("yes", "Sí", "Yes"), ("no", "No", "No")):
        choices.append(["yn", name, es, en])
    for name in ("pnt", "email", "phone", "desk"):
        choices.append(["channels", name, name.upper(), name.upper()])
    settings = wb.create_sheet("settings")
    settings.append(["form_id", "version", "default_language"])
    settings.append(["big", "1", "Spanish (es)"])
    wb.save(path)
    return path


def _read_cells(path: Path) -> int:
    wb = openpyxl.load_workbook(path, read_only=True)
    n = sum(1 for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for _ in row)
    wb.close()
    return n


def kobo_export(definition, submissions: list[tuple[str, str, dict]]) -> bytes:
    """A KoboToolbox XLSX export (group paths from the exported XLSForm) of these submissions."""
    survey = openpyxl.load_workbook(io.BytesIO(to_xlsform(definition)))["survey"]
    rows = list(survey.iter_rows(values_only=True))
    t, n = rows[0].index("type"), rows[0].index("name")
    stack, paths = [], {}
    for row in rows[1:]:
        if row[t] in ("begin_group", "begin_repeat"):
            stack.append(row[n])
        elif row[t] in ("end_group", "end_repeat"):
            stack.pop()
        elif row[n]:
            paths[row[n]] = "/".join([*stack, row[n]])
    fields = [f for f, q in definition.fields.items() if q.repeat is None and q.type not in ("note", "calculate")]
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(definition.settings.id)
    ws.append(["start", "institution", *[paths[f] for f in fields], "_id", "_uuid", "_submission_time", "_index"])
    for i, (uuid, key, answers) in enumerate(submissions, start=1):
        values = [" ".join(v) if isinstance(v := answers.get(f), list) else v for f in fields]
        ws.append(["2026-03-01T10:00:00", key, *values, i, uuid, "2026-03-02T11:00:00", i])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(n: int, tmp: Path) -> tuple[float, float, int, float]:
    """(seconds to import n submissions, seconds of surveys.validate alone, answers written,
    CPU seconds of this process during the import: on a shared machine wall time also
    counts the waits for a core)."""
    import sqlalchemy as sa

    from diagnostic import create_app, database
    from diagnostic.extensions import db
    from diagnostic.models import Answer, Institution, Order
    from diagnostic.services import campaigns, instruments, submissions
    from diagnostic.services.audit import SYSTEM

    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    database.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    app.instance_path = str(tmp / "instance")
    with app.app_context():
        campaign = campaigns.create("Bench", 2026, slug="bench")
        version = instruments.store_shipped("gobierno")
        campaigns.set_instrument(campaign, "institution", version)
        db.session.execute(sa.insert(Institution), [
            {"key": f"K{i:05d}", "name": f"Institución {i}", "state_code": f"{1 + i % 32:02d}", "order": Order("estatal"),
             "type": "ejecutivo"} for i in range(n)])
        db.session.commit()
        from diagnostic.services import institutions

        institutions.add_to_campaign(campaign, list(db.session.scalars(sa.select(Institution))))
        campaigns.set_status(campaign, "open")
        definition = instruments.definition(version)
        rng = random.Random(2026)
        answers = [sample_answers(definition, rng) for _ in range(n)]
        data = kobo_export(definition, [(f"uuid-{i}", f"K{i:05d}", a) for i, a in enumerate(answers)])
        start, cpu_start = time.perf_counter(), time.process_time()
        applied = submissions.apply(campaign, data, "bench.xlsx", SYSTEM)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        assert applied.created == n, applied.preview.errors[:3]
        written = db.session.scalar(sa.select(sa.func.count()).select_from(Answer))
        surveys.validate(definition, answers[0])
        validate_only = best_of(lambda: [surveys.validate(definition, a, partial=False) for a in answers], repeat=1)
        db.session.remove()
        db.engine.dispose()
    return seconds, validate_only, written, cpu


def run(quick: bool = False) -> list[Measurement]:
    """The two targets of XLSForm in and submissions in."""
    out = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        form = big_form(tmp / "big.xlsx", 500)
        definition = surveys.load(form)
        assert len(definition.fields) == 500
        load = best_of(lambda: surveys.load(form), repeat=3)
        cells = best_of(lambda: _read_cells(form), repeat=3)
        out.append(Measurement("XLSForm load: 500 questions (.xlsx, through pyxform)", load,
                               "openpyxl reading the same workbook's cells", cells, "≤ 1 s", load <= 1.0))
        n = 500 if quick else 5000
        seconds, validate_only, written, cpu = _import(n, tmp)
        out.append(Measurement(f"submissions import: {n:,} Kobo XLSX rows of gobierno ({written:,} answers, SQLite; CPU {cpu:.1f} s)",
                               seconds, f"surveys.validate alone on the same {n:,} answer sets", validate_only,
                               "≤ 10 s for 5,000" if not quick else "quick run", seconds <= 10.0 if not quick else None))
    return out
