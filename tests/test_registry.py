"""The sensor registry: display names per language, for sensors and regions."""

from __future__ import annotations

import textwrap

import pytest

from warning.registry import load_registry, place_name, region_name
from warning.yamlfile import ConfigError

REGISTRY = """\
regions:
  anji: {zh-CN: 安吉县, en: Anji}
sensors:
  - {id: rg-aj-01, kind: rainfall, region: anji, name: {zh-CN: 天荒坪, en: Tianhuangping}}
  - {id: rg-wx-01, kind: rainfall, region: wuxing, name: Wuxing gauge}
"""


def _load(tmp_path, text):
    f = tmp_path / "sensors.yaml"
    f.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_registry(f)


def test_names_per_language_for_sensors_and_regions(tmp_path):
    reg = _load(tmp_path, REGISTRY)
    aj, wx = reg.get("rg-aj-01"), reg.get("rg-wx-01")
    assert [place_name(aj, "rg-aj-01", lang) for lang in ("zh-CN", "en", "zh")] == [
        "天荒坪",
        "Tianhuangping",
        "天荒坪",
    ]
    assert aj["name"] == "天荒坪 Tianhuangping"  # for logs, both
    assert (region_name(aj, "zh-CN"), region_name(aj, "en")) == ("安吉县", "Anji")
    # A single name serves every language; a region without names has none.
    assert place_name(wx, "rg-wx-01", "zh-CN") == "Wuxing gauge"
    assert region_name(wx, "zh-CN") == ""


def test_the_simulator_registry_names_every_sensor_and_region_in_both_languages():
    from sensors_sim.network import huzhou, registry

    doc = registry(huzhou())
    assert set(doc["regions"]) == {"wuxing", "nanxun", "deqing", "changxing", "anji"}
    for s in doc["sensors"]:
        assert set(s["name"]) == {"zh-CN", "en"}, s["id"]
        assert s["id"] not in s["name"].values()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "name: {zh-CN: 天荒坪, en: Tianhuangping}",
            "name: {zh-CN: 天荒坪, en: 3}",
            "sensor 'rg-aj-01': name: expected a text, or a text per language",
        ),
        (
            "anji: {zh-CN: 安吉县, en: Anji}",
            "anji: 安吉县",
            "region 'anji': expected a region id with a name per language",
        ),
    ],
)
def test_bad_names_are_located(tmp_path, old, new, message):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, REGISTRY.replace(old, new))
    assert any(message in str(p) for p in err.value.problems), err.value.problems
