"""Coerce answers (web-form strings or typed JSON values) to typed values, per question type."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable

from surveys import constants as K
from surveys.expressions.runtime import format_number, parse_date

_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?\Z")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?\Z|https?://localhost(?::\d+)?(?:[/?#]\S*)?\Z", re.IGNORECASE)


class CoercionError(ValueError):
    """An answer that does not fit its type: a code and messages in Spanish and English."""

    def __init__(self, code: str, message_es: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_es = message_es
        self.message_en = message_en


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise CoercionError("type", "se esperaba texto", "text expected")
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise CoercionError("type", "se esperaba texto", "text expected")


def coerce_integer(value: object) -> int:
    """An int from an int, an integral float or digits."""
    if isinstance(value, bool):
        raise CoercionError("integer", "debe ser un número entero", "must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(float(value.strip())) if "." in value else int(value.strip())
    raise CoercionError("integer", "debe ser un número entero", "must be a whole number")


def coerce_decimal(value: object) -> float | int:
    """A number from a number or decimal text (a point, not a comma)."""
    if isinstance(value, bool):
        raise CoercionError("decimal", "debe ser un número", "must be a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and _DECIMAL.match(value.strip()):
        number = float(value.strip())
        if math.isfinite(number):
            return number
    raise CoercionError("decimal", "debe ser un número (use punto decimal)", "must be a number (use a decimal point)")


def coerce_date(value: object) -> dt.date:
    """A date from a date or ISO `YYYY-MM-DD` text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        day = parse_date(text) if len(text) == 10 else None
        if day is not None:
            return day
    raise CoercionError("date", "debe ser una fecha AAAA-MM-DD", "must be a date YYYY-MM-DD")


def coerce_url(value: object) -> str:
    """An http/https address."""
    text = _text(value).strip()
    if not _URL.match(text):
        raise CoercionError("url", "debe ser una dirección web que empiece con http:// o https://", "must be a web address starting with http:// or https://")
    return text


def coerce_text(value: object) -> str:
    """Text (numbers and dates in their text form)."""
    return _text(value)


def coerce_choice(value: object) -> str:
    """One option name."""
    text = _text(value)
    parts = text.split()
    if len(parts) != 1:
        raise CoercionError("choice", "elija una sola opción", "choose a single option")
    return parts[0]


def coerce_multiple(value: object) -> list[str]:
    """A list of option names from a list or space-separated text (duplicates removed)."""
    if isinstance(value, str):
        items = value.split()
    elif isinstance(value, list | tuple):
        items = []
        for item in value:
            if item is None or item == "":
                continue
            items.extend(_text(item).split())
    else:
        raise CoercionError("choice", "se esperaba una lista de opciones", "a list of options was expected")
    return list(dict.fromkeys(items))


def _reject(value: object) -> object:
    raise CoercionError("read_only", "esta pregunta no lleva respuesta", "this question takes no answer")


COERCERS: dict[str, Callable[[object], object]] = {
    K.TEXT: coerce_text,
    K.INTEGER: coerce_integer,
    K.DECIMAL: coerce_decimal,
    K.DATE: coerce_date,
    K.URL: coerce_url,
    K.SELECT_ONE: coerce_choice,
    K.YES_NO: coerce_choice,
    K.YES_NO_NA: coerce_choice,
    K.LIKERT: coerce_choice,
    K.SELECT_MULTIPLE: coerce_multiple,
    K.RANGE: coerce_decimal,
    K.NOTE: _reject,
    K.CALCULATE: lambda v: v,
}


def is_blank(value: object) -> bool:
    """No answer: None, blank text, or a list of nothing else.

    The one definition of an unanswered raw value (a form field, a draft, a stored text).
    Expressions have their own emptiness of typed values, `expressions.runtime.is_empty`
    (NaN is empty there, and text is compared as is).
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return all(is_blank(v) for v in value)
    return False


def range_value(number: float | int, params: dict) -> float | int:
    """A range answer as int when the range is integral."""
    integral = all(float(params.get(k, 0)).is_integer() for k in ("start", "end", "step"))
    if integral and float(number).is_integer():
        return int(number)
    return number
