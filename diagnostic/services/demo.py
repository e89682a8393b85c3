"""`apertura demo`: a realistic demo campaign built from a seed.

The 32 states plus federal bodies, about 1,200 institutions with the type mix of the
published Métrica 2017 (methodology §2, `scoring/data/benchmarks/metrica_2017_by_type.csv`),
and answers generated so that national figures sit near the published 2019–2023 levels:
each institution gets an openness propensity from its type's 2017 mean (shifted to the
later editions' level), its state's 2017 gap and noise; questions are then answered
"openly" with that probability, through the model's item rules. Some institutions never
answer, some leave drafts, most submit, some are verified by an analyst.
"""
from __future__ import annotations

import csv
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
import yaml
from flask import current_app

import surveys
from diagnostic.extensions import db
from diagnostic.models import (
    Answer,
    AuditEvent,
    Campaign,
    CampaignStatus,
    Institution,
    InstrumentPurpose,
    Order,
    Participation,
    Response,
    ResponseStatus,
    Role,
    User,
    utcnow,
)
from diagnostic.services import (
    Conflict,
    Refusal,
    assignments,
    campaigns,
    instruments,
    invitations,
    responses,
    users,
)
from diagnostic.services.audit import SYSTEM

BENCHMARKS = Path(__file__).resolve().parents[2] / "scoring" / "data" / "benchmarks"
# Means of the published 2019, 2021 and 2023 national figures (index 0.52/0.48/0.46,
# transparency 0.64/0.61/0.60, participation 0.41/0.35/0.32) against the 2017 edition.
TARGET = {"T": 0.617, "P": 0.36}
EDITION_2017 = {"GA": 0.39, "T": 0.50, "P": 0.28}
SLUG = "demo-2025"

# Names the demo gives its institutions, by type (data, not code).
NAMES = yaml.safe_load(resources.files("diagnostic").joinpath("data", "demo.yaml").read_text(encoding="utf-8"))
TYPE_CODES, STATE_NAMES = NAMES["type_codes"], NAMES["state_names"]
FEDERAL_NAMES, CAPITALS = NAMES["federal_names"], NAMES["capitals"]
# Share of institutions by state of their government-side response.
STATUS_MIX = (("none", 0.08), ("draft", 0.12), ("submitted", 0.62), ("verified", 0.18))
EVALUATED_SHARE = 0.92


@dataclass
class Summary:
    """What the demo built."""

    campaign: str = ""
    institutions: int = 0
    by_status: Counter = field(default_factory=Counter)
    evaluations: int = 0
    conditions: int = 0
    links_file: str = ""
    sample_link: str = ""
    accounts: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary for the CLI."""
        out = [f"campaign {self.campaign}: {self.institutions} institutions",
               "government responses: " + ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items())),
               f"citizen evaluations: {self.evaluations}",
               f"state conditions questionnaires: {self.conditions}"]
        out += [f"account: {a}" for a in self.accounts]
        if self.links_file:
            out.append(f"invitation links: {self.links_file}")
        if self.sample_link:
            out.append(f"try a draft respondent link: {self.sample_link}")
        return out


def _read(name: str) -> list[dict]:
    with (BENCHMARKS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _clip(x: float, lo: float = 0.02, hi: float = 0.98) -> float:
    return max(lo, min(hi, x))


def _institutions(rng: random.Random, n_total: int) -> list[dict]:
    """Institution rows with the 2017 type mix scaled to `n_total`, and a target index score each."""
    by_type = _read("metrica_2017_by_type.csv")
    by_state = {r["cve_ent"]: r for r in _read("metrica_2017_by_state.csv")}
    state_names = {code: row["entidad"] for code, row in by_state.items()}
    scale = n_total / sum(int(r["n"]) for r in by_type)
    rows: list[dict] = []
    used: set[tuple[str, str]] = set()
    for spec in by_type:
        kind = TYPE_CODES[spec["type"]]
        order = {"Estatal": Order.ESTATAL, "Municipal": Order.MUNICIPAL, "Federal": Order.FEDERAL}[spec["order"]]
        count = max(1, round(int(spec["n"]) * scale))
        if order == Order.FEDERAL:
            codes = ["00"] * count
        else:
            codes = [f"{1 + i % 32:02d}" for i in range(count)]
            rng.shuffle(codes)
        means = {"T": float(spec["t_mean"]), "P": float(spec["p_mean"])}
        sd = float(spec["ga_sd"])
        for code in codes:
            names = FEDERAL_NAMES[kind] if code == "00" else STATE_NAMES[kind]
            base = next((n for n in names if (code, n) not in used), None)
            if base is None:
                base = f"{names[len(used) % len(names)]} (unidad {sum(1 for c, _ in used if c == code) + 1})"
            used.add((code, base))
            state = state_names[code]
            name = base.format(state=state, capital=CAPITALS.get(code, state))
            if code != "00" and "{" not in STATE_NAMES[kind][0] and kind != "municipio" and state not in name:
                name = f"{name} de {state}"
            state_gap = float(by_state[code]["ga"]) - EDITION_2017["GA"]
            noise = rng.gauss(0, sd * 0.7)
            target = {d: _clip(means[d] + TARGET[d] - EDITION_2017[d] + 0.5 * state_gap + noise + rng.gauss(0, 0.05))
                      for d in TARGET}
            rows.append({"name": name[:300], "state_code": code, "order": order, "type": kind, "target": target})
    return rows


class Answerer:
    """Answers a definition with an openness propensity, following the index model's item rules."""

    def __init__(self, definition, model, rng: random.Random):
        self.definition = definition
        self.rng = rng
        self.rules = {}
        self.dimension: dict[str, str] = {}
        for dimension in model.tree.children:
            for node in dimension.walk():
                if node.rule is not None:
                    name = node.source_field.split(".")[-1]
                    self.rules[name] = node.rule
                    for f in (name, *node.rule.fields):
                        self.dimension[f] = dimension.code
                elif node.is_leaf:
                    self.dimension[node.source_field.split(".")[-1]] = dimension.code

    def propensity(self, p: dict | float, name: str) -> float:
        """The propensity that applies to a field (per dimension when given as a dict)."""
        if isinstance(p, dict):
            return p.get(self.dimension.get(name, ""), sum(p.values()) / len(p))
        return p

    def value(self, question, p: float, key: str, context: dict):
        """One answer for a question given the propensity and the answers so far in context."""
        rng, t, name = self.rng, question.type, question.name
        p = self.propensity(p, name)
        rule = self.rules.get(name)
        open_ = rng.random() < p
        if t in ("yes_no", "yes_no_na"):
            if t == "yes_no_na" and rng.random() < 0.04:
                return "na"
            return "yes" if open_ else "no"
        if t in ("select_one", "likert"):
            options = [c.name for c in self.definition.choice_list(question).choices]
            if rule is not None and rule.family == "options":
                scored = sorted(options, key=lambda o: -(rule.params["options"].get(o) or 0))
                return scored[0] if open_ else rng.choice(scored[1:] or scored)
            if "yes" in options:
                return "yes" if open_ else rng.choice([o for o in options if o != "yes"])
            return rng.choice(options)
        if t == "select_multiple":
            options = [c.name for c in self.definition.choice_list(question).choices]
            wanted = rule.params["share"] if rule is not None and rule.family == "share" else [o for o in options if o != "none"]
            chosen = [o for o in wanted if rng.random() < p]
            if not chosen:
                chosen = ["none"] if "none" in options and rng.random() < 0.5 else [rng.choice(wanted)]
            return chosen
        if t in ("integer", "decimal", "range"):
            return self._number(question, rule, p, open_, context)
        if t == "date":
            return self._date(question, open_, context)
        if t == "url":
            return f"https://transparencia.{key}.gob.mx/{name.replace('_', '-')}"
        if "email" in name:
            return f"transparencia@{key}.gob.mx"
        return rng.choice(["Información publicada en el portal", "Acta de sesión", "Oficio de respuesta",
                           "Lista de asistencia", "Informe anual", "Presupuesto ciudadano"])

    def _number(self, question, rule, p: float, open_: bool, context: dict):
        rng = self.rng
        if rule is not None and rule.family == "scale":
            lo, hi = rule.params["scale"]
            return int(round(_clip(p + rng.gauss(0, 0.15), 0, 1) * (hi - lo) + lo))
        if rule is not None and rule.family == "thresholds":
            bounds = rule.params["thresholds"]  # (kind, bound, score), best first
            kind, best, _ = bounds[0]
            worst = int(bounds[-1][1])
            if kind == "min":
                return int(best) + rng.randint(0, 5) if open_ else rng.randint(0, max(worst - 1, 0))
            return rng.randint(0, int(best)) if open_ else worst + rng.randint(1, 20)
        for ratio_rule in self.rules.values():
            if ratio_rule.family == "ratio":
                num, den = ratio_rule.params["ratio"]
                if question.name == den:
                    return rng.randint(5, 400)
                if question.name == num and isinstance(context.get(den), int | float | str):
                    total = int(float(context[den] or 0))
                    return int(round(total * _clip(p + rng.gauss(0, 0.12), 0, 1)))
        if question.constraint is not None:
            from surveys.expressions.nodes import Literal, walk

            bounds = [n.value for n in walk(question.constraint.tree)
                      if isinstance(n, Literal) and isinstance(n.value, int | float) and not isinstance(n.value, bool)]
            if bounds and max(bounds) >= 1000:  # a year or another large lower bound
                low = int(max(bounds))
                return rng.randint(low, low + 9)
        return rng.randint(0, 12) if open_ else rng.randint(0, 2)

    def _date(self, question, open_: bool, context: dict):
        rng = self.rng
        refs = sorted(question.constraint.references) if question.constraint is not None else []
        earlier = [context[r] for r in refs if isinstance(context.get(r), str) and len(context[r]) == 10]
        if earlier:
            start = dt.date.fromisoformat(max(earlier))
            delay = rng.randint(1, 6) if open_ else rng.randint(12, 40)
            return min(start + dt.timedelta(days=delay), dt.date(2025, 11, 28)).isoformat()
        return (dt.date(2025, 2, 3) + dt.timedelta(days=rng.randint(0, 150))).isoformat()

    def answers(self, p: dict | float, key: str) -> dict:
        """A relevance-consistent answer set (valid unless the propensity draws conflict)."""
        d = self.definition
        answers: dict = {}
        for _ in range(4):
            validation = surveys.validate(d, answers, partial=True)
            added = False
            for name, question in d.fields.items():
                if question.type in ("note", "calculate") or question.read_only:
                    continue
                if question.repeat is None:
                    if name not in answers and validation.relevant.get(name, True):
                        answers[name] = self.value(question, p, key, answers)
                        added = True
                    continue
                instances = answers.setdefault(question.repeat, [{} for _ in range(self._instances(question.repeat))])
                for i, instance in enumerate(instances):
                    path = f"{question.repeat}[{i}].{name}"
                    if name not in instance and validation.relevant.get(path, True):
                        instance[name] = self.value(question, p, key, {**answers, **instance})
                        added = True
            if not added:
                break
        return answers

    def _instances(self, repeat_name: str) -> int:
        repeat = self.definition.repeats[repeat_name]
        if isinstance(repeat.repeat_count, int):
            return repeat.repeat_count
        low = max(repeat.min_count or 1, 1)
        return self.rng.randint(low, max(repeat.max_count or low, low))


def calibrate(gov: Answerer, cit: Answerer, model, seed: int, n: int = 160):
    """Map target index scores to propensities: score a pilot over a grid of propensities and invert."""
    import numpy as np
    import pandas as pd

    from scoring.pipeline import score

    rng = random.Random(seed)
    grid = np.linspace(0.02, 0.98, n)
    records, institutions_ = [], []
    for i, p in enumerate(grid):
        key = f"pilot{i}"
        institutions_.append({"institution": key, "name": key, "state": "01", "order": "estatal", "type": "ejecutivo"})
        for answerer in (gov, cit):
            result = _valid(answerer.definition, answerer.answers(float(p), key), rng)
            if result is not None:
                records += [{"institution": key, "field": f, "repeat_index": idx, "value": v}
                            for (f, idx), v in responses._to_rows(result.values).items()]
    scored = score(pd.DataFrame(records), pd.DataFrame(institutions_), model).wide("dimension")
    scored = scored.reindex([r["institution"] for r in institutions_]).fillna(0)
    window = 15
    curves = {}
    for dimension in scored.columns:
        values = scored[dimension].to_numpy()
        smooth = np.convolve(np.pad(values, window // 2, mode="edge"), np.ones(window) / window, mode="valid")
        curves[dimension] = np.maximum.accumulate(smooth) + np.arange(len(smooth)) * 1e-9

    def propensity(targets: dict) -> dict:
        return {d: float(np.interp(t, curves[d], grid)) for d, t in targets.items() if d in curves}

    return propensity


def _valid(definition, answers: dict, rng: random.Random):
    """Validated values for a full answer set, repairing or dropping fields that fail."""
    for _ in range(3):
        result = surveys.validate(definition, answers, partial=False)
        if result.ok:
            return result
        for error in result.errors:
            question = definition.fields.get(error.field)
            choice_list = definition.choice_list(question) if question is not None else None
            options = [c.name for c in choice_list.choices] if choice_list is not None else []
            rng.shuffle(options)
            for option in options:
                responses.set_path(answers, error.path, [option] if question.type == "select_multiple" else option)
                check = surveys.validate(definition, answers, partial=False)
                if not any(e.path == error.path for e in check.errors):
                    break
            else:
                responses.set_path(answers, error.path, None)
    result = surveys.validate(definition, answers, partial=False)
    return result if result.ok else None


def build(*, seed: int = 2017, n_institutions: int = 1200, password: str = "apertura-demo") -> Summary:
    """Create the demo users, institutions, campaign, invitations and responses (empty database only)."""
    if campaigns.get_by_slug(SLUG, missing_ok=True) is not None:
        raise Conflict(Refusal.DEMO_EXISTS, slug=SLUG)
    rng = random.Random(seed)
    summary = Summary(campaign=SLUG)
    admin = users.create("admin@apertura.demo", "Administración", Role.ADMIN, password)
    users.create("analista@apertura.demo", "Analista", Role.ANALYST, password)
    evaluators = [users.create(f"evaluador{i}@apertura.demo", f"Evaluador {i}", Role.EVALUATOR, password)
                  for i in range(1, 9)]
    summary.accounts = [f"{u} / {password}" for u in ("admin@apertura.demo", "analista@apertura.demo",
                                                       "evaluador1@apertura.demo")]

    rows = _institutions(rng, n_institutions)
    keys: Counter = Counter()
    objects = []
    for row in rows:
        base = f"{row['state_code']}-{row['type']}-"
        keys[base] += 1
        objects.append(Institution(key=f"{base}{keys[base]:03d}", name=row["name"], state_code=row["state_code"],
                                   order=row["order"], type=row["type"],
                                   contact_email=f"transparencia@{row['type']}{keys[base]}.{row['state_code']}.gob.mx"))
    db.session.add_all(objects)
    db.session.flush()

    campaign = campaigns.create("Métrica de Gobierno Abierto 2025 (demostración)", 2025, slug=SLUG,
                                instructions=("Responda con la información vigente de su institución. Cada "
                                              "afirmación necesita un enlace de evidencia.\n\nEl equipo analista "
                                              "verificará las respuestas contra la evidencia."),
                                closes_at=max(dt.datetime(2026, 12, 31, tzinfo=dt.UTC),  # links never born expired
                                              dt.datetime.now(dt.UTC) + dt.timedelta(days=120)))
    gobierno = instruments.store_shipped("gobierno")
    ciudadana = instruments.store_shipped("ciudadana")
    condiciones = instruments.store_shipped("condiciones")
    campaigns.set_instrument(campaign, InstrumentPurpose.INSTITUTION, gobierno)
    campaigns.set_instrument(campaign, InstrumentPurpose.EVALUATOR, ciudadana)
    campaigns.set_instrument(campaign, InstrumentPurpose.STATE, condiciones)
    model_version = instruments.store_shipped_index_model("apertura")
    if model_version is not None:
        campaigns.set_index_model(campaign, model_version)
    # The local guarantor body answers its state's conditions questionnaire.
    guarantors = {}
    for inst in objects:
        if inst.state_code != "00" and inst.name.startswith("Organismo Garante"):
            guarantors.setdefault(inst.state_code, inst.id)
    db.session.add_all([Participation(campaign_id=campaign.id, institution_id=i.id,
                                      state_respondent=guarantors.get(i.state_code) == i.id) for i in objects])
    db.session.commit()
    campaigns.set_status(campaign, CampaignStatus.OPEN)

    states = sorted({o.state_code for o in objects})
    for i, evaluator in enumerate(evaluators):
        mine = [o for o in objects if o.state_code in states[i::len(evaluators)]]
        assignments.assign(campaign, mine, evaluator)

    links = invitations.issue(campaign, objects, days=current_app.config["INVITATION_DAYS"])
    by_institution = {link.invitation.institution_id: link for link in links}

    from scoring.model import IndexModel

    model = IndexModel.load("apertura")
    _fill(campaign, gobierno, ciudadana, objects, rows, model, rng, admin, summary, by_institution, seed)
    _fill_conditions(campaign, condiciones, [o for o in objects if o.id in set(guarantors.values())], rng, summary)
    summary.institutions = len(objects)

    out = Path(current_app.instance_path) / f"invitaciones-{SLUG}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    base = current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000"
    out.write_text(invitations.links_csv(links, base), encoding="utf-8")
    summary.links_file = str(out)
    return summary


def _fill(campaign: Campaign, gobierno, ciudadana, objects, rows, model, rng, admin: User, summary: Summary,
          links: dict, seed: int) -> None:
    gov_def, cit_def = instruments.definition(gobierno), instruments.definition(ciudadana)
    gov, cit = Answerer(gov_def, model, rng), Answerer(cit_def, model, rng)
    propensity = calibrate(Answerer(gov_def, model, random.Random(seed + 1)),
                           Answerer(cit_def, model, random.Random(seed + 2)), model, seed)
    for row in rows:
        row["p"] = propensity(row["target"])
    now = utcnow()
    statuses, weights = zip(*STATUS_MIX, strict=True)
    evaluator_of = {a.institution_id: a.user_id for a in assignments.for_campaign(campaign)}
    base_url = current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000"
    for start in range(0, len(objects), 200):
        answer_rows: list[dict] = []
        audit_rows: list[dict] = []
        batch = list(zip(objects[start:start + 200], rows[start:start + 200], strict=True))
        created: list[tuple[Response, dict, str]] = []
        for inst, row in batch:
            status = rng.choices(statuses, weights)[0]
            if status != "none":
                answers = gov.answers(row["p"], inst.key.replace("-", ""))
                result = _valid(gov_def, answers, rng)
                if result is None:
                    status = "draft"
                if status == "draft":
                    keep = rng.uniform(0.2, 0.8)
                    final = {k: v for k, v in responses._to_rows(answers).items() if rng.random() < keep}
                else:
                    final = responses._to_rows(result.values)
                response = Response(campaign_id=campaign.id, purpose=InstrumentPurpose.INSTITUTION,
                                    instrument_version_id=gobierno.id, institution_id=inst.id,
                                    status=ResponseStatus.DRAFT if status == "draft" else ResponseStatus(status),
                                    last_page=0, updated_at=now, updated_by="demo")
                if status != "draft":
                    response.submitted_at, response.submitted_by = now, "demo"
                    response.fingerprint = responses.fingerprint(final)
                if status == "verified":
                    response.verified_at, response.verified_by_id = now, admin.id
                db.session.add(response)
                created.append((response, final, status))
                summary.by_status[status] += 1
                if status == "draft" and not summary.sample_link and inst.id in links:
                    summary.sample_link = f"{base_url.rstrip('/')}/r/{links[inst.id].token}"
            else:
                summary.by_status["none"] += 1
            if rng.random() < EVALUATED_SHARE:
                answers = cit.answers(row["p"], inst.key.replace("-", ""))
                result = _valid(cit_def, answers, rng)
                if result is not None:
                    final = responses._to_rows(result.values)
                    response = Response(campaign_id=campaign.id, purpose=InstrumentPurpose.EVALUATOR,
                                        instrument_version_id=ciudadana.id,
                                        institution_id=inst.id, status=ResponseStatus.SUBMITTED, updated_at=now,
                                        updated_by="demo", submitted_at=now, submitted_by="demo",
                                        fingerprint=responses.fingerprint(final), evaluator_id=evaluator_of.get(inst.id))
                    db.session.add(response)
                    created.append((response, final, "submitted"))
                    summary.evaluations += 1
        db.session.flush()
        for response, final, status in created:
            for (name, index), value in final.items():
                row = {"response_id": response.id, "field": name, "repeat_index": index, "value": value,
                       "updated_at": now, "verified_value": None, "verification": None,
                       "verification_reason": None, "verified_by_id": None, "verified_at": None}
                if status == "verified":
                    row.update(verified_value=value, verification="accepted", verified_by_id=admin.id, verified_at=now)
                answer_rows.append(row)
            audit_rows.append({"actor": SYSTEM.label, "user_id": None, "action": "demo.seed", "entity": "response",
                               "entity_id": response.id, "response_id": response.id, "at": now,
                               "new_value": f"{len(final)} respuestas ({status})", "field": None, "repeat_index": None,
                               "old_value": None, "reason": "apertura demo"})
        if answer_rows:
            db.session.execute(sa.insert(Answer), answer_rows)
        if audit_rows:
            db.session.execute(sa.insert(AuditEvent), audit_rows)
        db.session.commit()


def _fill_conditions(campaign: Campaign, version, respondents: list[Institution], rng: random.Random,
                     summary: Summary) -> None:
    """State conditions answered by each state's guarantor body (a few states still in draft)."""
    from scoring.model import IndexModel

    definition = instruments.definition(version)
    answerer = Answerer(definition, IndexModel.load("conditions"), rng)
    now = utcnow()
    for inst in respondents:
        answers = answerer.answers(_clip(rng.gauss(0.55, 0.18)), inst.key.replace("-", ""))
        result = _valid(definition, answers, rng)
        submitted = result is not None and rng.random() < 0.85
        final = responses._to_rows(result.values if submitted else answers)
        response = Response(campaign_id=campaign.id, purpose=InstrumentPurpose.STATE, instrument_version_id=version.id,
                            institution_id=inst.id,
                            status=ResponseStatus.SUBMITTED if submitted else ResponseStatus.DRAFT,
                            updated_at=now, updated_by="demo", submitted_at=now if submitted else None,
                            submitted_by="demo" if submitted else None,
                            fingerprint=responses.fingerprint(final) if submitted else None)
        db.session.add(response)
        db.session.flush()
        db.session.execute(sa.insert(Answer), [
            {"response_id": response.id, "field": f, "repeat_index": i, "value": v, "updated_at": now,
             "verified_value": None, "verification": None, "verification_reason": None, "verified_by_id": None,
             "verified_at": None} for (f, i), v in final.items()])
        db.session.add(AuditEvent(actor=SYSTEM.label, action="demo.seed", entity="response", entity_id=response.id,
                                  response_id=response.id, new_value=f"{len(final)} respuestas", reason="apertura demo"))
        summary.conditions += submitted
    db.session.commit()
