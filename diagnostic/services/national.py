"""The national report (methodology §7): the 32 states on a tile map, a caterpillar of state
indices with intervals and rank intervals, a funnel plot of state means against the number of
institutions assessed, the national table by type, the comparison with the published national
editions, and the sensitivity analysis (Sobol indices: which modelling choice moves the
ranking most). Plain data for templates and tests, from `scores.compute` like every report.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

from diagnostic.models import Campaign
from diagnostic.services import report, scores, second_verification
from scoring import benchmarks
from scoring import states as state_names
from scoring.uncertainty import sobol

FACTOR_LABELS = {
    "weights": ("Pesos", "Weights"), "aggregation": ("Método de agregación", "Aggregation method"),
    "missing": ("Tratamiento de datos faltantes", "Missing-data policy"),
}


@lru_cache(maxsize=1)
def tile_grid() -> dict[str, tuple[int, int]]:
    """The tile map layout: state code → (row, column) (`diagnostic/data/tilegrid.yaml`)."""
    data = yaml.safe_load(resources.files("diagnostic").joinpath("data", "tilegrid.yaml").read_text(encoding="utf-8"))
    return {str(k).zfill(2): (int(v[0]), int(v[1])) for k, v in data.items()}


@dataclass
class NationalReport:
    """Everything the national report shows."""

    campaign: Campaign
    title: str
    code: str
    label_es: str
    label_en: str
    nation: dict
    states: list[dict]
    by_type: list[dict]
    editions: list[dict]
    funnel: dict
    sensitivity: list[dict]
    sensitivity_states: list[dict]
    fingerprint: str
    data_as_of: datetime | None = None
    tiles: dict = field(default_factory=dict)
    agreement: dict | None = None  # second verification (services/second_verification.report_section)


def _num(x: object) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _factor_label(name: str) -> tuple[str, str]:
    if name.startswith("w:"):
        return f"Peso de {name[2:]}", f"Weight of {name[2:]}"
    return FACTOR_LABELS.get(name, (name, name))


def sensitivity(computed: scores.CampaignScores, n: int) -> tuple[list[dict], list[dict]]:
    """Sobol total-order indices of the states' ranks: per factor the mean over states (which
    choice moves the ranking most, largest first), and per state its most influential factor."""
    table = sobol(computed.result, n=n, seed=computed.seed)
    if table.empty:
        return [], []
    means = table.groupby("factor")[["first_order", "total"]].mean().sort_values("total", ascending=False)
    factors = [{"factor": f, "label_es": _factor_label(f)[0], "label_en": _factor_label(f)[1],
                "first_order": float(r.first_order), "total": float(r.total)} for f, r in means.iterrows()]
    per_state = []
    for code, group in table.groupby("state", sort=True):
        top = group.sort_values("total", ascending=False, kind="stable").iloc[0]
        es, en = _factor_label(top["factor"])
        per_state.append({"state": code, "entidad": state_names.by_code(code).name, "factor_es": es, "factor_en": en,
                          "total": float(top["total"])})
    return factors, per_state


def build(campaign: Campaign, seed: int = scores.DEFAULT_SEED) -> NationalReport:
    """Assemble the national report of a campaign."""
    conf = report.settings()
    computed = scores.compute(campaign, seed=seed)
    code = computed.codes()[0]
    node = computed.model.node(code)
    nation_row = computed.table("nation").iloc[0]
    nation = {"n": int(nation_row["n"]), "value": _num(nation_row[code]), "low": _num(nation_row[f"{code}_low"]),
              "high": _num(nation_row[f"{code}_high"])}
    table = computed.table("state")
    wide = computed.scores_wide([code])
    values = wide[code].to_numpy(dtype=float)
    sd = float(np.nanstd(values, ddof=1)) if np.sum(~np.isnan(values)) > 1 else None
    states = []
    for r in table.to_dict(orient="records"):
        if r["state"] == state_names.FEDERAL:
            continue
        states.append({"state": r["state"], "abbr": r["abbr"], "entidad": r["entidad"], "n": int(r["n"]),
                       "value": _num(r[code]), "low": _num(r.get(f"{code}_low")), "high": _num(r.get(f"{code}_high")),
                       "rank": _num(r.get("rank")), "rank_low": _num(r.get("rank_low")),
                       "rank_high": _num(r.get("rank_high")), "q": _num(r.get(f"{code}_q")),
                       "gap": _num(r.get(f"{code}_gap"))})
    states.sort(key=lambda s: (s["value"] is None, -(s["value"] or 0), s["entidad"]))
    by_type = []
    type_table = computed.table("type")
    for r in type_table.to_dict(orient="records"):
        by_type.append({"type": r["type"], "type_es": report.label("type", r["type"], "es"),
                        "type_en": report.label("type", r["type"], "en"), "n": int(r["n"]), "value": _num(r[code]),
                        "low": _num(r.get(f"{code}_low")), "high": _num(r.get(f"{code}_high"))})
    by_type.sort(key=lambda t: (t["value"] is None, -(t["value"] or 0)))
    edition_cols = conf.get("edition_columns", {})
    editions = [{"edition": int(e["edition"]), "producer": e["producer"], "n": int(e["sujetos_obligados"]),
                 "value": _num(e.get(edition_cols.get(code, ""), None))}
                for e in benchmarks.national().to_dict(orient="records")]
    mean = nation["value"]
    funnel = {"mean": mean, "sd": sd, "points": [
        {"state": s["state"], "abbr": s["abbr"], "entidad": s["entidad"], "n": s["n"], "value": s["value"],
         "outside95": (mean is not None and sd is not None and s["value"] is not None
                       and abs(s["value"] - mean) > 1.96 * sd / math.sqrt(s["n"])),
         "outside998": (mean is not None and sd is not None and s["value"] is not None
                        and abs(s["value"] - mean) > 3.09 * sd / math.sqrt(s["n"]))}
        for s in states if s["n"] > 0]}
    factors, per_state = sensitivity(computed, int(conf.get("sobol_n", 128))) if len(states) > 1 else ([], [])
    return NationalReport(
        campaign=campaign, title=report.campaign_title(campaign), code=code, label_es=node.label.get("es", code),
        label_en=node.label.get("en", code), nation=nation, states=states, by_type=by_type, editions=editions,
        funnel=funnel, sensitivity=factors, sensitivity_states=per_state, fingerprint=computed.fingerprint,
        data_as_of=report.data_as_of(campaign), tiles=tile_grid(),
        agreement=second_verification.report_section(campaign))
