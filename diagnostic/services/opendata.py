"""Open data of a campaign's results: CSV that opens cleanly in Excel and in pandas/R (UTF-8
with a byte-order mark, Spanish column names, sensible rounding, labels instead of codes),
one XLSX workbook, and a Frictionless Data package (`datapackage.json`) with a licence,
sources and a field table per resource: scores at every level, the verified item-level
answers with their evidence URLs, the instruments and the index model.

Only scored items and their evidence fields are published: nothing personal (respondent
names, e-mails) ever is. Who may read a campaign is decided by the views (published only).
"""
from __future__ import annotations

import csv
import io
import json
import math

from openpyxl import Workbook

from diagnostic.models import Campaign, ResponseStatus
from diagnostic.services import NotFound, Refusal, report, responses, scores
from diagnostic.services.exports import codebook, safe_cell

BOM = "\ufeff"
SCORE_DIGITS = 3
P_DIGITS = 4
# Table column → (Spanish name, Spanish description, English description, Frictionless type).
TEXT = {
    "institution": ("clave", "Clave de la institución", "Institution key", "string"),
    "name": ("institucion", "Nombre de la institución", "Institution name", "string"),
    "state": ("cve_ent", "Clave INEGI de la entidad (00 = federal)", "INEGI state code (00 = federal)", "string"),
    "abbr": ("abrev", "Abreviatura de la entidad", "State abbreviation", "string"),
    "entidad": ("entidad", "Nombre de la entidad", "State name", "string"),
    "type": ("tipo", "Tipo de institución", "Type of institution", "string"),
    "order": ("orden", "Orden de gobierno", "Order of government", "string"),
    "group": ("grupo", "Grupo", "Group", "string"),
    "n": ("n", "Número de instituciones", "Number of institutions", "integer"),
    "responded": ("respondio", "Si la institución respondió (sí/no)", "Whether the institution responded (sí/no)", "string"),
    "rank": ("lugar", "Lugar en el índice (1 = el más alto)", "Index rank (1 = highest)", "integer"),
    "rank_low": ("lugar_inf", "Lugar, límite inferior del intervalo de 90 %", "Rank, 90% interval lower bound", "integer"),
    "rank_high": ("lugar_sup", "Lugar, límite superior del intervalo de 90 %", "Rank, 90% interval upper bound", "integer"),
}
SUFFIX = {
    "": ("", "puntaje (0 a 1)", "score (0 to 1)"),
    "low": ("ic95_inf", "límite inferior del IC 95 %", "95% CI lower bound"),
    "high": ("ic95_sup", "límite superior del IC 95 %", "95% CI upper bound"),
    "coverage": ("cobertura", "cobertura (parte del peso con datos)", "coverage (share of weight with data)"),
    "adjusted": ("ajustado_tipo", "ajustado por tipo", "type-adjusted"),
    "rest": ("resto_pais", "promedio del resto del país", "rest of the nation mean"),
    "gap": ("brecha", "diferencia con el resto del país", "gap to the rest of the nation"),
    "gap_low": ("brecha_ic95_inf", "brecha, límite inferior del IC 95 %", "gap, 95% CI lower bound"),
    "gap_high": ("brecha_ic95_sup", "brecha, límite superior del IC 95 %", "gap, 95% CI upper bound"),
    "welch_p": ("p_welch", "p de la prueba de Welch", "Welch test p-value"),
    "perm_p": ("p_permutacion", "p de la prueba de permutación", "permutation test p-value"),
    "g": ("g_hedges", "g de Hedges (tamaño del efecto)", "Hedges' g (effect size)"),
    "q": ("q_bh", "q de Benjamini–Hochberg", "Benjamini–Hochberg q-value"),
}
RESOURCES = ("institucion", "entidad", "tipo", "orden", "nacional", "respuestas", "instrumentos", "modelo", "diccionario")
GROUPING_OF = {"institucion": "institution", "entidad": "state", "tipo": "type", "orden": "order", "nacional": "nation"}


def _split(computed: scores.CampaignScores, key: str) -> tuple[str, str]:
    codes = {n.code for n in computed.model.tree.walk()}
    if key in codes:
        return key, ""
    for suffix in sorted((s for s in SUFFIX if s), key=len, reverse=True):
        if key.endswith("_" + suffix) and key[: -len(suffix) - 1] in codes:
            return key[: -len(suffix) - 1], suffix
    return key, ""


def _field(computed: scores.CampaignScores, key: str) -> dict:
    """A table column as a data-dictionary row: name, descriptions, type."""
    if key in TEXT:
        name, es, en, kind = TEXT[key]
        return {"name": name, "key": key, "description_es": es, "description_en": en, "type": kind}
    code, suffix = _split(computed, key)
    node = computed.model.node(code)
    name_suffix, es, en = SUFFIX[suffix]
    label_es, label_en = node.label.get("es", code), node.label.get("en", node.label.get("es", code))
    return {"name": f"{code}_{name_suffix}" if name_suffix else code, "key": key,
            "description_es": f"{label_es}: {es}", "description_en": f"{label_en}: {en}", "type": "number",
            "digits": P_DIGITS if suffix in ("welch_p", "perm_p", "q") else SCORE_DIGITS}


def _clean(value: object, field: dict) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    key = field["key"]
    if key == "responded":
        return "sí" if bool(value) else "no"
    if key == "type":
        return report.label("type", value, "es")
    if key == "order":
        return report.label("order", value, "es")
    if field["type"] == "integer":
        return int(round(float(value)))
    if field["type"] == "number":
        return round(float(value), field["digits"])
    return value


def score_table(campaign: Campaign, by: str) -> tuple[list[dict], list[list]]:
    """The open score table by a grouping: (fields, rows) with Spanish names and rounded values."""
    computed = scores.compute(campaign)
    table = computed.table(by)
    if by == "nation" and "group" in table.columns:
        table["group"] = "nacional"
    fields = [_field(computed, c) for c in table.columns]
    rows = [[_clean(v, f) for v, f in zip(r, fields, strict=True)] for r in table.itertuples(index=False, name=None)]
    return fields, rows


def answers_table(campaign: Campaign) -> tuple[list[dict], list[list]]:
    """Verified item-level answers of the scored items, each with its evidence URL (nothing personal)."""
    computed = scores.compute(campaign)
    scored = {n.source_field for n in computed.model.leaves() if n.source_field}
    insts = computed.result.institutions
    fields = [
        {"name": "clave", "key": "institution", "description_es": "Clave de la institución", "description_en": "Institution key", "type": "string"},
        {"name": "institucion", "key": "name", "description_es": "Nombre de la institución", "description_en": "Institution name", "type": "string"},
        {"name": "cve_ent", "key": "state", "description_es": "Clave INEGI de la entidad", "description_en": "INEGI state code", "type": "string"},
        {"name": "instrumento", "key": "purpose", "description_es": "Quién respondió el instrumento", "description_en": "Who answered the instrument", "type": "string"},
        {"name": "campo", "key": "field", "description_es": "Nombre del campo en el cuestionario", "description_en": "Field name in the questionnaire", "type": "string"},
        {"name": "repeticion", "key": "repeat_index", "description_es": "Número de repetición (vacío si no se repite)", "description_en": "Repeat number (empty when not repeated)", "type": "integer"},
        {"name": "valor", "key": "value", "description_es": "Respuesta verificada (valor corregido si el analista lo corrigió)", "description_en": "Verified answer (the analyst's correction where corrected)", "type": "string"},
        {"name": "evidencia", "key": "evidence", "description_es": "Enlace de evidencia de la respuesta", "description_en": "Evidence link of the answer", "type": "string"},
    ]
    rows = []
    for purpose in scores.SCORED_PURPOSES:
        data = responses.long_form(campaign, purpose, statuses=(ResponseStatus.VERIFIED,))
        evidence = {(r["institution"], r["field"][: -len("_evidence")], r["repeat_index"]): r["value"]
                    for r in data if r["field"].endswith("_evidence")}
        for r in sorted(data, key=lambda r: (r["institution"], r["field"], r["repeat_index"] or -1)):
            if r["field"] not in scored:
                continue
            value = r["value"]
            text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
            key = r["institution"]
            rows.append([key, insts.loc[key, "name"] if key in insts.index else "",
                         insts.loc[key, "state"] if key in insts.index else "",
                         report.label("purpose", purpose.value, "es"), r["field"], r["repeat_index"], text,
                         evidence.get((key, r["field"], r["repeat_index"]), "")])
    return fields, rows


def instruments_table(campaign: Campaign) -> tuple[list[dict], list[list]]:
    """The campaign's instruments: purpose, id, version and content hash."""
    fields = [
        {"name": "instrumento", "key": "purpose", "description_es": "Quién lo responde", "description_en": "Who answers it", "type": "string"},
        {"name": "id", "key": "id", "description_es": "Identificador del instrumento", "description_en": "Instrument id", "type": "string"},
        {"name": "version", "key": "version", "description_es": "Versión", "description_en": "Version", "type": "string"},
        {"name": "huella", "key": "hash", "description_es": "Huella sha256 del contenido", "description_en": "sha256 of the content", "type": "string"},
    ]
    rows = [[report.label("purpose", ci.purpose.value, "es"), ci.instrument_version.instrument_id,
             ci.instrument_version.version, ci.instrument_version.content_hash]
            for ci in sorted(campaign.instruments, key=lambda ci: ci.purpose.value)]
    return fields, rows


MODEL_FIELDS = {"code": ("codigo", "string"), "level": ("nivel", "string"), "parent": ("padre", "string"),
                "label_es": ("etiqueta_es", "string"), "label_en": ("etiqueta_en", "string"),
                "weight": ("peso", "number"), "index_weight": ("peso_en_indice", "number"),
                "aggregation": ("agregacion", "string"), "missing": ("faltantes", "string"),
                "min_coverage": ("cobertura_minima", "number"), "field": ("campo", "string"), "rule": ("regla", "string")}


def model_table(campaign: Campaign) -> tuple[list[dict], list[list]]:
    """The index model: one row per node (code, level, parent, labels, weights, policies, rule)."""
    computed = scores.compute(campaign)
    nodes = [r for r in codebook(computed) if r["kind"] == "node"]
    fields = [{"name": name, "key": key, "description_es": f"Modelo de índice: {name}",
               "description_en": f"Index model: {key}", "type": kind, "digits": 4}
              for key, (name, kind) in MODEL_FIELDS.items()]
    rows = [[(round(float(r[k]), 4) if f["type"] == "number" and r[k] not in ("", None) else (r[k] if r[k] != "" else None))
             for k, f in zip(MODEL_FIELDS, fields, strict=True)] for r in nodes]
    return fields, rows


def table(campaign: Campaign, name: str) -> tuple[list[dict], list[list]]:
    """Any resource of the package by its Spanish name; 404 for an unknown one."""
    if name in GROUPING_OF:
        return score_table(campaign, GROUPING_OF[name])
    if name == "respuestas":
        return answers_table(campaign)
    if name == "instrumentos":
        return instruments_table(campaign)
    if name == "modelo":
        return model_table(campaign)
    if name == "diccionario":
        return dictionary_table(campaign)
    raise NotFound(Refusal.UNKNOWN_ENTITY, value=name)


def dictionary_table(campaign: Campaign) -> tuple[list[dict], list[list]]:
    """The data dictionary: every column of every resource, with Spanish and English descriptions."""
    fields = [
        {"name": "recurso", "key": "resource", "description_es": "Recurso (archivo)", "description_en": "Resource (file)", "type": "string"},
        {"name": "columna", "key": "column", "description_es": "Nombre de la columna", "description_en": "Column name", "type": "string"},
        {"name": "tipo", "key": "type", "description_es": "Tipo de dato", "description_en": "Data type", "type": "string"},
        {"name": "descripcion", "key": "es", "description_es": "Descripción en español", "description_en": "Description in Spanish", "type": "string"},
        {"name": "description_en", "key": "en", "description_es": "Descripción en inglés", "description_en": "Description in English", "type": "string"},
    ]
    rows = []
    for name in RESOURCES:
        if name == "diccionario":
            continue
        for f in table(campaign, name)[0]:
            rows.append([name, f["name"], f["type"], f["description_es"], f["description_en"]])
    return fields, rows


def to_csv(fields: list[dict], rows: list[list]) -> bytes:
    """CSV bytes in UTF-8 with a byte-order mark; empty cells for missing values; formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f["name"] for f in fields])
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def scores_csv(campaign: Campaign, by: str) -> bytes:
    """The open score table by a grouping (`institution`, `state`, `type`, `order`, `nation`) as CSV."""
    return to_csv(*score_table(campaign, by))


def resource_csv(campaign: Campaign, name: str) -> bytes:
    """A package resource as CSV."""
    return to_csv(*table(campaign, name))


def resource_path(name: str) -> str:
    """The URL of a resource relative to `datapackage.json`."""
    if name in GROUPING_OF:
        return f"datos-{GROUPING_OF[name]}.csv"
    return f"datos/{name}.csv"


def datapackage(campaign: Campaign) -> dict:
    """The Frictionless Data package descriptor of the campaign's open data."""
    conf = report.settings()
    computed = scores.compute(campaign)
    resources = []
    for name in RESOURCES:
        fields, _ = table(campaign, name)
        schema = {"fields": [{"name": f["name"], "type": f["type"], "title": f["description_es"],
                              "description": f"{f['description_es']} / {f['description_en']}"} for f in fields]}
        resources.append({"name": name, "path": resource_path(name), "profile": "tabular-data-resource",
                          "format": "csv", "mediatype": "text/csv", "encoding": "utf-8-sig", "schema": schema})
    return {
        "profile": "tabular-data-package",
        "name": f"apertura-{campaign.slug}".lower(),
        "title": f"Apertura: {report.campaign_title(campaign)}",
        "description": ("Índices de apertura institucional por institución, entidad, tipo, orden y nación, con "
                        "intervalos y pruebas; respuestas verificadas con su evidencia; instrumentos y modelo de índice. "
                        "/ Institutional openness indices with intervals and tests; verified answers with evidence; "
                        "instruments and index model."),
        "version": computed.fingerprint.removeprefix("sha256:")[:12],
        "licenses": [dict(conf["license"])],
        "sources": [dict(s) for s in conf.get("sources", [])],
        "keywords": ["gobierno abierto", "transparencia", "participación", "México"],
        "resources": resources,
    }


def datapackage_json(campaign: Campaign) -> str:
    """The data package descriptor as JSON text."""
    return json.dumps(datapackage(campaign), ensure_ascii=False, indent=2)


def workbook(campaign: Campaign) -> bytes:
    """Every resource as a sheet of one XLSX workbook (numbers stay numbers)."""
    book = Workbook()
    book.remove(book.active)
    for name in RESOURCES:
        fields, rows = table(campaign, name)
        sheet = book.create_sheet(name[:31])
        sheet.append([f["name"] for f in fields])
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

