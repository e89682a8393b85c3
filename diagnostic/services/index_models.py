"""A campaign's index model: choose a shipped model or upload one, checked against the
campaign's own questionnaires, and preview it at work before opening.

The check is `apertura model check`'s: the model is built by `scoring.IndexModel` and its fields
checked by `scoring.model.check` against the questionnaires it names, here the campaign's
stored versions (a named questionnaire the campaign lacks is read from `surveys/definitions/`
and flagged). Messages are the located bilingual `FILE:LINE: node: message` of the command.

The preview scores the campaign's answers so far (drafts included) or, when there are none,
sample answers (`surveys.sample`) for a few made-up institutions, and returns the tree with
each node's weight and the resulting 0–1 values.
"""
from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from threading import Lock

import pandas as pd

import surveys
from diagnostic.models import Campaign, CampaignStatus, IndexModelVersion, ResponseStatus
from diagnostic.services import (
    Conflict,
    NotFound,
    Refusal,
    ServiceError,
    campaigns,
    institutions,
    instruments,
    responses,
    scores,
)
from diagnostic.services.audit import SYSTEM, Actor
from diagnostic.services.refusals import Both, _Templates
from scoring import IndexModel, ModelError, score
from scoring import model as scoring_model
from scoring.messages import ERROR
from scoring.pipeline import InputError
from surveys.sample import sample_answers

MODEL_SUFFIX = ".model.yaml"
SAMPLE_INSTITUTIONS = 24
SAMPLE_SEED = 2017
PREVIEW_STATUSES = (ResponseStatus.DRAFT, ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED)


class Note(_Templates):
    """What a check or a preview says besides errors: (Spanish, English)."""

    INSTRUMENT_FROM_SHIPPED = (
        "El modelo puntúa el cuestionario {ref}, que la campaña no usa: sus campos se revisaron contra el "
        "cuestionario incluido y sus ítems valdrán 0 (o se omitirán) mientras la campaña no lo tenga.",
        "The model scores the questionnaire {ref}, which the campaign does not use: its fields were checked against "
        "the shipped questionnaire and its items will score 0 (or be left out) while the campaign lacks it.")
    INSTRUMENT_NOT_SCORED = (
        "La campaña usa {ref} para {purpose}, pero el índice de la campaña solo puntúa los cuestionarios de "
        "instituciones y evaluadores.",
        "The campaign uses {ref} for {purpose}, but the campaign's index only scores the institution and evaluator "
        "questionnaires.")
    INSTRUMENT_UNUSED = (
        "El modelo no puntúa el cuestionario {ref} de la campaña ({purpose}).",
        "The model does not score the campaign's questionnaire {ref} ({purpose}).")
    PREVIEW_ANSWERS = ("Puntajes de las respuestas guardadas hasta ahora: {count} instituciones (borradores incluidos).",
                       "Scores of the answers saved so far: {count} institutions (drafts included).")
    PREVIEW_SAMPLE = ("Aún no hay respuestas: puntajes de {count} instituciones de ejemplo con respuestas generadas al "
                      "azar (no son datos reales).",
                      "No answers yet: scores of {count} example institutions with randomly generated answers "
                      "(not real data).")


@dataclass(frozen=True)
class Shipped:
    """A model shipped in `surveys/definitions/<name>.model.yaml`."""

    name: str
    id: str
    version: str
    label: dict
    instruments: tuple[str, ...]

    def title(self, lang: str = "es") -> str:
        """`label (id version)` in a language."""
        text = self.label.get(lang) or self.label.get("es") or self.id
        return f"{text} ({self.id} {self.version})"


@dataclass
class ModelCheck:
    """A model checked against a campaign: the model (None when it does not load), errors, warnings."""

    model: IndexModel | None
    errors: list[Both] = field(default_factory=list)
    warnings: list[Both] = field(default_factory=list)
    definitions: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No errors."""
        return self.model is not None and not self.errors


def _definitions_dir() -> Path:
    return Path(surveys.shipped("x")).parent


def shipped_models() -> list[Shipped]:
    """Every shipped index model, by name."""
    out = []
    for path in sorted(_definitions_dir().glob(f"*{MODEL_SUFFIX}")):
        loaded = IndexModel.load(path, check_instruments=False)
        out.append(Shipped(path.name[: -len(MODEL_SUFFIX)], loaded.id, loaded.version, dict(loaded.label),
                           tuple(loaded.instruments)))
    return out


def shipped_source(name: str) -> tuple[str, str]:
    """(text, file name) of a shipped model; NotFound for a name that is not shipped."""
    names = [m.name for m in shipped_models()]
    if name not in names:
        raise NotFound(Refusal.UNKNOWN_SHIPPED_MODEL, name=name, available=", ".join(names))
    path = _definitions_dir() / f"{name}{MODEL_SUFFIX}"
    return path.read_text(encoding="utf-8"), path.name


def _both(issue) -> Both:
    return Both(issue.format("es"), issue.format("en"))


def check(campaign: Campaign, text: str, filename: str) -> ModelCheck:
    """Check a model's text against the campaign's questionnaires, as `apertura model check` does."""
    try:
        model = IndexModel.from_text(text, filename=filename, check_instruments=False)
    except ModelError as exc:
        return ModelCheck(None, [_both(i) for i in exc.issues])
    own = {link.instrument_version.instrument_id: link for link in campaign.instruments}
    result = ModelCheck(model)
    refs = list(model.instruments) or [ref for ref, link in own.items() if link.purpose in scores.SCORED_PURPOSES]
    issues = []
    for ref in refs:
        link = own.get(ref)
        if link is not None:
            result.definitions[ref] = instruments.definition(link.instrument_version)
            if link.purpose not in scores.SCORED_PURPOSES:
                result.warnings.append(Note.INSTRUMENT_NOT_SCORED.both(ref=ref, purpose=_purpose(link.purpose)))
            continue
        path = Path(surveys.shipped(ref)) if PurePath(ref).name == ref else None
        if path is None or not path.is_file():
            issues.append(scoring_model.make_issue(scoring_model.ModelIssueCode.UNKNOWN_INSTRUMENT, filename, ref=ref))
            continue
        result.definitions[ref] = surveys.load(path)
        result.warnings.append(Note.INSTRUMENT_FROM_SHIPPED.both(ref=ref))
    for ref, link in own.items():
        if ref not in refs and link.purpose in scores.SCORED_PURPOSES:
            result.warnings.append(Note.INSTRUMENT_UNUSED.both(ref=ref, purpose=_purpose(link.purpose)))
    issues += scoring_model.check(model, result.definitions)
    known = {name for definition in result.definitions.values() for name in definition.fields}
    for leaf in model.leaves():  # a leaf without a rule reads an imported score, never a campaign's answer
        if leaf.rule is None and leaf.source_field.split(".")[-1] not in known:
            issues.append(scoring_model.make_issue(scoring_model.ModelIssueCode.UNKNOWN_FIELD, filename, leaf.line,
                                                   leaf.code, field=leaf.source_field))
    result.errors = [_both(i) for i in issues if i.severity == ERROR]
    return result


def _purpose(purpose) -> Both:
    from diagnostic import labels

    return labels.both(purpose)


_checked: OrderedDict[tuple, ModelCheck] = OrderedDict()
_checked_lock = Lock()


def check_stored(campaign: Campaign, stored: IndexModelVersion | None = None) -> ModelCheck | None:
    """The campaign's chosen model checked against its questionnaires now (None without a model);
    remembered per model and questionnaire versions, which never change once stored."""
    stored = stored or campaign.index_model
    if stored is None:
        return None
    key = (stored.content_hash, stored.filename, tuple(sorted(
        (link.purpose.value, link.instrument_version.instrument_id, link.instrument_version.content_hash)
        for link in campaign.instruments)))
    with _checked_lock:
        if key in _checked:
            _checked.move_to_end(key)
            return _checked[key]
    result = check(campaign, stored.source, stored.filename)
    with _checked_lock:
        _checked[key] = result
        while len(_checked) > 32:
            _checked.popitem(last=False)
    return result


def _text_of(source: bytes | str, filename: str) -> str:
    if isinstance(source, str):
        return source
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceError(Refusal.INDEX_MODEL_NOT_TEXT, filename=filename) from None


def choose(campaign: Campaign, *, shipped: str | None = None, source: bytes | str | None = None,
           filename: str | None = None, actor: Actor = SYSTEM) -> tuple[IndexModelVersion, ModelCheck]:
    """Give the campaign a shipped model (`shipped`) or an uploaded file (`source`, `filename`).

    Refused while the chosen model is fixed (the campaign opened with it), and with every located
    error when the model does not fit the campaign's questionnaires (nothing is saved then).
    """
    if campaign.status == CampaignStatus.PUBLISHED:
        raise Conflict(Refusal.MODEL_FIXED_AFTER_PUBLISHING)
    if campaign.status != CampaignStatus.DRAFT and campaign.index_model is not None:
        raise Conflict(Refusal.MODEL_FIXED_WHEN_OPEN)
    if shipped:
        text, filename = shipped_source(shipped)
    elif source is not None and filename:
        filename = PurePath(filename).name
        if not filename.lower().endswith((".yaml", ".yml")):
            raise ServiceError(Refusal.UPLOAD_UNSUPPORTED, filename=filename, accepted=".yaml, .yml")
        text = _text_of(source, filename)
    else:
        raise ServiceError(Refusal.CHOOSE_MODEL_OR_FILE)
    result = check(campaign, text, filename)
    if not result.ok:
        raise instruments.InstrumentInvalid(Refusal.INDEX_MODEL_REJECTED, details=result.errors, filename=filename,
                                            count=len(result.errors))
    stored = instruments.store_index_model(text, filename)
    campaigns.set_index_model(campaign, stored, actor=actor)
    return stored, result


# ------------------------------------------------------------------ preview
@dataclass
class PreviewNode:
    """One node of the tree with its weight and resulting values across the institutions scored."""

    code: str
    label: dict
    level: str
    depth: int
    weight: float | None  # share of its parent (normalised), None for the root
    effective: float  # weight in the index (product of shares up the tree)
    aggregation: str | None
    missing: str | None
    rule: str | None
    mean: float | None
    low: float | None
    high: float | None

    def name(self, lang: str = "es") -> str:
        """The node's label in a language (its code when it has none)."""
        return self.label.get(lang) or self.label.get("es") or self.code


@dataclass
class Preview:
    """The model at work: where the scores come from, the tree, and a few institutions' index values."""

    model: IndexModel
    stored: IndexModelVersion
    source: str  # "answers" or "sample"
    count: int
    nodes: list[PreviewNode]
    notes: list[Both]
    institutions: list[dict]


def _sample_frames(campaign: Campaign, model: IndexModel, definitions: dict, n: int,
                   seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from diagnostic.services import states

    rng = random.Random(seed)
    codes = [s.code for s in states.all_states() if s.code != "00"] or ["01"]
    rows, insts = [], []
    for i in range(n):
        key = f"EJEMPLO-{i + 1:02d}"
        insts.append({"institution": key, "name": f"Institución de ejemplo {i + 1}", "state": codes[i % len(codes)],
                      "order": "estatal", "type": "ejecutivo"})
        completeness = (1.0, 0.9, 0.7, 0.4)[i % 4]
        for definition in definitions.values():
            answers = sample_answers(definition, rng, completeness=completeness)
            for name, index, value in surveys.flatten(answers):
                if value not in (None, ""):
                    rows.append({"institution": key, "field": name, "repeat_index": index, "value": str(value)})
    answers = pd.DataFrame(rows, columns=["institution", "field", "repeat_index", "value"])
    answers["repeat_index"] = answers["repeat_index"].astype("Int64")
    return answers, pd.DataFrame(insts, columns=["institution", "name", "state", "order", "type"])


def _answer_frames(campaign: Campaign) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows: list[dict] = []
    for purpose in scores.SCORED_PURPOSES:
        rows.extend(responses.long_form(campaign, purpose, statuses=PREVIEW_STATUSES))
    answers = pd.DataFrame(rows, columns=["institution", "field", "repeat_index", "value"])
    answers["repeat_index"] = answers["repeat_index"].astype("Int64")
    answered = set(answers["institution"])
    insts = pd.DataFrame(
        [{"institution": i.key, "name": i.name, "state": i.state_code, "order": i.order.value, "type": i.type}
         for i in institutions.in_campaign(campaign) if i.key in answered],
        columns=["institution", "name", "state", "order", "type"])
    return answers, insts


def _num(value) -> float | None:
    return scores._num(value)


def preview(campaign: Campaign, *, n: int = SAMPLE_INSTITUTIONS, seed: int = SAMPLE_SEED) -> Preview:
    """Score the campaign's answers so far (or sample answers) through its model: the tree, weights, values."""
    stored = campaign.index_model
    if stored is None:
        raise scores.ScoresUnavailable(Refusal.NO_INDEX_MODEL)
    checked = check_stored(campaign, stored)
    if not checked.ok:
        raise scores.ScoresUnavailable(Refusal.INDEX_MODEL_INVALID, details=checked.errors)
    model = checked.model
    answers, insts = _answer_frames(campaign)
    notes = list(checked.warnings)
    if not answers.empty and not insts.empty:
        source = "answers"
        notes.insert(0, Note.PREVIEW_ANSWERS.both(count=len(insts)))
    else:
        source = "sample"
        answers, insts = _sample_frames(campaign, model, checked.definitions, n, seed)
        notes.insert(0, Note.PREVIEW_SAMPLE.both(count=len(insts)))
    try:
        with scores._nan_is_an_answer():
            result = score(answers, insts, model)
    except InputError as exc:
        raise scores.ScoresUnavailable(Refusal.UNSCORABLE_DATA, details=scores._located(exc.issues)) from exc
    wide = result.wide(None)
    effective = model.effective_weights()
    nodes: list[PreviewNode] = []

    def visit(node, depth: int, weight: float | None) -> None:
        column = wide[node.code] if node.code in wide else pd.Series(dtype=float)
        nodes.append(PreviewNode(
            node.code, dict(node.label), node.level, depth, weight, effective.get(node.code, 0.0),
            model.setting(node, "aggregation") if node.children else None, model.setting(node, "missing"),
            node.rule.family if node.rule else None,
            _num(column.mean()), _num(column.min()), _num(column.max())))
        for child, share in zip(node.children, model.normalised_weights(node), strict=True):
            visit(child, depth + 1, share)

    visit(model.tree, 0, None)
    root = model.tree.code
    names = insts.set_index("institution")["name"].to_dict()
    ranked = wide[root].sort_values(ascending=False, na_position="last")
    institutions = [{"key": key, "name": names.get(key, key), "value": _num(value)} for key, value in ranked.items()]
    return Preview(model, stored, source, len(insts), nodes, notes, institutions)
