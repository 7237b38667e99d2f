"""Per-sensor evaluation: deduplicate, keep windows, evaluate rules, step lifecycles."""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from mypy_extensions import mypyc_attr

from warning.anomaly import faults
from warning.anomaly.corroborate import NOT_KEPT, Held, Peer, PeerSeen, remember, support
from warning.anomaly.health import FellBack, Health, Monitor, Verdict
from warning.kinds import BUILTIN_KINDS, Kind
from warning.lang import DEFAULT, LANGUAGES, LEVEL_WORDS, pick, unit_word
from warning.legacy import fields_state, restore_fields
from warning.pipeline import lifecycle
from warning.pipeline.daily_fwi import NOON_TOLERANCE_MS, DailyFWI, fwi_step
from warning.pipeline.lifecycle import Episode
from warning.pipeline.nodata import Expire
from warning.records import (
    Forecast,
    IndicatorRecord,
    Level,
    Reading,
    Rejected,
    WarningEvent,
    format_duration_ms,
    parse_duration_ms,
    zone,
)
from warning.registry import Registry, place_name, region_name
from warning.rules import forecasts
from warning.rules.compile import Context
from warning.rules.expr import Ahead, walk
from warning.rules.forecasts import Track
from warning.rules.functions import FWI_FIELDS
from warning.rules.load import IndicatorSpec, Rule, RuleSet
from warning.rules.windows import Series
from warning.yamlfile import ConfigError, Problem


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True)
class SensorState:
    """Everything remembered about one sensor; plain data so bytewax can snapshot it."""

    watermark: int | None = None
    max_seq: int | None = None
    #: Timestamps taken within ``lateness`` of the watermark, in arrival order (duplicates).
    recent: array[int] = field(default_factory=lambda: array("q"))
    series: dict[str, Series] = field(default_factory=dict)
    episodes: dict[str, Episode] = field(default_factory=dict)
    fwi: DailyFWI | None = None
    health: Health | None = None  # detectors and faults (warning/anomaly), when enabled
    forecasts: dict[str, Track] = field(default_factory=dict)  # newest issue per field
    nowcasts: dict[str, Track] = field(default_factory=dict)  # the learned nowcast's
    peers: dict[str, PeerSeen] = field(default_factory=dict)  # neighbours' latest readings
    held: list[Held] = field(default_factory=list)  # warnings awaiting confirmation
    #: While a spike candidate awaits the next reading: its time and the episodes of the rules
    #: that read its field as they were before it, to go back to if it proves a spike.
    prespike: tuple[int, dict[str, Episode]] | None = None

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        """Restore a snapshot, also one of 0.2 (``recent_ts`` deque and ``recent_set``)."""
        old = restore_fields(self, state)
        if "recent_ts" in old:
            self.recent = array("q", old["recent_ts"])


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(frozen=True)
class Outcome:
    """What one reading produced: the accepted reading (or a rejection) and warning events."""

    reading: Reading | None
    rejected: Rejected | None
    events: tuple[WarningEvent, ...]
    seq_gap: int = 0
    duplicate: bool = False
    indicators: tuple[IndicatorRecord, ...] = ()
    forecast: Forecast | None = None  # a forecast taken into the state (to be stored)
    areas: tuple[Any, ...] = ()  # samples and marks for area rules (pipeline/areas.py)

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)

    def with_areas(self, areas: tuple[Any, ...]) -> Outcome:
        """Return this outcome with ``areas`` (dataclasses.replace costs ~3 us a reading)."""
        o = self
        return Outcome(
            o.reading, o.rejected, o.events, o.seq_gap, o.duplicate, o.indicators, o.forecast, areas
        )


class Evaluator:
    """Applies a rule set to one sensor's readings; holds no per-sensor state itself."""

    def __init__(
        self,
        rules: RuleSet,
        registry: Registry,
        lateness_ms: int,
        kinds: Mapping[str, Kind] = BUILTIN_KINDS,
        timezone: str = "Asia/Shanghai",
        monitor: Monitor | None = None,
    ):
        self.rules = rules
        self.monitor = monitor
        self.registry = registry
        self.lateness_ms = lateness_ms
        self.kinds = kinds
        self.timezone = timezone
        self._applicable: dict[tuple[str, str, str], tuple[Rule, ...]] = {}
        self._specs: dict[tuple[str, str, str], tuple[IndicatorSpec, ...]] = {}
        self._horizons: dict[tuple[str, str, str], dict[str, int]] = {}
        self._zones: dict[str, tzinfo] = {}
        #: One object for equal per-sensor answers (most sensors of a kind and region share
        #: their rules and horizons): a city's sensors hold references, not copies.
        self._shared: dict[Any, Any] = {}
        self._watches: dict[tuple[str, str, str], tuple[Any, Any, Any, Any]] = {}

    def applicable(self, sensor_id: str, kind: str, region: str) -> tuple[Rule, ...]:
        """Return the rules with level conditions that watch this sensor (cached)."""
        key = (sensor_id, kind, region)
        found = self._applicable.get(key)
        if found is None:
            found = tuple(
                r
                for r in self.rules.for_kind(kind)
                if r.levels and r.applies_to(sensor_id, kind, region)
            )
            found = self._applicable[key] = self._share(found)
        return found

    def _share(self, found: Any) -> Any:
        """Return the one held object equal to ``found`` (by rule identity and value)."""
        if isinstance(found, dict):
            key: Any = ("horizons", *sorted(found.items()))
        else:
            key = ("rules", *map(id, found))  # rules are held by the rule set meanwhile
        return self._shared.setdefault(key, found)

    def specs(self, sensor_id: str, kind: str, region: str) -> tuple[IndicatorSpec, ...]:
        """Return the indicator specs that watch this sensor (cached)."""
        key = (sensor_id, kind, region)
        found = self._specs.get(key)
        if found is None:
            found = self._specs[key] = self._share(
                tuple(s for s in self.rules.indicators if s.applies_to(sensor_id, kind, region))
            )
        return found

    def horizons(self, sensor_id: str, kind: str, region: str) -> dict[str, int]:
        """Return how far back each field of a sensor must be kept (cached).

        Only the rules, indicators and area rules that watch the sensor count: a gauge on the
        plain does not keep the 18 days of rain the hill counties' landslide rule looks at.
        """
        key = (sensor_id, kind, region)
        found = self._horizons.get(key)
        if found is None:
            found = {}
            areas = set(self.registry.areas_of(sensor_id, region))
            watchers: list[Any] = [
                *(r for r in self.rules.for_kind(kind) if r.applies_to(sensor_id, kind, region)),
                *self.specs(sensor_id, kind, region),
                *(
                    i
                    for a in self.rules.areas
                    if areas & set(a.areas)
                    for i in a.inputs
                    if kind in i.kinds
                ),
            ]
            for w in watchers:
                for name, ms in w.horizons.items():
                    found[name] = max(found.get(name, 0), ms)
            spec = self.kinds.get(kind)
            if spec is not None and set(FWI_FIELDS) <= spec.field_names:
                for name, ms in FWI_FIELDS.items():  # the daily FWI is always kept
                    found[name] = max(found.get(name, 0), ms + NOON_TOLERANCE_MS)
            found = self._horizons[key] = self._share(found)
        return found

    def zone_of(self, attrs: Mapping[str, Any]) -> tzinfo:
        """Return a sensor's time zone (registry ``tz``, else the configured one)."""
        name = str(attrs.get("tz") or self.timezone)
        found = self._zones.get(name)
        if found is None:
            found = self._zones[name] = zone(name)
        return found

    def _watch(
        self, sensor_id: str, kind: str, region: str
    ) -> tuple[dict[str, int], Mapping[str, Any], tuple[Rule, ...], tuple[IndicatorSpec, ...]]:
        """A sensor's horizons, registry entry, rules and indicator specs, in one lookup."""
        key = (sensor_id, kind, region)
        found = self._watches.get(key)
        if found is None:
            found = self._watches[key] = (
                self.horizons(sensor_id, kind, region),
                self.registry.attrs_for(sensor_id, kind, region),
                self.applicable(sensor_id, kind, region),
                self.specs(sensor_id, kind, region),
            )
        return found

    def forget(self, e: Expire) -> None:
        """Drop what the caches hold for a sensor whose state expired."""
        self._watches.pop((e.sensor_id, e.kind, e.region), None)
        self._applicable.pop((e.sensor_id, e.kind, e.region), None)
        self._specs.pop((e.sensor_id, e.kind, e.region), None)
        self._horizons.pop((e.sensor_id, e.kind, e.region), None)

    def take_forecast(self, state: SensorState, f: Forecast) -> Outcome:
        """Hold a forecast in ``state`` (newest issue wins); refuse a superseded or stale one."""
        held = state.nowcasts if f.issuer.startswith(NOWCAST_ISSUER) else state.forecasts
        reason = forecasts.take(held, f, state.watermark)
        if reason is None:
            return Outcome(None, None, (), forecast=f)
        detail = (
            f"issued {f.issued} ms is older than the issue already held"
            if reason == "superseded_forecast"
            else f"expired at {f.expires} ms, before the sensor's latest reading"
        )
        return Outcome(None, Rejected("", forecast_payload(f), reason, detail, f.sensor_id), ())

    def observe(self, state: SensorState, r: Reading, indicators: bool = True) -> Outcome:
        """Take one reading into ``state`` and return what it produced.

        Without ``indicators`` (no sink takes them) the indicator specs' records are not made.
        """
        lateness = self.lateness_ms
        wm = state.watermark
        if wm is not None and r.ts < wm - lateness:
            if _seen_seq(state, r.seq):
                # A message this sensor sent before, delivered again (at-least-once after a
                # restart or reconnect): a duplicate, not a clock fault.
                return Outcome(None, None, (), duplicate=True)
            return Outcome(
                None,
                Rejected(
                    "",
                    _reading_payload(r),
                    "late",
                    f"ts is {(wm - r.ts) / 1000:.0f} s behind the "
                    f"sensor's latest, over the {lateness // 1000} s "
                    f"allowance",
                    r.sensor_id,
                ),
                self._diagnose(state, r, wm).events,
            )
        recent = state.recent
        if r.ts in recent:
            return Outcome(None, None, (), duplicate=True)
        gap = _count_gap(state, r.seq)
        interval = (
            min(max(r.ts - wm, 60_000), 3_600_000) if wm is not None and r.ts > wm else 300_000
        )  # one report interval, for holding a warning ("wait")
        now = r.ts if wm is None or r.ts > wm else wm
        state.watermark = now
        recent.append(r.ts)
        cut = now - lateness
        if recent[0] < cut:  # forget from the oldest arrival on (r.ts itself stays)
            k = 1
            while recent[k] < cut:
                k += 1
            del recent[:k]
        horizons, attrs, rules, specs = self._watch(r.sensor_id, r.kind, r.region)
        for name, value in r.values.items():
            keep = horizons.get(name)
            if keep is None:
                continue
            s = state.series.get(name)
            if s is None:
                s = state.series[name] = Series()
            s.add(r.ts, value)
            s.trim(now - keep - lateness)
        verdict = self._diagnose(state, r, None, attrs)
        # A spike the next reading showed leaves the windows before anything reads them.
        withdraw = self._quarantine(state, r, verdict.fell_back) if verdict.fell_back else None
        records: list[IndicatorRecord] = []
        if "temp_c" in r.values:
            if state.fwi is None:
                state.fwi = DailyFWI()
            rec = fwi_step(state.fwi, r, state.series.get("rain_mm"), attrs, self.zone_of(attrs))
            if rec is not None:
                records.append(rec)
        released, withheld = self._resolve_by_reading(state, r) if state.held else ([], [])
        if not rules and not specs:
            return Outcome(r, None, (*verdict.events, *released), gap, indicators=tuple(records))
        if state.forecasts:
            forecasts.expire(state.forecasts, now)
        if state.nowcasts:
            forecasts.expire(state.nowcasts, now)
        ctx = Context(
            state.series,
            attrs,
            now,
            state.fwi.latest if state.fwi else None,
            state.health,
            state.forecasts,
            state.nowcasts,
        )
        for spec in specs:
            if not indicators and not spec.keeps_memo:
                continue
            values = {name: f(ctx) for name, f in spec.values}
            if indicators:
                records.append(IndicatorRecord(r.sensor_id, r.kind, r.region, now, spec.id, values))
        named = _noted(verdict.events, withheld) if withheld else verdict.events
        events = [*named, *released]
        saved, state.prespike = state.prespike, None
        # The rules' episodes before the spike this reading showed, if they were kept.
        redo = saved if withdraw is not None and saved and saved[0] == withdraw[0] else None
        kept: dict[str, Episode] | None = {} if verdict.candidate else None
        for rule in rules:
            before = state.episodes.get(rule.id)
            if kept is not None and any(f in r.values for f in rule.horizons):
                kept[rule.id] = before or lifecycle.QUIET
            if (
                redo is not None
                and withdraw is not None
                and rule.id in redo[1]
                and any(f in withdraw[1] for f in rule.horizons)
            ):
                event = self._withdraw(rule, state, ctx, r, attrs, redo, withdraw)
            else:
                event = self._evaluate(rule, state, ctx, r, attrs)
            if event is None:
                continue
            if "withdrawn" in event.texts.get(DEFAULT, {}):
                events.append(event)  # it rests on the fault now named, not on a suspect reading
            else:
                events.extend(self._certainty(state, r, event, verdict, attrs, interval, before))
        if kept:
            state.prespike = (r.ts, kept)
        return Outcome(r, None, tuple(events), gap, indicators=tuple(records))

    def _certainty(
        self,
        state: SensorState,
        r: Reading,
        event: WarningEvent,
        verdict: Verdict,
        attrs: Mapping[str, Any],
        interval: int,
        before: Episode | None = None,
    ) -> list[WarningEvent]:
        """Return the event as it goes out: Observed, Possible with its spike fault, or held."""
        if verdict.suspect is None:
            return [event]
        if verdict.spike is None or self.monitor is None or state.health is None:
            return [possible(event, verdict.suspect)]
        grave = (
            event.event in ("raised", "escalated")
            and event.level is not None
            and event.level >= Level.ORANGE
        )
        if grave and self.monitor.settings.confirm == "wait":
            name, x, median = verdict.spike
            state.held.append(
                Held(
                    event,
                    verdict.suspect,
                    name,
                    x,
                    median,
                    r.ts,
                    r.ts + interval,
                    r.kind,
                    before=before,
                )
            )
            return []
        if not grave:
            return [possible(event, verdict.suspect)]
        named = self.monitor.name_spike(state.health, r, verdict.spike, verdict.suspect, attrs)
        name, x, median = verdict.spike
        deadline = r.ts + self.monitor.settings.corroborate_ms
        state.held.append(
            Held(event, verdict.suspect, name, x, median, r.ts, deadline, r.kind, routed=True)
        )
        return [*named, possible(event, f"{verdict.suspect}; routed for confirmation")]

    def _resolve_by_reading(
        self, state: SensorState, r: Reading
    ) -> tuple[list[WarningEvent], list[str]]:
        """Release held warnings on the sensor's next reading: confirmed, or withheld.

        A routed warning whose early spike fault this reading took back (the value lasted) is
        confirmed; one whose spike this reading showed is withdrawn by its rule (the spike is
        quarantined). A held warning whose reading fell back is withheld: its episode goes
        back to where it was, and the spike fault says what it withheld (returned second).
        """
        spike = state.health.active.get("spike") if state.health else None
        named = spike is not None and spike.last == r.ts
        out = []
        withheld = []
        for h in state.held:
            if h.routed:
                if spike is None or spike.field != h.field:
                    out.extend(self._routed_confirmed(state, h, r.ts, "the next reading"))
            elif named and h.before == NOT_KEPT:  # held before 0.2's withholding
                out.append(possible(h.event, f"{h.why}; the next reading fell back (spike)"))
            elif named:
                e = h.event
                ep = state.episodes.get(e.rule_id)
                if ep is not None and ep.warning_id == e.warning_id and ep.level == e.level:
                    if h.before is None:
                        del state.episodes[e.rule_id]
                    else:
                        state.episodes[e.rule_id] = h.before
                withheld.append(f"{e.hazard} {e.level.colour if e.level else ''}".strip())
            else:
                out.append(_confirmed(h, "the next reading"))
        state.held = []
        return out, withheld

    def _routed_confirmed(
        self, state: SensorState, h: Held, ts: int, by: str
    ) -> list[WarningEvent]:
        """Confirm a warning routed as Possible: its early spike fault cleared, then Observed.

        Nothing goes out if the warning has moved on since (a later event says where it is).
        """
        ep = state.episodes.get(h.event.rule_id)
        if ep is None or ep.warning_id != h.event.warning_id or ep.level != h.event.level:
            return []
        out = []
        early = state.health.active.get("spike") if state.health else None
        if state.health is not None and early is not None and early.early:
            if early.field == h.field:
                del state.health.active["spike"]
                attrs = self.registry.attrs_for(h.event.subject, h.kind, h.event.region)
                out.append(
                    faults.cleared("spike", early, h.event.subject, h.event.region, ts, attrs)
                )
        e = h.event
        texts = {
            lang: {**t, "message": CONFIRMED.get(lang, CONFIRMED["en"]) + t["message"]}
            for lang, t in e.texts.items()
        }
        out.append(
            replace(
                e,
                event="confirmed",
                previous_level=e.level,
                ts=max(ts, e.ts),
                texts=texts,
                message=f"{CONFIRMED[DEFAULT]}{e.message} [routed for confirmation as Possible; "
                f"confirmed by {by}]",
            )
        )
        return out

    def _forgive_pending(self, state: SensorState, p: Peer) -> None:
        """Drop a spike candidate not yet named that a neighbour's later reading corroborates.

        A neighbour's reading of the same time often arrives just after the sensor's own: the
        candidate is then a real event, and the next reading must not name it a spike.
        """
        assert self.monitor is not None and state.health is not None
        if state.watermark is None:
            return
        attrs = self.registry.get(p.sensor_id) or {}
        kind = str(attrs.get("kind", p.reading.kind))
        for name, w in state.health.fields.items():
            pending = w.pending_spike if w.pending_spike is not None else w.lone
            if pending is None and w.jumped:
                pending = w.default.prev  # the default detector's jump, judged next reading
            if pending is None or any(h.field == name for h in state.held):
                continue  # a held or routed warning's candidate is judged with its warning
            st = w.robust.stats()
            median = st[0] if st is not None else 0.0
            who, _ = support(
                state.peers,
                kind,
                name,
                pending,
                median,
                state.watermark,
                self.monitor.settings,
            )
            if who is not None:
                self.monitor.forgive_spike(state.health, name)

    def peer(self, state: SensorState, p: Peer) -> Outcome:
        """Take a neighbour's reading: it may confirm a held warning, or show it overdue."""
        remember(state.peers, p.reading)
        if self.monitor is None or state.health is None:
            return Outcome(None, None, ())
        self._forgive_pending(state, p)
        if not state.held:
            return Outcome(None, None, ())
        out: list[WarningEvent] = []
        keep: list[Held] = []
        s = self.monitor.settings
        for h in state.held:
            who, seen = support(state.peers, h.kind, h.field, h.value, h.median, h.ts, s)
            if h.routed:
                if who is not None:
                    self.monitor.forgive_spike(state.health, h.field)
                    out.extend(self._routed_confirmed(state, h, p.reading.ts, f"neighbour {who}"))
                elif p.reading.ts <= h.deadline:
                    keep.append(h)
            elif who is not None:
                self.monitor.forgive_spike(state.health, h.field)
                out.append(_confirmed(h, f"neighbour {who}"))
            elif p.reading.ts > h.deadline:  # the sensor's next reading is overdue
                at = Reading(h.event.subject, h.kind, h.event.region, h.ts, {h.field: h.value})
                attrs = self.registry.attrs_for(h.event.subject, h.kind, h.event.region)
                out.extend(
                    self.monitor.name_spike(
                        state.health, at, (h.field, h.value, h.median), h.why, attrs
                    )
                )
                out.append(
                    possible(
                        h.event, f"{h.why}; no confirmation within one report interval ({seen})"
                    )
                )
            else:
                keep.append(h)
        state.held = keep
        return Outcome(None, None, tuple(out))

    def _diagnose(
        self,
        state: SensorState,
        r: Reading,
        late_watermark: int | None,
        attrs: Mapping[str, Any] | None = None,
    ) -> Verdict:
        """Run the anomaly monitor on an accepted reading, or on a late one (``late_watermark``)."""
        if self.monitor is None:
            return _NO_VERDICT
        if state.health is None:
            state.health = Health()
        if attrs is None:
            attrs = self.registry.attrs_for(r.sensor_id, r.kind, r.region)
        if late_watermark is not None:
            return self.monitor.late(state.health, r, late_watermark, attrs)
        s, peers = self.monitor.settings, state.peers
        return self.monitor.observe(
            state.health,
            r,
            attrs,
            lambda name, x, median: support(peers, r.kind, name, x, median, r.ts, s),
        )

    def _quarantine(
        self,
        state: SensorState,
        r: Reading,
        fell_back: tuple[FellBack, ...],
    ) -> tuple[int, frozenset[str], dict[str, str]] | None:
        """Put the median in place of each value this reading showed to be a spike.

        Returns the spike's time, the fields quarantined and why, for withdrawing the warning
        levels reached on them; None if no spike is held in the windows (nothing rests on it).
        """
        done = []
        for name, value, median, ts in fell_back:
            s = state.series.get(name)
            if s is not None and s.replace(ts, median) is not None:
                done.append((name, value, median, ts))
        if not done:
            return None
        when = self.zone_of(self.registry.attrs_for(r.sensor_id, r.kind, r.region))
        ts = min(d[3] for d in done)
        at = datetime.fromtimestamp(ts / 1000, when).strftime("%H:%M")
        en = ", ".join(f"{n} {v:g}" for n, v, _, _ in done)
        back = ", ".join(f"{m:g}" for _, _, m, _ in done)
        why = {
            "en": f"the reading it rested on was a sensor fault (spike: {en} at {at}, back near "
            f"{back} on the next reading, not seen by neighbours)",
            "zh-CN": f"所依据的读数为传感器故障（尖峰：{at} {en}，下一读数回落至约{back}，"
            "邻近站点未见）",
        }
        return ts, frozenset(d[0] for d in done), why

    def _withdraw(
        self,
        rule: Rule,
        state: SensorState,
        ctx: Context,
        r: Reading,
        attrs: Mapping[str, Any],
        saved: tuple[int, dict[str, Episode]],
        withdraw: tuple[int, frozenset[str], dict[str, str]],
    ) -> WarningEvent | None:
        """Step a rule as if the spike had never been; say what changes for officers.

        From the rule's episode before the spike, steps at the spike's time and now, on the
        cleaned windows. A level the cleaned history does not reach is withdrawn (``cleared`` or
        ``deescalated`` of the warning that went out, marked by ``withdrawn``); one it
        reaches anyway stands (the same warning); a higher one is an ordinary escalation.
        """
        announced = state.episodes.get(rule.id, lifecycle.QUIET)
        then = Context(
            ctx.series, ctx.sensor, saved[0], ctx.daily, ctx.health, ctx.forecasts, ctx.nowcasts
        )
        ep, _ = self._step(rule, saved[1][rule.id], then, r.sensor_id)
        ep, t = self._step(rule, ep, ctx, r.sensor_id)
        if announced.level is None:  # nothing went out on the spike: the cleaned step stands
            _put(state, rule.id, ep)
            return None if t is None else self._event(rule, t, r, ctx, attrs, ep)
        wid = announced.warning_id
        assert wid is not None
        if ep.level is not None:
            ep = replace(ep, warning_id=wid)
        _put(state, rule.id, ep)
        if ep.level == announced.level:
            return None
        if ep.level is not None and ep.level > announced.level:
            t = lifecycle.Transition("escalated", ep.level, announced.level, wid)
            return self._event(rule, t, r, ctx, attrs, ep)
        kind = "cleared" if ep.level is None else "deescalated"
        t = lifecycle.Transition(kind, ep.level, announced.level, wid)
        return withdrawn(self._event(rule, t, r, ctx, attrs, ep), withdraw[2])

    def _step(
        self, rule: Rule, ep: Episode, ctx: Context, subject: str
    ) -> tuple[Episode, lifecycle.Transition | None]:
        """Advance one rule's episode to ``ctx.now``: the level its conditions give."""
        target = _highest(rule, ctx)
        if target is None and ep is lifecycle.QUIET:
            return ep, None  # nothing holds and nothing is pending: step() would change nothing
        clear_ok = rule.clear is None or ep.level is None or rule.clear.test(ctx) is True
        new, t = lifecycle.step(
            ep,
            target,
            ctx.now,
            rule_id=rule.id,
            subject=subject,
            for_ms=rule.for_ms,
            hold_ms=rule.hold_ms,
            clear_ok=clear_ok,
        )
        if rule.looks_ahead and new.level is not None:
            # What observations alone give: below the warning's level, it is expected only.
            seen = _highest(rule, Context(ctx.series, ctx.sensor, ctx.now, ctx.daily, ctx.health))
            new, t = lifecycle.confirm(new, t, seen)
        return new, t

    def _evaluate(
        self, rule: Rule, state: SensorState, ctx: Context, r: Reading, attrs: Mapping[str, Any]
    ) -> WarningEvent | None:
        ep = state.episodes.get(rule.id, lifecycle.QUIET)
        new, t = self._step(rule, ep, ctx, r.sensor_id)
        if new is not ep:
            _put(state, rule.id, new)
        return None if t is None else self._event(rule, t, r, ctx, attrs, new)

    def _event(
        self,
        rule: Rule,
        t: lifecycle.Transition,
        r: Reading,
        ctx: Context,
        attrs: Mapping[str, Any],
        new: Episode,
    ) -> WarningEvent:
        return build_event(
            rule,
            t,
            r.sensor_id,
            r.region,
            ctx,
            attrs,
            r.received_at,
            new.expected and t.event != "cleared",
        )


def _put(state: SensorState, rule_id: str, ep: Episode) -> None:
    """Keep a rule's episode in the state (a quiet one is not kept)."""
    if ep == lifecycle.QUIET:
        state.episodes.pop(rule_id, None)
    else:
        state.episodes[rule_id] = ep


#: Nowcasts are forecasts whose issuer starts with this (the learned models' own).
NOWCAST_ISSUER = "nowcast"


def _highest(rule: Rule, ctx: Context) -> lifecycle.Level | None:
    """The highest level whose condition holds, if any."""
    for level, cond in rule.levels:
        if cond.test(ctx) is True:
            return level
    return None


def _ahead_hours(rule: Rule, level: lifecycle.Level) -> float:
    """How far ahead the level's condition looks, in hours (its longest forecast window)."""
    cond = dict(rule.levels).get(level)
    spans = (
        [sub.duration_ms for sub in walk(cond.node) if isinstance(sub, Ahead)]
        if cond is not None
        else []
    )
    return max(spans, default=0) / 3_600_000


def build_event(
    rule: Rule,
    t: lifecycle.Transition,
    subject: str,
    region: str,
    ctx: Context,
    attrs: Mapping[str, Any],
    received_at: float,
    expected: bool = False,
) -> WarningEvent:
    """Render a lifecycle transition of a threshold rule into a warning event.

    An ``expected`` level (reached in a forecast or nowcast, not yet in observations) says so
    in its message and has CAP certainty Likely.
    """
    values = {name: f(ctx) for name, f in rule.values}
    shown = t.level or t.previous
    fields = {
        "level": shown.colour if shown else "",
        "hazard": rule.hazard,
        "subject": subject,
        "region": region,
        "rule_id": rule.id,
        "event": t.event,
    }
    templates = rule.message.get(shown, {}) if shown else {}
    texts: dict[str, dict[str, Any]] = {}
    for lang in LANGUAGES:
        template = pick(templates, lang) if templates else None
        place = place_name(attrs, subject, lang)
        message = (
            template.render(ctx, values, {**fields, "language": lang})
            if template
            else f"{place}: {rule.hazard} {fields['level']}"
        )
        if t.event == "cleared":
            message = CLEARED[lang] + message
        elif expected and t.level is not None:
            message = (
                EXPECTED[lang].format(
                    level=LEVEL_WORDS[lang][t.level.colour], hours=_ahead_hours(rule, t.level)
                )
                + message
            )
        elif t.event == "confirmed":
            message = CONFIRMED[lang] + message
        instruction = pick(rule.instruction.get(t.level, {}), lang) if t.level else ""
        texts[lang] = {
            "message": message,
            "instruction": instruction,
            "place": place,
            "region": region_name(attrs, lang),
            "labels": {k: pick(rule.labels[k], lang) for k in values if rule.labels.get(k)},
            "units": {
                k: unit_word(pick(rule.units[k], lang), lang) for k in values if rule.units.get(k)
            },
        }
    default = texts[DEFAULT]
    return WarningEvent(
        t.warning_id,
        t.event,
        rule.id,
        rule.hazard,
        t.level,
        t.previous,
        subject,
        region,
        ctx.now,
        values,
        default["message"],
        default["instruction"],
        "Likely" if expected else "Observed",
        received_at,
        texts,
        decisive_measure(rule, t.level, ctx, values),
    )


#: How a cleared warning's message begins, per language.
CLEARED = {"zh-CN": "已解除：", "en": "Cleared: "}
#: How a forecast-driven warning's message begins (CMA: "expected to reach ... within N h").
EXPECTED = {
    "zh-CN": "预计{hours:g}小时内达到{level}预警标准：",
    "en": "Expected to reach {level} within {hours:g} h: ",
}
#: How a warning confirmed by observations begins, per language.
CONFIRMED = {"zh-CN": "已被实测证实：", "en": "Confirmed by observations: "}


def decisive_measure(
    rule: Rule, level: Level | None, ctx: Context, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the value that decided ``level`` against its threshold, or {} if none did."""
    if level is None:
        return {}
    candidates = rule.decisive.get(level, ())
    chosen = next((d for d in candidates if d.test(ctx) is True), None) or (
        candidates[0] if candidates else None
    )
    if chosen is None:
        return {}
    value, threshold = values.get(chosen.name), chosen.threshold(ctx)
    if (
        not isinstance(value, int | float)
        or not isinstance(threshold, int | float)
        or threshold != threshold
    ):
        return {}
    return {
        "name": chosen.name,
        "value": value,
        "op": chosen.op,
        "threshold": threshold,
        "level": level.colour,
    }


def may_expire(state: SensorState, e: Expire) -> bool:
    """Return whether a sensor's state may be dropped: unheard since the cutoff, nothing active.

    A warning raised or pending (any lifecycle episode) keeps the state, so it can still step
    down and clear when the sensor reports again.
    """
    return (
        (state.watermark is None or state.watermark <= e.cutoff)
        and not state.episodes
        and not (state.health is not None and state.health.active)
    )  # a fault warning is active


def longest_memory_ms(rules: RuleSet) -> int:
    """Return the longest event time the rules look back or wait: windows, for, hold, no_data."""
    longest = max(FWI_FIELDS.values()) + NOON_TOLERANCE_MS  # the daily FWI's day of data
    for rule in rules.rules:
        longest = max(
            longest,
            rule.for_ms,
            rule.hold_ms,
            *rule.horizons.values(),
            rule.no_data.after_ms if rule.no_data else 0,
        )
    for spec in rules.indicators:
        longest = max([longest, *spec.horizons.values()])
    for area_rule in rules.areas:  # area rules' per-sensor windows, for, hold and no_data
        longest = max(
            longest,
            area_rule.for_ms,
            area_rule.hold_ms,
            area_rule.fresh_ms,
            area_rule.no_data.after_ms if area_rule.no_data else 0,
            *(ms for i in area_rule.inputs for ms in i.horizons.values()),
        )
    return longest


def state_ttl_ms(ttl: str, lateness: str, rules: RuleSet) -> int:
    """Return ``pipeline.state_ttl`` in ms; raise ConfigError unless it outlasts the rules."""
    ttl_ms = parse_duration_ms(ttl)
    longest = longest_memory_ms(rules) + parse_duration_ms(lateness)
    if ttl_ms <= longest:
        raise ConfigError(
            [
                Problem(
                    "config",
                    1,
                    "",
                    "pipeline.state_ttl",
                    f"expected a duration over {format_duration_ms(longest)} "
                    f"(the rules' longest window, for, hold or no_data plus "
                    f"lateness), found {ttl!r}",
                )
            ]
        )
    return ttl_ms


_NO_VERDICT = Verdict(None)


def _confirmed(h: Held, by: str) -> WarningEvent:
    """Return a held event as it goes out once confirmed: Observed, saying by what."""
    minutes = (h.deadline - h.ts) // 60_000
    return replace(
        h.event,
        message=f"{h.event.message} [held up to {minutes} min for confirmation; confirmed by {by}]",
    )


def _noted(events: tuple[WarningEvent, ...], withheld: list[str]) -> tuple[WarningEvent, ...]:
    """Say in the spike fault raised now which held warnings it withheld."""
    out = []
    for e in events:
        if e.rule_id == f"{faults.HAZARD}_spike" and e.event == "raised":
            notes = {
                "en": f" [withheld the {', '.join(withheld)} warning(s) that rested on it]",
                "zh-CN": f"（依据该读数的{len(withheld)}条预警未予发布）",
            }
            texts = {
                lang: {**t, "message": f"{t.get('message', '')}{notes.get(lang, notes['en'])}"}
                for lang, t in e.texts.items()
            }
            e = replace(e, texts=texts, message=e.message + notes["en"])
        out.append(e)
    return tuple(out)


#: How a warning level withdrawn because it rested on a faulty reading begins, per language.
WITHDRAWN = {"zh-CN": "撤销：", "en": "Withdrawn: "}


def withdrawn(event: WarningEvent, why: Mapping[str, str]) -> WarningEvent:
    """Mark a clear or step down made because the level rested on a reading named a fault."""
    texts = {}
    for lang, t in event.texts.items():
        message = str(t.get("message", "")).removeprefix(CLEARED.get(lang, ""))
        texts[lang] = {
            **t,
            "message": f"{WITHDRAWN.get(lang, WITHDRAWN['en'])}{message} "
            f"[{why.get(lang, why['en'])}]",
            "withdrawn": why.get(lang, why["en"]),
        }
    message = event.message.removeprefix(CLEARED[DEFAULT])
    return replace(event, texts=texts, message=f"{WITHDRAWN[DEFAULT]}{message} [{why[DEFAULT]}]")


def possible(event: WarningEvent, why: str) -> WarningEvent:
    """Mark an event made on a suspect reading: CAP certainty ``Possible``, reason in text.

    The reason goes to the log message and, per language, to ``texts[lang]["suspect"]`` (CAP
    says it); notifications say "data suspect" from the certainty alone.
    """
    suspect = {"en": f"suspect reading, {why}", "zh-CN": "读数存疑，未获邻近站点印证，待核实"}
    texts = {
        lang: {**t, "suspect": suspect.get(lang, suspect["en"])} for lang, t in event.texts.items()
    }
    return replace(
        event,
        certainty="Possible",
        texts=texts,
        message=f"{event.message} [certainty Possible: {suspect['en']}]",
    )


def _seen_seq(state: SensorState, seq: int | None) -> bool:
    """Return True if a late reading's ``seq`` is one the sensor already sent.

    A restarted counter comes with current timestamps, so a late reading whose ``seq`` is not
    above the highest seen is a redelivery, whatever its value.
    """
    return seq is not None and state.max_seq is not None and seq <= state.max_seq


def _count_gap(state: SensorState, seq: int | None) -> int:
    if seq is None:
        return 0
    last = state.max_seq
    if last is None or seq > last:
        state.max_seq = seq
        return seq - last - 1 if last is not None and seq > last + 1 else 0
    if seq < last - 100_000 or seq <= 1 < last:
        state.max_seq = seq  # the sensor's counter restarted
    return 0


def forecast_payload(f: Forecast) -> dict[str, Any]:
    """The wire object of a forecast (times in epoch seconds), for dead letters."""
    return {
        "sensor_id": f.sensor_id,
        "kind": f.kind,
        "issuer": f.issuer,
        "issued": f.issued / 1000,
        "expires": f.expires / 1000,
        "series": [
            {"valid": t / 1000, "values": {k: v[i] for k, v in f.values.items()}}
            for i, t in enumerate(f.valid)
        ],
    }


def _reading_payload(r: Reading) -> dict[str, Any]:
    return {
        "sensor_id": r.sensor_id,
        "kind": r.kind,
        "ts": r.ts / 1000,
        "seq": r.seq,
        "values": r.values,
    }
