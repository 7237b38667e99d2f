"""Region geometry: the shipped Huzhou outlines hold their sensors; bad files are explained."""

from __future__ import annotations

import pytest

from sensors_sim.network import huzhou
from tests.notify.cap_helpers import ROOT
from warning.notify.cap.regions import contains, load_regions
from warning.yamlfile import ConfigError

REGIONS = ROOT / "deploy" / "regions.yaml"


def test_the_shipped_regions_cover_the_huzhou_network():
    regions = load_regions(REGIONS)
    assert set(regions) == {"wuxing", "nanxun", "deqing", "changxing", "anji"}
    for region in regions.values():
        assert region.polygon[0] == region.polygon[-1] and len(region.polygon) >= 4
        assert region.name_zh and region.name_en and region.code.startswith("3305")
    for sensor in huzhou():
        inside = {rid for rid, r in regions.items() if contains(r.polygon, sensor.lat, sensor.lon)}
        # each sensor lies in its own region's outline and in no other
        assert inside == {sensor.region}, (sensor.id, inside)


def test_a_point_outside_every_region():
    regions = load_regions(REGIONS)
    shanghai = (31.23, 121.47)
    assert not any(contains(r.polygon, *shanghai) for r in regions.values())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("regions: []\n", "expected a mapping with a 'regions' mapping, found"),
        (
            "regions:\n  a:\n    polygon: [[0, 0], [0, 1], [1, 1], [1, 0]]\n",
            "3: region 'a': polygon: expected a closed ring",
        ),
        (
            "regions:\n  a:\n    polygon: [[0, 0], [0, 1], [0, 0]]\n",
            "expected a list of at least 4 [lat, lon] points",
        ),
        (
            "regions:\n  a:\n    polygon: [[0, 0], [0, 1], [95, 1], [0, 0]]\n",
            "expected point #3 as [lat, lon] in degrees, found [95, 1]",
        ),
        ("regions:\n  a:\n    name: A\n", "3: region 'a': name: expected one of name_zh"),
        ("regions:\n  a:\n    code: 330502\n", "code: expected a text, found 330502"),
    ],
)
def test_bad_region_files_name_line_and_what_was_expected(tmp_path, text, words):
    path = tmp_path / "regions.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_regions(path)
    assert words in str(info.value)
