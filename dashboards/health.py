"""Pipeline health from Prometheus: input, rejections, rules, warnings, sinks and the broker.

Metric names: README, "Metrics" (``warning/metrics.py``). ``$__rate_interval`` is Grafana's
rate window (at least four scrape intervals).
"""

from __future__ import annotations

from typing import Any

from dashboards.grafana import (
    PROMETHEUS,
    Layout,
    dashboard,
    fixed_colour,
    prom,
    stat,
    steps,
    timeseries,
    value_names,
    variable,
)

UID = "hazard-pipeline"
JOB = 'job="hazard-warning"'
SEL = 'instance=~"$instance"'
RATE = "$__rate_interval"
HAZ = 'hazard=~"$hazard"'


def _q(metric: str, extra: str = "") -> str:
    return f"{metric}{{{SEL}{', ' + extra if extra else ''}}}"


def quantile(q: float) -> str:
    """A quantile of the warning delay over the rate window."""
    return (
        f"histogram_quantile({q}, sum by (le) "
        f"(rate({_q('hazard_warning_delay_seconds_bucket')}[{RATE}])))"
    )


def _now_row(layout: Layout) -> None:
    up = steps((None, "red"), (1, "green"))
    layout.row("Now")
    layout.add(
        stat(
            "Scraped",
            [prom(f"max(up{{{JOB}, {SEL}}})", "up", instant=True)],
            thresholds=up,
            mappings=_bool_names("down", "up"),
            text_mode="value",
        ),
        4,
        4,
    )
    layout.add(
        stat(
            "MQTT",
            [prom(f"min({_q('hazard_mqtt_connected')})", "connected", instant=True)],
            thresholds=up,
            mappings=_bool_names("disconnected", "connected"),
            text_mode="value",
        ),
        4,
        4,
    )
    layout.add(
        stat(
            "Rules loaded",
            [prom(f"min({_q('hazard_rules_loaded')})", "rules", instant=True)],
            thresholds=steps((None, "red"), (1, "green")),
            text_mode="value",
        ),
        4,
        4,
    )
    layout.add(
        stat(
            "Active warnings now",
            [prom(f"sum({_q('hazard_active_warnings', HAZ)})", "active", instant=True)],
            thresholds=steps((None, "green"), (1, "orange")),
            text_mode="value",
        ),
        4,
        4,
    )
    layout.add(
        stat(
            "Spool now",
            [prom(f"sum({_q('hazard_spool_bytes')})", "spooled", instant=True)],
            unit="bytes",
            thresholds=steps((None, "green"), (1, "orange")),
            text_mode="value",
        ),
        4,
        4,
    )
    layout.add(
        stat(
            "Pipeline alerts firing",
            [
                prom(
                    'count(ALERTS{alertstate="firing", alertname=~"Hazard.*"}) or vector(0)',
                    "firing",
                    instant=True,
                )
            ],
            thresholds=steps((None, "green"), (1, "red")),
            text_mode="value",
            description="Alerts of dashboards/prometheus/alerts.yml firing now.",
        ),
        4,
        4,
    )


def _bool_names(zero: str, one: str) -> list:
    return value_names({0: (zero, None), 1: (one, None)})


def _input_row(layout: Layout) -> None:
    layout.row("Input")
    layout.add(
        timeseries(
            "Ingest rate",
            [
                prom(f"sum(rate({_q('hazard_readings_received_total')}[{RATE}]))", "received"),
                prom(
                    f"sum by (kind) (rate({_q('hazard_readings_accepted_total')}[{RATE}]))",
                    "accepted {{kind}}",
                    ref="B",
                ),
            ],
            unit="reqps",
            legend_calcs=("mean", "max"),
            description="Messages taken from MQTT, and valid new readings by kind.",
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            "Rejected by reason",
            [
                prom(
                    f"sum by (reason) (rate({_q('hazard_readings_rejected_total')}[{RATE}]))",
                    "{{reason}}",
                )
            ],
            unit="reqps",
            legend_calcs=("max",),
            description="Dead-lettered messages per second, by reason (all reasons start at 0).",
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            "Rejected share",
            [
                prom(
                    f"sum(rate({_q('hazard_readings_rejected_total')}[{RATE}])) / "
                    f"sum(rate({_q('hazard_readings_received_total')}[{RATE}]))",
                    "rejected",
                )
            ],
            unit="percentunit",
            thresholds=steps((None, "green"), (0.05, "red")),
            description="Alert HazardRejectionRatioHigh above 5 % for 10 min.",
        ),
        8,
        8,
    )
    layout.add(
        timeseries(
            "Sequence gaps",
            [prom(f"sum(increase({_q('hazard_readings_seq_gap_total')}[{RATE}]))", "missing")],
            unit="none",
            legend_calcs=("sum",),
            description="Messages missing by the sensors' seq counters.",
        ),
        8,
        8,
    )
    layout.add(
        timeseries(
            "Duplicates",
            [prom(f"sum(increase({_q('hazard_readings_duplicate_total')}[{RATE}]))", "duplicates")],
            unit="none",
            legend_calcs=("sum",),
            description="Readings dropped as duplicates (same sensor and timestamp).",
        ),
        8,
        8,
    )


def _rules_row(layout: Layout) -> None:
    layout.row("Rules and warnings")
    layout.add(
        timeseries(
            "Warning delay",
            [
                prom(quantile(0.5), "p50"),
                prom(quantile(0.9), "p90", ref="B"),
                prom(quantile(0.99), "p99", ref="C"),
            ],
            unit="s",
            thresholds=steps((None, "green"), (5, "red")),
            legend_calcs=("mean", "max"),
            description="Wall time from a reading's arrival to its warning event. Alert "
            "HazardWarningDelayHigh when p99 > 5 s for 10 min.",
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            "Rule evaluations",
            [prom(f"sum(rate({_q('hazard_rule_evaluations_total')}[{RATE}]))", "evaluations")],
            unit="ops",
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            "Warning events",
            [
                prom(
                    f"sum by (hazard, event) (increase("
                    f"{_q('hazard_warning_events_total', HAZ)}[{RATE}]))",
                    "{{hazard}} {{event}}",
                )
            ],
            unit="none",
            bars=True,
            legend_calcs=("sum",),
        ),
        12,
        8,
    )
    layout.add(
        timeseries(
            "Active warnings by level",
            [prom(f"sum by (level) ({_q('hazard_active_warnings', HAZ)})", "{{level}}")],
            unit="none",
            steps_after=True,
            overrides=[fixed_colour(c, c) for c in ("blue", "yellow", "orange", "red")],
        ),
        12,
        8,
    )


def _output_row(layout: Layout) -> None:
    layout.row("Output")
    layout.add(
        timeseries(
            "Sink write failures",
            [
                prom(
                    f"sum by (sink) (increase({_q('hazard_sink_write_failures_total')}[{RATE}]))",
                    "{{sink}}",
                )
            ],
            unit="none",
            legend_calcs=("sum",),
            description="Failed writes (data kept or spooled). Alert HazardSinkFailing when "
            "failures go on for 5 min.",
        ),
        8,
        8,
    )
    layout.add(
        timeseries(
            "Spool",
            [prom(f"sum by (sink) ({_q('hazard_spool_bytes')})", "{{sink}}")],
            unit="bytes",
            description="Batches waiting on disk for InfluxDB. Alert HazardSpoolGrowing.",
        ),
        8,
        8,
    )
    layout.add(
        timeseries(
            "Spool dropped readings",
            [
                prom(
                    f"sum(increase({_q('hazard_spool_dropped_readings_total')}[{RATE}])) "
                    "or vector(0)",
                    "dropped",
                )
            ],
            unit="none",
            legend_calcs=("sum",),
            description="Readings dropped because the spool was full (warnings never are).",
        ),
        8,
        8,
    )
    layout.add(
        timeseries(
            "MQTT connection",
            [
                prom(f"min({_q('hazard_mqtt_connected')})", "connected"),
                prom(
                    f"sum(increase({_q('hazard_mqtt_connects_total')}[{RATE}]))",
                    "connects",
                    ref="B",
                ),
            ],
            unit="none",
            steps_after=True,
            description="1 while subscribed; connects counts (re)connections.",
        ),
        24,
        6,
    )


def build(timezone: str) -> dict[str, Any]:
    """The pipeline health dashboard."""
    layout = Layout()
    _now_row(layout)
    _input_row(layout)
    _rules_row(layout)
    _output_row(layout)
    # Prometheus takes regular expressions for multi-value variables: "All" is ".*" here.
    instance = variable(
        "instance",
        "Instance",
        f"label_values(hazard_readings_received_total{{{JOB}}}, instance)",
        datasource=PROMETHEUS,
        all_value=".*",
    )
    hazard = variable(
        "hazard",
        "Hazard",
        "label_values(hazard_active_warnings, hazard)",
        datasource=PROMETHEUS,
        all_value=".*",
    )
    return dashboard(
        UID,
        "Pipeline health",
        "The hazard-warning pipeline's own metrics: "
        "input, rejections, rules, warning delay, sinks, spool and the broker "
        "connection.",
        layout,
        tags=("pipeline",),
        variables=[instance, hazard],
        timezone=timezone,
        time_from="now-6h",
        refresh="30s",
    )
