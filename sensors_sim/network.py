"""Sensor networks as plain data, and the registry that the warning service reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: Fields each kind reports, in wire order (DESIGN.md, "Standard fields by kind").
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "rainfall": ("rain_mm",),
    "reservoir": ("level_m",),
    "slope": ("displacement_mm",),
    "weather": ("temp_c", "rh_pct", "wind_kmh", "rain_mm"),
    "gas": ("lel_pct", "h2s_ppm"),
}


@dataclass(frozen=True)
class Sensor:
    """One field sensor: identity, place and the per-station thresholds rules compare against."""

    id: str
    kind: str
    name: str
    region: str
    lat: float
    lon: float
    tz: str = "Asia/Shanghai"
    name_en: str = ""  # the display name in English; ``name`` is the Chinese one
    # Pairs rather than a dict so that the dataclass stays hashable and immutable.
    thresholds: tuple[tuple[str, float], ...] = ()
    #: Registry links for nowcasts: ``upstream`` stations and the basin's ``rain_gauges``.
    links: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        """Reject kinds the simulator has no model for."""
        if self.kind not in KIND_FIELDS:
            msg = f"sensor {self.id}: kind must be one of {sorted(KIND_FIELDS)}; got {self.kind!r}"
            raise ValueError(msg)

    @property
    def fields(self) -> tuple[str, ...]:
        """The value fields this sensor reports."""
        return KIND_FIELDS[self.kind]

    def threshold(self, key: str) -> float:
        """Return the registry threshold ``key``, e.g. ``warning_level_m``."""
        return dict(self.thresholds)[key]


@dataclass(frozen=True)
class Group:
    """A named group of sensors: a catchment, a plant unit, a slope (an area of the registry)."""

    id: str
    name: str
    members: tuple[str, ...]
    region: str = ""
    name_en: str = ""


@dataclass(frozen=True)
class Network:
    """A named set of sensors with unique ids, and named groups of them."""

    name: str
    sensors: tuple[Sensor, ...]
    groups: tuple[Group, ...] = ()

    def __post_init__(self) -> None:
        """Reject duplicate sensor ids."""
        counts = Counter(s.id for s in self.sensors)
        duplicates = sorted(i for i, n in counts.items() if n > 1)
        if duplicates:
            msg = f"network {self.name}: duplicate sensor ids {duplicates}"
            raise ValueError(msg)
        ids = set(counts)
        for g in self.groups:
            unknown = sorted(set(g.members) - ids)
            if unknown:
                msg = f"network {self.name}: group {g.id} names unknown sensors {unknown}"
                raise ValueError(msg)

    def __iter__(self) -> Iterator[Sensor]:
        """Iterate over the sensors in declaration order."""
        return iter(self.sensors)

    def get(self, sensor_id: str) -> Sensor:
        """Return the sensor with id ``sensor_id``."""
        for sensor in self.sensors:
            if sensor.id == sensor_id:
                return sensor
        msg = f"network {self.name}: no sensor {sensor_id!r}"
        raise KeyError(msg)

    def regions(self) -> dict[str, str]:
        """Map each sensor id to its region, for building topics."""
        return {s.id: s.region for s in self.sensors}


def huzhou() -> Network:
    """Return the reference Huzhou network: gauges, water levels, slope, weather and gas."""

    def gauge(sid: str, name: str, name_en: str, region: str, lat: float, lon: float) -> Sensor:
        return Sensor(sid, "rainfall", name, region, lat, lon, name_en=name_en)

    # Coordinates are real place locations to about 1 km; they are not station surveys.
    sensors = (
        gauge("rg-wx-01", "湖州城区", "Huzhou city", "wuxing", 30.872, 120.094),
        gauge("rg-wx-02", "妙西", "Miaoxi", "wuxing", 30.826, 119.962),
        gauge("rg-nx-01", "南浔", "Nanxun", "nanxun", 30.873, 120.418),
        gauge("rg-dq-01", "莫干山", "Moganshan", "deqing", 30.606, 119.874),
        gauge("rg-dq-02", "武康", "Wukang", "deqing", 30.545, 119.968),
        gauge("rg-cx-01", "雉城", "Zhicheng", "changxing", 31.026, 119.910),
        gauge("rg-aj-01", "天荒坪", "Tianhuangping", "anji", 30.470, 119.600),
        gauge("rg-aj-02", "递铺", "Dipu", "anji", 30.638, 119.681),
        # Warning level from DOMAIN.md (2016 flood report, derived, unverified); the
        # guaranteed and historical-maximum levels are illustrative placeholders.
        Sensor(
            "wl-wx-01",
            "reservoir",
            "杭长桥",
            "wuxing",
            30.866,
            120.083,
            name_en="Hangchangqiao",
            thresholds=(
                ("warning_level_m", 4.50),
                ("guaranteed_level_m", 5.00),
                ("historical_max_m", 5.50),
            ),
            links=(
                ("upstream", ("rs-aj-01",)),
                ("rain_gauges", ("rg-aj-01", "rg-aj-02", "rg-dq-01", "rg-wx-02")),
            ),
        ),
        # Taihu warning 3.80 m and 小梅口 guaranteed 4.30 m from DOMAIN.md (unverified);
        # 4.97 m is the 1999 Taihu mean-level record, used here as an unverified stand-in.
        Sensor(
            "wl-wx-02",
            "reservoir",
            "太湖小梅口",
            "wuxing",
            30.937,
            120.087,
            name_en="Xiaomeikou (Taihu)",
            thresholds=(
                ("warning_level_m", 3.80),
                ("guaranteed_level_m", 4.30),
                ("historical_max_m", 4.97),
            ),
            links=(
                ("upstream", ("wl-wx-01",)),
                (
                    "rain_gauges",
                    (
                        "rg-aj-01",
                        "rg-aj-02",
                        "rg-dq-01",
                        "rg-dq-02",
                        "rg-wx-01",
                        "rg-wx-02",
                        "rg-cx-01",
                        "rg-nx-01",
                    ),
                ),
            ),
        ),
        # Flood-limit level is illustrative, not the reservoir's official figure.
        Sensor(
            "rs-aj-01",
            "reservoir",
            "老石坎水库",
            "anji",
            30.505,
            119.490,
            name_en="Laoshikan reservoir",
            thresholds=(("flood_limit_m", 128.00),),
            links=(("rain_gauges", ("rg-aj-01",)),),
        ),
        # Uniform-stage (creep) velocity for the tangent-angle rule: the model creeps at
        # ~0.04 mm/h before rain; 0.05 mm/h is this sensor's assumed long-term rate.
        Sensor(
            "sl-aj-01",
            "slope",
            "天荒坪边坡",
            "anji",
            30.474,
            119.606,
            name_en="Tianhuangping slope",
            thresholds=(("uniform_velocity_mm_h", 0.05),),
        ),
        Sensor(
            "ws-wx-01",
            "weather",
            "湖州气象站",
            "wuxing",
            30.867,
            120.050,
            name_en="Huzhou weather station",
        ),
        Sensor(
            "gs-cx-01",
            "gas",
            "长兴经开区气体探测器",
            "changxing",
            30.990,
            119.960,
            name_en="Changxing ETDZ gas detector",
        ),
        # A second detector on the same plant unit, ~40 m away: two detectors agreeing
        # confirm a leak (rules/compound.yaml, gas_unit_corroborated).
        Sensor(
            "gs-cx-02",
            "gas",
            "长兴经开区气体探测器2",
            "changxing",
            30.9903,
            119.9603,
            name_en="Changxing ETDZ gas detector 2",
        ),
    )
    groups = (
        # Named sensor groups (registry `areas:`); regions are areas without being listed.
        Group(
            "cx_etdz_unit1",
            "长兴经开区1号装置",
            ("gs-cx-01", "gs-cx-02"),
            "changxing",
            name_en="Changxing ETDZ unit 1",
        ),
        Group(
            "xitiaoxi_upper",
            "西苕溪上游",
            ("rg-aj-01", "rg-aj-02", "rs-aj-01"),
            "anji",
            name_en="Upper Xitiaoxi catchment",
        ),
        Group(
            "tianhuangping_slope",
            "天荒坪边坡",
            ("sl-aj-01", "rg-aj-01"),
            "anji",
            name_en="Tianhuangping slope",
        ),
    )
    return Network("huzhou", sensors, groups)


#: Shipped networks by name; a scenario names one of these.
NETWORKS: dict[str, Callable[[], Network]] = {"huzhou": huzhou}


def load_network(name: str) -> Network:
    """Return the shipped network called ``name``."""
    try:
        return NETWORKS[name]()
    except KeyError:
        msg = f"unknown network {name!r}; expected one of {sorted(NETWORKS)}"
        raise KeyError(msg) from None


#: Huzhou's districts and counties, by the region ids of the networks.
REGION_NAMES = {
    "wuxing": {"zh-CN": "吴兴区", "en": "Wuxing"},
    "nanxun": {"zh-CN": "南浔区", "en": "Nanxun"},
    "deqing": {"zh-CN": "德清县", "en": "Deqing"},
    "changxing": {"zh-CN": "长兴县", "en": "Changxing"},
    "anji": {"zh-CN": "安吉县", "en": "Anji"},
}


def registry(network: Network) -> dict[str, Any]:
    """Return ``{"regions": {...}, "sensors": [...], "areas": [...]}`` for ``network``, to dump."""
    out: dict[str, Any] = {
        "regions": {
            r: REGION_NAMES[r]
            for r in sorted({s.region for s in network.sensors})
            if r in REGION_NAMES
        },
        "sensors": [
            {
                "id": s.id,
                "kind": s.kind,
                "name": {"zh-CN": s.name, "en": s.name_en} if s.name_en else s.name,
                "region": s.region,
                "lat": s.lat,
                "lon": s.lon,
                "tz": s.tz,
                **dict(s.thresholds),
                **{key: list(ids) for key, ids in s.links},
            }
            for s in network.sensors
        ],
    }
    # A part of a network (a scenario's or a test's selection) keeps the groups it still has.
    present = {s.id for s in network.sensors}
    groups = [(g, [m for m in g.members if m in present]) for g in network.groups]
    if any(members for _, members in groups):
        out["areas"] = [
            {
                "id": g.id,
                "name": {"zh-CN": g.name, "en": g.name_en} if g.name_en else g.name,
                "sensors": members,
                "region": g.region,
            }
            for g, members in groups
            if members
        ]
    return out
