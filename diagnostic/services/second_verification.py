"""Two-stage verification (methodology §9.2–9.4): the national team re-verifies, blind to the
first verdicts, a seeded random sample of first-stage verified institution responses; where the
two stages disagree a named person resolves with a reason, and the resolved value goes back to
the answer through the review path (`responses.verify_answer`), so scores use it.

Rules, in order:
- Settings per campaign (`SecondSample`: share, minimum per state, seed), editable until the
  draw. Size per state with N verified responses: min(N, max(ceil(share·N), minimum, 1)) —
  "10 % or 5 per state, whichever is larger", at least one where a state has any.
- Within a state, the size is shared among institution types in proportion to their verified
  responses (largest remainder; each type gets one while there are enough to go round), then
  drawn at random within each (state, type) stratum with `numpy.random.default_rng(seed)`,
  strata and responses in a fixed order: the same seed and the same verified set give the
  same sample (`plan`).
- Only national staff (admins, analysts without states) draw, verify the second time and
  resolve; a state-scoped analyst is refused.
- The draw snapshots each listed answer's first-stage verdict (value, accepted/corrected,
  reason, who) in `SecondVerdict`; from then on the first stage of a sampled response is
  frozen (`refuse_frozen`: no first-stage accept, correction or reopening), so the two stages
  compare what each decided, and only a resolution changes the value scores read.
- The second verifier sees the answers and evidence, never the first verdicts; someone who
  verified an item at the first stage cannot give its second verdict.
- A campaign is not published while a sampled item has no second verdict or a disagreement
  is unresolved (`check_publishable`, called by `campaigns.set_status`).
- Agreement (`agreement_of`) compares the first-stage snapshot with the second verdict on
  item score categories (`scoring.agreement`), per component and overall.
"""
from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

from diagnostic.extensions import db
from diagnostic.models import (
    Campaign,
    Institution,
    InstrumentPurpose,
    Response,
    ResponseStatus,
    Role,
    SampledResponse,
    SecondSample,
    SecondVerdict,
    State,
    User,
    utcnow,
)
from diagnostic.services import Conflict, NotFound, Refusal, ServiceError, responses
from diagnostic.services.audit import Actor, record
from scoring import agreement as agreement_lib

MAX_SEED = 2**31 - 1
INSTITUTION, EVALUATOR = "institution", "evaluator"
PURPOSES = (INSTITUTION, EVALUATOR)  # national re-verification; civil-society double-coding


# ------------------------------------------------------------------ who may act
def require_national(user: User) -> None:
    """Refuse anyone but national staff (admins, analysts not scoped to states)."""
    from diagnostic.security import scope_of

    if getattr(user, "role", None) not in (Role.ADMIN, Role.ANALYST) or not scope_of(user).national:
        raise ServiceError(Refusal.SECOND_NATIONAL_ONLY)


# ------------------------------------------------------------------ settings
def check_purpose(purpose: str) -> str:
    """`institution` (national re-verification) or `evaluator` (co-assessors' double-coding)."""
    if purpose not in PURPOSES:
        raise ServiceError(Refusal.UNKNOWN_PURPOSE, purpose=purpose)
    return purpose


def sample_of(campaign: Campaign, purpose: str = INSTITUTION) -> SecondSample | None:
    """The campaign's stored sample settings and draw (None before any is saved)."""
    return db.session.scalar(sa.select(SecondSample).where(SecondSample.campaign_id == campaign.id,
                                                           SecondSample.purpose == check_purpose(purpose)))


def settings_of(campaign: Campaign, purpose: str = INSTITUTION) -> SecondSample:
    """The sample settings in force: the stored ones, or the defaults (not saved)."""
    return sample_of(campaign, purpose) or SecondSample(campaign_id=campaign.id, purpose=purpose, share=0.10,
                                                        min_per_state=5, seed=None)


def _parse(value: object, kind: type, name: str, low: float, high: float):
    text = str(value).strip().replace(",", ".") if value is not None else ""
    if text == "":
        return None
    try:
        number = kind(text)
    except ValueError:
        raise ServiceError(Refusal.SECOND_SETTING_INVALID, name=name, value=text, low=low, high=high) from None
    if not (low <= number <= high) or (kind is float and not math.isfinite(number)):
        raise ServiceError(Refusal.SECOND_SETTING_INVALID, name=name, value=text, low=low, high=high)
    return number


def update_settings(campaign: Campaign, actor: Actor, *, share: object = None, min_per_state: object = None,
                    seed: object = None, purpose: str = INSTITUTION) -> SecondSample:
    """Save the sample settings (share 0–1, e.g. 0.10 or 10 %; minimum per state; seed, blank:
    chosen at the draw). Refused once the sample is drawn."""
    sample = sample_of(campaign, purpose)
    if sample is not None and sample.drawn_at is not None:
        raise Conflict(Refusal.SECOND_SAMPLE_DRAWN)
    text = str(share).strip() if share is not None else ""
    percent = text.endswith("%")
    parsed_share = _parse(text.rstrip("%").strip(), float, "share", 0.0, 100.0 if percent else 1.0)
    if parsed_share is not None and percent:
        parsed_share /= 100.0
    if parsed_share is not None and parsed_share <= 0:
        raise ServiceError(Refusal.SECOND_SETTING_INVALID, name="share", value=text, low=0, high=1)
    minimum = _parse(min_per_state, int, "min_per_state", 1, 10000)
    parsed_seed = _parse(seed, int, "seed", 0, MAX_SEED)
    if sample is None:
        sample = SecondSample(campaign_id=campaign.id, purpose=purpose, share=0.10, min_per_state=5)
        db.session.add(sample)
    old = _settings_text(sample)
    if parsed_share is not None:
        sample.share = parsed_share
    if minimum is not None:
        sample.min_per_state = minimum
    sample.seed = parsed_seed
    record(actor, "second.settings", "campaign", campaign.id, old=old, new=_settings_text(sample))
    db.session.commit()
    return sample


def _settings_text(sample: SecondSample) -> str:
    return json.dumps({"purpose": sample.purpose or INSTITUTION, "share": sample.share,
                       "min_per_state": sample.min_per_state, "seed": sample.seed})


# ------------------------------------------------------------------ the draw
def state_size(verified: int, share: float, minimum: int) -> int:
    """How many of a state's `verified` responses are drawn (methodology §9.2)."""
    if verified <= 0:
        return 0
    return min(verified, max(math.ceil(round(share * verified, 9)), minimum, 1))


def _allocate(total: int, sizes: dict[str, int]) -> dict[str, int]:
    """Share `total` among strata in proportion to `sizes` (largest remainder), one each first
    while there are enough, never more than a stratum has."""
    keys = sorted(sizes)
    out = {k: 0 for k in keys}
    if total >= len(keys):
        for k in keys:
            out[k] = 1
    left = total - sum(out.values())
    while left > 0:
        room = {k: sizes[k] - out[k] for k in keys if sizes[k] > out[k]}
        if not room:
            break
        weight = sum(room.values())
        quotas = {k: left * room[k] / weight for k in room}
        floors = {k: min(room[k], int(quotas[k])) for k in room}
        for k, n in floors.items():
            out[k] += n
        left -= sum(floors.values())
        if left <= 0:
            break
        order = sorted(room, key=lambda k: (-(quotas[k] - floors[k]), k))
        for k in order:
            if left == 0:
                break
            if sizes[k] > out[k]:
                out[k] += 1
                left -= 1
    return out


def plan(population: list[tuple[int, str, str]], share: float, minimum: int, seed: int) -> list[int]:
    """The response ids drawn from `population` ((response id, state code, type) of every
    verified response): stratified by state and type, seeded, reproducible."""
    by_state: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for rid, state, kind in population:
        by_state[state][kind].append(rid)
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for state in sorted(by_state):
        types = by_state[state]
        size = state_size(sum(len(v) for v in types.values()), share, minimum)
        quota = _allocate(size, {k: len(v) for k, v in types.items()})
        for kind in sorted(types):
            ids = sorted(types[kind])
            if quota[kind]:
                chosen.extend(int(x) for x in rng.choice(ids, size=quota[kind], replace=False))
    return sorted(chosen)


def _population(campaign: Campaign, purpose: str = INSTITUTION) -> list[tuple[int, str, str]]:
    """Institution questionnaires verified by the states; citizen evaluations submitted or verified."""
    statuses = ((ResponseStatus.VERIFIED,) if purpose == INSTITUTION
                else (ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED))
    rows = db.session.execute(
        sa.select(Response.id, Institution.state_code, Institution.type)
        .join(Institution, Institution.id == Response.institution_id)
        .where(Response.campaign_id == campaign.id, Response.purpose == InstrumentPurpose(purpose),
               Response.status.in_(statuses))
        .order_by(Response.id)).all()
    return [(rid, state, kind) for rid, state, kind in rows]


def draw(campaign: Campaign, user: User, purpose: str = INSTITUTION) -> SecondSample:
    """Draw the second-verification sample once (national staff), snapshot the first stage of
    every sampled response and record who, when, the seed and the settings."""
    require_national(user)
    sample = sample_of(campaign, purpose)
    if sample is not None and sample.drawn_at is not None:
        raise Conflict(Refusal.SECOND_SAMPLE_DRAWN)
    population = _population(campaign, purpose)
    if not population:
        raise Conflict(Refusal.SECOND_NOTHING_TO_DRAW)
    if sample is None:
        sample = SecondSample(campaign_id=campaign.id, purpose=purpose, share=0.10, min_per_state=5)
        db.session.add(sample)
    if sample.seed is None:
        sample.seed = secrets.randbelow(MAX_SEED)
    chosen = set(plan(population, sample.share, sample.min_per_state, sample.seed))
    strata = {rid: (state, kind) for rid, state, kind in population}
    for rid in sorted(chosen):
        response = db.session.get(Response, rid)
        member = SampledResponse(response_id=rid, state_code=strata[rid][0], type=strata[rid][1])
        for answer in responses_listed(response):
            member.verdicts.append(SecondVerdict(
                field=answer.field, repeat_index=answer.repeat_index,
                repeat_key=-1 if answer.repeat_index is None else answer.repeat_index,
                first_value=answer.effective_value, first_verification=answer.verification,
                first_reason=answer.verification_reason, first_by_id=answer.verified_by_id))
        sample.members.append(member)
    sample.population, sample.drawn_at, sample.drawn_by_id = len(population), utcnow(), user.id
    record(Actor.for_user(user), "second.draw", "campaign", campaign.id,
           new=json.dumps({"purpose": purpose, "seed": sample.seed, "share": sample.share, "min_per_state": sample.min_per_state,
                           "population": len(population), "drawn": len(chosen)}))
    db.session.commit()
    return sample


def responses_listed(response: Response):
    """The answers a review lists (an `X_evidence` answer goes with its `X`)."""
    from diagnostic.services import review

    return review.reviewable(response)


# ------------------------------------------------------------------ freezing the first stage
def member_of(response: Response) -> SampledResponse | None:
    """The response's place in a drawn sample, if it was drawn."""
    return db.session.scalar(sa.select(SampledResponse).where(SampledResponse.response_id == response.id))


def refuse_frozen(response: Response) -> None:
    """Refuse a first-stage change (accept, correct, reopen) of a response drawn for the second
    verification: from the draw on, only a resolution changes its values."""
    if member_of(response) is not None:
        raise Conflict(Refusal.FIRST_STAGE_FROZEN)


# ------------------------------------------------------------------ the second verification
def get_member(campaign: Campaign, member_id: int) -> SampledResponse:
    """A sampled response of this campaign, or NotFound."""
    member = db.session.get(SampledResponse, member_id)
    if member is None or member.sample.campaign_id != campaign.id:
        raise NotFound(Refusal.SECOND_NOT_SAMPLED)
    return member


@dataclass
class QueueRow:
    """One sampled response in the second-verification queue."""

    member: SampledResponse
    institution: Institution
    state_name: str
    done: int
    total: int
    disagreements: int
    unresolved: int

    @property
    def finished(self) -> bool:
        """Every listed item has its second verdict."""
        return self.done == self.total


@dataclass
class StateRow:
    """One state of the sample: verified responses, drawn, finished."""

    code: str
    name: str
    verified: int
    drawn: int
    finished: int = 0


@dataclass
class Overview:
    """The sample of a campaign as the queue page and the reports show it."""

    campaign: Campaign
    settings: SecondSample
    rows: list[QueueRow] = field(default_factory=list)
    states: list[StateRow] = field(default_factory=list)

    @property
    def drawn(self) -> bool:
        """True once the sample is drawn."""
        return self.settings.drawn_at is not None

    @property
    def pending_items(self) -> int:
        """Sampled items without their second verdict."""
        return sum(r.total - r.done for r in self.rows)

    @property
    def unresolved(self) -> int:
        """Disagreements nobody has resolved yet."""
        return sum(r.unresolved for r in self.rows)

    @property
    def disagreements(self) -> int:
        """Items where the two stages disagree (resolved or not)."""
        return sum(r.disagreements for r in self.rows)


def overview(campaign: Campaign, purpose: str = INSTITUTION) -> Overview:
    """The sample settings, the sampled responses with their progress, and the sample by state."""
    sample = settings_of(campaign, purpose)
    view = Overview(campaign, sample)
    if sample.drawn_at is None:
        return view
    names = {s.code: s.name for s in db.session.scalars(sa.select(State))}
    members = db.session.scalars(
        sa.select(SampledResponse).where(SampledResponse.sample_id == sample.id)
        .options(so.selectinload(SampledResponse.verdicts),
                 so.selectinload(SampledResponse.assessor),
                 so.joinedload(SampledResponse.response).joinedload(Response.institution))).unique().all()
    verified: dict[str, int] = defaultdict(int)
    for _rid, state, _kind in _population(campaign, purpose):
        verified[state] += 1
    states: dict[str, StateRow] = {}
    for member in members:
        verdicts = member.verdicts
        done = sum(1 for v in verdicts if v.second_verification)
        disagree = [v for v in verdicts if v.disagrees]
        row = QueueRow(member, member.response.institution, names.get(member.state_code, member.state_code),
                       done, len(verdicts), len(disagree), sum(1 for v in disagree if v.resolved_at is None))
        view.rows.append(row)
        st = states.setdefault(member.state_code, StateRow(member.state_code, row.state_name,
                                                           verified.get(member.state_code, 0), 0))
        st.drawn += 1
        st.finished += row.finished
    view.rows.sort(key=lambda r: (r.member.state_code, r.institution.name, r.member.id))
    view.states = sorted(states.values(), key=lambda s: s.code)
    return view


@dataclass
class BlindRow:
    """One item as the second verifier sees it: the respondent's answer and evidence, and only
    their own verdict (never the first stage's)."""

    verdict_id: int
    field: str
    repeat_index: int | None
    label: dict
    value: str | None
    display: str
    evidence: str | None
    qtype: str
    options: list
    second_verification: str | None
    second_value: str | None
    second_display: str
    second_reason: str | None

    @property
    def widget(self) -> str:
        """The correction control (the question's own, as on the first-stage review)."""
        from diagnostic.services import review

        return review.widget_for(self.qtype, len(self.options))

    @property
    def selected(self) -> set[str]:
        """Option names currently chosen in the correction control."""
        value = self.second_value if self.second_verification == "corrected" else self.value
        return set((value or "").split())

    @property
    def evidence_url(self) -> str | None:
        """The evidence when it is a web address (safe to link)."""
        if self.evidence and self.evidence.lower().startswith(("http://", "https://")):
            return self.evidence
        return None


def blind(member: SampledResponse) -> list[BlindRow]:
    """The items of a sampled response for the blind second verification."""
    from diagnostic.services import review

    response = member.response
    definition = responses.definition_of(response)
    answers = {(a.field, a.repeat_index): a for a in response.answers}
    order = {name: i for i, name in enumerate(definition.fields)}
    rows = []
    for v in sorted(member.verdicts, key=lambda v: (order.get(v.field, len(order)), v.field, v.repeat_key)):
        question = definition.fields.get(v.field)
        options = review.options_of(definition, question)
        original = answers.get((v.field, v.repeat_index))
        evidence = answers.get((f"{v.field}_evidence", v.repeat_index))
        value = original.value if original is not None else None
        rows.append(BlindRow(
            v.id, v.field, v.repeat_index, dict(question.label) if question is not None else {}, value,
            review.display_value(question, options, value), evidence.value if evidence is not None else None,
            question.type if question is not None else "text", options, v.second_verification, v.second_value,
            review.display_value(question, options, v.second_value), v.second_reason))
    return rows


def _verdict(member: SampledResponse, verdict_id: object) -> SecondVerdict:
    text = str(verdict_id or "").strip()
    verdict = next((v for v in member.verdicts if text.isdigit() and v.id == int(text)), None)
    if verdict is None:
        raise NotFound(Refusal.SECOND_NOT_SAMPLED)
    return verdict


def require_coder(member: SampledResponse, user: User) -> None:
    """Who gives second verdicts: national staff, and for citizen evaluations the co-assessor
    assigned to the response; never the evaluator who made it."""
    if member.sample.purpose == EVALUATOR and member.response.evaluator_id == getattr(user, "id", None):
        raise Conflict(Refusal.SECOND_SAME_VERIFIER)
    if member.sample.purpose == EVALUATOR and member.assessor_id is not None and member.assessor_id == user.id:
        return
    require_national(user)


def assign_assessors(campaign: Campaign, assessors: list[User], actor: Actor) -> int:
    """Share the drawn sample of citizen evaluations among civil-society co-assessors (evaluator
    accounts), in turn, never giving one their own evaluation; how many were assigned."""
    sample = sample_of(campaign, EVALUATOR)
    if sample is None or sample.drawn_at is None:
        raise Conflict(Refusal.SECOND_NOT_DRAWN)
    for user in assessors:
        if user.role != Role.EVALUATOR:
            raise ServiceError(Refusal.NOT_AN_EVALUATOR, email=user.email)
    if not assessors:
        raise ServiceError(Refusal.SECOND_NO_ASSESSORS)
    turn = 0
    for member in sorted(sample.members, key=lambda m: m.id):
        choices = [u for u in assessors if u.id != member.response.evaluator_id]
        if not choices:
            continue
        member.assessor_id = choices[turn % len(choices)].id
        turn += 1
    record(actor, "second.assign", "campaign", campaign.id, new=", ".join(sorted(u.email for u in assessors)))
    db.session.commit()
    return turn


def assigned_to(user: User) -> list[SampledResponse]:
    """The sampled citizen evaluations a co-assessor double-codes, newest campaign first."""
    return list(db.session.scalars(sa.select(SampledResponse).where(SampledResponse.assessor_id == user.id)
                                   .order_by(SampledResponse.sample_id.desc(), SampledResponse.id)))


def _set_second(member: SampledResponse, verdict: SecondVerdict, user: User, decision: str,
                value: str | None, reason: str | None) -> None:
    if verdict.first_by_id is not None and verdict.first_by_id == user.id:
        raise Conflict(Refusal.SECOND_SAME_VERIFIER)
    if verdict.resolved_at is not None:
        raise Conflict(Refusal.SECOND_ALREADY_RESOLVED)
    original = responses.stored_answer(member.response, verdict.field, verdict.repeat_index)
    old = verdict.second_value
    verdict.second_verification = decision
    verdict.second_value = (original.value if original is not None else None) if decision == "accepted" else value
    verdict.second_reason = reason
    verdict.second_by_id, verdict.second_at = user.id, utcnow()
    record(Actor.for_user(user), "second.verdict", "second_verdict", verdict.id, response_id=member.response_id,
           field=verdict.field, repeat_index=verdict.repeat_index, old=old, new=verdict.second_value, reason=reason)


def record_verdict(member: SampledResponse, form: dict, user: User) -> str:
    """Accept or correct (with a reason) one sampled item in the second verification."""
    require_coder(member, user)
    verdict = _verdict(member, form.get("verdict"))
    decision = form.get("decision")
    reason = (form.get("reason") or "").strip() or None
    if decision == "accept":
        _set_second(member, verdict, user, "accepted", None, reason)
    elif decision == "correct":
        from diagnostic.services.review import _as_text

        value = _as_text(form.get("value"))
        if value is None:
            raise ServiceError(Refusal.CORRECTED_VALUE_REQUIRED)
        if not reason:
            raise ServiceError(Refusal.CORRECTION_REASON_REQUIRED)
        responses.check_correction(member.response, verdict.field, verdict.repeat_index, value,
                                   effective=False, partial=True)
        _set_second(member, verdict, user, "corrected", value, reason)
    else:
        raise ServiceError(Refusal.ACCEPT_OR_CORRECT)
    _maybe_finish(member, user)
    db.session.commit()
    return "accepted" if decision == "accept" else "corrected"


def accept_remaining(member: SampledResponse, user: User) -> int:
    """Accept every sampled item of the response still without a second verdict; how many."""
    require_coder(member, user)
    waiting = [v for v in member.verdicts if v.second_verification is None]
    for verdict in waiting:
        _set_second(member, verdict, user, "accepted", None, None)
    _maybe_finish(member, user)
    db.session.commit()
    return len(waiting)


def _maybe_finish(member: SampledResponse, user: User) -> None:
    if member.finished_at is None and all(v.second_verification for v in member.verdicts):
        member.finished_at, member.finished_by_id = utcnow(), user.id


# ------------------------------------------------------------------ resolution
@dataclass
class Disagreement:
    """One item where the two stages disagree, with both values and reasons."""

    verdict: SecondVerdict
    institution: Institution
    label: dict
    first_display: str
    second_display: str
    resolved_display: str
    first_by: User | None
    second_by: User | None


def disagreements(campaign: Campaign, purpose: str = INSTITUTION) -> list[Disagreement]:
    """Every item of the sample where the second verdict differs from the first stage's value."""
    from diagnostic.services import review

    sample = sample_of(campaign, purpose)
    if sample is None or sample.drawn_at is None:
        return []
    out = []
    users: dict[int, User] = {}

    def user(uid):
        if uid and uid not in users:
            users[uid] = db.session.get(User, uid)
        return users.get(uid) if uid else None

    for member in sorted(sample.members, key=lambda m: (m.state_code, m.response.institution.name)):
        definition = responses.definition_of(member.response)
        for v in member.verdicts:
            if not v.disagrees:
                continue
            question = definition.fields.get(v.field)
            options = review.options_of(definition, question)
            out.append(Disagreement(v, member.response.institution, dict(question.label) if question else {},
                                    review.display_value(question, options, v.first_value),
                                    review.display_value(question, options, v.second_value),
                                    review.display_value(question, options, v.resolved_value),
                                    user(v.first_by_id), user(v.second_by_id)))
    return out


def resolve(campaign: Campaign, verdict_id: object, choice: str, reason: str, user: User) -> SecondVerdict:
    """Resolve one disagreement with the first or the second stage's value and a reason; the
    value goes back to the answer through the review path (audit event with the reason)."""
    require_national(user)
    text = str(verdict_id or "").strip()
    verdict = db.session.get(SecondVerdict, int(text)) if text.isdigit() and int(text) <= MAX_SEED else None
    if verdict is None or verdict.member.sample.campaign_id != campaign.id:
        raise NotFound(Refusal.SECOND_NOT_SAMPLED)
    if not verdict.disagrees:
        raise Conflict(Refusal.SECOND_NO_DISAGREEMENT)
    if choice not in ("first", "second"):
        raise ServiceError(Refusal.SECOND_RESOLUTION_CHOICE)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(Refusal.SECOND_RESOLUTION_REASON)
    value = verdict.first_value if choice == "first" else verdict.second_value
    response = verdict.member.response
    answer = responses.stored_answer(response, verdict.field, verdict.repeat_index)
    actor = Actor.for_user(user)
    why = f"{_resolution_prefix()}{reason}"
    if answer is not None and value == answer.value:
        responses.verify_answer(response, verdict.field, verdict.repeat_index, actor, reason=why)
    elif value is not None:
        responses.verify_answer(response, verdict.field, verdict.repeat_index, actor, corrected=value, reason=why)
    old = verdict.resolved_value
    verdict.resolved_value, verdict.resolved_choice, verdict.resolution_reason = value, choice, reason
    verdict.resolved_by_id, verdict.resolved_at = user.id, utcnow()
    record(actor, "second.resolve", "second_verdict", verdict.id, response_id=response.id, field=verdict.field,
           repeat_index=verdict.repeat_index, old=old, new=value, reason=reason)
    db.session.commit()
    return verdict


def _resolution_prefix() -> str:
    return "Resolución de la segunda verificación: "


# ------------------------------------------------------------------ publishing
def check_publishable(campaign: Campaign) -> None:
    """Refuse publishing while a sampled item waits for its second verdict or a disagreement
    is unresolved (nothing to check before the draw)."""
    views = [overview(campaign, purpose) for purpose in PURPOSES]
    pending = sum(v.pending_items for v in views if v.drawn)
    unresolved = sum(v.unresolved for v in views if v.drawn)
    if pending or unresolved:
        raise Conflict(Refusal.SECOND_VERIFICATION_OPEN, pending=pending, unresolved=unresolved)


# ------------------------------------------------------------------ agreement
def _frames(members: list[SampledResponse]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    cols = ["institution", "field", "repeat_index", "value"]
    first, second, insts = [], [], []
    for m in members:
        inst = m.response.institution
        insts.append({"institution": inst.key, "name": inst.name, "state": inst.state_code, "type": inst.type})
        for v in m.verdicts:
            if v.first_value is not None:
                first.append((inst.key, v.field, v.repeat_index, v.first_value))
            if v.second_value is not None:
                second.append((inst.key, v.field, v.repeat_index, v.second_value))
    frames = [pd.DataFrame(rows, columns=cols) for rows in (first, second)]
    for frame in frames:
        frame["repeat_index"] = frame["repeat_index"].astype("Int64")
    return frames[0], frames[1], pd.DataFrame(insts, columns=["institution", "name", "state", "type"])


def agreement_of(campaign: Campaign, *, resamples: int = 1000, seed: int | None = None,
                 purpose: str = INSTITUTION) -> dict | None:
    """Agreement between the two stages over the finished sampled responses: percent agreement
    and Cohen's kappa per component and overall with bootstrap intervals; None before the draw.
    Labels come in both languages; a statistic that cannot be computed says why."""
    from diagnostic.services import scores

    view = overview(campaign, purpose)
    if not view.drawn:
        return None
    finished = [r.member for r in view.rows if r.finished]
    model = scores.model_of(campaign)
    first, second, insts = _frames(finished)
    pairs = agreement_lib.item_categories(first, second, insts, model)
    results = agreement_lib.agreement(pairs.rename(columns={"unit": "unit"}), resamples=resamples,
                                      seed=view.settings.seed if seed is None else seed)
    groups = []
    for r in results:
        if r.group == agreement_lib.OVERALL:
            label = {"es": "Todos los reactivos", "en": "All items"}
        else:
            node = model.node(r.group)
            label = {"es": node.label.get("es", r.group), "en": node.label.get("en", node.label.get("es", r.group))}
        groups.append({"code": r.group, "overall": r.group == agreement_lib.OVERALL, "label_es": label["es"],
                       "label_en": label["en"], "units": r.units, "compared": r.items, "agreed": r.agreed,
                       "percent": r.percent, "percent_low": r.percent_low, "percent_high": r.percent_high,
                       "kappa": r.kappa, "kappa_low": r.kappa_low, "kappa_high": r.kappa_high,
                       "why_es": r.reason_text("es"), "why_en": r.reason_text("en"),
                       "interval_why_es": r.reason_text("es", interval=True),
                       "interval_why_en": r.reason_text("en", interval=True)})
    sample = view.settings
    return {"purpose": purpose, "seed": sample.seed, "share": sample.share, "min_per_state": sample.min_per_state,
            "population": sample.population, "size": len(view.rows), "finished": len(finished),
            "drawn_at": sample.drawn_at, "drawn_by": sample.drawn_by.name if sample.drawn_by else "",
            "states": [vars(s) for s in view.states], "groups": groups,
            "disagreements": view.disagreements, "unresolved": view.unresolved, "pending": view.pending_items}


def report_section(campaign: Campaign) -> dict | None:
    """The agreement annex of the reports, with the warning threshold and bootstrap size from
    the report settings (`agreement:` in report.yaml); None before the draw."""
    from diagnostic.services import report

    conf = report.settings().get("agreement", {})
    key = (campaign.id, report_digest(campaign), json.dumps(conf, sort_keys=True, default=str))
    if key in _sections:
        return _sections[key]
    threshold = float(conf.get("kappa_warning", 0.6))
    out = {"threshold": threshold}
    for purpose in PURPOSES:
        data = agreement_of(campaign, resamples=int(conf.get("resamples", 1000)), purpose=purpose)
        for g in (data or {}).get("groups", []):
            g["warning"] = g["kappa"] is not None and g["kappa"] < threshold
        out[purpose] = data
    result = out if any(out[p] for p in PURPOSES) else None
    _sections[key] = result
    while len(_sections) > 32:
        _sections.pop(next(iter(_sections)))
    return result


_sections: dict[tuple, dict | None] = {}  # report_section by (campaign, data digest, settings): 32 state reports, one computation


def report_digest(campaign: Campaign) -> str:
    """A digest of everything the agreement annex shows (part of the report fingerprint)."""
    samples = [s for s in (sample_of(campaign, p) for p in PURPOSES) if s is not None and s.drawn_at is not None]
    if not samples:
        return "second:none"
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(_settings_text(sample).encode())
        rows = db.session.execute(
            sa.select(SecondVerdict.id, SecondVerdict.second_verification, SecondVerdict.second_value,
                      SecondVerdict.resolved_value, SecondVerdict.resolved_at)
            .join(SampledResponse, SampledResponse.id == SecondVerdict.member_id)
            .where(SampledResponse.sample_id == sample.id).order_by(SecondVerdict.id)).all()
        digest.update(repr([tuple(map(str, r)) for r in rows]).encode())
    return "second:" + digest.hexdigest()
