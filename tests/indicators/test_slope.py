"""Slope indicators: the DOMAIN.md synthetic failure, inverse-velocity fits, tangent angles."""

from __future__ import annotations

import math

import pytest

from warning.indicators.slope import (
    HOUR_MS,
    Fit,
    forecast_failure,
    inverse_velocity_fit,
    tangent_angle,
    tangent_stage,
    velocities,
)

H = HOUR_MS
T0 = 1_720_000_000_000
K = 0.1  # 1/mm
TF = 100.0  # h


def x(t_h: float) -> float:
    """Synthetic accelerating creep: 1/v = k (t_f - t) exactly."""
    return (1 / K) * math.log(TF / (TF - t_h))


def synthetic(hours: range) -> list[tuple[int, float]]:
    return [(T0 + t * H, x(t)) for t in hours]


@pytest.mark.parametrize(("t", "mm"), [(50, 6.931), (90, 23.026), (95, 29.957)])
def test_synthetic_displacement(t, mm):
    assert x(t) == pytest.approx(mm, abs=5e-4)


def test_midpoint_stamping_recovers_failure_time():
    v = velocities(synthetic(range(60, 96)))
    assert len(v) == 35
    assert v[0][0] == T0 + 60.5 * H  # the midpoint of the first hour
    fit = inverse_velocity_fit([t / H for t, _ in v], [1 / s for _, s in v])
    assert fit.failure_time_h - T0 / H == pytest.approx(TF, abs=0.1)
    assert fit.r2 > 0.999


def test_end_stamping_would_be_half_an_hour_late():
    # The figure DOMAIN.md gives for the rejected choice, as a guard on the test itself.
    v = velocities(synthetic(range(60, 96)))
    fit = inverse_velocity_fit([(t - T0) / H + 0.5 for t, _ in v], [1 / s for _, s in v])
    assert fit.failure_time_h == pytest.approx(100.49, abs=0.01)


def test_forecast_failure_over_a_window():
    samples = synthetic(range(0, 96))
    now = T0 + 95 * H
    forecast = forecast_failure(samples, 35, now)
    assert forecast.n == 35  # samples at 60..95 h: the window includes its start
    assert (forecast.failure_ms - T0) / H == pytest.approx(TF, abs=0.1)
    assert forecast.hours_to_failure == pytest.approx(5.0, abs=0.1)
    assert forecast.r2 > 0.999


def test_forecast_ignores_samples_after_now():
    samples = synthetic(range(0, 99))
    assert forecast_failure(samples, 35, T0 + 95 * H) == forecast_failure(
        samples[:96], 35, T0 + 95 * H
    )


def test_no_forecast_for_steady_creep():
    samples = [(T0 + t * H, 0.5 * t) for t in range(48)]  # constant 0.5 mm/h: 1/v flat
    assert forecast_failure(samples, 24, T0 + 47 * H) is None


def test_no_forecast_for_slowing_creep():
    samples = [(T0 + t * H, 10 * math.sqrt(t)) for t in range(48)]  # 1/v rises
    assert forecast_failure(samples, 24, T0 + 47 * H) is None


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_no_forecast_from_too_few_samples(n):
    # n samples give n - 1 velocities; 3 are needed by default.
    assert forecast_failure(synthetic(range(90, 90 + n)), 48, T0 + 96 * H) is None


def test_motionless_intervals_are_left_out():
    samples = synthetic(range(60, 96))
    samples.insert(10, (samples[9][0] + H // 2, samples[9][1]))  # a repeated reading
    forecast = forecast_failure(samples, 35, T0 + 95 * H)
    assert forecast.n == 35


def test_velocities_edges():
    assert velocities([]) == []
    assert velocities([(T0, 1.0)]) == []
    assert velocities([(T0, 1.0), (T0, 2.0)]) == []  # duplicate timestamp
    assert velocities([(T0 + H, 3.0), (T0, 1.0)]) == [(T0 + H / 2, 2.0)]  # sorted first


def test_fit_edges():
    assert inverse_velocity_fit([], []) is None
    assert inverse_velocity_fit([1.0], [2.0]) is None
    assert inverse_velocity_fit([1.0, 1.0], [2.0, 3.0]) is None  # no spread in time
    assert inverse_velocity_fit([0.0, 1.0, 2.0], [5.0, 5.0, 5.0]) == Fit(0.0, 5.0, 1.0, None)
    rising = inverse_velocity_fit([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    assert rising.slope == pytest.approx(1.0) and rising.failure_time_h is None
    with pytest.raises(ValueError, match="same length"):
        inverse_velocity_fit([0.0], [1.0, 2.0])


def test_fit_r2_with_noise():
    fit = inverse_velocity_fit([0.0, 1.0, 2.0, 3.0], [10.0, 7.0, 7.0, 4.0])
    assert fit.slope == pytest.approx(-1.8) and 0 < fit.r2 < 1
    assert fit.failure_time_h == pytest.approx(fit.intercept / 1.8)


def test_tangent_angle_uniform_is_45():
    samples = [(T0 + t * H, 2.0 * t) for t in range(25)]
    assert tangent_angle(samples, 2.0, T0 + 24 * H, 6) == pytest.approx(45.0)


def test_tangent_angle_rises_as_the_slope_accelerates():
    samples = synthetic(range(0, 100))
    uniform = 0.12  # mm/h, a little above the initial 0.1 mm/h
    angles = [tangent_angle(samples, uniform, T0 + t * H, 1) for t in (10, 60, 90, 98)]
    assert angles == sorted(angles)
    assert [tangent_stage(a) for a in angles] == ["blue", "yellow", "orange", "red"]


def test_tangent_angle_edges():
    assert tangent_angle([], 1.0, T0, 6) is None
    assert tangent_angle([(T0, 1.0)], 1.0, T0, 6) is None
    assert tangent_angle([(T0 - 7 * H, 0.0), (T0, 1.0)], 1.0, T0, 6) is None  # one in window
    assert tangent_angle([(T0 - H, 0.0), (T0, 0.0)], 1.0, T0, 6) == 0.0  # at rest
    assert tangent_angle([(T0 - H, 1.0), (T0, 0.0)], 1.0, T0, 6) == pytest.approx(-45.0)
    with pytest.raises(ValueError, match="uniform_velocity_mm_h"):
        tangent_angle([(T0 - H, 0.0), (T0, 1.0)], 0.0, T0, 6)
    with pytest.raises(ValueError, match="window_h"):
        tangent_angle([(T0 - H, 0.0), (T0, 1.0)], 1.0, T0, 0)


# (angle in degrees, stage): Xu Qiang's Table 1 boundaries
STAGES = [
    (-10, "blue"),  # moving back
    (30, "blue"),  # slowing
    (45, "blue"),  # uniform
    (45.5, "yellow"),
    (79.9, "yellow"),
    (80, "orange"),
    (84.9, "orange"),
    (85, "red"),
    (89.9, "red"),
]


@pytest.mark.parametrize(("angle", "stage"), STAGES)
def test_tangent_stage(angle, stage):
    assert tangent_stage(angle) == stage


def test_tangent_stage_bounds_are_parameters():
    assert tangent_stage(50, yellow=55) == "blue"
    assert tangent_stage(86, red=88) == "orange"
