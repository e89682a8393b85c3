"""Complete, plausible answer sets for the shipped instruments, as a web form would post them.

`gobierno_full` / `ciudadana_full` describe one institution (a state finance ministry) whose
scores are worked out by hand in `test_scoring_example.py`; `gobierno_sparse` /
`ciudadana_sparse` describe a closed one (no participation mechanism, no answers) that
exercises the zero rules. Each function returns a fresh dict, so tests may mutate it.
"""
from __future__ import annotations

SITE = "https://finanzas.example.org"


def gobierno_full() -> dict:
    """Answers of an institution with most openness practices in place."""
    return {
        "resp_name": "María Fernanda López Ruiz",
        "resp_position": "Titular de la Unidad de Transparencia",
        "resp_email": "mf.lopez@finanzas.example.org",
        # AI
        "ai_unit": "yes",
        "ai_unit_evidence": f"{SITE}/transparencia/unidad",
        "ai_channels": ["pnt", "email", "in_person"],
        "ai_channels_evidence": f"{SITE}/transparencia/solicitudes",
        "ai_guide": "yes",
        "ai_guide_evidence": f"{SITE}/transparencia/guia.pdf",
        "ai_requests_received": "200",
        "ai_requests_answered": "150",
        "ai_requests_evidence": f"{SITE}/transparencia/estadisticas-2024.xlsx",
        "ai_disability_assistance": "yes",
        "ai_disability_assistance_evidence": f"{SITE}/transparencia/accesibilidad",
        "ai_indigenous_assistance": "no",
        "ai_free_electronic": "yes",
        "ai_free_electronic_evidence": f"{SITE}/transparencia/costos",
        # TA
        "ta_share": "80",
        "ta_share_evidence": "https://consultapublicamx.plataformadetransparencia.org.mx/vut-web/",
        "ta_site_links": "yes",
        "ta_site_links_evidence": f"{SITE}/",
        "ta_updated_quarter": "no",
        "ta_reusable_formats": "yes",
        "ta_reusable_formats_evidence": f"{SITE}/transparencia/fraccion-xxi.csv",
        # TP
        "tp_beyond_obligations": "yes",
        "tp_beyond_obligations_evidence": f"{SITE}/presupuesto-ciudadano",
        "tp_demand_based": "no",
        "tp_plain_language": "yes",
        "tp_plain_language_evidence": f"{SITE}/presupuesto-ciudadano/guia-facil",
        "tp_sex_disaggregated": "na",
        "tp_impact_evaluated": "no",
        # DA
        "da_datasets": "4",
        "da_datasets_evidence": "https://www.datos.gob.mx/",
        "da_open_license": "yes",
        "da_open_license_evidence": f"{SITE}/datos/licencia",
        "da_metadata": "no",
        "da_machine_readable": "yes",
        "da_machine_readable_evidence": f"{SITE}/datos/ingresos-2024.csv",
        "da_update_schedule": "no",
        "da_portal_listed": "yes",
        "da_portal_listed_evidence": "https://www.datos.gob.mx/",
        # PG
        "pg_has_mechanism": "yes",
        "pg_mechanism_kinds": ["advisory_council", "public_consultation"],
        "pg_mechanism_evidence": f"{SITE}/participacion/acuerdo-consejo.pdf",
        "pg_main_mechanism": "advisory_council",
        "pg_main_mechanism_name": "Consejo Consultivo Ciudadano de Finanzas Públicas",
        "pg_participants": "organised_civil_society",
        "pg_participants_evidence": f"{SITE}/participacion/convocatoria",
        "pg_operated": "yes",
        "pg_operated_evidence": f"{SITE}/participacion/actas",
        "pg_sessions": "3",
        "pg_participation_format": "consultative",
        "pg_participation_format_evidence": f"{SITE}/participacion/reglas.pdf",
        "pg_outcomes_published": "yes",
        "pg_outcomes_published_evidence": f"{SITE}/participacion/resultados",
        "pg_proposals_answered": "no",
        # inclusion
        "inc_parity_rules": "no",
        "inc_measures": ["accessible_venue", "remote_participation"],
    }


def gobierno_sparse() -> dict:
    """Answers of an institution with little openness: no mechanism, no datasets."""
    return {
        "resp_name": "José Antonio Pérez Gómez",
        "resp_position": "Enlace de transparencia",
        "resp_email": "jperez@municipio.example.org",
        "ai_unit": "no",
        "ai_channels": ["pnt"],
        "ai_channels_evidence": "https://www.plataformadetransparencia.org.mx/",
        "ai_guide": "no",
        "ai_requests_received": "0",
        "ai_requests_answered": "0",
        "ai_disability_assistance": "no",
        "ai_indigenous_assistance": "no",
        "ai_free_electronic": "yes",
        "ai_free_electronic_evidence": "https://municipio.example.org/transparencia",
        "ta_share": "0",
        "ta_site_links": "no",
        "ta_updated_quarter": "no",
        "ta_reusable_formats": "no",
        "tp_beyond_obligations": "no",
        "da_datasets": "0",
        "pg_has_mechanism": "no",
    }


def ciudadana_full() -> dict:
    """Three requests (answered fast, answered in 10 business days, never answered) and a
    proposal that was acknowledged and activated in 10 business days."""
    return {
        "tc_requests": [
            {
                "tc_topic": "Padrón de proveedores 2024 con montos pagados",
                "tc_folio": "080012625000101",
                "tc_sent_date": "2025-03-03",
                "tc_answered": "yes",
                "tc_answer_date": "2025-03-07",
                "tc_availability": "yes",
                "tc_clarity": "yes",
                "tc_completeness": "partial",
            },
            {
                "tc_topic": "Viáticos del gabinete en el primer trimestre",
                "tc_folio": "080012625000145",
                "tc_sent_date": "2025-03-06",
                "tc_answered": "yes",
                "tc_answer_date": "2025-03-21",
                "tc_availability": "partial",
                "tc_clarity": "yes",
                "tc_completeness": "no",
                "tc_notes": "Entregó solo enero y febrero.",
            },
            {
                "tc_topic": "Contratos de arrendamiento vigentes",
                "tc_folio": "080012625000162",
                "tc_sent_date": "2025-03-10",
                "tc_answered": "no",
            },
        ],
        "pc_contact_methods": ["email", "web_form"],
        "pc_contact_evidence": "https://finanzas.example.org/contacto",
        "pc_channel_used": "email",
        "pc_proposal_summary": "Publicar el avance mensual del gasto por municipio en datos abiertos.",
        "pc_sent_date": "2025-04-01",
        "pc_receipt": "yes",
        "pc_activated": "yes",
        "pc_answer_date": "2025-04-15",
    }


def ciudadana_sparse() -> dict:
    """Two requests never answered and no contact method found."""
    return {
        "tc_requests": [
            {"tc_topic": "Nómina de la administración municipal", "tc_folio": "210045625000011",
             "tc_sent_date": "2025-03-03", "tc_answered": "no"},
            {"tc_topic": "Obra pública adjudicada en 2024", "tc_folio": "210045625000012",
             "tc_sent_date": "2025-03-04", "tc_answered": "no"},
        ],
        "pc_contact_methods": ["none"],
    }


def condiciones_full() -> dict:
    """A state with a co-creation track record; worked out by hand in the scoring example."""
    return {
        "cd_respondent_body": "guarantor_body",
        "cd_respondent_name": "Laura Elena Martínez Soto",
        "cd_respondent_position": "Comisionada presidenta",
        "cd_respondent_email": "presidencia@garante.example.org",
        # marco
        "cd_law_open_government": "yes",
        "cd_law_open_government_evidence": "https://congreso.example.org/leyes/transparencia.pdf",
        "cd_participation_law": "yes",
        "cd_participation_law_evidence": "https://congreso.example.org/leyes/participacion.pdf",
        "cd_development_plan": "yes",
        "cd_development_plan_evidence": "https://planeacion.example.org/ped-2023-2029.pdf",
        "cd_open_data_policy": "no",
        # cocreación
        "cd_cocreation_joined": "yes",
        "cd_cocreation_year": "2016",
        "cd_cocreation_evidence": "https://garante.example.org/gobierno-abierto/declaratoria.pdf",
        "cd_secretariat_installed": "yes",
        "cd_secretariat_evidence": "https://garante.example.org/gobierno-abierto/acta-instalacion.pdf",
        "cd_secretariat_sessions": "5",
        "cd_action_plans": "2",
        "cd_action_plans_evidence": "https://garante.example.org/gobierno-abierto/plan-2024.pdf",
        "cd_commitments": "14",
        "cd_commitments_fulfilled": "60",
        "cd_commitments_fulfilled_evidence": "https://garante.example.org/gobierno-abierto/seguimiento",
        # articulación
        "cd_commitments_aligned": "7",
        "cd_national_space": "yes",
        "cd_national_space_evidence": "https://garante.example.org/gobierno-abierto/minuta-nacional.pdf",
        "cd_sdg_targets": ["sdg_16_5", "sdg_16_6", "sdg_16_7", "sdg_16_10"],
        # inclusión
        "cd_gender_perspective": "yes",
        "cd_gender_perspective_evidence": "https://garante.example.org/gobierno-abierto/plan-2024.pdf#genero",
        "cd_sex_disaggregated": "na",
        "cd_indigenous": "no",
        # riesgos
        "cd_risks": ["leadership_change", "weak_citizen_involvement"],
        "cd_risks_notes": "Relevo de la administración estatal en 2027.",
    }
