"""Hand-worked scoring examples: answers validated by the shipped questionnaires, flattened to
long form, and scored through the shipped index models with `scoring.pipeline.score`.

Every expected figure below is worked out by hand from methodology.md §3 and §5–6 and the
weights of `apertura.model.yaml` / `conditions.model.yaml`, so a change to an instrument, a
model or an engine that moves a score makes these tests fail.
"""
from __future__ import annotations

import pandas as pd
import pytest

import surveys
from scoring.pipeline import score
from tests.instruments import answers

# ---------------------------------------------------------------------------------------
# Institution "fin" (answers.gobierno_full + answers.ciudadana_full), by hand.
#
# TG
#   AI (item weights 1, 1, 1, 1, ½, ½, 1 → sum 6; missing policy reweight):
#     ai_unit yes 1; ai_channels pnt+email+in_person = 3/5 = 0.6; ai_guide yes 1;
#     ai_term 150/200 = 0.75; disability yes 1 (×½); indigenous no 0 (×½); free yes 1
#     AI = (1 + 0.6 + 1 + 0.75 + 0.5 + 0 + 1) / 6 = 4.85 / 6 = 97/120 = 0.808333…
#   TA: ta_share 80 → 0.8; site links 1; updated 0; reusable 1 → 2.8 / 4 = 0.7
#   TP: beyond 1; demand 0; plain 1; sex-disaggregated "no aplica" (removed); impact 0
#     TP = 2 / 4 = 0.5
#   DA: 4 datasets → ⅔; licence 1; metadata 0; machine-readable 1; schedule 0; portal 1
#     DA = (⅔ + 3) / 6 = 11/18 = 0.611111…
#   TG = 0.5·97/120 + 0.2·0.7 + 0.2·0.5 + 0.1·11/18
#      = 0.4041667 + 0.14 + 0.1 + 0.0611111 = 0.7052778 (= 2539/3600)
# TC (three requests; the third never answered scores 0 on everything)
#   r1: sent Mon 2025-03-03, answered Fri 03-07 → 4 business days → 1; sí, sí, parcial
#   r2: sent Thu 2025-03-06, answered Fri 03-21 → 10 business days (Mon 03-17 is the Benito
#       Juárez holiday) → ⅔; parcial, sí, no
#   r3: never answered → 0, 0, 0, 0
#   disponibilidad (1 + ½ + 0)/3 = ½; claridad (1 + 1 + 0)/3 = ⅔;
#   completitud (½ + 0 + 0)/3 = ⅙; celeridad (1 + ⅔ + 0)/3 = 5/9
#   TC = ¼ (½ + ⅔ + ⅙ + 5/9) = ¼ · 68/36 = 17/36 = 0.472222…
# PG
#   mecanismos: has one 1; two kinds → ⅔ → (1 + ⅔)/2 = ⅚
#   actores: organised civil society ⅔; parity rules no 0 → ⅓
#   funcionamiento: operated 1; 3 sessions → ⅔ → ⅚
#   formato: consultative → ⅔
#   seguimiento: outcomes published 1; answered one by one 0 → ½
#   PG = 0.2·⅚ + 0.1·⅓ + 0.3·⅚ + 0.1·⅔ + 0.3·½ = (10 + 2 + 15 + 4 + 9)/60 = ⅔
# PC
#   método: e-mail and web form, 2 of 3 → ⅔; recepción 1; activación 1;
#   celeridad: sent Tue 2025-04-01, activated Tue 04-15 → 10 business days → ⅔
#   PC = 0.2·⅔ + 0.3 + 0.3 + 0.2·⅔ = 13/15 = 0.866667
# T = (TG + TC)/2 = (0.7052778 + 0.4722222)/2 = 0.58875
# P = (PG + PC)/2 = (⅔ + 13/15)/2 = 23/30 = 0.766667
# GA = (T + P)/2 = (0.58875 + 0.766667)/2 = 0.677708
FIN = {
    "AI": 97 / 120, "TA": 0.7, "TP": 0.5, "DA": 11 / 18,
    "TG": 2539 / 3600,
    "TC_AVAILABILITY": 1 / 2, "TC_CLARITY": 2 / 3, "TC_COMPLETENESS": 1 / 6, "TC_TIMELINESS": 5 / 9,
    "TC": 17 / 36,
    "PG_MECHANISMS": 5 / 6, "PG_ACTORS": 1 / 3, "PG_OPERATION": 5 / 6, "PG_FORMAT": 2 / 3,
    "PG_FOLLOW_UP": 1 / 2, "PG": 2 / 3,
    "PC_CONTACT": 2 / 3, "PC_RECEIPT": 1.0, "PC_ACTIVATION": 1.0, "PC_TIMELINESS": 2 / 3,
    "PC": 13 / 15,
    "T": (2539 / 3600 + 17 / 36) / 2,
    "P": 23 / 30,
    "GA": ((2539 / 3600 + 17 / 36) / 2 + 23 / 30) / 2,
}

# ---------------------------------------------------------------------------------------
# Institution "mun" (answers.gobierno_sparse + answers.ciudadana_sparse), by hand.
#   AI: unit 0; channels pnt = 1/5 = 0.2; guide 0; 0 requests received → ai_term is 0/0,
#       missing, and AI's `reweight` drops it; disability 0 (×½); indigenous 0 (×½); free 1
#       AI = (0 + 0.2 + 0 + 0 + 0 + 1) / 5 = 0.24
#   TA = 0 (share 0, every yes/no is no); TP = 0 (no proactive disclosure: the details are
#   skipped and score zero); DA = 0 (no datasets)
#   TG = 0.5 · 0.24 = 0.12
#   TC = 0: both requests were never answered.
#   PG = 0: no participation mechanism (every detail skipped, zero under the MGA rule).
#   PC = 0: no contact method found.
#   T = 0.06, P = 0, GA = 0.03
MUN = {"AI": 0.24, "TA": 0.0, "TP": 0.0, "DA": 0.0, "TG": 0.12, "TC": 0.0, "PG": 0.0, "PC": 0.0,
       "T": 0.06, "P": 0.0, "GA": 0.03}

INSTITUTIONS = pd.DataFrame([
    {"institution": "fin", "name": "Secretaría de Finanzas", "state": "15", "order": "estatal",
     "type": "ejecutivo"},
    {"institution": "mun", "name": "Municipio de Ejemplo", "state": "15", "order": "municipal",
     "type": "municipio"},
])


def long_form(per_unit: dict[str, list[tuple[str, dict]]]) -> pd.DataFrame:
    """Validate each unit's answers with its questionnaire and flatten them to long form."""
    rows = []
    for unit, parts in per_unit.items():
        for instrument, data in parts:
            result = surveys.validate(surveys.load(surveys.shipped(instrument)), data)
            assert result.ok, (unit, instrument, [(e.path, e.message_en) for e in result.errors])
            for field, repeat_index, value in surveys.flatten(result.values):
                rows.append({"institution": unit, "field": field, "repeat_index": repeat_index,
                             "value": value})
    return pd.DataFrame(rows, columns=["institution", "field", "repeat_index", "value"])


@pytest.fixture(scope="module")
def result():
    data = long_form({
        "fin": [("gobierno", answers.gobierno_full()), ("ciudadana", answers.ciudadana_full())],
        "mun": [("gobierno", answers.gobierno_sparse()), ("ciudadana", answers.ciudadana_sparse())],
    })
    return score(data, INSTITUTIONS, "apertura")


def scores_of(result, unit: str) -> dict[str, float]:
    wide = result.wide()
    return {code: float(wide.loc[unit, code]) for code in wide.columns}


@pytest.mark.parametrize("code", sorted(FIN))
def test_hand_worked_institution(result, code):
    assert scores_of(result, "fin")[code] == pytest.approx(FIN[code], abs=1e-9)


@pytest.mark.parametrize("code", sorted(MUN))
def test_hand_worked_closed_institution(result, code):
    assert scores_of(result, "mun")[code] == pytest.approx(MUN[code], abs=1e-9)


def test_no_aplica_is_removed_not_zero(result):
    tidy = result.tidy
    row = tidy[(tidy["institution"] == "fin") & (tidy["code"] == "tp_sex_disaggregated")].iloc[0]
    assert bool(row["removed"])
    # had it counted as 0, TP would be 2/5 = 0.4 instead of 0.5
    assert scores_of(result, "fin")["TP"] == pytest.approx(0.5)


def test_never_answered_requests_stay_zero_under_reweight(result):
    """An unanswered request is an observed failure, not missing data: dropping missing items
    (the `reweight` alternative of the uncertainty analysis) must not lift TC."""
    rerun = result.rerun(missing="reweight")
    assert scores_of(rerun, "mun")["TC"] == pytest.approx(0.0)
    assert scores_of(rerun, "fin")["TC"] == pytest.approx(17 / 36)


# ---------------------------------------------------------------------------------------
# State conditions (answers.condiciones_full), by hand, equal weights ¼:
#   marco: law 1, participation law 1, development plan 1, open-data policy 0 → ¾
#   cocreación: joined 1, secretariat 1, 5 sessions → 1, 2 plans → 1, 60 % fulfilled → 0.6
#     → 4.6 / 5 = 0.92
#   articulación: 7 of 14 aligned → ½; national space 1; 4 of 8 SDG targets → ½ → ⅔
#   inclusión: gender perspective 1; sex-disaggregated "no aplica" (removed); indigenous 0 → ½
#   index = ¼ (0.75 + 0.92 + ⅔ + 0.5) = 0.709167
CONDITIONS = {"FRAMEWORK": 0.75, "COCREATION": 0.92, "ARTICULATION": 2 / 3, "INCLUSION": 0.5,
              "CONDITIONS": (0.75 + 0.92 + 2 / 3 + 0.5) / 4}


def test_hand_worked_state_conditions():
    data = long_form({"15": [("condiciones", answers.condiciones_full())]})
    states = pd.DataFrame([{"institution": "15", "name": "México", "state": "15"}])
    got = scores_of(score(data, states, "conditions"), "15")
    for code, expected in CONDITIONS.items():
        assert got[code] == pytest.approx(expected, abs=1e-9), code
