"""Scaling a scenario to many sensors, the fast file writer, and the plot command."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from typer.testing import CliRunner

from sensors_sim.__main__ import app
from sensors_sim.files import write_jsonl
from sensors_sim.generate import generate
from sensors_sim.scale import scaled, write_jsonl_fast
from sensors_sim.scenario import load_scenario


@pytest.mark.parametrize("name", ["storm", "typhoon", "plant_gas_leak", "quiet_day"])
def test_fast_writer_writes_the_same_bytes(name: str) -> None:
    """The array-at-once writer is byte-identical to writing generate()'s readings."""
    sc = scaled(load_scenario(name), 40)
    slow, fast = io.StringIO(), io.StringIO()
    assert write_jsonl(generate(sc), slow) == write_jsonl_fast(sc, fast)
    assert slow.getvalue() == fast.getvalue()


def test_fast_writer_refuses_stream_faults() -> None:
    """Reordering faults need the message-by-message path."""
    with pytest.raises(ValueError, match="reorder"):
        write_jsonl_fast(load_scenario("sensor_faults"), io.StringIO())


def test_scaled_network_has_unique_replicas_that_behave_like_their_templates() -> None:
    """Replicas keep kind and thresholds, get the template's events, and ids stay unique."""
    sc = scaled(load_scenario("typhoon"), 100)
    ids = [s.id for s in sc.network]
    assert len(ids) == len(set(ids)) == 100
    kinds = Counter(s.kind for s in sc.network)
    assert kinds["rainfall"] > 50 and kinds["reservoir"] > 15
    readings = list(generate(sc))
    main = sum(r["values"]["rain_mm"] for r in readings if r["sensor_id"] == "rg-aj-01")
    copy = sum(r["values"]["rain_mm"] for r in readings if r["sensor_id"] == "rg-aj-01~3")
    assert 0.8 * main < copy < 1.2 * main


def test_cli_generate_scales_and_reports_the_rate(tmp_path) -> None:
    """``generate --sensors N`` writes N sensors' readings and prints the readings/s."""
    out = tmp_path / "big.jsonl"
    result = CliRunner().invoke(
        app, ["generate", "-s", "storm", "--sensors", "200", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 200 * load_scenario("storm").steps
    assert "readings/s" in result.output


def test_cli_plot_writes_a_png(tmp_path) -> None:
    """``plot --scenario typhoon --output FILE`` writes a PNG image."""
    out = tmp_path / "typhoon.png"
    result = CliRunner().invoke(app, ["plot", "--scenario", "typhoon", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_level_replicas_are_driven_by_replica_gauges() -> None:
    """Replica k of a river gauge is driven by replica k of its rain gauges."""
    from sensors_sim.events import Level

    sc = scaled(load_scenario("typhoon"), 3 * len(load_scenario("typhoon").network.sensors))
    (level,) = [e for e in sc.events if isinstance(e, Level) and e.sensor == "wl-wx-01~2"]
    assert level.driven_by and all(g.endswith("~2") for g in level.driven_by)
