"""Builds `data/mga2017_fixture.csv`: a synthetic per-institution file in the published MGA
2017 shape (`SO,edo,niv,ts,GA,P,T,TG,TC,PG,PC`) whose state means of TG, TC, PG, PC equal
each state's row of the published annex (benchmarks/metrica_2017_by_state.csv) to four
decimals, and whose 908 institutions (46 federal, 27 per state, 26 in QRO and TLAX)
reproduce the national 0.39 / 0.50 / 0.28. Run: `python -m tests.scoring.make_mga_fixture`."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
REFERENCE = HERE.parent.parent / "scoring" / "data" / "benchmarks" / "metrica_2017_by_state.csv"
OUT = HERE / "data" / "mga2017_fixture.csv"
SUBS = ("tg", "tc", "pg", "pc")
# The annex rounds to two decimals; where (tg+tc+pg+pc)/4 lands on .xx5 the published GA
# (mean of institution GA) shows which way it went, so one sub-index moves within its rounding.
NUDGE = {"22": {"tg": -0.0020}, "25": {"tg": -0.0040}}
SMALLER = {"22", "29"}
STATE_TYPES = [("Estatal", "Ejecutivo estatal", 0.10, 9), ("Municipal", "Municipio", 0.02, 5),
               ("Estatal", "Partido", -0.20, 3), ("Estatal", "Sindicato", -0.28, 2),
               ("Estatal", "Fideicomiso", -0.23, 2), ("Estatal", "Legislativo", 0.11, 2),
               ("Estatal", "Universidad", 0.03, 2), ("Estatal", "Autonomo", 0.14, 1),
               ("Estatal", "Judicial", 0.01, 1)]
FEDERAL_TYPES = [("Federal", "Partido", -0.05, 11), ("Federal", "Ejecutivo federal", 0.09, 9),
                 ("Federal", "Autonomo", 0.11, 5), ("Federal", "Descentralizado", 0.11, 5),
                 ("Federal", "Judicial", -0.04, 4), ("Federal", "Legislativo", 0.08, 3),
                 ("Federal", "Fideicomiso", -0.12, 3), ("Federal", "Sindicato", -0.22, 3),
                 ("Federal", "Universidad", -0.05, 3)]
NAMES = {"Ejecutivo estatal": "Secretaría de Educación Pública", "Municipio": "Municipio de la Capital",
         "Partido": "Partido Acción Ciudadana", "Sindicato": "Sindicato Único de Trabajadores",
         "Fideicomiso": "Fideicomiso de Inversión Pública", "Legislativo": "Congreso del Estado",
         "Universidad": "Universidad Autónoma", "Autonomo": "Instituto de Transparencia",
         "Judicial": "Poder Judicial", "Ejecutivo federal": "Secretaría de Economía",
         "Descentralizado": "Comisión Nacional del Agua"}


def edo_spelling(name: str) -> str:
    """The MGA's `edo` spelling: no accents, no spaces (`Nuevo León` → `NuevoLeon`)."""
    plain = name.translate(str.maketrans("áéíóúÁÉÍÓÚ", "aeiouAEIOU"))
    return {"Ciudad de México": "CiudaddeMexico", "Federal": "Federal"}.get(name, plain.replace(" ", ""))


def hit_mean(values: np.ndarray, target: float) -> np.ndarray:
    """Shift values inside [0, 1] so their four-decimal mean is exactly `target`."""
    v = values.copy()
    for _ in range(50):
        v = np.clip(v + (target - v.mean()), 0.0, 1.0)
    v = np.round(v, 4)
    n = len(v)
    residual = round(target * n - v.sum(), 4)
    for i in np.argsort(-np.minimum(v, 1 - v)):
        new = round(v[i] + residual, 4)
        if 0 <= new <= 1:
            v[i] = new
            break
    return v


def build(seed: int = 2017) -> list[dict[str, str]]:
    """The fixture rows."""
    rng = np.random.default_rng(seed)
    with REFERENCE.open(encoding="utf-8") as handle:
        reference = list(csv.DictReader(handle))
    rows: list[dict[str, str]] = []
    for ref in reference:
        code = ref["cve_ent"]
        kinds = FEDERAL_TYPES if code == "00" else STATE_TYPES
        plan = [(o, t, off) for o, t, off, count in kinds for _ in range(count)]
        if code in SMALLER:
            plan.pop(0)
        subs = {}
        for sub in SUBS:
            target = round(float(ref[sub]) + NUDGE.get(code, {}).get(sub, 0.0), 4)
            raw = np.array([target + off for _, _, off in plan]) + rng.normal(0, 0.12, len(plan))
            subs[sub] = hit_mean(np.clip(raw, 0, 1), target)
        edo = edo_spelling(ref["entidad"])
        for k, (order, kind, _) in enumerate(plan):
            tg, tc, pg, pc = (subs[s][k] for s in SUBS)
            t, p = (tg + tc) / 2, (pg + pc) / 2
            rows.append({"SO": f"{edo}_{NAMES[kind]} {k + 1}", "edo": edo, "niv": order, "ts": kind,
                         "GA": f"{(t + p) / 2:.4f}", "P": f"{p:.4f}", "T": f"{t:.4f}",
                         "TG": f"{tg:.4f}", "TC": f"{tc:.4f}", "PG": f"{pg:.4f}", "PC": f"{pc:.4f}"})
    return rows


def main() -> None:
    """Write the fixture CSV (UTF-8, LF)."""
    rows = build()
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{OUT}: {len(rows)} institutions")


if __name__ == "__main__":
    main()
