"""The expression language against a table of XLSForm/ODK semantics."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.expressions import ExpressionError, business_days, holidays, parse, set_today

D = dt.date

# (expression, values, expected result)
SEMANTICS = [
    # selected() on multi-selects: lists, space-separated text and empty answers
    ("selected(${m}, 'pnt')", {"m": ["pnt", "email"]}, True),
    ("selected(${m}, 'post')", {"m": ["pnt", "email"]}, False),
    ("selected(${m}, 'email')", {"m": "pnt email"}, True),
    ("selected(${m}, 'x')", {"m": ""}, False),
    ("selected(${m}, 'x')", {}, False),
    ("count-selected(${m})", {"m": "a b c"}, 3),
    ("count-selected(${m})", {"m": ""}, 0),
    ("selected-at(${m}, 1)", {"m": ["a", "b"]}, "b"),
    # empty values in arithmetic give empty results
    ("${a} + 1", {"a": ""}, ""),
    ("${a} + 1", {"a": None}, ""),
    ("${a} * 2", {}, ""),
    ("${a} div ${b}", {"a": 3, "b": 0}, ""),
    ("${a} div ${b}", {"a": 1, "b": 4}, 0.25),
    ("7 mod 3", {}, 1),
    ("-7 mod 3", {}, -1),
    ("-${a}", {"a": 2}, -2),
    ("${a} + ${b}", {"a": "2", "b": 3}, 5),
    ("${a} + 0.5", {"a": "1.5"}, 2.0),
    # comparisons with empty: strings for =/!=, false for order
    ("${a} = ''", {"a": ""}, True),
    ("${a} = ''", {}, True),
    ("${a} != ''", {"a": 0}, True),
    ("${a} = 0", {"a": ""}, False),
    ("${a} < 5", {"a": ""}, False),
    ("${a} >= 0", {}, False),
    # string versus number comparisons
    ("${a} = 10", {"a": "10"}, True),
    ("${a} = '10'", {"a": 10}, True),
    ("${a} = '10.0'", {"a": 10}, True),
    ("${a} < 9", {"a": "10"}, False),
    ("${a} > 'abc'", {"a": 5}, False),
    ("'abc' < 'abd'", {}, True),
    ("${a} = 'yes'", {"a": "yes"}, True),
    ("${a} != 'yes'", {"a": "no"}, True),
    ("${a} = 'yes'", {"a": 1}, False),
    # logic
    ("${a} = 'yes' and ${b} > 2", {"a": "yes", "b": 3}, True),
    ("${a} = 'yes' or ${b} > 2", {"a": "no", "b": ""}, False),
    ("not(${a})", {"a": ""}, True),
    ("not(${a} = 'x')", {"a": "x"}, False),
    # dates and date differences (days, as ODK's decimal days)
    ("${d2} - ${d1}", {"d1": D(2025, 3, 3), "d2": D(2025, 3, 13)}, 10),
    ("${d2} - ${d1}", {"d1": "2025-02-27", "d2": "2025-03-01"}, 2),
    ("${d2} - ${d1}", {"d1": "", "d2": "2025-03-01"}, ""),
    ("${d} > '2025-01-01'", {"d": D(2025, 3, 3)}, True),
    ("${d} < ${e}", {"d": D(2025, 3, 3), "e": D(2024, 1, 1)}, False),
    ("date('2025-03-03')", {}, D(2025, 3, 3)),
    ("date(0)", {}, D(1970, 1, 1)),
    ("date(${d} + 30)", {"d": D(2025, 1, 15)}, D(2025, 2, 14)),
    ("date('not a date')", {}, ""),
    ("decimal-date-time('1970-01-02')", {}, 1),
    ("decimal-date-time('1970-01-01T12:00:00')", {}, 0.5),
    ("${d} = '2025-03-03'", {"d": D(2025, 3, 3)}, True),
    # business days: weekends and Mexican federal holidays are skipped
    ("business-days('2025-03-14', '2025-03-24')", {}, 5),  # Mon 17 March 2025 is a holiday
    ("business-days('2025-03-07', '2025-03-14')", {}, 5),
    ("business-days('2025-01-31', '2025-02-07')", {}, 4),  # Mon 3 Feb 2025 (Constitution)
    ("business-days('2025-12-19', '2026-01-02')", {}, 8),  # 25 Dec and 1 Jan
    ("business-days('2025-03-07', '2025-03-08')", {}, 0),  # Saturday
    ("business-days('2025-03-14', '2025-03-07')", {}, -5),
    ("business-days(${a}, ${b})", {"a": "", "b": "2025-03-07"}, ""),
    ("business-days('2024-09-30', '2024-10-02')", {}, 1),  # 1 Oct 2024, new president
    ("business-days(${a}, ${b}) <= 5", {"a": D(2025, 3, 14), "b": D(2025, 3, 21)}, True),
    # if / coalesce / concat / regex / round / int
    ("if(${a} > 0, 'pos', 'neg')", {"a": 3}, "pos"),
    ("if(${a} > 0, 'pos', 'neg')", {"a": ""}, "neg"),
    ("if(${a} > 0, ${b} div ${a}, '')", {"a": 0, "b": 3}, ""),
    ("coalesce(${a}, 'x')", {"a": ""}, "x"),
    ("coalesce(${a}, 'x')", {"a": 0}, 0),
    ("concat('a', ${n}, '-', ${d})", {"n": 2.5, "d": D(2025, 1, 2)}, "a2.5-2025-01-02"),
    ("concat(${a}, 'b')", {"a": ""}, "b"),
    ("concat(${a} + 1)", {"a": ""}, ""),
    ("string-length(${a})", {"a": "hola"}, 4),
    ("string-length(${a})", {}, 0),
    ("regex(${u}, '^https?://')", {"u": "https://x.mx"}, True),
    ("regex(${u}, '^https?://')", {"u": "ftp://x.mx"}, False),
    ("regex(${u}, '^[0-9]{5}$')", {"u": ""}, False),
    ("round(2.5)", {}, 3),
    ("round(-2.5)", {}, -3),
    ("round(3.14159, 2)", {}, 3.14),
    ("round(2.675, 2)", {}, 2.68),
    ("round(${a}, 1)", {"a": ""}, ""),
    ("int(3.9)", {}, 3),
    ("int(-3.9)", {}, -3),
    ("int('')", {}, ""),
    ("number('12')", {}, 12),
    ("number('x')", {}, ""),
    ("number(${a} = 'yes')", {"a": "yes"}, 1),
    ("string(12.0)", {}, "12"),
    # aggregates over repeat fields (lists of instance values)
    ("sum(${x})", {"x": [1, 2, 3.5]}, 6.5),
    ("sum(${x})", {"x": [1, ""]}, ""),
    ("sum(${x})", {"x": []}, 0),
    ("count(${r})", {"r": [{}, {}]}, 2),
    ("max(${x})", {"x": [4, 9, 2]}, 9),
    ("min(${x})", {"x": [4, 9, 2]}, 2),
    ("max(${x})", {"x": []}, ""),
    ("max(1, 7, 3)", {}, 7),
    ("join(' ', ${x})", {"x": ["a", "b"]}, "a b"),
    ("position(..)", {"@position": 2}, 2),
    ("contains(${a}, 'gob')", {"a": "gobierno"}, True),
    ("substr('abcdef', 1, 3)", {}, "bcd"),
    ("true() and not(false())", {}, True),
    ("floor(-1.5) + ceiling(1.2) + abs(-2) + pow(2, 3)", {}, 10.0),
]


@pytest.mark.parametrize(("text", "values", "expected"), SEMANTICS)
def test_odk_semantics(text, values, expected):
    result = parse(text).evaluate(values)
    assert result == expected
    assert type(result) is type(expected) or isinstance(expected, int | float) and isinstance(result, int | float)


def test_current_value_in_constraints():
    expr = parse(". <= ${received}")
    assert expr.evaluate({"received": 10}, current=7) is True
    assert expr.evaluate({"received": 10}, current=11) is False
    assert expr.uses_current


def test_today_is_replaceable():
    set_today(lambda: D(2025, 6, 1))
    try:
        assert parse("today() - date('2025-05-01')").evaluate({}) == 31
    finally:
        set_today(None)
    assert parse("today()").evaluate({}) == D.today()


def test_references_and_aggregates():
    expr = parse("if(${a} > 0, sum(${x}) div ${a}, count(${r}))")
    assert expr.references == frozenset({"a", "x", "r"})
    assert expr.aggregated_references == frozenset({"x", "r"})
    assert expr.scalar_references == frozenset({"a"})


def test_choice_filter_bare_names_read_the_choice_row():
    expr = parse("region = ${region}")
    assert expr.columns == frozenset({"region"})
    assert expr.evaluate({"region": "north"}, current={"region": "north"}) is True
    assert expr.evaluate({"region": "north"}, current={"region": "south"}) is False


def test_canonical_form_ignores_whitespace():
    assert parse("${a}+1   = 2").canonical == parse(" ${a} + 1=2 ").canonical
    assert parse("${a}+1=2") == parse("${a} + 1 = 2")


# (expression, column of the error)
SYNTAX_ERRORS = [
    ("", 1),
    ("${a} +", 7),
    ("${a", 1),
    ("$a", 1),
    ("'open", 1),
    ("(1 + 2", 7),
    ("1 2", 3),
    ("foo(1)", 1),
    ("if(1, 2)", 1),
    ("regex(${a}, '[')", 13),
    ("${a} # 2", 6),
    ("${a b}", 1),
    ("position(${a})", 10),
    ("1 + )", 5),
]


@pytest.mark.parametrize(("text", "column"), SYNTAX_ERRORS)
def test_syntax_errors_have_columns_and_both_languages(text, column):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert info.value.column == column
    assert info.value.message_es and info.value.message_en
    assert "columna" in info.value.message("es") and "column" in info.value.message("en")


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(ExpressionError):
        parse("(" * 500 + "1" + ")" * 500)
    with pytest.raises(ExpressionError):
        parse("-" * 500 + "1")


def test_holiday_data_has_the_movable_mondays():
    days, _ = holidays()
    for year in range(2015, 2031):
        movable = [d for d in days if d.year == year and d.month in (2, 3, 11)]
        assert len(movable) == 3
        for d in movable:
            assert d.weekday() == 0
        feb, mar, nov = sorted(movable)
        assert 1 <= feb.day <= 7  # first Monday of February
        assert 15 <= mar.day <= 21  # third Monday of March
        assert 15 <= nov.day <= 21  # third Monday of November
        assert D(year, 1, 1) in days and D(year, 5, 1) in days
        assert D(year, 9, 16) in days and D(year, 12, 25) in days
    assert D(2018, 12, 1) in days and D(2024, 10, 1) in days and D(2030, 10, 1) in days


@given(st.dates(D(2015, 1, 1), D(2030, 12, 31)), st.integers(0, 60))
def test_business_days_matches_a_day_by_day_count(start, span):
    end = start + dt.timedelta(days=span)
    days, _ = holidays()
    expected = sum(
        1
        for i in range(1, span + 1)
        if (d := start + dt.timedelta(days=i)).weekday() < 5 and d not in days
    )
    assert business_days(start, end) == expected


_ALPHABET = st.sampled_from(
    list("${}()'\", .-+*=<>!ab01") + [" div ", " mod ", " and ", " or ", "${a}", "if(", "sum(", "today()"]
)


@settings(max_examples=400)
@given(st.lists(_ALPHABET, max_size=25).map("".join))
def test_random_text_parses_or_fails_with_a_located_error(text):
    try:
        expr = parse(text)
    except ExpressionError as err:
        assert 0 <= err.column <= len(text) + 1
        return
    result = expr.evaluate({"a": "1", "b": ""}, current="")
    assert result is not None
    assert parse(expr.canonical).canonical == expr.canonical
