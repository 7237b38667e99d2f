"""Threshold lines the dashboards take from the rules' level conditions."""

from __future__ import annotations

from dashboards.thresholds import bounds

C = "id_exceedance(rain_mm, 14.82, -0.39, 24h)"
WET = "sum(rain_mm, 3d) >= 150 - 0.67 * (sum(rain_mm, 18d) - sum(rain_mm, 3d))"


def lines(levels: dict) -> list[tuple[int, str, float]]:
    rule = {"id": "r", "for_kind": "rainfall", "levels": levels}
    return sorted((b.level, b.op, b.value) for b in bounds([rule], C, "rainfall"))


def test_a_bound_alone_is_the_levels_line_and_a_joined_one_a_second_path():
    # Orange holds at C >= 1.5, or at C >= 1 on wet ground: the line is 1.5.
    assert lines(
        {"orange": f"{C} >= 1.5 or ({C} >= 1 and {WET})", "yellow": f"{C} >= 1 or ({WET})"}
    ) == [(2, ">=", 1.0), (3, ">=", 1.5)]


def test_a_bound_only_joined_by_and_is_still_the_levels_line():
    # As in the slope forecast (hours to failure and the fit's R²): no bound alone.
    assert lines({"blue": f"({C} >= 0.75 and sum(rain_mm, 24h) >= 25) or ({WET})"}) == [
        (1, ">=", 0.75)
    ]
