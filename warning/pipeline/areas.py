"""Area rules in the pipeline: per-sensor values out of ``evaluate_rules``, judged per area.

Each accepted reading of a sensor that an area rule watches yields one ``AreaSample`` per area
(its per-sensor expressions, computed over the sensor's own windows); each sensor warning event
yields an ``AreaMark``. Both are re-keyed by area into ``evaluate_areas``, whose state holds the
area's latest values per sensor, the active warnings and the area rules' episodes.

Items of different sensors reach the area step in an order that depends on workers and
batches (a keyed step emits a batch grouped by key). Watermark ticks are therefore sent
through ``evaluate_rules`` too, once to each registered member of a watched area: the
``AreaProgress`` that comes out follows everything that sensor produced before the tick. An
area applies its held items, sorted by (time, marks before samples, sensor), up to the
slowest member's progress, evaluating once per distinct item time and once per tick. The same
readings thus give the same area warnings in ``run`` and ``backtest`` with any number of
workers; at the end of the input everything held is evaluated.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bytewax.operators import StatefulLogic

from warning.anomaly.faults import HAZARD as FAULT_HAZARD
from warning.lang import DEFAULT, LANGUAGES, pick
from warning.legacy import restore_fields
from warning.pipeline import lifecycle
from warning.pipeline.evaluate import CLEARED, possible, withdrawn
from warning.records import Level, Reading, Tick, WarningEvent, parse_duration_ms
from warning.registry import Registry, place_name, region_name
from warning.rules.area_load import AreaInput, AreaRule
from warning.rules.areas import AreaView, evaluate
from warning.rules.compile import Context
from warning.rules.load import RuleSet
from warning.yamlfile import ConfigError, Problem


@dataclass(frozen=True, slots=True)
class AreaSample:
    """A sensor's per-sensor values for one area, at the sensor's event time."""

    area: str
    sensor_id: str
    kind: str
    ts: int
    values: dict[str, Any]
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class AreaTick:
    """A batch's watermark ticks sent to one sensor's key, to come out behind its items."""

    sensor_id: str
    ticks: tuple[int, ...]
    source: str = ""
    received_at: float = 0.0  # arrival of the batch's newest reading (the delay metric)


@dataclass(frozen=True, slots=True)
class AreaProgress:
    """A member sensor of an area has told the area everything up to event time ``ts``."""

    area: str
    sensor_id: str
    ticks: tuple[int, ...]  # the tick times, the last the progress
    source: str = ""
    received_at: float = 0.0

    @property
    def ts(self) -> int:
        """The event time the member has told everything up to."""
        return self.ticks[-1]


@dataclass(frozen=True, slots=True)
class AreaMark:
    """A sensor warning's level (None once cleared), told to an area it lies in."""

    area: str
    rule_id: str
    hazard: str
    subject: str
    level: Level | None
    ts: int
    received_at: float = 0.0
    certainty: str = "Observed"
    #: Why the warning was withdrawn (it rested on a reading named a fault), per language.
    withdrawn: tuple[tuple[str, str], ...] = ()

    def __setstate__(self, state: object) -> None:
        """Restore a mark, also one pickled before ``withdrawn`` (a shorter list of values)."""
        restore_fields(self, state)


class AreaSampler:
    """Computes, in a sensor's own state, what area rules need of it."""

    def __init__(self, rules: RuleSet, registry: Registry, shift_ms: int = 0):
        self.rules = rules.areas
        #: Ticks trail the newest reading by the lateness; area progress may trail it by
        #: less (``pipeline.area_hold``): tick times are moved forward by the difference.
        self.shift_ms = shift_ms
        self.registry = registry
        self.watched = frozenset(a for r in self.rules for a in r.areas)
        #: Registered sensors of the watched areas: each gets the ticks (``AreaTick``).
        self.members = tuple(sorted({m for a in self.watched for m in registry.members(a)}))
        self._areas_of: dict[tuple[str, str], tuple[str, ...]] = {}
        self._inputs: dict[tuple[str, str, str], tuple[tuple[str, tuple[AreaInput, ...]], ...]] = {}

    def areas_of(self, sensor_id: str, region: str) -> tuple[str, ...]:
        """Return the watched areas a sensor belongs to (cached)."""
        key = (sensor_id, region)
        found = self._areas_of.get(key)
        if found is None:
            found = self._areas_of[key] = tuple(
                a for a in self.registry.areas_of(sensor_id, region) if a in self.watched
            )
        return found

    def inputs(
        self, sensor_id: str, kind: str, region: str
    ) -> tuple[tuple[str, tuple[AreaInput, ...]], ...]:
        """Return, per watched area of a sensor, the per-sensor expressions for its kind."""
        key = (sensor_id, kind, region)
        found = self._inputs.get(key)
        if found is None:
            out = []
            for area in self.areas_of(sensor_id, region):
                seen: dict[str, AreaInput] = {}
                heard = False  # whether a rule of the area needs to hear this sensor at all
                for rule in self.rules:
                    if area in rule.areas and kind in rule.kinds and rule.counts_sensors:
                        heard = True
                        for i in rule.inputs:
                            if kind in i.kinds:
                                seen.setdefault(i.key, i)
                if heard:
                    out.append((area, tuple(seen.values())))
            found = self._inputs[key] = tuple(out)
        return found

    def progress(self, t: AreaTick) -> tuple[AreaProgress, ...]:
        """Return the progress of a member sensor for each watched area it belongs to."""
        attrs = self.registry.get(t.sensor_id) or {}
        return tuple(
            AreaProgress(a, t.sensor_id, t.ticks, t.source, t.received_at)
            for a in self.areas_of(t.sensor_id, str(attrs.get("region", "")))
        )

    def ticks(self, items: list[Any]) -> list[AreaTick]:
        """A batch's watermark ticks, one item per member sensor of a watched area and source."""
        by_source: dict[str, list[int]] = {}
        received = 0.0
        for i in items:
            if isinstance(i, Tick):
                by_source.setdefault(i.source, []).append(i.ts)
            elif isinstance(i, Reading) and i.received_at > received:
                received = i.received_at
        shift = self.shift_ms
        return [
            AreaTick(m, tuple(t + shift for t in ts), src, received)
            for src, ts in by_source.items()
            for m in self.members
        ]

    def items(
        self, state: Any, r: Reading, accepted: bool, events: Iterable[WarningEvent]
    ) -> tuple[AreaSample | AreaMark, ...]:
        """Return the samples of an accepted reading and the marks of its warning events."""
        if not self.rules:
            return ()
        out: list[AreaSample | AreaMark] = []
        if accepted:
            per_area = self.inputs(r.sensor_id, r.kind, r.region)
            if per_area:
                now = state.watermark
                attrs = self.registry.attrs_for(r.sensor_id, r.kind, r.region)
                ctx = Context(
                    state.series, attrs, now, state.fwi.latest if state.fwi else None, state.health
                )
                values: dict[str, Any] = {}
                for area, inputs in per_area:
                    for i in inputs:
                        if i.key not in values:
                            values[i.key] = i.test(ctx)
                    out.append(
                        AreaSample(
                            area,
                            r.sensor_id,
                            r.kind,
                            now,
                            {i.key: values[i.key] for i in inputs},
                            r.received_at,
                        )
                    )
        for e in events:
            if e.hazard == FAULT_HAZARD:  # data quality is no hazard of the area
                continue
            for area in self.areas_of(e.subject, e.region):
                out.append(
                    AreaMark(
                        area,
                        e.rule_id,
                        e.hazard,
                        e.subject,
                        e.level,
                        e.ts,
                        e.received_at,
                        e.certainty,
                        _withdrawn(e),
                    )
                )
        return tuple(out)


@dataclass
class AreaState:
    """One area's state: held-back items, latest values per sensor, warnings and episodes."""

    area: str = ""
    pending: list[tuple[tuple[Any, ...], Any]] = field(default_factory=list)
    done: int | None = None  # event time evaluated through
    #: (member sensor, source partition) -> event time it has told everything up to
    progress: dict[tuple[str, str], int] = field(default_factory=dict)
    horizon: int | None = None  # the slowest member's progress
    points: set[int] = field(default_factory=set)  # tick times not yet evaluated
    started: int | None = None  # first evaluation time (silence counts from here at most)
    sensors: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    heard: dict[str, int] = field(default_factory=dict)  # kind -> newest reading time
    warnings: dict[tuple[str, str], tuple[str, Level]] = field(default_factory=dict)
    #: The active warnings of ``warnings`` whose latest event was ``Possible`` (suspect data).
    possible: set[tuple[str, str]] = field(default_factory=set)
    #: Why a warning this area holds was withdrawn (it rested on a sensor fault), until the
    #: area is next evaluated.
    withdrawn: tuple[tuple[str, str], ...] = ()
    episodes: dict[str, lifecycle.Episode] = field(default_factory=dict)
    late: int = 0  # items that came after their time was evaluated
    received_at: float = 0.0  # newest arrival behind the items, for the delay metric only


@dataclass
class _Low:
    """An area's slowest progress, as of ``progress`` (an ``AreaState.progress`` dict)."""

    progress: dict[tuple[str, str], int]
    sources: set[str]
    members: frozenset[str]
    missing: int = 0  # (member, source) pairs with no progress yet
    time: int | None = None
    at: set[tuple[str, str]] = field(default_factory=set)


def _order(item: Any) -> tuple[Any, ...]:
    """Sort key: time, then marks before samples before ticks, then subject and rule."""
    if isinstance(item, int):
        return (item, 2, "", "")  # an evaluation time: the area's horizon
    if isinstance(item, AreaMark):
        return (item.ts, 0, item.subject, item.rule_id)
    if isinstance(item, AreaSample):
        return (item.ts, 1, item.sensor_id, "")
    raise TypeError(item)


class AreaWatch:
    """Evaluates the area rules of one area over its state; pure apart from the state."""

    def __init__(self, rules: RuleSet, registry: Registry):
        self.rules = rules
        self.registry = registry
        self.by_area: dict[str, list[AreaRule]] = {}
        for rule in rules.areas:
            for area in rule.areas:
                self.by_area.setdefault(area, []).append(rule)
        self.members = {a: registry.members(a) for a in self.by_area}
        self.keep_ms = max(
            (max(r.fresh_ms, r.no_data.after_ms if r.no_data else 0) for r in rules.areas),
            default=0,
        )
        self._low: dict[str, _Low] = {}  # per area: the slowest members (``_slowest``)
        #: The view of each (area, rule) at its latest evaluation, for ``rules explain``.
        self.last_view: dict[tuple[str, str], tuple[int, AreaView]] = {}

    def observe(
        self, state: AreaState, area: str, item: AreaSample | AreaMark | AreaProgress
    ) -> list[WarningEvent]:
        """Take one item; return the warning events of the times it allows to be evaluated."""
        if item.received_at > state.received_at:
            state.received_at = item.received_at
        if isinstance(item, AreaProgress):
            key = (item.sensor_id, item.source)
            before = state.progress.get(key)
            state.progress[key] = item.ts if before is None else max(item.ts, before)
            state.points.update(t for t in item.ticks if state.horizon is None or t > state.horizon)
            members = self.members.get(area, ())
            if not members:
                return []
            horizon = self._slowest(state, area, members, key, before)
            if horizon is None:
                return []
            if state.horizon is not None and horizon <= state.horizon:
                return []
            state.horizon = horizon
            for t in sorted(p for p in state.points if p <= horizon):
                state.pending.append((_order(t), t))  # every tick time is evaluated
                state.points.discard(t)
            return self._release(state, area, horizon)
        if state.done is not None and item.ts <= state.done:
            state.late += 1
            self.apply(state, item)  # counts from the next evaluation on
            return []
        state.pending.append((_order(item), item))
        if state.horizon is not None and item.ts <= state.horizon:
            return self._release(state, area, state.horizon)
        return []

    def _slowest(
        self,
        state: AreaState,
        area: str,
        members: tuple[str, ...],
        key: tuple[str, str],
        before: int | None,
    ) -> int | None:
        """The slowest progress of any member from any source, None while one has none.

        Kept per area as the lowest time and the keys at it, so one member's progress costs
        O(1) and the members are scanned again only when the last of the slowest moved on.
        """
        low = self._low.get(area)
        if low is None or low.progress is not state.progress or key[1] not in low.sources:
            return self._rescan(state, area, members)
        if key[0] not in low.members:
            return low.time if low.missing == 0 else None
        if low.missing:
            if before is None:
                low.missing -= 1
                if low.missing == 0:
                    return self._rescan(state, area, members)
            return None
        if key in low.at and before is not None and state.progress[key] > before:
            low.at.discard(key)
            if not low.at:
                return self._rescan(state, area, members)
        return low.time

    def _rescan(self, state: AreaState, area: str, members: tuple[str, ...]) -> int | None:
        progress = state.progress
        low = self._low[area] = _Low(progress, {src for _, src in progress}, frozenset(members))
        for src in low.sources:
            for m in low.members:
                t = progress.get((m, src))
                if t is None:
                    low.missing += 1
                elif low.time is None or t < low.time:
                    low.time, low.at = t, {(m, src)}
                elif t == low.time:
                    low.at.add((m, src))
        return low.time if low.missing == 0 else None

    def flush(self, state: AreaState, area: str) -> list[WarningEvent]:
        """Evaluate everything held back (the input has ended)."""
        return self._release(state, area, 2**62)

    def _release(self, state: AreaState, area: str, horizon: int) -> list[WarningEvent]:
        if not state.pending or min(p[0] for p in state.pending)[0] > horizon:
            return []
        state.pending.sort(key=lambda p: p[0])
        ready = [p for p in state.pending if p[0][0] <= horizon]
        state.pending = [p for p in state.pending if p[0][0] > horizon]
        events: list[WarningEvent] = []
        i = 0
        while i < len(ready):
            t = ready[i][0][0]
            while i < len(ready) and ready[i][0][0] == t:
                item = ready[i][1]
                if not isinstance(item, int):
                    self.apply(state, item)
                i += 1
            events.extend(self.evaluate(state, area, t))
        return events

    def apply(self, state: AreaState, item: AreaSample | AreaMark) -> None:
        """Take a sample or mark into the area's state (without evaluating)."""
        if isinstance(item, AreaSample):
            old = state.sensors.get(item.sensor_id)
            if old is None or old[1] <= item.ts:
                state.sensors[item.sensor_id] = (item.kind, item.ts, item.values)
            state.heard[item.kind] = max(item.ts, state.heard.get(item.kind, item.ts))
        else:
            if item.withdrawn and (item.rule_id, item.subject) in state.warnings:
                why = dict(item.withdrawn)
                state.withdrawn = (
                    ("en", f"{item.subject} {item.hazard} withdrawn: {why['en']}"),
                    (
                        "zh-CN",
                        f"{item.subject} {item.hazard}预警已撤销：{why.get('zh-CN', why['en'])}",
                    ),
                )
            self._mark(state, item)

    def _mark(self, state: AreaState, item: AreaMark) -> None:
        """Take a sensor warning's level (None: cleared) and certainty."""
        if item.level is None:
            state.warnings.pop((item.rule_id, item.subject), None)
            state.possible.discard((item.rule_id, item.subject))
        else:
            state.warnings[(item.rule_id, item.subject)] = (item.hazard, item.level)
            if item.certainty == "Possible":
                state.possible.add((item.rule_id, item.subject))
            else:
                state.possible.discard((item.rule_id, item.subject))

    def view(self, state: AreaState, rule: AreaRule, now: int, observed: bool = False) -> AreaView:
        """Return what a rule sees at ``now``: fresh sensors of its kinds, active warnings.

        ``observed`` leaves out the warnings marked Possible.
        """
        fresh = {
            sid: (kind, vals)
            for sid, (kind, ts, vals) in state.sensors.items()
            if kind in rule.kinds and now - ts <= rule.fresh_ms
        }
        warned: dict[tuple[str, str], Level] = {}
        for (rule_id, subject), (hazard, level) in state.warnings.items():
            if observed and (rule_id, subject) in state.possible:
                continue
            key = (hazard, subject)
            warned[key] = max(level, warned.get(key, level))
        return AreaView(fresh, warned, rule.kinds_of(), rule.kinds)

    def evaluate(self, state: AreaState, area: str, now: int) -> list[WarningEvent]:
        """Evaluate every rule of the area at event time ``now``."""
        if state.started is None:
            state.started = now
        state.done = now if state.done is None else max(state.done, now)
        if self.keep_ms:  # sensors unheard for longer than any rule looks are forgotten
            cutoff = now - self.keep_ms
            for sid in [s for s, (_, ts, _) in state.sensors.items() if ts < cutoff]:
                del state.sensors[sid]
        events = []
        received = state.received_at
        for rule in self.by_area.get(area, ()):
            view = self.view(state, rule, now)
            self.last_view[(area, rule.id)] = (now, view)
            silent = bool(rule.inputs) and not view.sensors
            target = _target(rule, view) if not silent else None
            ep = state.episodes.get(rule.id, lifecycle.QUIET)
            # A level that rested on a warning withdrawn now (a sensor fault) goes at once.
            faulty = bool(state.withdrawn)
            clear_ok = (
                silent
                or faulty
                or rule.clear is None
                or ep.level is None
                or evaluate(rule.clear.node, view) is True
            )
            new, t = lifecycle.step(
                ep,
                target,
                now,
                rule_id=rule.id,
                subject=area,
                for_ms=rule.for_ms,
                hold_ms=0 if silent or faulty else rule.hold_ms,
                clear_ok=clear_ok,
            )
            _keep(state.episodes, rule.id, new)
            if t is not None:
                event = replace(self._event(rule, t, area, now, view, silent), received_at=received)
                if faulty and t.event in ("cleared", "deescalated"):
                    event = withdrawn(event, dict(state.withdrawn))
                else:
                    event = self._certainty(state, rule, now, event)
                events.append(event)
            if rule.no_data is not None:
                events.extend(self._silence(state, rule, area, now))
        state.withdrawn = ()
        return events

    def _certainty(
        self, state: AreaState, rule: AreaRule, now: int, event: WarningEvent
    ) -> WarningEvent:
        """Mark an area level that stands only on warnings marked Possible as Possible too."""
        if event.level is None or not state.possible:
            return event
        seen = _target(rule, self.view(state, rule, now, observed=True))
        if seen is not None and seen >= event.level:
            return event
        suspect = sorted(
            f"{subject} {state.warnings[(rid, subject)][0]} {state.warnings[(rid, subject)][1].colour}"
            for rid, subject in state.possible
            if (rid, subject) in state.warnings
        )
        return possible(
            event, f"the level rests on warnings marked Possible ({', '.join(suspect)})"
        )

    def _silence(self, state: AreaState, rule: AreaRule, area: str, now: int) -> list[WarningEvent]:
        nd = rule.no_data
        last = max((ts for kind, ts in state.heard.items() if kind in rule.kinds), default=None)
        since = max(last, state.started or now) if last is not None else (state.started or now)
        target = nd.level if now - since >= nd.after_ms else None
        sid = rule.silence_id
        ep = state.episodes.get(sid, lifecycle.QUIET)
        new, t = lifecycle.step(ep, target, now, rule_id=sid, subject=area)
        _keep(state.episodes, sid, new)
        if t is None:
            return []
        attrs = self.registry.area_attrs(area)
        fields = {
            "level": (t.level or t.previous or Level.YELLOW).colour,
            "hazard": nd.hazard,
            "subject": area,
            "region": attrs["region"],
            "rule_id": sid,
            "event": t.event,
        }
        texts = {}
        for lang in LANGUAGES:
            message = pick(nd.message, lang).render(Context({}, attrs, now), {}, fields)
            if t.event == "cleared":
                message = CLEARED[lang] + message
            texts[lang] = _texts(
                attrs, lang, message, pick(nd.instruction, lang) if t.level else ""
            )
        return [
            WarningEvent(
                t.warning_id,
                t.event,
                sid,
                nd.hazard,
                t.level,
                t.previous,
                area,
                attrs["region"],
                now,
                {},
                texts[DEFAULT]["message"],
                texts[DEFAULT]["instruction"],
                "Observed",
                state.received_at,
                texts=texts,
                area=area,
            )
        ]

    def _event(
        self,
        rule: AreaRule,
        t: lifecycle.Transition,
        area: str,
        now: int,
        view: AreaView,
        silent: bool,
    ) -> WarningEvent:
        attrs = self.registry.area_attrs(area)
        values = (
            {} if silent else {name: _number(evaluate(node, view)) for name, node in rule.values}
        )
        shown = t.level or t.previous
        fields = {
            "level": shown.colour if shown else "",
            "hazard": rule.hazard,
            "subject": area,
            "region": attrs["region"],
            "rule_id": rule.id,
            "event": t.event,
        }
        templates = rule.message.get(shown, {}) if shown else {}
        texts = {}
        for lang in LANGUAGES:
            template = pick(templates, lang) if templates else None
            message = (
                template.render(Context({}, attrs, now), values, {**fields, "language": lang})
                if template
                else f"{attrs['name']}: {rule.hazard} {fields['level']}"
            )
            if t.event == "cleared":
                message = CLEARED[lang] + message + (NOBODY[lang] if silent else "")
            instruction = pick(rule.instruction.get(t.level, {}), lang) if t.level else ""
            texts[lang] = _texts(attrs, lang, message, instruction)
        return WarningEvent(
            t.warning_id,
            t.event,
            rule.id,
            rule.hazard,
            t.level,
            t.previous,
            area,
            attrs["region"],
            now,
            values,
            texts[DEFAULT]["message"],
            texts[DEFAULT]["instruction"],
            "Observed",
            texts=texts,
            area=area,
        )


#: How the all-clear of an area whose sensors all went silent ends, per language.
NOBODY = {"zh-CN": "（区域内无监测点报送）", "en": " (no sensor of the area reporting)"}


def _target(rule: AreaRule, view: AreaView) -> Level | None:
    """Return the highest level whose condition holds in ``view``."""
    for level, cond in rule.levels:
        if evaluate(cond.node, view) is True:
            return level
    return None


def _texts(attrs: Mapping[str, Any], lang: str, message: str, instruction: str) -> dict[str, Any]:
    """An area warning's officer-facing texts in one language."""
    # A region's warning names the region (its county) already: no place beside it.
    place = (
        ""
        if attrs.get("id") == attrs.get("region")
        else place_name(attrs, str(attrs.get("id", "")), lang)
    )
    return {
        "message": message,
        "instruction": instruction,
        "place": place,
        "region": region_name(attrs, lang),
        "labels": {},
        "units": {},
    }


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) else None


def _keep(episodes: dict[str, lifecycle.Episode], key: str, ep: lifecycle.Episode) -> None:
    if ep == lifecycle.QUIET:
        episodes.pop(key, None)
    else:
        episodes[key] = ep


def snapshot(state: AreaState) -> AreaState:
    """Return an independent copy of an area's state for bytewax recovery."""
    return copy.deepcopy(state)


def area_hold_ms(hold: str | None, lateness: str) -> int | None:
    """Return ``pipeline.area_hold`` in ms (None: the lateness); raise ConfigError if longer."""
    if hold is None:
        return None
    hold_ms, lateness_ms = parse_duration_ms(hold), parse_duration_ms(lateness)
    if not 0 <= hold_ms <= lateness_ms:
        raise ConfigError(
            [
                Problem(
                    "config",
                    1,
                    "",
                    "pipeline.area_hold",
                    f"expected a duration of at most the lateness ({lateness}), found {hold!r}",
                )
            ]
        )
    return hold_ms


def area_key(
    item: AreaSample | AreaMark | AreaProgress,
) -> tuple[str, tuple[str, AreaSample | AreaMark | AreaProgress]]:
    """Key an area item by its area, carrying the area in the value too."""
    return item.area, (item.area, item)


def is_area_item(x: Any) -> bool:
    """Return whether an evaluation result is meant for an area."""
    return isinstance(x, AreaSample | AreaMark | AreaProgress)


class AreaLogic(StatefulLogic):
    """The ``evaluate_areas`` step for one area: bytewax's logic around ``AreaWatch``."""

    def __init__(self, steps: Any, resume: AreaState | None):
        self.steps = steps  # warning.pipeline.steps.Steps: its watch changes on reload
        self.state = resume if resume is not None else AreaState()

    def on_item(
        self, value: tuple[str, AreaSample | AreaMark | AreaProgress]
    ) -> tuple[list[WarningEvent], bool]:
        """Take one item of the area."""
        area, item = value
        self.state.area = area
        late = self.state.late
        events = self.steps.area_watch_now().observe(self.state, area, item)
        if self.state.late != late:
            self.steps.metrics.area_late.inc()
        return events, StatefulLogic.RETAIN

    def on_eof(self) -> tuple[list[WarningEvent], bool]:
        """Evaluate what is still held back: the input has ended."""
        return self.steps.area_watch_now().flush(self.state, self.state.area), StatefulLogic.RETAIN

    def snapshot(self) -> AreaState:
        """Return a copy of the state for recovery."""
        return snapshot(self.state)


def _withdrawn(e: WarningEvent) -> tuple[tuple[str, str], ...]:
    """Return why a sensor warning was withdrawn, per language, or () if it was not."""
    return tuple((lang, str(t["withdrawn"])) for lang, t in e.texts.items() if t.get("withdrawn"))
