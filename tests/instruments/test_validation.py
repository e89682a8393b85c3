"""Answer validation against the shipped questionnaires: complete answer sets pass, targeted
mistakes fail on the right field, and skip logic hides what does not apply."""
from __future__ import annotations

import pytest

import surveys
from tests.instruments import answers


@pytest.fixture(scope="module")
def gobierno():
    return surveys.load(surveys.shipped("gobierno"))


@pytest.fixture(scope="module")
def ciudadana():
    return surveys.load(surveys.shipped("ciudadana"))


@pytest.fixture(scope="module")
def condiciones():
    return surveys.load(surveys.shipped("condiciones"))


def error_paths(result) -> list[str]:
    return [e.path for e in result.errors]


def assert_fails_on(result, path: str) -> None:
    """The answers fail, on `path` only, with a bilingual message."""
    assert not result.ok
    assert error_paths(result) == [path], [(e.path, e.code, e.message_en) for e in result.errors]
    error = result.errors[0]
    assert error.message_es.strip() and error.message_en.strip()


# -- complete answer sets ------------------------------------------------------------------
@pytest.mark.parametrize(("instrument", "make"), [
    ("gobierno", answers.gobierno_full),
    ("gobierno", answers.gobierno_sparse),
    ("ciudadana", answers.ciudadana_full),
    ("ciudadana", answers.ciudadana_sparse),
    ("condiciones", answers.condiciones_full),
])
def test_complete_answer_sets_pass(instrument, make):
    definition = surveys.load(surveys.shipped(instrument))
    result = surveys.validate(definition, make())
    assert result.ok, [(e.path, e.code, e.message_en) for e in result.errors]
    assert result.errors == []


def test_gobierno_calculations(gobierno):
    result = surveys.validate(gobierno, answers.gobierno_full())
    assert result.values["ai_answered_share"] == pytest.approx(0.75)
    assert result.values["ai_requests_answered"] == 150
    assert result.values["ta_share"] == pytest.approx(80)
    assert set(result.values["ai_channels"]) == {"pnt", "email", "in_person"}


def test_answered_share_is_empty_without_requests(gobierno):
    result = surveys.validate(gobierno, answers.gobierno_sparse())
    assert result.values.get("ai_answered_share") in (None, "")


def test_business_days_skip_weekends_and_federal_holidays(ciudadana):
    result = surveys.validate(ciudadana, answers.ciudadana_full())
    requests = result.values["tc_requests"]
    # 2025-03-03 (Mon) → 03-07 (Fri): Tue–Fri = 4.
    assert requests[0]["tc_days"] == 4
    # 2025-03-06 (Thu) → 03-21 (Fri): 11 weekdays, less Monday 03-17 (Benito Juárez) = 10.
    assert requests[1]["tc_days"] == 10
    # Never answered: no date of answer and no day count.
    assert requests[2].get("tc_answer_date") in (None, "")
    assert requests[2].get("tc_days") in (None, "")
    # 2025-04-01 (Tue) → 04-15 (Tue): 10 weekdays, no federal holiday.
    assert result.values["pc_days"] == 10


def test_conditions_calculation(condiciones):
    result = surveys.validate(condiciones, answers.condiciones_full())
    assert result.values["cd_aligned_share"] == pytest.approx(0.5)


# -- targeted mistakes ---------------------------------------------------------------------
def test_answered_more_than_received(gobierno):
    data = answers.gobierno_full()
    data["ai_requests_answered"] = "201"
    result = surveys.validate(gobierno, data)
    assert_fails_on(result, "ai_requests_answered")
    assert "recibidas" in result.errors[0].message_es
    assert "received" in result.errors[0].message_en


def test_answered_equal_to_received_is_fine(gobierno):
    data = answers.gobierno_full()
    data["ai_requests_answered"] = data["ai_requests_received"]
    assert surveys.validate(gobierno, data).ok


@pytest.mark.parametrize("value", ["150", "-1", "100.5"])
def test_share_outside_0_100(gobierno, value):
    data = answers.gobierno_full()
    data["ta_share"] = value
    assert_fails_on(surveys.validate(gobierno, data), "ta_share")


@pytest.mark.parametrize("value", ["0", "100", "37.5"])
def test_share_bounds_are_inclusive(gobierno, value):
    data = answers.gobierno_full()
    data["ta_share"] = value
    if value == "0":
        data.pop("ta_share_evidence")
    assert surveys.validate(gobierno, data).ok


def test_conditions_share_150(condiciones):
    data = answers.condiciones_full()
    data["cd_commitments_fulfilled"] = "150"
    assert_fails_on(surveys.validate(condiciones, data), "cd_commitments_fulfilled")


def test_negative_sessions(gobierno, condiciones):
    data = answers.gobierno_full()
    data["pg_sessions"] = "-2"
    assert_fails_on(surveys.validate(gobierno, data), "pg_sessions")
    data = answers.condiciones_full()
    data["cd_secretariat_sessions"] = "-1"
    assert_fails_on(surveys.validate(condiciones, data), "cd_secretariat_sessions")


def test_negative_counts(gobierno):
    for field in ("ai_requests_received", "da_datasets"):
        data = answers.gobierno_full()
        data[field] = "-3"
        result = surveys.validate(gobierno, data)
        assert field in error_paths(result), field


@pytest.mark.parametrize("field", ["ai_unit_evidence", "pg_mechanism_evidence", "da_datasets_evidence"])
@pytest.mark.parametrize("value", ["ver acta de sesión", "www.finanzas.example.org/actas", "ftp://example.org/a"])
def test_evidence_must_be_a_web_url(gobierno, field, value):
    data = answers.gobierno_full()
    data[field] = value
    assert_fails_on(surveys.validate(gobierno, data), field)


def test_evidence_is_required_when_the_claim_is_yes(gobierno):
    data = answers.gobierno_full()
    del data["ai_guide_evidence"]
    assert_fails_on(surveys.validate(gobierno, data), "ai_guide_evidence")
    # a draft may leave it for later
    assert surveys.validate(gobierno, data, partial=True).ok


def test_evidence_is_not_asked_when_the_claim_is_no(gobierno):
    data = answers.gobierno_full()
    data["ai_guide"] = "no"
    del data["ai_guide_evidence"]
    result = surveys.validate(gobierno, data)
    assert result.ok
    assert result.relevant["ai_guide_evidence"] is False


def test_respondent_email(gobierno):
    data = answers.gobierno_full()
    data["resp_email"] = "mf.lopez arroba finanzas"
    assert_fails_on(surveys.validate(gobierno, data), "resp_email")


def test_no_aplica_is_allowed_only_where_declared(gobierno):
    data = answers.gobierno_full()
    data["tp_sex_disaggregated"] = "na"
    assert surveys.validate(gobierno, data).ok
    data["tp_plain_language"] = "na"
    assert_fails_on(surveys.validate(gobierno, data), "tp_plain_language")


def test_exclusive_none_option(gobierno, ciudadana, condiciones):
    data = answers.gobierno_full()
    data["inc_measures"] = ["none", "sign_language"]
    assert_fails_on(surveys.validate(gobierno, data), "inc_measures")
    data = answers.ciudadana_full()
    data["pc_contact_methods"] = ["none", "phone"]
    assert "pc_contact_methods" in error_paths(surveys.validate(ciudadana, data))
    data = answers.condiciones_full()
    data["cd_sdg_targets"] = ["none", "sdg_16_10"]
    assert_fails_on(surveys.validate(condiciones, data), "cd_sdg_targets")


def test_answer_date_before_sent_date(ciudadana):
    data = answers.ciudadana_full()
    data["tc_requests"][1]["tc_answer_date"] = "2025-03-05"
    result = surveys.validate(ciudadana, data)
    assert_fails_on(result, "tc_requests[1].tc_answer_date")
    assert "envío" in result.errors[0].message_es
    assert "sent" in result.errors[0].message_en


def test_answer_on_the_day_sent_is_fine(ciudadana):
    data = answers.ciudadana_full()
    data["tc_requests"][0]["tc_answer_date"] = data["tc_requests"][0]["tc_sent_date"]
    result = surveys.validate(ciudadana, data)
    assert result.ok
    assert result.values["tc_requests"][0]["tc_days"] == 0


def test_proposal_answer_before_sent(ciudadana):
    data = answers.ciudadana_full()
    data["pc_answer_date"] = "2025-03-31"
    assert_fails_on(surveys.validate(ciudadana, data), "pc_answer_date")


def test_one_request_is_too_few(ciudadana):
    data = answers.ciudadana_full()
    data["tc_requests"] = data["tc_requests"][:1]
    result = surveys.validate(ciudadana, data)
    assert not result.ok
    assert [e.field for e in result.errors] == ["tc_requests"]


def test_four_requests_are_too_many(ciudadana):
    data = answers.ciudadana_full()
    data["tc_requests"].append(dict(data["tc_requests"][0], tc_folio="080012625000199"))
    result = surveys.validate(ciudadana, data)
    assert not result.ok
    assert [e.field for e in result.errors] == ["tc_requests"]


def test_request_quality_uses_si_parcial_no(ciudadana):
    data = answers.ciudadana_full()
    data["tc_requests"][0]["tc_clarity"] = "mostly"
    assert_fails_on(surveys.validate(ciudadana, data), "tc_requests[0].tc_clarity")


def test_sent_date_in_the_future(ciudadana):
    data = answers.ciudadana_full()
    data["tc_requests"][2]["tc_sent_date"] = "2999-01-04"
    assert_fails_on(surveys.validate(ciudadana, data), "tc_requests[2].tc_sent_date")


def test_proposal_channel_must_be_one_found(ciudadana):
    data = answers.ciudadana_full()
    data["pc_channel_used"] = "phone"  # phone was not among the methods found
    assert_fails_on(surveys.validate(ciudadana, data), "pc_channel_used")


def test_aligned_commitments_cannot_exceed_commitments(condiciones):
    data = answers.condiciones_full()
    data["cd_commitments_aligned"] = "15"
    assert_fails_on(surveys.validate(condiciones, data), "cd_commitments_aligned")


@pytest.mark.parametrize("year", ["2014", "2999"])
def test_cocreation_year_bounds(condiciones, year):
    data = answers.condiciones_full()
    data["cd_cocreation_year"] = year
    assert_fails_on(surveys.validate(condiciones, data), "cd_cocreation_year")


# -- skip logic ----------------------------------------------------------------------------
PG_DETAIL_FIELDS = (
    "pg_mechanism_kinds", "pg_mechanism_evidence", "pg_main_mechanism", "pg_main_mechanism_name",
    "pg_participants", "pg_participants_evidence", "pg_operated", "pg_operated_evidence",
    "pg_sessions", "pg_participation_format", "pg_participation_format_evidence",
    "pg_outcomes_published", "pg_outcomes_published_evidence", "pg_proposals_answered",
    "inc_parity_rules", "inc_measures",
)


def test_pg_pages_irrelevant_without_a_mechanism(gobierno):
    data = answers.gobierno_full()
    data["pg_has_mechanism"] = "no"
    result = surveys.validate(gobierno, data)  # stale detail answers are left in the post
    assert result.ok, [(e.path, e.message_en) for e in result.errors]
    for field in PG_DETAIL_FIELDS:
        assert result.relevant[field] is False, field
        assert field not in result.values, field
    assert result.values["pg_has_mechanism"] == "no"


def test_pg_pages_required_with_a_mechanism(gobierno):
    data = answers.gobierno_full()
    for field in PG_DETAIL_FIELDS:
        data.pop(field, None)
    result = surveys.validate(gobierno, data)
    assert {"pg_mechanism_kinds", "pg_participants", "pg_operated",
            "pg_participation_format", "pg_outcomes_published", "inc_parity_rules"} <= set(error_paths(result))


def test_sessions_asked_only_when_it_operated(gobierno):
    data = answers.gobierno_full()
    data["pg_operated"] = "no"
    del data["pg_operated_evidence"]
    del data["pg_sessions"]
    result = surveys.validate(gobierno, data)
    assert result.ok
    assert result.relevant["pg_sessions"] is False


def test_main_mechanism_is_one_of_the_kinds(gobierno):
    data = answers.gobierno_full()
    data["pg_main_mechanism"] = "participatory_budget"
    assert_fails_on(surveys.validate(gobierno, data), "pg_main_mechanism")


def test_proactive_details_hang_on_proactive_disclosure(gobierno):
    result = surveys.validate(gobierno, answers.gobierno_sparse())
    for field in ("tp_demand_based", "tp_plain_language", "tp_sex_disaggregated", "tp_impact_evaluated"):
        assert result.relevant[field] is False, field


def test_open_data_details_hang_on_the_dataset_count(gobierno):
    result = surveys.validate(gobierno, answers.gobierno_sparse())
    for field in ("da_open_license", "da_metadata", "da_machine_readable", "da_update_schedule",
                  "da_portal_listed", "da_datasets_evidence"):
        assert result.relevant[field] is False, field


def test_unanswered_request_skips_answer_questions(ciudadana):
    result = surveys.validate(ciudadana, answers.ciudadana_full())
    for field in ("tc_answer_date", "tc_availability", "tc_clarity", "tc_completeness"):
        assert result.relevant[f"tc_requests[2].{field}"] is False, field
        assert result.relevant[f"tc_requests[0].{field}"] is True, field


def test_answered_request_needs_its_date_and_ratings(ciudadana):
    data = answers.ciudadana_full()
    del data["tc_requests"][0]["tc_answer_date"]
    del data["tc_requests"][0]["tc_clarity"]
    result = surveys.validate(ciudadana, data)
    assert set(error_paths(result)) == {"tc_requests[0].tc_answer_date", "tc_requests[0].tc_clarity"}


def test_no_contact_method_skips_the_proposal(ciudadana):
    result = surveys.validate(ciudadana, answers.ciudadana_sparse())
    for field in ("pc_contact_evidence", "pc_channel_used", "pc_sent_date", "pc_receipt",
                  "pc_activated", "pc_answer_date"):
        assert result.relevant[field] is False, field


def test_proposal_answer_date_only_when_activated(ciudadana):
    data = answers.ciudadana_full()
    data["pc_activated"] = "no"
    del data["pc_answer_date"]
    result = surveys.validate(ciudadana, data)
    assert result.ok
    assert result.values.get("pc_days") in (None, "")


def test_conditions_without_action_plans(condiciones):
    data = answers.condiciones_full()
    data["cd_action_plans"] = "0"
    result = surveys.validate(condiciones, data)
    assert result.ok, [(e.path, e.message_en) for e in result.errors]
    for field in ("cd_commitments", "cd_commitments_fulfilled", "cd_commitments_aligned",
                  "cd_sdg_targets", "cd_gender_perspective", "cd_sex_disaggregated", "cd_indigenous"):
        assert result.relevant[field] is False, field


def test_other_risk_needs_a_description(condiciones):
    data = answers.condiciones_full()
    data["cd_risks"] = ["other"]
    assert_fails_on(surveys.validate(condiciones, data), "cd_risks_other")
    data["cd_risks_other"] = "Reforma que extingue al organismo garante local."
    assert surveys.validate(condiciones, data).ok


def test_flattened_answers_carry_the_day_counts(ciudadana):
    result = surveys.validate(ciudadana, answers.ciudadana_full())
    rows = [(field.split(".")[-1], index, value) for field, index, value in surveys.flatten(result.values)]
    assert ("tc_days", 0, "4") in rows
    assert ("tc_days", 1, "10") in rows
    assert ("tc_days", 2, "") not in rows  # never answered: no day count at all
    assert ("pc_days", None, "10") in rows
