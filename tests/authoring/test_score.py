"""Scoring warning events against labels: hand-computed contingency tables, the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import storm
from warning.authoring.score import (
    Label,
    LabelError,
    episodes,
    format_lead,
    read_labels,
    score,
    table_rows,
)
from warning.cli import app

ROOT = Path(__file__).parents[2]
TZ = timezone(timedelta(hours=8))
T0 = datetime(2026, 7, 5, tzinfo=TZ)
H = 3_600_000


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def ms(hours: float) -> int:
    return round((T0 + timedelta(hours=hours)).timestamp() * 1000)


def label(
    subject: str, onset: float, end: float, level: str, hazard: str = "rainstorm", **extra
) -> dict:
    return {
        "subject": subject,
        "hazard": hazard,
        "onset": at(onset),
        "end": at(end),
        "level": level,
        **extra,
    }


def ep(
    wid: str,
    subject: str,
    steps: list[tuple[float, str]],
    cleared: float | None = None,
    hazard: str = "rainstorm",
) -> list[dict]:
    """Warning events of one episode: (hours, level) steps, then cleared."""
    out, previous = [], None
    for h, level in steps:
        kind = (
            "raised"
            if previous is None
            else (
                "escalated"
                if "blue yellow orange red".split().index(level)
                > "blue yellow orange red".split().index(previous)
                else "deescalated"
            )
        )
        out.append(
            {
                "warning_id": wid,
                "event": kind,
                "rule_id": hazard,
                "hazard": hazard,
                "level": level,
                "subject": subject,
                "ts": at(h),
            }
        )
        previous = level
    if cleared is not None:
        out.append(
            {
                "warning_id": wid,
                "event": "cleared",
                "rule_id": hazard,
                "hazard": hazard,
                "previous_level": previous,
                "subject": subject,
                "ts": at(cleared),
            }
        )
    return out


def labels_of(rows: list[dict], tmp_path: Path) -> list[Label]:
    p = tmp_path / "labels.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return read_labels(p)


# The hand-worked case (hours after 2026-07-05 00:00 +08:00, tolerance 1 h):
#   L1 rg-1 red    6..12   E1 rg-1 yellow 5:05, orange 7:15, red 8:15, orange 12:00, clear 16
#   L2 rg-2 yellow 3..5    E2 rg-2 orange 2:30, clear 4
#   L3 rg-3 orange 10..14  E3 rg-3 blue 9:00, clear 15        (under-warned: miss, not FA)
#   L4 rg-4 blue   1..2    (no warning: miss)
#                          E4 rg-5 yellow 3:00, clear 4        (no label: false alarm)
#                          E5 rg-1 blue 20:00, clear 21        (after L1: false alarm)
LABELS = [
    label("rg-1", 6, 12, "red", peak=at(9), scenario="storm", cause="convective"),
    label("rg-2", 3, 5, "yellow"),
    label("rg-3", 10, 14, "orange"),
    label("rg-4", 1, 2, "blue"),
]
EVENTS = (
    ep("E1", "rg-1", [(5 + 5 / 60, "yellow"), (7.25, "orange"), (8.25, "red"), (12, "orange")], 16)
    + ep("E2", "rg-2", [(2.5, "orange")], 4)
    + ep("E3", "rg-3", [(9, "blue")], 15)
    + ep("E4", "rg-5", [(3, "yellow")], 4)
    + ep("E5", "rg-1", [(20, "blue")], 21)
)

# row: hits, misses, false alarms, leads (s), worked out by hand from the table above
HAND = {
    # L1 red at 8:15 (lead 6:00-8:15), L2 orange at 2:30 (+30m); L3, L4 missed; E4, E5 FA
    "all": (2, 2, 2, [-8100, 1800]),
    # L1 at 5:05 (+55m), L2 +30m, L3 blue at 9:00 (+1h); L4 missed; E4, E5 FA
    "blue": (3, 1, 2, [3300, 1800, 3600]),
    # labels >= yellow: L1 (+55m), L2 (+30m) hit, L3 missed; E4 FA
    "yellow": (2, 1, 1, [3300, 1800]),
    # labels >= orange: L1 orange from 7:15 (-1h15m); L3 missed; E2's orange has no orange label
    "orange": (1, 1, 1, [-4500]),
    "red": (1, 0, 0, [-8100]),
}


@pytest.mark.parametrize("row", HAND)
def test_hand_computed_contingency_tables(row, tmp_path):
    s = score(labels_of(LABELS, tmp_path), EVENTS, tolerance_ms=H)
    r = s.rows["rainstorm"][row]
    hits, misses, fas, leads = HAND[row]
    assert (r.hits, r.misses, r.false_alarms) == (hits, misses, fas)
    assert sorted(r.leads_ms) == sorted(x * 1000 for x in leads)


def test_ratios_and_lead_statistics(tmp_path):
    s = score(labels_of(LABELS, tmp_path), EVENTS, tolerance_ms=H)
    d = s.to_dict()["hazards"]["rainstorm"]
    assert d["all"] == {
        "hits": 2,
        "misses": 2,
        "false_alarms": 2,
        "pod": 0.5,
        "far": 0.5,
        "csi": pytest.approx(2 / 6),
        "median_lead_s": -3150.0,
        "p10_lead_s": -7110.0,
        "worst_lead_s": -8100.0,
    }
    assert d["red"]["pod"] == 1.0 and d["red"]["far"] == 0.0 and d["red"]["csi"] == 1.0
    assert d["blue"]["median_lead_s"] == 3300.0 and d["blue"]["worst_lead_s"] == 1800.0
    assert d["orange"]["csi"] == pytest.approx(1 / 3)
    assert [f["warning_id"] for f in s.to_dict()["false_alarms"]] == ["E4", "E5"]
    out = {o["subject"]: (o["hit"], o["lead_s"]) for o in s.to_dict()["labels"]}
    assert out == {
        "rg-1": (True, -8100.0),
        "rg-2": (True, 1800.0),
        "rg-3": (False, None),
        "rg-4": (False, None),
    }


def test_levels_are_scored_against_when_the_label_reached_them(tmp_path):
    # L1 as above, but it reached yellow at 6:30, orange at 7:00 and red at 9:00: E1's yellow
    # (5:05) leads by 1h25m, orange (7:15) is 15 min late, red (8:15) 45 min early
    reached = {"blue": at(6), "yellow": at(6.5), "orange": at(7), "red": at(9)}
    lb = labels_of([label("rg-1", 6, 12, "red", reached=reached)], tmp_path)
    rows = score(lb, EVENTS, tolerance_ms=H).rows["rainstorm"]
    assert {k: r.leads_ms for k, r in rows.items()} == {
        "all": [2700_000],
        "blue": [3300_000],
        "yellow": [5100_000],
        "orange": [-900_000],
        "red": [2700_000],
    }


def test_lead_distribution_has_a_tenth_percentile():
    from warning.authoring.score import Row

    r = Row(hits=11, leads_ms=[x * 60_000 for x in range(-50, 60, 10)])
    assert (r.median_lead_s, r.p10_lead_s, r.worst_lead_s) == (0.0, -2400.0, -3000.0)


def test_lead_gain_compares_rows_of_two_scores(tmp_path):
    from warning.authoring.leadgain import lead_gain

    lb = labels_of([label("rg-1", 6, 12, "red")], tmp_path)
    late = ep("A", "rg-1", [(7, "red")], 13)
    early = ep("B", "rg-1", [(5, "orange"), (5.5, "red")], 13) + ep("C", "rg-2", [(1, "red")], 2)
    rows = {r[1]: r for r in lead_gain(score(lb, late, H), score(lb, early, H))}
    assert rows[">=red"] == (
        "rainstorm",
        ">=red",
        "-1h00m",
        "+30m",
        "+1h30m",
        "-1h00m",
        "+30m",
        "0.00",
        "0.50",
    )


def test_bad_reached_times_name_the_line(tmp_path):
    p = tmp_path / "labels.jsonl"
    p.write_text(json.dumps(label("rg-1", 6, 12, "red", reached={"purple": at(6)})) + "\n")
    with pytest.raises(LabelError, match=r"labels.jsonl:1: reached: a level among"):
        read_labels(p)
    p.write_text(json.dumps(label("rg-1", 6, 12, "red", reached=[at(6)])) + "\n")
    with pytest.raises(LabelError, match=r"labels.jsonl:1: reached: expected an object"):
        read_labels(p)


def test_tolerance_bounds_early_warnings(tmp_path):
    # a yellow warning raised and cleared 2 h before onset: a hit with 3 h tolerance only
    events = ep("E", "rg-1", [(1, "yellow")], 2)
    labels = labels_of([label("rg-1", 4, 6, "yellow")], tmp_path)
    assert score(labels, events, tolerance_ms=H).rows["rainstorm"]["all"].misses == 1
    assert score(labels, events, tolerance_ms=H).rows["rainstorm"]["all"].false_alarms == 1
    r = score(labels, events, tolerance_ms=3 * H).rows["rainstorm"]["all"]
    assert (r.hits, r.misses, r.false_alarms, r.leads_ms) == (1, 0, 0, [3 * H])


def test_active_warning_without_clear_covers_later_labels(tmp_path):
    # raised red long before the window and never cleared: a hit, lead from the raising
    events = ep("E", "rg-1", [(0, "red")])
    labels = labels_of([label("rg-1", 10, 12, "orange"), label("rg-1", 20, 22, "red")], tmp_path)
    r = score(labels, events, tolerance_ms=H).rows["rainstorm"]["all"]
    assert (r.hits, r.misses, r.false_alarms, sorted(r.leads_ms)) == (2, 0, 0, [10 * H, 20 * H])


def test_subject_and_hazard_must_match_and_other_hazards_are_not_scored(tmp_path):
    events = (
        ep("A", "rg-2", [(5, "red")], 8)
        + ep("B", "rg-1", [(5, "red")], 8, "landslide")
        + ep("C", "rg-9", [(1, "yellow")], 2, "sensor_silence")
    )
    s = score(labels_of([label("rg-1", 5, 7, "yellow")], tmp_path), events, tolerance_ms=H)
    r = s.rows["rainstorm"]["all"]
    assert (r.hits, r.misses, r.false_alarms) == (0, 1, 1)
    assert set(s.rows) == {"rainstorm"}
    assert s.unlabelled == {"landslide": 1, "sensor_silence": 1}


def test_empty_tables_have_undefined_ratios():
    s = score([], [], tolerance_ms=H)
    assert s.rows == {} and s.to_dict()["hazards"] == {}
    r = score([Label("rg-1", "rainstorm", ms(1), ms(2), 2)], []).rows["rainstorm"]["red"]
    assert (r.pod, r.far, r.csi, r.median_lead_s) == (None, None, None, None)


def test_episodes_follow_warning_ids():
    eps = episodes(EVENTS)
    assert [e.warning_id for e in eps] == ["E2", "E4", "E1", "E3", "E5"]
    e1 = next(e for e in eps if e.warning_id == "E1")
    assert e1.peak == 4 and e1.cleared == ms(16)
    assert e1.stretches(3) == [(ms(7.25), ms(16))]
    assert e1.stretches(4) == [(ms(8.25), ms(12))]


def test_label_reader_tolerates_extra_keys_and_names_bad_lines(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_text(
        json.dumps(label("rg-1", 1, 2, "red", peak=at(1.5), extra={"x": 1}))
        + "\n\n"
        + json.dumps({"subject": "rg-1", "hazard": "x", "onset": at(1), "level": "red"})
        + "\n"
    )
    with pytest.raises(LabelError, match=r"l.jsonl:3: end: expected this key"):
        read_labels(p)
    p.write_text(json.dumps(label("rg-1", 1, 2, "purple")) + "\n")
    with pytest.raises(LabelError, match=r"l.jsonl:1: a level among blue"):
        read_labels(p)
    p.write_text(json.dumps(label("rg-1", 1, 2, "red", peak=at(1.5), x=1)) + "\n")
    assert read_labels(p)[0].peak == ms(1.5)


def test_simulator_labels_hazards_are_read_and_faults_skipped(tmp_path):
    # the shape sensors_sim/labels.py writes
    p = tmp_path / "labels.jsonl"
    p.write_text(
        json.dumps(
            {
                "type": "hazard",
                "hazard": "rainstorm",
                "subject": "rg-aj-01",
                "onset": at(3),
                "onset_level": "blue",
                "peak": at(5),
                "level": "red",
                "end": at(9),
                "criterion": "CMA ...",
                "peak_values": {"rain_3h_mm": 131.2},
            }
        )
        + "\n"
        + json.dumps(
            {
                "type": "fault",
                "fault": "malformed",
                "subject": "rg-cx-01",
                "onset": at(1),
                "peak": at(1),
                "end": at(2),
                "level": None,
                "count": 6,
            }
        )
        + "\n"
    )
    assert read_labels(p) == [Label("rg-aj-01", "rainstorm", ms(3), ms(9), 4, ms(5))]


def test_table_rows_format():
    assert format_lead(-8100) == "-2h15m"
    rows = table_rows(
        score([Label("rg-1", "rainstorm", ms(6), ms(12), 4)], EVENTS[:5], tolerance_ms=H)
    )
    assert rows[0] == (
        "rainstorm",
        "all",
        "1",
        "0",
        "0",
        "1.00",
        "0.00",
        "1.00",
        "-2h15m",
        "-2h15m",
        "-2h15m",
    )
    assert [r[1] for r in rows] == ["all", ">=blue", ">=yellow", ">=orange", ">=red"]


STORM_LABELS = [
    # rg-1's storm: heavy rain 07:00-10:00; red reached at 08:15 (1 h 15 min late)
    {
        "subject": "rg-1",
        "hazard": "rainstorm",
        "onset": "2026-07-05T07:00:00+08:00",
        "peak": "2026-07-05T09:30:00+08:00",
        "end": "2026-07-05T10:00:00+08:00",
        "level": "red",
    },
    # rg-2 never reports: a miss
    {
        "subject": "rg-2",
        "hazard": "rainstorm",
        "onset": "2026-07-05T07:00:00+08:00",
        "end": "2026-07-05T10:00:00+08:00",
        "level": "yellow",
    },
]


def test_backtest_with_labels_writes_summary_and_table(tmp_path):
    result = storm.labelled_backtest(
        tmp_path, STORM_LABELS, "--summary", str(tmp_path / "summary.json")
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["hazards"]["rainstorm"]["all"] == {
        "hits": 1,
        "misses": 1,
        "false_alarms": 0,
        "pod": 0.5,
        "far": 0.0,
        "csi": 0.5,
        "median_lead_s": -4500.0,
        "p10_lead_s": -4500.0,
        "worst_lead_s": -4500.0,
    }
    # rg-3's drizzle in Deqing (2.4 mm/h) is below every landslide level: no landslide episode;
    # area rules (rules/compound.yaml) judge the gauges' counties too: wuxing's integrated risk
    assert summary["unlabelled_hazards"] == {"sensor_silence": 2, "integrated_risk": 1}
    assert "rainstorm" in result.output and "-1h15m" in result.output
    # Printed whole, never cut to 80 columns ("0.…" for a FAR): every header and ratio shows.
    table = result.output[result.output.index("backtest score") :]
    assert "…" not in table, table
    assert "lead min" in table and "0.50  0.00  0.50" in table, table
    # A few storm hours are not a year: the per-sensor-year rates say so.
    assert "less than a sensor-year watched" in " ".join(table.split()), table


def test_backtest_with_a_bad_labels_file_says_where_before_running(tmp_path):
    (tmp_path / "in.jsonl").write_text("")
    (tmp_path / "labels.jsonl").write_text('{"subject": "rg-1"}\n')
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--rules",
            str(ROOT / "rules"),
            "--input",
            str(tmp_path / "in.jsonl"),
            "--output",
            str(tmp_path / "o"),
            "--labels",
            str(tmp_path / "labels.jsonl"),
        ],
    )
    assert result.exit_code == 1
    assert "labels.jsonl:1: hazard: expected this key" in result.output
    assert not (tmp_path / "o").exists()


def test_summary_without_labels_is_refused(tmp_path):
    (tmp_path / "in.jsonl").write_text("")
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--rules",
            str(ROOT / "rules"),
            "--input",
            str(tmp_path / "in.jsonl"),
            "--output",
            str(tmp_path / "o"),
            "--summary",
            str(tmp_path / "s.json"),
        ],
    )
    assert result.exit_code == 2
    assert "--labels" in result.output


def test_backtest_report_is_one_html_file_with_a_plot_per_episode(tmp_path):
    import base64
    import re

    result = storm.labelled_backtest(tmp_path, STORM_LABELS, "--report", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    # 3 episodes (rainstorm rg-1, silence rg-2 and rg-3) + 1 missed label (rg-2)
    # + 1 area episode of rules/compound.yaml (wuxing's integrated risk)
    assert len(images) == 5
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "src='http" not in page and "<script" not in page  # self-contained
    assert "rainstorm/rg-1/20260704T210500Z" in page
    assert "red label hit by this warning, lead -1h15m" in page
    assert "missed: rainstorm yellow label on rg-2" in page
    assert "<td>rainstorm</td><td>all</td><td>1</td><td>1</td><td>0</td><td>0.50</td>" in page


def test_report_panels_say_what_each_episode_did(tmp_path):
    from warning.authoring.report import panels

    s = score(labels_of(LABELS, tmp_path), EVENTS, tolerance_ms=H)
    got = {p.title.split()[0]: p.verdict for p in panels(s, EVENTS, ms(24))}
    assert got == {
        "E2": "yellow label hit by this warning, lead +30m",
        "E4": "false alarm",
        "E1": "red label hit by this warning, lead -2h15m",
        "E3": "overlaps an orange label but stays below its level: the label is a miss",
        "E5": "false alarm",
        "missed:": "miss (no warning)",
    }


def test_backtest_shows_the_lead_gained_over_a_baseline_rule_set(tmp_path):
    # the baseline warns on 3 h sums only, from orange up
    (tmp_path / "late.yaml").write_text(
        "rules:\n  - id: rainstorm\n    hazard: rainstorm\n    for_kind: rainfall\n"
        '    levels:\n      red: "sum(rain_mm, 3h) >= 100"\n'
        '      orange: "sum(rain_mm, 3h) >= 50"\n'
    )
    result = storm.labelled_backtest(
        tmp_path,
        STORM_LABELS,
        "--baseline-rules",
        str(tmp_path / "late.yaml"),
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    gain = result.output.split("lead time against")[1]
    red = next(line.split() for line in gain.splitlines() if ">=red" in line)
    assert red[:5] == ["rainstorm", ">=red", "-1h15m", "-1h15m", "+0m"]
    blue = next(line.split() for line in gain.splitlines() if ">=blue" in line)
    # the shipped 12 h and 6 h sums warn long before the baseline's 3 h sum does
    assert blue[:5] == ["rainstorm", ">=blue", "-15m", "+1h55m", "+2h10m"]
