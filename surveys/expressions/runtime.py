"""Value semantics of the expression language (XLSForm/ODK conventions) and its functions.

Empty is ``''`` (``None`` is read as empty). Arithmetic converts both sides to numbers:
empty and non-numeric text become NaN, ISO date strings and dates become days since
1970-01-01 (so ``date - date`` is a number of days, as in ODK). A NaN or infinite final
result is returned as empty. ``=``/``!=`` with an empty side compare as strings; with a
number on either side they compare as numbers; otherwise as strings. ``<``, ``<=``, ``>``,
``>=`` compare numbers (dates as days) and fall back to text comparison for two
non-numeric strings; an empty side makes them false.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

NAN = float("nan")
EPOCH = dt.date(1970, 1, 1)
EPOCH_ORDINAL = EPOCH.toordinal()
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
HOLIDAYS_FILE = Path(__file__).resolve().parent.parent / "data" / "holidays_mx.yaml"


def _system_today() -> dt.date:
    return dt.date.today()


# Replaceable clock for `today()` (tests freeze it with `set_today`).
_clock: list[Callable[[], dt.date]] = [_system_today]


def set_today(provider: Callable[[], dt.date] | None) -> None:
    """Make `today()` return `provider()`; `None` restores the system clock."""
    _clock[0] = provider or _system_today


def today() -> dt.date:
    """The date `today()` returns."""
    return _clock[0]()


def is_empty(value: object) -> bool:
    """Empty in the expression language: '', None, NaN and empty lists (a raw answer left
    blank is `surveys.coerce.is_blank`)."""
    if value is None or value == "":
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, list | tuple):
        return len(value) == 0
    return False


def parse_date(text: str) -> dt.date | None:
    """An ISO date (or the date part of an ISO date-time), else None."""
    text = text.strip()
    if len(text) >= 10 and _ISO_DATE.match(text) and (len(text) == 10 or text[10] in "T "):
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            return None
    return None


def to_number(value: object) -> float | int:
    """XPath number(): int/float stay, bools are 1/0, dates are days, the rest is NaN."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return NAN
        try:
            if text.isdigit() or (text[0] == "-" and text[1:].isdigit()):
                return int(text)
            number = float(text)
            return number if text.lower() not in ("nan", "inf", "-inf", "infinity", "-infinity") else NAN
        except ValueError:
            day = parse_date(text)
            return day.toordinal() - EPOCH_ORDINAL if day is not None else NAN
    if isinstance(value, dt.datetime):
        return (value - dt.datetime(1970, 1, 1, tzinfo=value.tzinfo)).total_seconds() / 86400
    if isinstance(value, dt.date):
        return value.toordinal() - EPOCH_ORDINAL
    if isinstance(value, list | tuple):
        return to_number(value[0]) if value else NAN
    return NAN


def format_number(value: float | int) -> str:
    """Numbers as plain decimals: 3, 0.5, -2.25 (NaN and infinities are empty)."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return ""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def to_str(value: object) -> str:
    """XPath string(): text form of a value (lists space-separated, dates ISO)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(to_str(v) for v in value)
    return str(value)


def to_bool(value: object) -> bool:
    """XPath boolean(): non-zero numbers, non-empty text and lists are true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    if value is None:
        return False
    if isinstance(value, str | list | tuple):
        return len(value) > 0
    return True


def finish(value: object) -> object:
    """The public result of an evaluation: NaN/infinite numbers become empty."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return ""
    if value is None:
        return ""
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equals(a: object, b: object) -> bool:
    """XPath `=` with ODK's empty-as-string rule."""
    if is_empty(a) or is_empty(b):
        return to_str(finish(a)) == to_str(finish(b))
    if isinstance(a, bool) or isinstance(b, bool):
        return to_bool(a) == to_bool(b)
    if _is_number(a) or _is_number(b):
        return to_number(a) == to_number(b)
    if isinstance(a, dt.date) or isinstance(b, dt.date):
        return to_number(a) == to_number(b)
    return to_str(a) == to_str(b)


def compare(a: object, b: object, op: str) -> bool:
    """XPath `<`, `<=`, `>`, `>=`."""
    if is_empty(a) or is_empty(b):
        return False
    x, y = to_number(a), to_number(b)
    if math.isnan(x) or math.isnan(y):
        if isinstance(a, str) and isinstance(b, str) and math.isnan(x) and math.isnan(y):
            x, y = a, b  # two non-numeric texts: compare as text
        else:
            return False
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    return x >= y


def add(a: object, b: object) -> float | int:
    """Numeric `+`."""
    return to_number(a) + to_number(b)


def sub(a: object, b: object) -> float | int:
    """Numeric `-` (date - date is days)."""
    return to_number(a) - to_number(b)


def mul(a: object, b: object) -> float | int:
    """Numeric `*`."""
    return to_number(a) * to_number(b)


def div(a: object, b: object) -> float:
    """XPath `div`: division by zero gives an infinity (empty as a result) or NaN."""
    x, y = to_number(a), to_number(b)
    if y == 0:
        if x == 0 or math.isnan(x):
            return NAN
        return math.copysign(math.inf, x) if not math.isnan(y) else NAN
    return x / y


def mod(a: object, b: object) -> float | int:
    """XPath `mod` (truncating, sign of the dividend)."""
    x, y = to_number(a), to_number(b)
    if y == 0 or math.isnan(x) or math.isnan(y) or math.isinf(x):
        return NAN
    if isinstance(x, int) and isinstance(y, int):
        return int(math.fmod(x, y))
    return math.fmod(x, y)


def neg(a: object) -> float | int:
    """Unary minus."""
    return -to_number(a)


def to_date(value: object) -> dt.date | str:
    """date(): a date from a date, ISO text or a number of days; else empty."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        day = parse_date(value)
        if day is not None:
            return day
        value = to_number(value)
    if _is_number(value) and not (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        try:
            return dt.date.fromordinal(EPOCH_ORDINAL + math.floor(value))
        except (ValueError, OverflowError):
            return ""
    return ""


def decimal_date_time(value: object) -> float | int:
    """decimal-date-time(): days since 1970-01-01 (fractional for date-times)."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 10 and parse_date(text) is not None:
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                return NAN
            return to_number(moment)
    return to_number(value)


def selected(values: object, choice: object) -> bool:
    """selected(): is `choice` among the space-separated (or listed) options."""
    wanted = to_str(choice).strip()
    if isinstance(values, list | tuple):
        return any(to_str(v) == wanted for v in values)
    if is_empty(values):
        return False
    return wanted in to_str(values).split()


def _items(values: object) -> list:
    if isinstance(values, list | tuple):
        return list(values)
    if is_empty(values):
        return []
    return to_str(values).split()


def count_selected(values: object) -> int:
    """count-selected(): number of options chosen."""
    return len(_items(values))


def selected_at(values: object, index: object) -> str:
    """selected-at(): the option at a 0-based index, or empty."""
    items = _items(values)
    i = to_number(index)
    if isinstance(i, float) and (math.isnan(i) or math.isinf(i)):
        return ""
    i = int(i)
    return to_str(items[i]) if 0 <= i < len(items) else ""


def round_half_up(value: object, digits: object = 0) -> float | int:
    """round(x, n): half away from zero, as ODK does."""
    x = to_number(value)
    n = to_number(digits)
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return NAN
    if isinstance(n, float) and (math.isnan(n) or math.isinf(n)):
        return NAN
    n = int(n)
    try:
        rounded = Decimal(repr(x)).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return x
    return int(rounded) if n <= 0 else float(rounded)


def to_int(value: object) -> float | int:
    """int(): truncate toward zero."""
    x = to_number(value)
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return NAN
    return int(x)


def _numbers(args: tuple) -> list:
    out: list = []
    for arg in args:
        if isinstance(arg, list | tuple):
            out.extend(to_number(v) for v in arg)
        else:
            out.append(to_number(arg))
    return out


def fn_sum(values: object) -> float | int:
    """sum(): total of a repeat field (an empty instance makes it NaN, as in ODK)."""
    if isinstance(values, list | tuple):
        total: float | int = 0
        for v in values:
            total += to_number(v)
        return total
    return to_number(values) if not is_empty(values) else 0


def fn_count(values: object) -> int:
    """count(): number of repeat instances (or of values in a list)."""
    if isinstance(values, list | tuple):
        return len(values)
    return 0 if is_empty(values) else 1


def fn_min(*args: object) -> float | int:
    """min(): smallest number (NaN when any value is empty or the list is empty)."""
    numbers = _numbers(args)
    if not numbers or any(isinstance(x, float) and math.isnan(x) for x in numbers):
        return NAN
    return min(numbers)


def fn_max(*args: object) -> float | int:
    """max(): largest number (NaN when any value is empty or the list is empty)."""
    numbers = _numbers(args)
    if not numbers or any(isinstance(x, float) and math.isnan(x) for x in numbers):
        return NAN
    return max(numbers)


@lru_cache(maxsize=512)
def compile_regex(pattern: str) -> re.Pattern[str] | None:
    """A compiled pattern, or None when it is not a valid regular expression."""
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


def regex(value: object, pattern: object) -> bool:
    """regex(): does the text contain a match of the pattern."""
    compiled = compile_regex(to_str(pattern))
    return bool(compiled is not None and compiled.search(to_str(value)))


def substr(value: object, start: object, length: object = None) -> str:
    """substr(s, start[, length]) with a 0-based start, as ODK does."""
    text = to_str(value)
    s = to_number(start)
    if isinstance(s, float) and (math.isnan(s) or math.isinf(s)):
        return ""
    s = max(int(s), 0)
    if length is None:
        return text[s:]
    n = to_number(length)
    if isinstance(n, float) and (math.isnan(n) or math.isinf(n)):
        return ""
    return text[s : s + max(int(n), 0)]


def _round_fn(fn: Callable[[float], int]) -> Callable[[object], float | int]:
    def apply(value: object) -> float | int:
        x = to_number(value)
        if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
            return x
        return fn(x)

    return apply


fn_floor = _round_fn(math.floor)
fn_ceiling = _round_fn(math.ceil)


def fn_abs(value: object) -> float | int:
    """abs()."""
    return abs(to_number(value))


def fn_pow(base: object, exponent: object) -> float:
    """pow()."""
    try:
        result = math.pow(to_number(base), to_number(exponent))
    except (ValueError, OverflowError):
        return NAN
    return result


def join(separator: object, *values: object) -> str:
    """join(sep, list...): the texts joined with a separator."""
    items: list[str] = []
    for v in values:
        items.extend(to_str(x) for x in (v if isinstance(v, list | tuple) else [v]))
    return to_str(separator).join(items)


@lru_cache(maxsize=1)
def holidays() -> tuple[frozenset[dt.date], tuple[dt.date, ...]]:
    """Mexican federal holidays (LFT art. 74) from surveys/data/holidays_mx.yaml."""
    import yaml

    data = yaml.safe_load(HOLIDAYS_FILE.read_text(encoding="utf-8")) or {}
    days: set[dt.date] = set()
    for entries in (data.get("holidays") or {}).values():
        for entry in entries:
            day = entry["date"]
            days.add(day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)))
    weekdays = tuple(sorted(d for d in days if d.weekday() < 5))
    return frozenset(days), weekdays


def _weekdays_between(start: dt.date, end: dt.date) -> int:
    """Mon-Fri days in (start, end]."""
    total = (end - start).days
    weeks, rest = divmod(total, 7)
    count = weeks * 5
    wd = start.weekday()
    for i in range(1, rest + 1):
        if (wd + i) % 7 < 5:
            count += 1
    return count


def business_days(a: object, b: object) -> float | int:
    """business-days(a, b): Mon-Fri non-holiday days after a up to and including b."""
    start, end = to_date(a), to_date(b)
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        return NAN
    if end < start:
        return -business_days(end, start)
    from bisect import bisect_left, bisect_right

    _, weekday_holidays = holidays()
    excluded = bisect_right(weekday_holidays, end) - bisect_left(
        weekday_holidays, start + dt.timedelta(days=1)
    )
    return _weekdays_between(start, end) - excluded
