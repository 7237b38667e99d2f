"""Table tests for the rule expression grammar: every construct and every error message."""

from __future__ import annotations

import pytest

from warning.rules.compile import Context, compile_node
from warning.rules.expr import ExprError, check, parse, unparse
from warning.rules.windows import Series

HOUR = 3_600_000

# (expression, canonical text after parsing)
PARSES = [
    ("sum(rain_mm, 3h) >= 50", "sum(rain_mm, 3h) >= 50"),  # window with duration
    ("sum(rain_mm,180m)>=50", "sum(rain_mm, 3h) >= 50"),  # whitespace, unit normalised
    ("last(level_m) > 1", "last(level_m) > 1"),  # optional duration
    ("level_m >= sensor.warning_level_m", "level_m >= sensor.warning_level_m"),
    ("a > 1 and b > 2 and c > 3", "a > 1 and b > 2 and c > 3"),  # flat and
    ("a > 1 or b > 2 and c > 3", "a > 1 or (b > 2 and c > 3)"),  # and binds tighter
    ("not a > 1", "not (a > 1)"),
    ("(a + b) * 2 - c / 4 > 0", "(((a + b) * 2) - (c / 4)) > 0"),  # precedence
    ("-a < -1.5", "-a < -1.5"),
    ("abs(delta(level_m, 1h)) > 0.5", "abs(delta(level_m, 1h)) > 0.5"),
    ("round(mean(temp_c, 1d), 1) > 30", "round(mean(temp_c, 1d), 1) > 30"),
    ("rate(level_m, 30m) > 1e-1", "rate(level_m, 30m) > 0.1"),  # exponent
    ("count(rain_mm, 1h) == 0", "count(rain_mm, 1h) == 0"),
    (
        "time_to(level_m, sensor.warning_level_m) < 2",
        "time_to(level_m, sensor.warning_level_m, 1h) < 2",
    ),  # default duration shown
    ("failure_in(displacement_mm, 12h) < 24", "failure_in(displacement_mm, 12h) < 24"),
    ("fwi_class() >= 3", "fwi_class() >= 3"),
    ("id_exceedance(rain_mm, 14.82, -0.39) >= 1", "id_exceedance(rain_mm, 14.82, -0.39, 3d) >= 1"),
    ("x != 2", "x != 2"),
]


@pytest.mark.parametrize(("text", "canonical"), PARSES)
def test_parses(text, canonical):
    assert unparse(parse(text)) == canonical


# (expression, the complete error message)
ERRORS = [
    ("sum(rain_mm) > 1", "expected sum(FIELD, DURATION), found 1 argument(s)"),
    ("sum(3, 3h) > 1", "expected sum(FIELD, DURATION) with a field name first, found '3'"),
    ("sum() > 1", "expected sum(FIELD, DURATION) with a field name first, found no arguments"),
    (
        "sum(rain_mm, 5) > 1",
        "expected sum(FIELD, DURATION) with a positive duration such as 3h, found '5'",
    ),
    (
        "rate(level_m, 0h) > 1",
        "expected rate(FIELD, DURATION) with a positive duration such as 3h, found '0s'",
    ),
    ("last(level_m, 1h, 2h) > 1", "expected last(FIELD[, DURATION]), found 3 argument(s)"),
    (
        "median(x, 1h) > 1",
        "expected a function among abs, anomaly, api, bui, count, dc, delta, "
        "dmc, dsr, failure_fit, failure_in, fault, ffmc, forecast_at, "
        "forecast_max, forecast_sum, fwi, fwi_class, id_exceedance, isi, "
        "last, max, mean, min, predicted, rate, round, stel, sum, tangent_angle, "
        "time_to, twa, found unknown function 'median'",
    ),
    ("fwi(1) > 1", "expected fwi() without arguments, found 1"),
    ("time_to(level_m) < 2", "expected time_to(FIELD, NUMBER[, DURATION]), found 1 argument(s)"),
    ("stel(3) > 1", "expected stel(FIELD) with a field name first, found '3'"),
    (
        "time_to(level_m, 3h) < 1",
        "expected time_to(FIELD, NUMBER[, DURATION]) with a number, found '3h'",
    ),
    (
        "id_exceedance(rain_mm, 1, 2, 3) > 1",
        "expected id_exceedance(FIELD, NUMBER, NUMBER"
        "[, DURATION]) with a positive duration such as "
        "3h, found '3'",
    ),
    ("abs(1, 2) > 0", "expected abs() with 1 argument(s), found 2"),
    ("x >", "expected a valid expression at column 3, found the end of the expression"),
    ("x >= 5 5", "expected a valid expression at column 8, found '5'"),
    ("x > 1 > 2", "expected a valid expression at column 7, found '>'"),
    ("x $ 3", "expected a valid expression at column 3, found '$ 3'"),
    ("", "expected a valid expression at column 1, found the end of the expression"),
    ("((x > 1)", "expected a valid expression at column 8, found the end of the expression"),
    ("3h", "expected a number or condition, found the bare duration '3h'"),
    ("x" * 2001, "expected an expression of at most 2000 characters, found 2001"),
    ("__import__('os')", "expected a valid expression at column 12, found \"'os')\""),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors(text, message):
    with pytest.raises(ExprError) as exc:
        parse(text)
    assert str(exc.value) == message


CHECKS = [
    ("snow_mm > 1", True, "expected a field among rain_mm, found unknown field 'snow_mm'"),
    ("sum(snow_mm, 1h) > 1", True, "expected a field among rain_mm, found unknown field 'snow_mm'"),
    (
        "sum(rain_mm, 1h)",
        True,
        "expected a condition (a comparison), found the number expression 'sum(rain_mm, 1h)'",
    ),
    ("rain_mm > 1", False, "expected a number expression, found the condition 'rain_mm > 1'"),
    (
        "rain_mm + 3h > 1",
        True,
        "expected a number, found the duration '3h' outside a window function",
    ),
    (
        "fwi() > 10",
        True,
        "expected fwi() on a kind with temp_c, rh_pct, wind_kmh, rain_mm, found one with rain_mm",
    ),
]


@pytest.mark.parametrize(("text", "boolean", "message"), CHECKS)
def test_checks(text, boolean, message):
    with pytest.raises(ExprError) as exc:
        check(parse(text), frozenset({"rain_mm"}), boolean)
    assert str(exc.value) == message


def _ctx(points, sensor=None, now=None):
    series = {}
    for field, values in points.items():
        s = series[field] = Series()
        for ts, v in values:
            s.add(ts, v)
    last = max(ts for values in points.values() for ts, _ in values) if points else 0
    return Context(series, sensor or {}, now if now is not None else last)


# (expression, readings per field as (hour, value), sensor attrs, expected result)
EVALS = [
    ("sum(rain_mm, 3h)", {"rain_mm": [(0, 5), (1, 10), (2, 20), (3, 40)]}, {}, 70.0),
    ("sum(rain_mm, 1h)", {"rain_mm": [(0, 5), (1, 10)]}, {}, 10.0),  # start is exclusive
    ("count(rain_mm, 2h)", {"rain_mm": [(0, 5), (1, 10), (2, 1)]}, {}, 2.0),
    ("mean(level_m, 2h)", {"level_m": [(0, 1), (1, 2), (2, 4)]}, {}, 3.0),
    ("min(level_m, 3h)", {"level_m": [(0, 1), (1, 2), (2, 4)]}, {}, 1.0),
    ("max(level_m, 3h)", {"level_m": [(0, 1), (1, 2), (2, 4)]}, {}, 4.0),
    ("delta(level_m, 2h)", {"level_m": [(0, 1), (1, 2), (2, 4)]}, {}, 3.0),  # baseline kept
    ("rate(level_m, 2h)", {"level_m": [(0, 1), (1, 2), (2, 4)]}, {}, 1.5),  # per hour
    ("rate(level_m, 2h)", {"level_m": [(2, 4)]}, {}, None),  # one point: unknown
    ("level_m", {"level_m": [(0, 1), (1, 2)]}, {}, 2.0),
    ("last(level_m, 1h)", {"level_m": [(0, 1)], "x": [(5, 0)]}, {}, None),  # stale
    ("mean(level_m, 1h)", {}, {}, None),
    ("sum(rain_mm, 1h)", {}, {}, 0.0),  # no rain recorded is zero rain
    ("level_m >= sensor.warning_level_m", {"level_m": [(0, 4.5)]}, {"warning_level_m": 4.5}, True),
    ("level_m >= sensor.warning_level_m", {"level_m": [(0, 4.5)]}, {}, None),  # no key
    ("level_m >= sensor.name", {"level_m": [(0, 4.5)]}, {"name": "x"}, None),  # not a number
    ("level_m / 0", {"level_m": [(0, 4.5)]}, {}, None),
    ("missing > 1 or level_m > 1", {"level_m": [(0, 4.5)]}, {}, True),  # or: True decides
    ("missing > 1 and level_m > 1", {"level_m": [(0, 4.5)]}, {}, None),  # and: unknown
    ("missing > 1 and level_m > 9", {"level_m": [(0, 4.5)]}, {}, False),  # and: False decides
    ("not missing > 1", {}, {}, None),
    ("-level_m + 2 * 3", {"level_m": [(0, 4)]}, {}, 2.0),
    ("abs(level_m - 10)", {"level_m": [(0, 4)]}, {}, 6.0),
    ("round(level_m / 3, 2)", {"level_m": [(0, 4)]}, {}, 1.33),
]


@pytest.mark.parametrize(("text", "points", "sensor", "expected"), EVALS)
def test_evaluates(text, points, sensor, expected):
    hours = {f: [(h * HOUR, v) for h, v in vs] for f, vs in points.items()}
    assert compile_node(parse(text))(_ctx(hours, sensor)) == expected


def test_tenth_mm_tips_reach_exactly_fifty():
    s = Series()
    for minute in range(500):
        s.add(minute * 60_000, 0.1)
    ctx = Context({"rain_mm": s}, {}, 499 * 60_000)
    assert compile_node(parse("sum(rain_mm, 500m) >= 50"))(ctx) is True


def test_out_of_order_insert_keeps_sums():
    s = Series()
    for h in (0, 2, 3, 1):
        s.add(h * HOUR, float(h + 1))
    assert s.aggregate("sum", 10 * HOUR, 3 * HOUR) == 10.0
    assert s.aggregate("sum", 2 * HOUR, 3 * HOUR) == 7.0


def test_template_eta_format():
    from warning.rules.template import Template

    t = Template.parse("{time_to(level_m, sensor.warning_level_m):eta}", {"level_m"}, set())
    s = Series()
    for minutes, level in ((0, 3.0), (20, 3.1), (40, 3.2), (60, 3.3)):  # 0.3 m/h
        s.add(minutes * 60_000, level)
    ctx = Context({"level_m": s}, {"warning_level_m": 4.5}, 60 * 60_000)
    assert t.render(ctx, {}, {}) == "about 4 h"  # 1.2 m to go at 0.3 m/h
    assert t.render(Context({"level_m": s}, {}, 60 * 60_000), {}, {}) == "not approaching"


def test_a_template_clause_is_left_out_when_a_placeholder_in_it_is_unknown():
    """A reservoir has a flood-limit level and no warning level: only its clause is said."""
    from warning.rules.template import Template

    text = (
        "now {last(level_m):.2f} m[[; warning level {sensor.warning_level_m} m: "
        "{time_to(level_m, sensor.warning_level_m):eta}]][[; flood-limit level "
        "{sensor.flood_limit_m} m: {time_to(level_m, sensor.flood_limit_m):eta}]]"
    )
    t = Template.parse(text, {"level_m"}, set())
    s = Series()
    for minutes, level in ((0, 3.0), (20, 3.1), (40, 3.2), (60, 3.3)):  # 0.3 m/h
        s.add(minutes * 60_000, level)
    river = Context({"level_m": s}, {"warning_level_m": 4.5}, 60 * 60_000)
    reservoir = Context({"level_m": s}, {"flood_limit_m": 3.0}, 60 * 60_000)
    gauge = Context({"level_m": s}, {}, 60 * 60_000)
    assert t.render(river, {}, {}) == "now 3.30 m; warning level 4.5 m: about 4 h"
    assert t.render(reservoir, {}, {}) == "now 3.30 m; flood-limit level 3.0 m: now"
    assert t.render(gauge, {}, {}) == "now 3.30 m"
    # An unknown value outside a clause is said as before; an eta inside one keeps the clause.
    flat = Context({"level_m": Series()}, {"warning_level_m": 4.5}, 0)
    assert t.render(flat, {}, {}) == "now n/a m; warning level 4.5 m: not approaching"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("sum(rain_mm, 6hr) >= 3", "a duration is one number and one unit (s, m, h, d)"),
        ("sum(rain_mm, 1h30m) > 1", "a duration is one number and one unit (s, m, h, d)"),
        ("sum(rain_mm, 3h) => 50", "comparisons are >=, <=, ==, !=, >, <"),
        ("sum(rain_mm, 3h) = 50", "comparisons are >=, <=, ==, !=, >, <"),
        ("last(rain_mm) > 1 AND last(rain_mm) < 9", "the logic words are and, or, not"),
    ],
)
def test_a_parse_error_hints_at_what_the_author_meant(text, hint):
    with pytest.raises(ExprError) as exc:
        parse(text)
    assert str(exc.value).startswith("expected a valid expression at column ")
    assert hint in str(exc.value)


def test_no_hint_where_none_fits():
    with pytest.raises(ExprError) as exc:
        parse("foo bar")
    assert str(exc.value) == "expected a valid expression at column 5, found 'bar'"
