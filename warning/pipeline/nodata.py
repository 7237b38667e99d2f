"""Silence detection: a sensor unheard for a rule's ``no_data`` time raises its own warning.

Runs in event time: ticks (watermarks) say how far time has advanced. A registered sensor that
never reports at all counts as silent from the first tick on.

With a state TTL, the shards also say which sensors have been unheard for that long: they emit
an ``Expire`` per sensor (once per silence), which the per-sensor state receives like a reading
and may drop itself on. A shard forgets an unregistered sensor at the same time unless one of
its silence warnings is active (it must still clear when the sensor comes back).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import lru_cache

from warning.lang import DEFAULT, LANGUAGES, pick
from warning.pipeline.lifecycle import warning_id
from warning.records import Seen, Tick, WarningEvent
from warning.registry import Registry, place_name, region_name
from warning.rules.compile import Context
from warning.rules.load import Rule, RuleSet

SHARDS = 16
SHARD_KEYS = tuple(f"silence-{i:02d}" for i in range(SHARDS))


@lru_cache(maxsize=65_536)
def shard_of(sensor_id: str, shards: int = SHARDS) -> str:
    """Return the silence shard key of a sensor (stable across processes)."""
    i = zlib.crc32(sensor_id.encode()) % shards
    return SHARD_KEYS[i] if shards == SHARDS else f"silence-{i:02d}"  # cached: one str per key


@dataclass(frozen=True, slots=True)
class Expire:
    """A sensor unheard since ``cutoff`` (event time) or before: its state may be dropped."""

    sensor_id: str
    kind: str
    region: str
    cutoff: int


@dataclass(slots=True)
class Heard:
    """What a shard knows of one sensor (slots: ~40 bytes a sensor less than a ``__dict__``)."""

    kind: str
    region: str
    last_ts: int | None
    active: dict[str, str] = field(default_factory=dict)  # silence rule id -> warning id
    expired: bool = False  # an Expire went out since it was last heard

    def __getstate__(self) -> dict:
        # The form pickled before the slots (a ``__dict__``): older code restores it too.
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: object) -> None:
        """Restore a snapshot: this form, or a ``__dict__`` one (before the slots)."""
        if isinstance(state, tuple):  # (None, {slot: value}) of __slots__
            state = {k: v for part in state for k, v in (part or {}).items()}
        assert isinstance(state, dict)
        self.kind, self.region, self.last_ts = state["kind"], state["region"], state["last_ts"]
        self.active = state.get("active", {})
        self.expired = state.get("expired", False)


@dataclass
class ShardState:
    """Sensors of one shard and the watermark reached (the least of every source's)."""

    sensors: dict[str, Heard] = field(default_factory=dict)
    watermark: int | None = None
    started: int | None = None
    sources: dict[str, int] = field(default_factory=dict)  # input partition -> its last tick

    def __setstate__(self, state: dict) -> None:
        # Snapshots taken before ticks named their partition have no ``sources``.
        self.__dict__.update({"sources": {}, **state})


#: How the message of a sensor reporting again begins, per language.
AGAIN = {"zh-CN": "已恢复报送：", "en": "Reporting again: "}


class NoDataWatch:
    """Applies the ``no_data`` parts of a rule set."""

    def __init__(
        self,
        rules: RuleSet,
        registry: Registry,
        shards: int = SHARDS,
        state_ttl_ms: int | None = None,
    ):
        self.rules = rules
        self.registry = registry
        self.shards = shards
        self.state_ttl_ms = state_ttl_ms
        self._rules: dict[tuple[str, str, str], tuple[Rule, ...]] = {}

    def silence_rules(self, sensor_id: str, kind: str, region: str) -> tuple[Rule, ...]:
        """Return the rules with ``no_data`` watching this sensor (cached)."""
        key = (sensor_id, kind, region)
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = tuple(
                r
                for r in self.rules.for_kind(kind)
                if r.no_data is not None and r.applies_to(sensor_id, kind, region)
            )
        return found

    def new_state(self, shard: str) -> ShardState:
        """Return a shard's first state, holding the registered sensors that belong to it."""
        state = ShardState()
        for sid, attrs in self.registry.sensors.items():
            if shard_of(sid, self.shards) == shard:
                state.sensors[sid] = Heard(
                    str(attrs.get("kind")), str(attrs.get("region", "unknown")), None
                )
        return state

    def observe(self, state: ShardState, item: Seen | Tick) -> list[WarningEvent | Expire]:
        """Take a sighting or a tick; return the silence warnings raised or cleared.

        With a state TTL, a tick also returns an ``Expire`` for each sensor unheard that long.
        """
        if isinstance(item, Seen):
            heard = state.sensors.get(item.sensor_id)
            if heard is None:
                heard = state.sensors[item.sensor_id] = Heard(item.kind, item.region, None)
            if heard.last_ts is not None and item.ts <= heard.last_ts:
                return []
            heard.last_ts = item.ts
            heard.expired = False
            out: list[WarningEvent | Expire] = []
            for rule in self.silence_rules(item.sensor_id, heard.kind, heard.region):
                wid = heard.active.pop(rule.silence_id, None)
                if wid is not None:
                    out.append(self._event(rule, "cleared", wid, item.sensor_id, heard, item.ts))
            return out
        # Each input partition ticks on its own; time has passed only where all have passed.
        last = state.sources.get(item.source)
        if last is not None and item.ts <= last:
            return []
        state.sources[item.source] = item.ts
        now = min(state.sources.values())
        if state.watermark is not None and now <= state.watermark:
            return []
        state.watermark = now
        if state.started is None:
            state.started = now
        out = []
        ttl = self.state_ttl_ms
        gone: list[str] = []
        for sid, heard in state.sensors.items():
            since = heard.last_ts if heard.last_ts is not None else state.started
            for rule in self.silence_rules(sid, heard.kind, heard.region):
                nd = rule.no_data
                assert nd is not None
                if rule.silence_id in heard.active or now - since < nd.after_ms:
                    continue
                at = since + nd.after_ms
                wid = warning_id(rule.silence_id, sid, at)
                heard.active[rule.silence_id] = wid
                out.append(self._event(rule, "raised", wid, sid, heard, at))
            # After the silence rules: a silence warning raised now keeps the sensor known.
            if (
                ttl is not None
                and heard.last_ts is not None
                and not heard.expired
                and item.ts - heard.last_ts >= ttl
            ):
                heard.expired = True
                out.append(Expire(sid, heard.kind, heard.region, item.ts - ttl))
                if sid not in self.registry.sensors and not heard.active:
                    gone.append(sid)
        for sid in gone:
            heard = state.sensors.pop(sid)
            self._rules.pop((sid, heard.kind, heard.region), None)
        return out

    def _event(
        self, rule: Rule, event: str, wid: str, sid: str, heard: Heard, ts: int
    ) -> WarningEvent:
        nd = rule.no_data
        assert nd is not None
        attrs = self.registry.attrs_for(sid, heard.kind, heard.region)
        fields = {
            "level": nd.level.colour,
            "hazard": nd.hazard,
            "subject": sid,
            "region": heard.region,
            "rule_id": rule.silence_id,
            "event": event,
        }
        raised = event == "raised"
        texts = {}
        for lang in LANGUAGES:
            message = pick(nd.message, lang).render(
                Context({}, attrs, ts), {}, {**fields, "language": lang}
            )
            texts[lang] = {
                "message": message if raised else AGAIN[lang] + message,
                "instruction": pick(nd.instruction, lang) if raised else "",
                "place": place_name(attrs, sid, lang),
                "region": region_name(attrs, lang),
                "labels": {},
                "units": {},
            }
        return WarningEvent(
            wid,
            event,
            rule.silence_id,
            nd.hazard,
            nd.level if raised else None,
            None if raised else nd.level,
            sid,
            heard.region,
            ts,
            {"silent_minutes": nd.after_ms / 60_000} if raised else {},
            texts[DEFAULT]["message"],
            texts[DEFAULT]["instruction"],
            "Observed",
            0.0,
            texts,
        )
