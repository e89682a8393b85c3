"""The shipped questionnaires load clean, are fully bilingual and cover the item bank
(methodology.md §4–5)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import surveys

INSTRUMENTS = ("gobierno", "ciudadana", "condiciones")
PREFIXES = {
    "gobierno": ("resp_", "ai_", "ta_", "tp_", "da_", "pg_", "inc_"),
    "ciudadana": ("tc_", "pc_"),
    "condiciones": ("cd_",),
}
UNITS = {"gobierno": "institution", "ciudadana": "institution", "condiciones": "state"}
LANGUAGES = ("es", "en")

# methodology.md §5: the item bank each instrument must ask, with the question type.
ITEM_BANK = {
    "gobierno": {
        "ai_unit": "yes_no", "ai_channels": "select_multiple", "ai_guide": "yes_no",
        "ai_requests_received": "integer", "ai_requests_answered": "integer",
        "ai_disability_assistance": "yes_no", "ai_indigenous_assistance": "yes_no",
        "ai_free_electronic": "yes_no",
        "ta_share": "decimal", "ta_site_links": "yes_no", "ta_updated_quarter": "yes_no",
        "ta_reusable_formats": "yes_no",
        "tp_beyond_obligations": "yes_no", "tp_demand_based": "yes_no",
        "tp_plain_language": "yes_no", "tp_sex_disaggregated": "yes_no_na",
        "tp_impact_evaluated": "yes_no",
        "da_datasets": "integer", "da_open_license": "yes_no", "da_metadata": "yes_no",
        "da_machine_readable": "yes_no", "da_update_schedule": "yes_no",
        "da_portal_listed": "yes_no",
        "pg_has_mechanism": "yes_no", "pg_mechanism_kinds": "select_multiple",
        "pg_participants": "select_one", "pg_operated": "yes_no", "pg_sessions": "integer",
        "pg_participation_format": "select_one", "pg_outcomes_published": "yes_no",
        "pg_proposals_answered": "yes_no", "inc_parity_rules": "yes_no",
        "resp_name": "text", "resp_position": "text", "resp_email": "text",
        "ai_answered_share": "calculate",
    },
    "ciudadana": {
        "tc_sent_date": "date", "tc_answered": "yes_no", "tc_answer_date": "date",
        "tc_days": "calculate", "tc_availability": "select_one", "tc_clarity": "select_one",
        "tc_completeness": "select_one",
        "pc_contact_methods": "select_multiple", "pc_receipt": "yes_no", "pc_activated": "yes_no",
        "pc_sent_date": "date", "pc_answer_date": "date", "pc_days": "calculate",
    },
    "condiciones": {
        "cd_law_open_government": "yes_no", "cd_participation_law": "yes_no",
        "cd_development_plan": "yes_no", "cd_open_data_policy": "yes_no",
        "cd_cocreation_joined": "yes_no", "cd_cocreation_year": "integer",
        "cd_secretariat_installed": "yes_no", "cd_secretariat_sessions": "integer",
        "cd_action_plans": "integer", "cd_commitments": "integer",
        "cd_commitments_fulfilled": "decimal", "cd_commitments_aligned": "integer",
        "cd_national_space": "yes_no", "cd_sdg_targets": "select_multiple",
        "cd_gender_perspective": "yes_no", "cd_sex_disaggregated": "yes_no_na",
        "cd_indigenous": "yes_no", "cd_risks": "select_multiple",
    },
}

CHOICE_NAMES = {
    ("gobierno", "ai_channels"): {"pnt", "email", "in_person", "phone", "post"},
    ("gobierno", "pg_mechanism_kinds"): {
        "advisory_council", "public_consultation", "participatory_budget",
        "social_comptrollership", "public_hearing", "cocreation_table"},
    ("gobierno", "pg_participants"): {"invited_experts", "organised_civil_society", "any_person"},
    ("gobierno", "pg_participation_format"): {"informative", "consultative", "deliberative", "binding"},
    ("ciudadana", "tc_availability"): {"yes", "partial", "no"},
    ("ciudadana", "tc_clarity"): {"yes", "partial", "no"},
    ("ciudadana", "tc_completeness"): {"yes", "partial", "no"},
    ("ciudadana", "pc_contact_methods"): {"phone", "email", "web_form", "none"},
    ("condiciones", "cd_sdg_targets"): {
        "sdg_11a", "sdg_11b", "sdg_16_5", "sdg_16_6", "sdg_16_7", "sdg_16_10", "sdg_17_14",
        "sdg_17_16", "none"},
    ("condiciones", "cd_risks"): {
        "leadership_change", "weak_citizen_involvement", "low_political_will",
        "budget_constraints", "other", "none"},
}

PAGES = {
    "gobierno": ["resp", "ai", "ta", "tp", "da", "pg_mechanisms", "pg_actors_page", "pg_operation",
                 "pg_format_page", "pg_follow_up", "inc"],
    "ciudadana": ["tc", "tc_requests", "pc_contact", "pc_proposal"],
    "condiciones": ["cd_respondent", "cd_framework", "cd_cocreation", "cd_articulation",
                    "cd_inclusion", "cd_risks_page"],
}


def path_of(name: str) -> Path:
    """The shipped definition file of an instrument."""
    return Path(surveys.shipped(name))


@pytest.fixture(scope="module", params=INSTRUMENTS)
def instrument(request):
    """(name, loaded definition) of each shipped instrument."""
    return request.param, surveys.load(path_of(request.param))


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_check_has_no_issues_at_all(name):
    report = surveys.check(path_of(name))
    assert [str(i) for i in report.issues] == []
    assert report.definition is not None


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_no_missing_translation_warnings(name):
    report = surveys.check(path_of(name))
    codes = {getattr(i.code, "name", str(i.code)) for i in report.issues}
    assert "MISSING_TRANSLATION" not in codes
    assert "MISSING_LABEL" not in codes


def test_settings(instrument):
    name, definition = instrument
    settings = definition.settings
    assert settings.id == name
    assert settings.unit == UNITS[name]
    assert tuple(settings.languages) == LANGUAGES
    assert settings.default_language == "es"
    assert all(settings.title.get(lang, "").strip() for lang in LANGUAGES)
    assert settings.version


def test_pages_in_order(instrument):
    name, definition = instrument
    assert [page.name for page in definition.pages] == PAGES[name]


def _bilingual(text) -> bool:
    return all(isinstance(text.get(lang), str) and text[lang].strip() for lang in LANGUAGES)


def test_every_text_is_in_spanish_and_english(instrument):
    _, definition = instrument
    missing = []
    for element in definition.elements():
        if getattr(element, "type", None) != "calculate" and not _bilingual(element.label):
            missing.append(f"{element.name}.label")
        for key in ("hint", "constraint_message"):
            text = getattr(element, key, None)
            if text and not _bilingual(text):
                missing.append(f"{element.name}.{key}")
        if getattr(element, "constraint", None) is not None and not _bilingual(element.constraint_message):
            missing.append(f"{element.name}.constraint_message (constraint without a bilingual message)")
    for choice_list in definition.choices.values():
        for choice in choice_list.choices:
            if not _bilingual(choice.label):
                missing.append(f"{choice_list.name}.{choice.name}")
    assert missing == []


def test_field_names_are_prefixed_english_snake_case(instrument):
    name, definition = instrument
    for field in definition.fields:
        assert field.startswith(PREFIXES[name]), field
        assert field == field.lower() and " " not in field and "-" not in field, field


def test_field_names_are_unique_across_instruments():
    seen: dict[str, str] = {}
    for name in INSTRUMENTS:
        for field in surveys.load(path_of(name)).fields:
            assert field not in seen, f"{field} is in both {seen.get(field)} and {name}"
            seen[field] = name


def test_item_bank_is_covered(instrument):
    name, definition = instrument
    fields = definition.fields
    for field, qtype in ITEM_BANK[name].items():
        assert field in fields, field
        assert fields[field].type == qtype, (field, fields[field].type)


def test_choice_lists(instrument):
    name, definition = instrument
    for (owner, field), expected in CHOICE_NAMES.items():
        if owner != name:
            continue
        choice_list = definition.choice_list(definition.fields[field])
        assert set(choice_list.names) == expected, field


def test_every_factual_claim_asks_for_evidence():
    """Each yes/no question of the self-reported instruments is referenced by the
    `relevant` of a URL question (the evidence asked when the answer is yes)."""
    for name in ("gobierno", "condiciones"):
        definition = surveys.load(path_of(name))
        fields = definition.fields
        gated = set()
        for question in fields.values():
            if question.type == "url" and question.relevant is not None:
                gated |= set(question.relevant.references)
        claims = [f for f, q in fields.items() if q.type in ("yes_no", "yes_no_na")]
        assert claims
        assert [f for f in claims if f not in gated] == [], name
        # and every evidence question is a URL, required when relevant
        for question in fields.values():
            if question.name.endswith("_evidence"):
                assert question.type == "url", question.name
                assert question.required is True, question.name


def test_evidence_for_counts_and_shares():
    fields = surveys.load(path_of("gobierno")).fields
    for evidence, gate in (("ai_requests_evidence", "ai_requests_received"),
                           ("ta_share_evidence", "ta_share"),
                           ("da_datasets_evidence", "da_datasets")):
        assert gate in fields[evidence].relevant.references


def test_pg_detail_pages_hang_on_the_mechanism_question():
    definition = surveys.load(path_of("gobierno"))
    pages = {page.name: page for page in definition.pages}
    for page in ("pg_actors_page", "pg_operation", "pg_format_page", "pg_follow_up", "inc"):
        assert pages[page].relevant is not None, page
        assert "pg_has_mechanism" in pages[page].relevant.references, page


def test_requests_repeat_bounds():
    definition = surveys.load(path_of("ciudadana"))
    repeat = definition.repeats["tc_requests"]
    assert (repeat.min_count, repeat.max_count) == (2, 3)
    for field in ("tc_sent_date", "tc_answered", "tc_answer_date", "tc_days", "tc_availability",
                  "tc_clarity", "tc_completeness"):
        assert definition.fields[field].repeat == "tc_requests", field
    assert "business-days" in definition.fields["tc_days"].calculation.text
    assert "business-days" in definition.fields["pc_days"].calculation.text


def test_cli_check_passes_on_every_shipped_definition():
    exe = Path(sys.executable).with_name("apertura")
    paths = [str(path_of(name)) for name in INSTRUMENTS]
    done = subprocess.run([str(exe), "survey", "check", *paths], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
