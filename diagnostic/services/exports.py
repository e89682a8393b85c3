"""Score exports: CSV (long and wide), a codebook, XLSX and the JSON `apertura score` prints.

Every text cell is made safe against spreadsheet formula injection: a value starting with
`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe, unless it is a
genuine number (a negative score stays a number). The codebook describes every column of
the tables and every node of the index model (code, level, labels es/en, weight, rule).
"""
from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from diagnostic import labels
from diagnostic.models import Campaign
from diagnostic.services import Refusal, ServiceError
from diagnostic.services.scores import HEADLINE, TEXT_COLUMNS, CampaignScores, to_records

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SHAPES = ("wide", "long")
CODEBOOK_COLUMNS = ["column", "kind", "code", "level", "parent", "label_es", "label_en", "weight",
                    "index_weight", "aggregation", "missing", "min_coverage", "field", "rule"]


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def safe_cell(value: object) -> object:
    """A cell value that a spreadsheet will not run as a formula; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value.strip()):
        return "'" + value
    return value


def _csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return out.getvalue()


def wide_frame(scores: CampaignScores, by: str, level: str = HEADLINE) -> pd.DataFrame:
    """The score table as shown on the web (one row per group, one column per measure)."""
    return scores.table(by, level)


def long_frame(scores: CampaignScores, by: str, level: str = HEADLINE) -> pd.DataFrame:
    """The score table in long form: the group's columns, then `code`, `measure`, `value`
    (measures: score, coverage, low, high, adjusted, rest, gap, gap_low, gap_high, welch_p,
    perm_p, g, q, rank, rank_low, rank_high)."""
    table = scores.table(by, level)
    ids = [c for c in table.columns if c in TEXT_COLUMNS or c == "n" or c == "responded"]
    measures = [(key, *split_key(scores, key)) for key in table.columns if key not in ids]
    rows = []
    for record in to_records(table):
        keys = [record[c] for c in ids]
        rows.extend([*keys, code, measure, record[key]] for key, code, measure in measures)
    return pd.DataFrame(rows, columns=[*ids, "code", "measure", "value"])


def split_key(scores: CampaignScores, key: str) -> tuple[str, str]:
    """A table column as (node code, measure): `GA_gap_low` → (GA, gap_low), `rank` → (GA, rank)."""
    if key.startswith("rank"):
        return scores.model.tree.code, key
    column = scores.columns(pd.DataFrame(columns=[key]))[0]
    code = column.code or key
    return code, (key[len(code) + 1:] if key != code else "score")


def frame_csv(frame: pd.DataFrame) -> str:
    """A frame as safe CSV text (NaN as empty cells, full float precision)."""
    return _csv([str(c) for c in frame.columns], [list(r.values()) for r in to_records(frame)])


def scores_csv(scores: CampaignScores, by: str, level: str = HEADLINE, shape: str = "wide") -> str:
    """The score table as CSV, wide (as on the web) or long (one value per row)."""
    if shape not in SHAPES:
        raise ServiceError(Refusal.UNKNOWN_SHAPE, shape=shape)
    frame = wide_frame(scores, by, level) if shape == "wide" else long_frame(scores, by, level)
    return frame_csv(frame)


def codebook(scores: CampaignScores, by: str = "institution", level: str = HEADLINE) -> list[dict]:
    """One row per table column, then one per model node: code, level, labels, weights, rule."""
    model = scores.model
    parents = model.parents()
    weights = model.effective_weights()
    local: dict[str, float] = {model.tree.code: 1.0}
    for node in model.tree.walk():
        local.update(zip([c.code for c in node.children], model.normalised_weights(node), strict=True))
    rows = []
    table = scores.table(by, level)
    for column in scores.columns(table):
        rows.append({"column": column.key, "kind": "column", "code": column.code or "",
                     "level": model.node(column.code).level if column.code else "",
                     "label_es": column.label_es, "label_en": column.label_en})
    for node in model.tree.walk():
        rule = ""
        if node.rule is not None:
            rule = json.dumps({node.rule.family: _plain(node.rule.params.get(node.rule.family, node.rule.params)),
                               **({"not_applicable": list(node.rule.not_applicable)} if node.rule.not_applicable else {})},
                              ensure_ascii=False, sort_keys=True)
        rows.append({
            "column": "", "kind": "node", "code": node.code, "level": node.level,
            "parent": parents.get(node.code) or "",
            "label_es": node.label.get("es", node.code), "label_en": node.label.get("en", node.label.get("es", node.code)),
            "weight": local.get(node.code), "index_weight": weights.get(node.code),
            "aggregation": "" if node.is_leaf else model.setting(node, "aggregation"),
            "missing": "" if node.is_leaf else model.setting(node, "missing"),
            "min_coverage": "" if node.is_leaf else model.setting(node, "min_coverage"),
            "field": node.source_field if node.is_leaf else "", "rule": rule,
        })
    return [{k: row.get(k, "") for k in CODEBOOK_COLUMNS} for row in rows]


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def codebook_csv(scores: CampaignScores, by: str = "institution", level: str = HEADLINE) -> str:
    """The codebook as safe CSV."""
    rows = codebook(scores, by, level)
    return _csv(CODEBOOK_COLUMNS, [[r[c] for c in CODEBOOK_COLUMNS] for r in rows])


def metadata(campaign: Campaign, scores: CampaignScores, by: str, level: str) -> list[tuple[str, object]]:
    """(key, value) pairs describing an export: campaign, model, data fingerprint, seed."""
    stored = campaign.index_model
    return [
        ("campaign", campaign.slug), ("campaign_name", campaign.name), ("year", campaign.year),
        ("model", scores.model.id), ("model_version", scores.model.version),
        ("model_hash", stored.content_hash if stored else ""),
        ("data_fingerprint", scores.fingerprint), ("seed", scores.seed),
        ("by", by), ("level", level),
        ("institutions", int(scores.result.params["institutions"])),
        ("responded", int(scores.result.params["responded"])),
        ("generated_at", datetime.now(UTC).isoformat(timespec="seconds")),
    ]


def _sheet(workbook: Workbook, title: str, header: list[str], rows: list[list]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([safe_cell(h) for h in header])
    for row in rows:
        sheet.append([None if v is None else safe_cell(v) for v in row])
    for i, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(str(name)) + 2))
    sheet.freeze_panes = "A2"


def scores_xlsx(campaign: Campaign, scores: CampaignScores, by: str, level: str = HEADLINE) -> bytes:
    """An XLSX workbook with sheets `scores`, `codebook` and `metadata`."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    table = scores.table(by, level)
    records = to_records(table)
    header = [str(c) for c in table.columns]
    _sheet(workbook, "scores", header, [[r[c] for c in header] for r in records])
    book = codebook(scores, by, level)
    _sheet(workbook, "codebook", CODEBOOK_COLUMNS, [[r[c] for c in CODEBOOK_COLUMNS] for r in book])
    _sheet(workbook, "metadata", ["key", "value"], [list(pair) for pair in metadata(campaign, scores, by, level)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def scores_json(campaign: Campaign, scores: CampaignScores, by: str, level: str = HEADLINE,
                decimals: int | None = None) -> str:
    """The score table as JSON: metadata and rows (what `apertura score --format json` prints)."""
    payload = {"metadata": dict(metadata(campaign, scores, by, level)),
               "rows": scores.records(by, level, decimals)}
    return json.dumps(payload, ensure_ascii=False, indent=1) + "\n"


# ------------------------------------------------------------------ the submissions table (analysts)
SUBMISSION_COLUMNS = [
    ("institution", "Institución", "Institution"), ("key", "Clave", "Key"), ("state", "Entidad", "State"),
    ("type", "Tipo", "Type"), ("instrument", "Instrumento", "Instrument"), ("status", "Estado", "Status"), ("submitted_at", "Enviada", "Submitted"),
    ("reviewed", "Revisadas", "Reviewed"), ("answers", "Respuestas", "Answers"),
    ("pending", "Sin revisar", "Not reviewed"), ("verifier", "Verificador", "Verifier"),
]


def submission_records(view, lang: str = "es") -> tuple[list[str], list[list]]:
    """The submissions table as a header and rows, with labels (never codes) in `lang`."""
    from diagnostic.services import review

    header = [en if lang == "en" else es for _key, es, en in SUBMISSION_COLUMNS]
    rows = []
    for row in view.rows:
        response = row.response
        rows.append([
            row.institution.name, row.institution.key, row.state_name,
            labels.label(row.institution.type, "type", lang),
            review.label_of(review.PURPOSE_LABELS, response.purpose.value, lang),
            review.label_of(review.STATUS_LABELS, response.status.value, lang),
            response.submitted_at.strftime("%Y-%m-%d %H:%M") if response.submitted_at else "",
            row.reviewed, row.total, row.pending,
            (row.verifier.email if row.verifier else ""),
        ])
    return header, rows


def submissions_csv(view, lang: str = "es") -> str:
    """The submissions table as safe CSV (a cell that looks like a formula gets an apostrophe)."""
    header, rows = submission_records(view, lang)
    return _csv(header, rows)


def submissions_xlsx(view, lang: str = "es") -> bytes:
    """The submissions table as an XLSX workbook with one sheet."""
    header, rows = submission_records(view, lang)
    workbook = Workbook()
    workbook.remove(workbook.active)
    _sheet(workbook, "envios" if lang != "en" else "submissions", header, rows)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
