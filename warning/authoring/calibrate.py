"""Rainfall thresholds for landslides fitted from an event inventory: the frequentist method.

Brunetti et al. (2010, Nat. Hazards Earth Syst. Sci. 10:447) and Peruccacci et al. (2012,
Geomorphology 139-140:79): for each landslide, the rain event that triggered it at its gauge
gives a cumulated rain E (mm) and a duration D (h). Fit log10 E = log10 alpha + gamma log10 D
by least squares; take the residuals' distribution (a Gaussian fitted to their kernel density
estimate) and shift the line down to the exceedance probability p, below which p of the
triggering conditions lie: E = alpha_p D^gamma. The parameters' uncertainty comes from
bootstrap resampling of the conditions. The same threshold in intensity-duration form is
I = alpha_p D^(gamma - 1), which is what ``id_exceedance(rain_mm, a, b, window)`` checks.

The cumulative threshold of two periods (Chleborad 2000: P3 >= A - B P15, P3 the rain of the
3 days before the landslide day's end, P15 that of the 15 days before them) is fitted the same
way with the slope B held: the index P3 + B P15 of the landslides, its Gaussian, and the
intercept A at each exceedance probability, bootstrapped.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from warning.indicators.rainfall import HOUR_MS, rain_events


@dataclass(frozen=True)
class Landslide:
    """One inventory entry: the gauge that stands for its place and its day ``[start, end)``."""

    sensor_id: str
    start_ms: int
    end_ms: int
    line: int  # where it is in the inventory file
    place: str = ""


@dataclass(frozen=True)
class Condition:
    """The rain that triggered one landslide: cumulated rain and duration of its event."""

    landslide: Landslide
    rain_mm: float
    duration_h: float


@dataclass(frozen=True)
class Threshold:
    """E = alpha D^gamma at one exceedance probability, with bootstrap mean and spread."""

    probability: float
    alpha: float
    gamma: float
    alpha_sd: float
    gamma_sd: float

    @property
    def id_form(self) -> tuple[float, float]:
        """The ``(a, b)`` of I = a D^b (mm/h, h)."""
        return self.alpha, self.gamma - 1


@dataclass(frozen=True)
class Fit:
    """The thresholds, the conditions they came from and the residuals' Gaussian."""

    thresholds: tuple[Threshold, ...]
    conditions: tuple[Condition, ...]
    mu: float
    sigma: float
    bootstrap: int


@dataclass(frozen=True)
class Cumulative:
    """P3 >= A - B P15 at one exceedance probability; A's bootstrap spread."""

    probability: float
    intercept_mm: float
    intercept_sd: float
    slope: float


def antecedent_rain(
    rain: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    landslides: Sequence[Landslide],
    recent_ms: int = 72 * HOUR_MS,
    before_ms: int = 360 * HOUR_MS,
) -> list[tuple[Landslide, float, float]]:
    """Return ``(landslide, P3, P15)`` at the end of each landslide's day, with rain records.

    Sums cover ``(end - recent, end]`` and the ``before_ms`` ahead of it, as ``sum`` does.

    >>> h = 3_600_000
    >>> rain = {"g": ([10 * h, 80 * h, 90 * h], [4.0, 2.0, 1.0])}
    >>> [(p3, p15) for _, p3, p15 in antecedent_rain(rain, [Landslide("g", 72 * h, 96 * h, 2)])]
    [(3.0, 4.0)]
    """
    out = []
    for ls in landslides:
        ts, mm = rain.get(ls.sensor_id, ((), ()))
        if not ts or ts[0] >= ls.end_ms:
            continue
        mid, start = ls.end_ms - recent_ms, ls.end_ms - recent_ms - before_ms
        p3 = math.fsum(v for t, v in zip(ts, mm, strict=True) if mid < t <= ls.end_ms)
        p15 = math.fsum(v for t, v in zip(ts, mm, strict=True) if start < t <= mid)
        out.append((ls, round(p3, 9), round(p15, 9)))
    return out


def fit_cumulative(
    points: Sequence[tuple[Landslide, float, float]],
    probabilities: Sequence[float],
    slope: float,
    bootstrap: int = 1000,
    seed: int = 0,
) -> tuple[tuple[Cumulative, ...], float, float]:
    """Fit the intercept A of P3 = A - B P15 at each probability; return them, mean and sd.

    >>> pts = [(None, 10.0 + k, 30.0) for k in range(-3, 4)]  # index 30.1 + k
    >>> cums, mu, sd = fit_cumulative(pts, [0.5], 0.67, bootstrap=20)
    >>> round(cums[0].intercept_mm, 1), round(mu, 1)
    (30.1, 30.1)
    """
    if len(points) < 3:
        msg = f"expected at least 3 landslides with rain records, found {len(points)}"
        raise ValueError(msg)
    index = np.array([p3 + slope * p15 for _, p3, p15 in points])
    z = [NormalDist().inv_cdf(p) for p in probabilities]
    mu, sigma = _gaussian_of(index)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(bootstrap):
        m, s = _gaussian_of(index[rng.integers(0, len(index), len(index))])
        boot.append([m + s * q for q in z])
    sd = np.std(np.array(boot), axis=0, ddof=1) if len(boot) > 1 else [math.nan] * len(z)
    return (
        tuple(
            Cumulative(p, mu + sigma * q, float(sd[i]), slope)
            for i, (p, q) in enumerate(zip(probabilities, z, strict=True))
        ),
        mu,
        sigma,
    )


def triggering_conditions(
    rain: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    landslides: Sequence[Landslide],
    dry_gap_ms: int,
) -> tuple[list[Condition], list[tuple[Landslide, str]]]:
    """Return each landslide's triggering condition, and those without one with the reason.

    The triggering event is the latest rain event at the landslide's gauge that is still
    going on the landslide's day or ended less than ``dry_gap_ms`` before it; rain after the
    day's end is left out (the hour of failure is unknown, so the day's end is its bound).

    >>> h = 3_600_000
    >>> rain = {"g": ([0, h, 2 * h, 3 * h, 30 * h], [0.0, 5.0, 5.0, 10.0, 50.0])}
    >>> conds, skipped = triggering_conditions(rain, [Landslide("g", 0, 24 * h, 2)], 6 * h)
    >>> [(c.rain_mm, c.duration_h) for c in conds], skipped
    ([(20.0, 3.0)], [])
    """
    conditions, skipped = [], []
    for ls in landslides:
        ts, mm = rain.get(ls.sensor_id, ((), ()))
        cut = [i for i, t in enumerate(ts) if t < ls.end_ms]
        if not cut:
            skipped.append((ls, "no rain record at the gauge before the day's end"))
            continue
        events = rain_events([ts[i] for i in cut], [mm[i] for i in cut], dry_gap_ms)
        live = [e for e in events if e.end_ms >= ls.start_ms - dry_gap_ms]
        if not live:
            skipped.append((ls, "no rain event on the day or within the dry gap before it"))
            continue
        e = live[-1]
        conditions.append(Condition(ls, e.total_mm, max(e.duration_h, 1.0)))
    return conditions, skipped


def _gaussian_of(residuals: np.ndarray) -> tuple[float, float]:
    """Fit a Gaussian to the residuals' kernel density estimate; return its mean and sd."""
    mu, sd = float(residuals.mean()), float(residuals.std(ddof=1))
    if len(residuals) < 3 or not sd > 0:
        return mu, sd
    from scipy.optimize import OptimizeWarning, curve_fit
    from scipy.stats import gaussian_kde

    grid = np.linspace(residuals.min() - 3 * sd, residuals.max() + 3 * sd, 200)
    density = gaussian_kde(residuals)(grid)

    def gauss(x, a, m, s):
        return a * np.exp(-((x - m) ** 2) / (2 * s * s))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # the covariance is not used
            (_, m, s), _ = curve_fit(gauss, grid, density, p0=(density.max(), mu, sd), maxfev=5000)
    except RuntimeError:  # no convergence: the sample moments are the fallback
        return mu, sd
    return float(m), abs(float(s))


def _fit_once(
    log_d: np.ndarray, log_e: np.ndarray, probabilities: Sequence[float]
) -> tuple[float, list[float], float, float]:
    gamma, intercept = np.polyfit(log_d, log_e, 1)
    mu, sigma = _gaussian_of(log_e - (intercept + gamma * log_d))
    shifts = [mu + sigma * NormalDist().inv_cdf(p) for p in probabilities]
    return float(gamma), [float(10 ** (intercept + s)) for s in shifts], mu, sigma


def fit_thresholds(
    conditions: Sequence[Condition],
    probabilities: Sequence[float],
    bootstrap: int = 1000,
    seed: int = 0,
) -> Fit:
    """Fit E = alpha D^gamma at each exceedance probability (fractions, e.g. 0.05).

    >>> conds = [Condition(None, 10 * d ** 0.5 * f, d)
    ...          for d, f in [(2, 1.1), (5, 0.9), (10, 1.2), (20, 0.8), (40, 1.05), (80, 0.95)]]
    >>> t = fit_thresholds(conds, [0.5], bootstrap=50).thresholds[0]
    >>> round(t.gamma, 2), 9 < t.alpha < 11
    (0.47, True)
    """
    if len(conditions) < 3:
        msg = (
            f"expected at least 3 triggering conditions to fit a threshold, found {len(conditions)}"
        )
        raise ValueError(msg)
    for p in probabilities:
        if not 0 < p < 1:
            msg = f"exceedance probabilities must be in (0, 1), found {p!r}"
            raise ValueError(msg)
    log_d = np.log10([c.duration_h for c in conditions])
    log_e = np.log10([c.rain_mm for c in conditions])
    if np.ptp(log_d) == 0:
        msg = "every triggering condition has the same duration: no slope can be fitted"
        raise ValueError(msg)
    gamma, alphas, mu, sigma = _fit_once(log_d, log_e, probabilities)
    if not sigma > 1e-9:
        msg = (
            "the triggering conditions lie on one line (no spread of residuals): "
            "exceedance probabilities cannot be told apart"
        )
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    boot_g, boot_a = [], []
    for _ in range(bootstrap):
        pick = rng.integers(0, len(conditions), len(conditions))
        if np.ptp(log_d[pick]) == 0:
            continue
        g, a, _, _ = _fit_once(log_d[pick], log_e[pick], probabilities)
        boot_g.append(g)
        boot_a.append(a)
    g_sd = float(np.std(boot_g, ddof=1)) if len(boot_g) > 1 else math.nan
    a_sd = (
        np.std(np.array(boot_a), axis=0, ddof=1)
        if len(boot_a) > 1
        else [math.nan] * len(probabilities)
    )
    thresholds = tuple(
        Threshold(p, alphas[i], gamma, float(a_sd[i]), g_sd) for i, p in enumerate(probabilities)
    )
    return Fit(thresholds, tuple(conditions), mu, sigma, len(boot_g))


ORDER = ("red", "orange", "yellow", "blue")


def _head(rule_id: str, regions: Sequence[str], source: str) -> list[str]:
    lines = [f"  - id: {rule_id}", "    hazard: landslide", "    for_kind: rainfall"]
    if regions:
        lines.append(f"    regions: [{', '.join(regions)}]")
    return [*lines, f'    source: "{source}"', "    levels:"]


def snippet(
    fit: Fit,
    levels: Mapping[str, float],
    rule_id: str,
    regions: Sequence[str],
    window_h: int,
    provenance: Sequence[str],
    cumulative: Sequence[Cumulative] = (),
) -> str:
    """Return a rule file: one I-D level per candidate threshold, provenance as comments.

    ``levels`` maps level names to exceedance probabilities of ``fit`` (and of
    ``cumulative``, which, when given, becomes a second rule ``<rule_id>_cumulative``).
    """
    by_p = {t.probability: t for t in fit.thresholds}
    lines = [f"# {line}" for line in provenance]
    lines += [
        "# Frequentist method (Brunetti et al. 2010; Peruccacci et al. 2012):",
        "# E = alpha D^gamma (E mm, D h) fitted to the triggering conditions, shifted to",
        "# the exceedance probability; I-D form I = alpha D^(gamma - 1). Bootstrap sd:",
    ]
    for name, p in levels.items():
        t = by_p[p]
        lines.append(
            f"#   {name}: T{p * 100:g}%  alpha {t.alpha:.3f} +- {t.alpha_sd:.3f}, "
            f"gamma {t.gamma:.3f} +- {t.gamma_sd:.3f}"
        )
    source = f"calibrated: {provenance[0] if provenance else ''}"
    lines += ["rules:", *_head(rule_id, regions, source)]
    for name in sorted(levels, key=ORDER.index):
        a, b = by_p[levels[name]].id_form
        lines.append(f'      {name}: "id_exceedance(rain_mm, {a:.4g}, {b:.4g}, {window_h}h) >= 1"')
    lowest = min(levels, key=lambda n: levels[n])
    a, b = by_p[levels[lowest]].id_form
    lines += [
        "    hold: 3h",
        "    values:",
        f'      ratio: "id_exceedance(rain_mm, {a:.4g}, {b:.4g}, {window_h}h)"',
        f'    message: "{{sensor.name}}: event rain at {{ratio:.2f}} x the calibrated '
        f'T{levels[lowest] * 100:g}% threshold"',
    ]
    if cumulative:
        lines += _cumulative_rule(cumulative, levels, f"{rule_id}_cumulative", regions, source)
    return "\n".join(lines) + "\n"


def _cumulative_rule(
    cumulative: Sequence[Cumulative],
    levels: Mapping[str, float],
    rule_id: str,
    regions: Sequence[str],
    source: str,
) -> list[str]:
    by_p = {c.probability: c for c in cumulative}
    b = cumulative[0].slope
    p15 = "(sum(rain_mm, 18d) - sum(rain_mm, 3d))"
    lines = [
        "",
        "  # Cumulative 3-day/15-day threshold P3 >= A - B P15 (Chleborad 2000's form),",
        f"  # slope B = {b:g} held, intercept A fitted to the landslides' P3 + B P15 "
        "(bootstrap sd):",
    ]
    for name, p in levels.items():
        c = by_p[p]
        lines.append(
            f"  #   {name}: T{p * 100:g}%  A {c.intercept_mm:.1f} +- {c.intercept_sd:.1f} mm"
        )
    lines += _head(rule_id, regions, source)
    for name in sorted(levels, key=ORDER.index):
        a = by_p[levels[name]].intercept_mm
        lines.append(
            f'      {name}: "sum(rain_mm, 3d) > 0 and sum(rain_mm, 3d) >= {a:.1f} - {b:g} * {p15}"'
        )
    return [
        *lines,
        "    hold: 3h",
        "    values:",
        '      p3_mm: "sum(rain_mm, 3d)"',
        f'      p15_mm: "{p15}"',
        '    message: "{sensor.name}: {p3_mm:.0f} mm in 3 days after {p15_mm:.0f} mm in the '
        '15 days before"',
    ]
