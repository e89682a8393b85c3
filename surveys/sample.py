"""Plausible random answer sets for a definition (benchmarks, tests, demo data)."""
from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from surveys import constants as K
from surveys.coerce import CoercionError
from surveys.expressions import POSITION_KEY
from surveys.expressions.nodes import Literal, walk
from surveys.expressions.runtime import finish, to_bool, to_number
from surveys.graph import HEAD
from surveys.model import Definition
from surveys.validation import FieldPlan, RepeatPlan, plan_for

_WORDS = ("transparencia", "apertura", "gobierno", "participación", "datos", "consulta", "informe", "plan")
_BASE_DATE = dt.date(2025, 1, 6)
_TRIES = 25


def _hints(definition: Definition, name: str) -> tuple[list[float], list[str], bool]:
    """Number literals and references in a question's constraint, and whether it uses regex()."""
    cache = definition._cache.setdefault("sample_hints", {})
    hint = cache.get(name)
    if hint is None:
        expr = definition.fields[name].constraint
        numbers: list[float] = []
        if expr is not None:
            numbers = [n.value for n in walk(expr.tree) if isinstance(n, Literal) and isinstance(n.value, int | float)]
        refs = sorted(expr.references) if expr is not None else []
        hint = (numbers, refs, expr is not None and "regex" in expr.functions)
        cache[name] = hint
    return hint


def _draw(fp: FieldPlan, rng: random.Random, attempt: int, ctx: dict, definition: Definition) -> Any:
    t = fp.type
    numbers, refs, uses_regex = _hints(definition, fp.name) if fp.constraint is not None else ([], [], False)
    if t in (K.INTEGER, K.DECIMAL) and numbers and attempt % 2 == 0:
        bounds = numbers + [to_number(ctx[r]) for r in refs if isinstance(ctx.get(r), int | float)]
        low, high = min(bounds), max(bounds)
        value = rng.uniform(low, high) if t == K.DECIMAL else rng.randint(math.ceil(low), math.floor(high)) if math.ceil(low) <= math.floor(high) else low
        return round(value, 2) if t == K.DECIMAL else value
    if t == K.DATE and refs:
        dates = [ctx[r] for r in refs if isinstance(ctx.get(r), dt.date)]
        if dates:
            return (max(dates) + dt.timedelta(days=rng.randint(0, 25))).isoformat()
    if t == K.TEXT and (uses_regex or "email" in fp.name):
        n = rng.randint(1, 999)
        candidates = (f"persona{n}@example.gob.mx", f"{n:05d}", f"55{n:08d}", f"https://example.gob.mx/{n}")
        return candidates[attempt % len(candidates)]
    if fp.choices is not None:
        allowed = sorted(fp.choices)
        if fp.choice_filter is not None:
            allowed = [c for c in allowed if to_bool(fp.choice_filter(ctx, fp.choice_props[c]))]
            if not allowed:
                return None
        if t == K.SELECT_MULTIPLE:
            return rng.sample(allowed, rng.randint(1, len(allowed)) if attempt < 5 else 1)
        return rng.choice(allowed)
    if t == K.INTEGER:
        high = (1000, 100, 20, 5, 1)[min(attempt // 5, 4)]
        return rng.randint(0, high)
    if t == K.DECIMAL:
        return round(rng.uniform(0, (100.0, 10.0, 1.0)[min(attempt // 8, 2)]), 2)
    if t == K.RANGE:
        p = fp.params or {"start": 1, "end": 10, "step": 1}
        steps = int((p["end"] - p["start"]) // p["step"])
        value = p["start"] + p["step"] * rng.randint(0, steps)
        return int(value) if float(value).is_integer() else value
    if t == K.DATE:
        span = (365, 60, 20, 5)[min(attempt // 6, 3)]
        return (_BASE_DATE + dt.timedelta(days=rng.randint(0, span) + attempt * 3)).isoformat()
    if t == K.URL:
        return f"https://transparencia.example.gob.mx/{fp.name}/{rng.randint(1, 9999)}"
    return f"{rng.choice(_WORDS)} {rng.randint(1, 999)}"


def _answer(fp: FieldPlan, rng: random.Random, ctx: dict, definition: Definition) -> tuple[Any, Any] | None:
    """(answer as sent, typed value) that passes the constraint if a few draws can find one."""
    last = None
    for attempt in range(_TRIES):
        raw = _draw(fp, rng, attempt, ctx, definition)
        if raw is None:
            return None
        try:
            typed = fp.coerce(raw)
        except CoercionError:
            continue
        last = (raw, typed)
        if fp.constraint is None or to_bool(fp.constraint(ctx, typed)):
            return last
    return last


def _fill(steps, ctx: dict, rel: dict, out: dict, rng: random.Random, completeness: float, definition: Definition) -> None:
    for step in steps:
        kind = step[0]
        if kind == "group":
            _, name, fn, parent = step
            ok = rel[parent] if parent is not None else True
            rel[name] = ok and (fn is None or to_bool(fn(ctx, None)))
        elif kind == "field":
            fp: FieldPlan = step[1]
            ok = rel[fp.parent] if fp.parent is not None else True
            ok = ok and (fp.relevant is None or to_bool(fp.relevant(ctx, None)))
            rel[fp.name] = ok
            if not ok:
                ctx.pop(fp.name, None)
                continue
            if fp.calculation is not None:
                value = finish(fp.calculation(ctx, None))
                if value == "":
                    ctx.pop(fp.name, None)
                else:
                    ctx[fp.name] = value
                continue
            if fp.is_note or (completeness < 1.0 and rng.random() > completeness):
                continue
            drawn = _answer(fp, rng, ctx, definition)
            if drawn is not None:
                out[fp.name], ctx[fp.name] = drawn
        elif kind == "head":
            rp: RepeatPlan = step[1]
            ok = rel[rp.parent] if rp.parent is not None else True
            rel[rp.name + HEAD] = ok and (rp.relevant is None or to_bool(rp.relevant(ctx, None)))
        elif kind == "repeat":
            rp = step[1]
            if not rel.get(rp.name + HEAD):
                continue
            if isinstance(rp.count, int):
                n = rp.count
            elif rp.count is not None:
                number = to_number(rp.count(ctx, None))
                n = 0 if isinstance(number, float) and (math.isnan(number) or math.isinf(number)) else max(int(number), 0)
            else:
                low = rp.min_count if rp.min_count is not None else 1
                high = rp.max_count if rp.max_count is not None else low + 2
                n = rng.randint(low, max(low, high))
            instances = []
            columns: dict[str, list] = {c: [] for c in rp.children}
            for i in range(n):
                ictx = {k: v for k, v in ctx.items() if k not in rp.fields}
                ictx[POSITION_KEY] = i + 1
                irel: dict = {}
                row: dict = {}
                _fill(rp.steps, ictx, irel, row, rng, completeness, definition)
                instances.append(row)
                for c in rp.children:
                    columns[c].append(ictx.get(c, "") if irel.get(c) else "")
            out[rp.name] = instances
            ctx.update(columns)
            ctx[rp.name] = instances


def sample_answers(definition: Definition, rng: random.Random, *, completeness: float = 1.0) -> dict:
    """A plausible answer set: relevant questions answered (a `completeness` share), valid types and choices."""
    plan = plan_for(definition)
    out: dict = {}
    _fill(plan.steps, {}, {}, out, rng, completeness, definition)
    return out
