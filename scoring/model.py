"""Index models: the declarative tree (levels, weights, aggregation, missing-data policy,
item rules) that turns answers into 0-1 scores, loaded from `<id>.model.yaml`."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import unique
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .messages import ERROR, WARNING, MessageCode

LEVELS = ("index", "dimension", "subindex", "component", "item")
AGGREGATIONS = ("arithmetic", "geometric", "harmonic")
MISSING_POLICIES = ("zero", "reweight", "impute")
REPEAT_REDUCERS = ("mean", "min", "max", "sum")
DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "surveys" / "definitions"


@unique
class ModelIssueCode(MessageCode):
    """Every message an index-model author can get: (severity, Spanish, English) templates."""

    FILE_NOT_FOUND = (ERROR, "No existe el archivo del modelo: {path}", "Model file not found: {path}")
    UNKNOWN_MODEL = (ERROR, "Modelo desconocido: {source} (disponibles: {available})",
                     "Unknown model: {source} (available: {available_en})")
    YAML_SYNTAX = (ERROR, "YAML inválido: {problem}", "Invalid YAML: {problem}")
    NOT_A_MODEL = (ERROR, "El modelo necesita las claves `model` y `tree`", "The model needs `model` and `tree` keys")
    META_NOT_MAPPING = (ERROR, "`model` debe ser un mapeo", "`model` must be a mapping")
    BAD_DEFAULT = (ERROR, "`{name}` por defecto desconocido: {value!r} (use {allowed})",
                   "Unknown default `{name}`: {value!r} (use {allowed})")
    NODE_NOT_MAPPING = (ERROR, "Cada nodo debe ser un mapeo", "Each node must be a mapping")
    NO_CODE = (ERROR, "Nodo sin `code`", "Node without `code`")
    UNKNOWN_LEVEL = (ERROR, "Nivel desconocido {level!r} (use {allowed})", "Unknown level {level!r} (use {allowed})")
    LEVEL_ORDER = (ERROR, "El nivel {level} no puede estar bajo {parent}", "Level {level} cannot sit under {parent}")
    BAD_WEIGHT = (ERROR, "El peso debe ser un número positivo (es {value!r})",
                  "Weight must be a positive number (got {value!r})")
    BAD_WEIGHT_RANGE = (ERROR, "`weight_range` debe ser [mín, máx] con 0 < mín ≤ máx",
                        "`weight_range` must be [lo, hi] with 0 < lo ≤ hi")
    BAD_AGGREGATION = (ERROR, "`aggregation` desconocido: {value!r} (use {allowed})",
                       "Unknown `aggregation`: {value!r} (use {allowed})")
    BAD_MISSING = (ERROR, "`missing` desconocido: {value!r} (use {allowed})",
                   "Unknown `missing`: {value!r} (use {allowed})")
    BAD_REPEAT = (ERROR, "`repeat` desconocido: {value!r} (use {allowed})", "Unknown `repeat`: {value!r} (use {allowed})")
    BAD_MIN_COVERAGE = (ERROR, "`min_coverage` debe estar entre 0 y 1", "`min_coverage` must be between 0 and 1")
    EMPTY_CHILDREN = (ERROR, "`children` debe ser una lista no vacía", "`children` must be a non-empty list")
    NO_CHILDREN = (ERROR, "El índice no tiene hijos", "The index has no children")
    RULE_ON_PARENT = (ERROR, "Un nodo con hijos no puede tener `rule`", "A node with children cannot have a `rule`")
    NO_RULE = (ERROR, "Un ítem necesita `rule`", "An item needs a `rule`")
    ITEM_CHILDREN = (ERROR, "Un ítem no puede tener hijos", "An item cannot have children")
    DUPLICATE_CODE = (ERROR, "Código repetido {code} (ya en la línea {line})", "Duplicate code {code} (already at line {line})")
    RULE_NOT_MAPPING = (ERROR, "`rule` debe ser un mapeo", "`rule` must be a mapping")
    RULE_FAMILY_COUNT = (ERROR, "`rule` necesita exactamente una familia de {families}",
                         "`rule` needs exactly one family of {families}")
    RULE_OPTIONS = (ERROR, "`options` debe mapear opciones a puntajes", "`options` must map options to scores")
    RULE_OPTION_SCORE = (ERROR, "Puntaje de la opción {option!r} fuera de [0, 1]: {score!r}",
                         "Score of option {option!r} outside [0, 1]: {score!r}")
    RULE_SHARE = (ERROR, "`share` debe ser una lista de opciones", "`share` must be a list of options")
    RULE_RATIO = (ERROR, "`ratio` debe ser [numerador, denominador]", "`ratio` must be [numerator, denominator]")
    RULE_SCALE = (ERROR, "`scale` debe ser [mín, máx] con mín ≠ máx", "`scale` must be [lo, hi] with lo ≠ hi")
    RULE_THRESHOLD = (ERROR, "Cada umbral es {{min|max: x, score: s}}", "Each threshold is {{min|max: x, score: s}}")
    RULE_THRESHOLD_VALUE = (ERROR, "Umbral con número o puntaje inválido", "Threshold with an invalid number or score")
    RULE_ELSE = (ERROR, "`else` debe estar en [0, 1]", "`else` must be in [0, 1]")
    RULE_EXPRESSION_TEXT = (ERROR, "`expression` debe ser texto", "`expression` must be text")
    RULE_EXPRESSION = (ERROR, "Expresión inválida: {problem}", "Invalid expression: {problem}")
    UNKNOWN_NODE = (ERROR, "Nodo desconocido en los ajustes: {code}", "Unknown node in overrides: {code}")
    NO_SURVEYS = (WARNING, "No se pudo cargar `surveys` para revisar los campos", "Could not import `surveys` to check fields")
    UNKNOWN_INSTRUMENT = (ERROR, "Instrumento no encontrado: {ref}", "Instrument not found: {ref}")
    BAD_INSTRUMENT = (ERROR, "El instrumento {ref} no carga: {problem}", "Instrument {ref} does not load: {problem}")
    FIELD_COLLISION = (ERROR, "El campo {field} está en {first} y en {second}", "Field {field} is in both {first} and {second}")
    UNKNOWN_FIELD = (ERROR, "Campo desconocido en los instrumentos: {field}", "Unknown field in the instruments: {field}")
    UNKNOWN_OPTION = (ERROR, "La opción {option!r} no existe en {field}", "Option {option!r} does not exist in {field}")

@dataclass(frozen=True, slots=True)
class Issue:
    """A located, bilingual problem in an index model: file, line, node and why."""

    code: ModelIssueCode
    file: str
    line: int | None
    node: str | None
    message_es: str
    message_en: str
    severity: str = ERROR

    def location(self) -> str:
        """`FILE:LINE`, or `FILE` when the line is unknown."""
        return f"{self.file}:{self.line}" if self.line else self.file

    def format(self, lang: str = "es") -> str:
        """`FILE:LINE: node: message` in `lang` ('es' or 'en')."""
        node = f" {self.node}:" if self.node else ""
        return f"{self.location()}:{node} {self.message_en if lang == 'en' else self.message_es}"

    def __str__(self) -> str:
        node = f" {self.node}:" if self.node else ""
        return f"{self.location()}:{node} {self.message_en} / {self.message_es}"


def make_issue(code: ModelIssueCode, file: str, line: int | None = None, node: str | None = None, /,
               **params: object) -> Issue:
    """Build an `Issue` from its code, location and template parameters."""
    es, en = code.messages(**params)
    return Issue(code, file, line, node, es, en, code.severity)


class ModelError(ValueError):
    """An index model that cannot be used; `.issues` says where and why."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues) or "invalid index model")


@dataclass(frozen=True, slots=True)
class ItemRule:
    """How one answer maps to [0, 1]: a rule family chosen by name plus its parameters."""

    family: str
    params: Mapping[str, Any]
    not_applicable: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """Field names the rule reads besides the item's own field."""
        if self.family == "ratio":
            return tuple(str(f) for f in self.params["ratio"])
        if self.family == "expression":
            return tuple(sorted(_expression_references(self.params["expression"])))
        return ()


@dataclass(slots=True)
class Node:
    """One node of the index tree (index, dimension, sub-index, component or item)."""

    code: str
    level: str
    label: dict[str, str] = field(default_factory=dict)
    weight: float | None = None
    weight_range: tuple[float, float] | None = None
    aggregation: str | None = None
    missing: str | None = None
    min_coverage: float | None = None
    children: list[Node] = field(default_factory=list)
    field: str | None = None
    rule: ItemRule | None = None
    repeat: str | None = None
    line: int | None = None

    @property
    def is_leaf(self) -> bool:
        """True for nodes without children (items, or imported scores)."""
        return not self.children

    def walk(self) -> Iterator[Node]:
        """This node and its descendants, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()

    def post_order(self) -> Iterator[Node]:
        """Descendants before their parent (the order of aggregation)."""
        for child in self.children:
            yield from child.post_order()
        yield self

    @property
    def source_field(self) -> str:
        """The answer field this leaf reads (defaults to its code)."""
        return self.field or self.code


@dataclass(slots=True)
class IndexModel:
    """A loaded index model: metadata, defaults, uncertainty ranges and the tree."""

    id: str
    tree: Node
    version: str = ""
    label: dict[str, str] = field(default_factory=dict)
    instruments: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    uncertainty: dict[str, Any] = field(default_factory=dict)
    path: str = "<model>"

    @classmethod
    def load(cls, source: str | Path, *, check_instruments: bool = True) -> IndexModel:
        """Load a model from a path or a shipped id (`surveys/definitions/<id>.model.yaml`)."""
        path = resolve_path(source)
        text = path.read_text(encoding="utf-8-sig")
        return cls.from_text(text, filename=str(path), check_instruments=check_instruments)

    @classmethod
    def from_text(cls, text: str, *, filename: str = "<string>", check_instruments: bool = True) -> IndexModel:
        """Load a model from YAML text."""
        try:
            data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            raise ModelError([make_issue(ModelIssueCode.YAML_SYNTAX, filename, line, problem=exc)]) from exc
        return cls.from_dict(data, filename=filename, check_instruments=check_instruments)

    @classmethod
    def from_dict(cls, data: Any, *, filename: str = "<dict>", check_instruments: bool = True) -> IndexModel:
        """Build and check a model from plain data (as parsed from YAML)."""
        builder = _Builder(filename)
        model = builder.build(data)
        issues = builder.issues + check(model, definitions=None)
        if check_instruments and model.instruments and not any(i.severity == ERROR for i in issues):
            issues += check_instruments_fields(model)
        errors = [i for i in issues if i.severity == ERROR]
        if errors:
            raise ModelError(errors)
        return model

    # -- tree helpers -------------------------------------------------------------------
    def nodes(self) -> list[Node]:
        """Every node, parents before children."""
        return list(self.tree.walk())

    def node(self, code: str) -> Node:
        """The node with `code`."""
        for node in self.tree.walk():
            if node.code == code:
                return node
        raise KeyError(code)

    def parents(self) -> dict[str, str | None]:
        """Code → parent code (None for the root)."""
        out: dict[str, str | None] = {self.tree.code: None}
        for node in self.tree.walk():
            for child in node.children:
                out[child.code] = node.code
        return out

    def leaves(self) -> list[Node]:
        """Leaf nodes in tree order."""
        return [n for n in self.tree.walk() if n.is_leaf]

    def levels(self) -> list[str]:
        """Levels present in the tree, top down."""
        present = {n.level for n in self.tree.walk()}
        return [lvl for lvl in LEVELS if lvl in present]

    def codes(self, level: str) -> list[str]:
        """Codes of the nodes at `level`, in tree order."""
        return [n.code for n in self.tree.walk() if n.level == level]

    def setting(self, node: Node, name: str) -> Any:
        """A node's own setting, else the model default."""
        value = getattr(node, name)
        if value is None:
            value = self.defaults.get(name)
        return value

    def normalised_weights(self, node: Node) -> list[float]:
        """The children's weights of `node`, renormalised to sum 1 (equal by default)."""
        raw = [1.0 if c.weight is None else float(c.weight) for c in node.children]
        if not raw:
            return []
        total = sum(raw)
        return [w / total for w in raw] if total > 0 else [1.0 / len(raw)] * len(raw)

    def effective_weights(self, level: str | None = None) -> dict[str, float]:
        """Each node's weight in the index: the product of normalised weights up the tree."""
        out = {self.tree.code: 1.0}
        for node in self.tree.walk():
            for child, w in zip(node.children, self.normalised_weights(node), strict=True):
                out[child.code] = out[node.code] * w
        if level is not None:
            return {code: w for code, w in out.items() if self.node(code).level == level}
        return out

    def with_overrides(self, *, weights: Mapping[str, float] | None = None,
                       aggregation: str | Mapping[str, str] | None = None,
                       missing: str | Mapping[str, str] | None = None,
                       min_coverage: float | Mapping[str, float] | None = None) -> IndexModel:
        """A copy with weights, aggregation, missing policy or coverage threshold changed."""
        issues: list[Issue] = []
        known = {n.code for n in self.tree.walk()}

        def copy(node: Node) -> Node:
            new = replace(node, children=[copy(c) for c in node.children])
            if weights and node.code in weights:
                new.weight = float(weights[node.code])
            for name, value in (("aggregation", aggregation), ("missing", missing),
                                ("min_coverage", min_coverage)):
                if value is None:
                    continue
                if isinstance(value, Mapping):
                    if node.code in value:
                        setattr(new, name, value[node.code])
                else:
                    setattr(new, name, value)
            return new

        for mapping in (weights, aggregation, missing, min_coverage):
            if isinstance(mapping, Mapping):
                for code in mapping:
                    if code not in known:
                        issues.append(make_issue(ModelIssueCode.UNKNOWN_NODE, self.path, None, code, code=code))
        defaults = dict(self.defaults)
        for name, value in (("aggregation", aggregation), ("missing", missing), ("min_coverage", min_coverage)):
            if value is not None and not isinstance(value, Mapping):
                defaults[name] = value
        model = IndexModel(self.id, copy(self.tree), self.version, dict(self.label), self.instruments,
                           defaults, dict(self.uncertainty), self.path)
        issues += [i for i in check(model) if i.severity == ERROR]
        if issues:
            raise ModelError(issues)
        return model


def resolve_path(source: str | Path) -> Path:
    """Path of a model file given a path or a shipped id."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise ModelError([make_issue(ModelIssueCode.FILE_NOT_FOUND, str(path), path=path)])
        return path
    shipped = DEFINITIONS_DIR / f"{source}.model.yaml"
    if not shipped.exists():
        available = sorted(p.name.removesuffix(".model.yaml") for p in DEFINITIONS_DIR.glob("*.model.yaml"))
        raise ModelError([make_issue(ModelIssueCode.UNKNOWN_MODEL, str(shipped), source=source,
                                     available=", ".join(available) or "ninguno",
                                     available_en=", ".join(available) or "none")])
    return shipped


# -- YAML with line numbers --------------------------------------------------------------
class _LineDict(dict):
    """A mapping that remembers the line of itself and of each key."""

    line: int | None = None
    key_lines: dict[str, int]


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses, when installed
    """SafeLoader that records the line of every mapping and key."""

    def construct_mapping(self, node, deep=False):  # noqa: D102
        mapping = _LineDict(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)


def _line(data: Any, key: str | None = None) -> int | None:
    if isinstance(data, _LineDict):
        if key is not None and key in data.key_lines:
            return data.key_lines[key]
        return data.line
    return None


def _label(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if value is None:
        return {}
    return {"es": str(value), "en": str(value)}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


class _Builder:
    def __init__(self, filename: str):
        self.file = filename
        self.issues: list[Issue] = []

    def issue(self, code: ModelIssueCode, line: int | None, node: str | None, /, **params: object) -> None:
        self.issues.append(make_issue(code, self.file, line, node, **params))

    def build(self, data: Any) -> IndexModel:
        if not isinstance(data, Mapping) or "tree" not in data:
            self.issue(ModelIssueCode.NOT_A_MODEL, _line(data), None)
            raise ModelError(self.issues)
        meta = data.get("model") or {}
        if not isinstance(meta, Mapping):
            self.issue(ModelIssueCode.META_NOT_MAPPING, _line(data, "model"), None)
            meta = {}
        defaults = {"aggregation": "arithmetic", "missing": "zero", "min_coverage": 0.0}
        raw_defaults = meta.get("defaults") or {}
        if isinstance(raw_defaults, Mapping):
            defaults.update(raw_defaults)
        for name, allowed in (("aggregation", AGGREGATIONS), ("missing", MISSING_POLICIES)):
            if defaults[name] not in allowed:
                self.issue(ModelIssueCode.BAD_DEFAULT, _line(raw_defaults, name), None,
                           name=name, value=defaults[name], allowed=", ".join(allowed))
        cov = _number(defaults.get("min_coverage"))
        if cov is None or not 0 <= cov <= 1:
            self.issue(ModelIssueCode.BAD_MIN_COVERAGE, _line(raw_defaults, "min_coverage"), None)
        else:
            defaults["min_coverage"] = cov
        uncertainty = dict(meta.get("uncertainty") or {})
        instruments = meta.get("instruments") or ()
        if isinstance(instruments, str):
            instruments = (instruments,)
        tree = self.node(data["tree"], parent_level=None)
        if tree is None:
            raise ModelError(self.issues)
        return IndexModel(
            id=str(meta.get("id") or Path(self.file).name.removesuffix(".model.yaml")),
            version=str(meta.get("version") or ""),
            label=_label(meta.get("label")),
            instruments=tuple(str(i) for i in instruments),
            defaults=defaults,
            uncertainty=uncertainty,
            tree=tree,
            path=self.file,
        )

    def node(self, data: Any, parent_level: str | None) -> Node | None:
        line = _line(data)
        if not isinstance(data, Mapping):
            self.issue(ModelIssueCode.NODE_NOT_MAPPING, line, None)
            return None
        code = data.get("code", data.get("field"))
        if code is None or str(code).strip() == "":
            self.issue(ModelIssueCode.NO_CODE, line, None)
            code = f"<line {line}>"
        code = str(code)
        level = data.get("level")
        if level is None:
            level = "item" if ("rule" in data or "field" in data) else None
            if level is None and parent_level in LEVELS[:-1]:
                level = LEVELS[LEVELS.index(parent_level) + 1]
        if level not in LEVELS:
            self.issue(ModelIssueCode.UNKNOWN_LEVEL, _line(data, "level"), code, level=level, allowed=", ".join(LEVELS))
            level = level or "item"
        elif parent_level in LEVELS and LEVELS.index(level) <= LEVELS.index(parent_level):
            self.issue(ModelIssueCode.LEVEL_ORDER, _line(data, "level"), code, level=level, parent=parent_level)
        node = Node(code=code, level=str(level), label=_label(data.get("label")), line=line)
        if "weight" in data:
            weight = _number(data["weight"])
            if weight is None or weight <= 0:
                self.issue(ModelIssueCode.BAD_WEIGHT, _line(data, "weight"), code, value=data["weight"])
            else:
                node.weight = weight
        if "weight_range" in data:
            rng = data["weight_range"]
            nums = [_number(v) for v in rng] if isinstance(rng, list | tuple) else []
            if len(nums) != 2 or None in nums or not 0 < nums[0] <= nums[1]:
                self.issue(ModelIssueCode.BAD_WEIGHT_RANGE, _line(data, "weight_range"), code)
            else:
                node.weight_range = (float(nums[0]), float(nums[1]))
        for name, allowed, bad in (("aggregation", AGGREGATIONS, ModelIssueCode.BAD_AGGREGATION),
                                   ("missing", MISSING_POLICIES, ModelIssueCode.BAD_MISSING)):
            if name in data:
                if data[name] not in allowed:
                    self.issue(bad, _line(data, name), code, value=data[name], allowed=", ".join(allowed))
                else:
                    setattr(node, name, data[name])
        if "min_coverage" in data:
            cov = _number(data["min_coverage"])
            if cov is None or not 0 <= cov <= 1:
                self.issue(ModelIssueCode.BAD_MIN_COVERAGE, _line(data, "min_coverage"), code)
            else:
                node.min_coverage = cov
        if "field" in data:
            node.field = str(data["field"])
        if "repeat" in data:
            if data["repeat"] not in REPEAT_REDUCERS:
                self.issue(ModelIssueCode.BAD_REPEAT, _line(data, "repeat"), code,
                           value=data["repeat"], allowed=", ".join(REPEAT_REDUCERS))
            else:
                node.repeat = data["repeat"]
        if "rule" in data:
            node.rule = self.rule(data["rule"], code, _line(data, "rule"))
        children = data.get("children")
        if children is not None:
            if not isinstance(children, list) or not children:
                self.issue(ModelIssueCode.EMPTY_CHILDREN, _line(data, "children"), code)
            else:
                for child in children:
                    built = self.node(child, node.level)
                    if built is not None:
                        node.children.append(built)
        if node.children and node.rule is not None:
            self.issue(ModelIssueCode.RULE_ON_PARENT, _line(data, "rule"), code)
        if node.level == "item" and node.rule is None:
            self.issue(ModelIssueCode.NO_RULE, line, code)
        if node.level != "item" and not node.children and node.level in LEVELS and parent_level is None:
            self.issue(ModelIssueCode.NO_CHILDREN, line, code)
        return node

    def rule(self, data: Any, code: str, line: int | None) -> ItemRule | None:
        """The item rule of `data`: one family chosen by name, its parameters checked by that family."""
        try:
            if not isinstance(data, Mapping):
                raise _BadRule(ModelIssueCode.RULE_NOT_MAPPING)
            families = [k for k in data if k in RULE_FAMILIES]
            if len(families) != 1:
                raise _BadRule(ModelIssueCode.RULE_FAMILY_COUNT, families=", ".join(RULE_FAMILIES))
            family = families[0]
            params = RULE_BUILDERS[family](data[family], data)
        except _BadRule as bad:
            self.issue(bad.code, line, code, **bad.params)
            return None
        na = data.get("not_applicable") or ()
        if isinstance(na, str):
            na = (na,)
        return ItemRule(family, params, tuple(_option_key(v) for v in na))


# -- rule families: name → builder of the rule's parameters --------------------------------
class _BadRule(Exception):
    """A rule that cannot be built: the message code and its parameters."""

    def __init__(self, code: ModelIssueCode, /, **params: object):
        super().__init__(code.name)
        self.code = code
        self.params = params


def _options_params(value: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """`options: {option: score or null}`, each score in [0, 1]."""
    if not isinstance(value, Mapping) or not value:
        raise _BadRule(ModelIssueCode.RULE_OPTIONS)
    scores = {}
    for opt, score in value.items():
        num = None if score is None else _number(score)
        if score is not None and (num is None or not 0 <= num <= 1):
            raise _BadRule(ModelIssueCode.RULE_OPTION_SCORE, option=opt, score=score)
        scores[_option_key(opt)] = num
    return {"options": scores}


def _share_params(value: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """`share: [option, ...]`: the share of these options that were chosen."""
    if not isinstance(value, list) or not value:
        raise _BadRule(ModelIssueCode.RULE_SHARE)
    return {"share": [_option_key(v) for v in value]}


def _ratio_params(value: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """`ratio: [numerator, denominator]` (two field names)."""
    if not isinstance(value, list) or len(value) != 2:
        raise _BadRule(ModelIssueCode.RULE_RATIO)
    return {"ratio": value}


def _scale_params(value: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """`scale: [lo, hi]` with lo ≠ hi (reversed when hi < lo)."""
    nums = [_number(v) for v in value] if isinstance(value, list) else []
    if len(nums) != 2 or None in nums or nums[0] == nums[1]:
        raise _BadRule(ModelIssueCode.RULE_SCALE)
    return {"scale": nums}


def _thresholds_params(value: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """`thresholds: [{min|max: x, score: s}, ...]` plus `else: s` (first match wins)."""
    bounds = []
    for entry in value if isinstance(value, list) else [None]:
        if not isinstance(entry, Mapping) or len({"min", "max"} & set(entry)) != 1 or "score" not in entry:
            raise _BadRule(ModelIssueCode.RULE_THRESHOLD)
        kind = "min" if "min" in entry else "max"
        bound, score = _number(entry[kind]), _number(entry["score"])
        if bound is None or score is None or not 0 <= score <= 1:
            raise _BadRule(ModelIssueCode.RULE_THRESHOLD_VALUE)
        bounds.append((kind, bound, score))
    otherwise = _number(data.get("else", 0))
    if otherwise is None or not 0 <= otherwise <= 1:
        raise _BadRule(ModelIssueCode.RULE_ELSE)
    return {"thresholds": bounds, "else": otherwise}


def _expression_params(value: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """`expression: text` in the questionnaire's expression language."""
    if not isinstance(value, str) or not value.strip():
        raise _BadRule(ModelIssueCode.RULE_EXPRESSION_TEXT)
    try:
        _expression_references(value)
    except ImportError:
        pass
    except Exception as exc:  # noqa: BLE001 - surveys raises its own ExpressionError
        raise _BadRule(ModelIssueCode.RULE_EXPRESSION, problem=exc) from exc
    return {"expression": value}


RULE_BUILDERS: Mapping[str, Callable[[Any, Mapping[str, Any]], dict[str, Any]]] = MappingProxyType({
    "options": _options_params,
    "share": _share_params,
    "ratio": _ratio_params,
    "scale": _scale_params,
    "thresholds": _thresholds_params,
    "expression": _expression_params,
})
RULE_FAMILIES = tuple(RULE_BUILDERS)


def _option_key(value: Any) -> str:
    # YAML 1.1 reads yes/no as booleans; answers arrive as the text `yes` / `no`.
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _expression_references(text: str) -> frozenset[str]:
    from surveys import expressions  # lazy: scoring depends on surveys only here

    return frozenset(expressions.parse(text).references)


def check(model: IndexModel, definitions: Mapping[str, Any] | None = None) -> list[Issue]:
    """Structural checks (duplicate codes, empty parents, weights); fields when `definitions` given."""
    issues: list[Issue] = []
    seen: dict[str, Node] = {}
    for node in model.tree.walk():
        if node.code in seen:
            issues.append(make_issue(ModelIssueCode.DUPLICATE_CODE, model.path, node.line, node.code,
                                     code=node.code, line=seen[node.code].line))
        else:
            seen[node.code] = node
        if node.weight is not None and node.weight <= 0:
            issues.append(make_issue(ModelIssueCode.BAD_WEIGHT, model.path, node.line, node.code, value=node.weight))
        if node.level != "item" and node.is_leaf and node is model.tree:
            issues.append(make_issue(ModelIssueCode.NO_CHILDREN, model.path, node.line, node.code))
        if node.level == "item" and node.children:
            issues.append(make_issue(ModelIssueCode.ITEM_CHILDREN, model.path, node.line, node.code))
    if definitions is not None:
        issues += _check_fields(model, definitions)
    return issues


def check_instruments_fields(model: IndexModel) -> list[Issue]:
    """Load the model's instruments with `surveys.load` and check every referenced field."""
    try:
        import surveys
        load = surveys.load
    except (ImportError, AttributeError):
        return [make_issue(ModelIssueCode.NO_SURVEYS, model.path)]
    definitions: dict[str, Any] = {}
    issues: list[Issue] = []
    base = Path(model.path).parent
    for ref in model.instruments:
        candidates = [base / ref, base / f"{ref}.yaml", DEFINITIONS_DIR / f"{ref}.yaml", DEFINITIONS_DIR / ref]
        shipped = getattr(surveys, "shipped", None)
        if shipped is not None:
            try:
                candidates.insert(0, Path(shipped(ref)))
            except Exception:  # noqa: BLE001 - an unknown shipped name just falls through
                pass
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            issues.append(make_issue(ModelIssueCode.UNKNOWN_INSTRUMENT, model.path, ref=ref))
            continue
        try:
            definitions[ref] = load(path)
        except Exception as exc:  # noqa: BLE001 - report the instrument's own error as data
            issues.append(make_issue(ModelIssueCode.BAD_INSTRUMENT, model.path, ref=ref, problem=exc))
    return issues + _check_fields(model, definitions)


def _field_table(definition: Any) -> Mapping[str, Any]:
    fields = getattr(definition, "fields", None)
    if isinstance(fields, Mapping):
        return fields
    if isinstance(definition, Mapping):
        return definition.get("fields", definition)
    return {}


def _choices(definition: Any, question: Any) -> set[str] | None:
    qtype = str(getattr(question, "type", "") or "")
    if qtype.startswith("yes_no_na"):
        return {"yes", "no", "na"}
    if qtype.startswith("yes_no"):
        return {"yes", "no"}
    choice_list = getattr(definition, "choice_list", None)
    options = choice_list(question) if callable(choice_list) else None
    if options is None:
        list_name = getattr(question, "list_name", None)
        lists = getattr(definition, "choices", None) or {}
        options = lists.get(list_name) if list_name and isinstance(lists, Mapping) else None
    if options is None:
        return None
    names = getattr(options, "names", None)
    if names is not None:
        return {str(n) for n in names}
    return {str(getattr(o, "name", o.get("name") if isinstance(o, Mapping) else o)) for o in options}


def _check_fields(model: IndexModel, definitions: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    owner: dict[str, tuple[str, Any, Any]] = {}
    for ref, definition in definitions.items():
        for name, question in _field_table(definition).items():
            if name in owner:
                issues.append(make_issue(ModelIssueCode.FIELD_COLLISION, model.path,
                                         field=name, first=owner[name][0], second=ref))
            else:
                owner[name] = (ref, definition, question)
    for node in model.tree.walk():
        if not node.is_leaf or node.rule is None:
            continue
        names = [node.source_field] if node.rule.family not in ("ratio", "expression") else []
        try:
            names += list(node.rule.fields)
        except ImportError:
            pass
        for name in names:
            bare = name.split(".")[-1]
            if name not in owner and bare not in owner:
                issues.append(make_issue(ModelIssueCode.UNKNOWN_FIELD, model.path, node.line, node.code, field=name))
        if node.rule.family in ("options", "share"):
            entry = owner.get(node.source_field) or owner.get(node.source_field.split(".")[-1])
            if entry is None:
                continue
            allowed = _choices(entry[1], entry[2])
            if allowed is None:
                continue
            listed = node.rule.params[node.rule.family]
            for opt in list(listed) + list(node.rule.not_applicable):
                if opt not in allowed:
                    issues.append(make_issue(ModelIssueCode.UNKNOWN_OPTION, model.path, node.line, node.code,
                                             option=opt, field=node.source_field))
    return issues
