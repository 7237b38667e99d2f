"""The ``evaluate_areas`` step: an area's state and its rules, in event-time order.

An area holds the samples and marks its sensors send (``areas.py``) until every registered
member has passed a tick, then applies them sorted by (time, marks, samples, sensor) and
evaluates its rules once per distinct item time and once per tick time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from bytewax.operators import StatefulLogic

from warning.pipeline import lifecycle
from warning.pipeline.areas import AreaMark, AreaProgress, AreaSample
from warning.records import Level, WarningEvent
from warning.registry import Registry
from warning.rules.area_load import AreaRule
from warning.rules.areas import AreaView, evaluate
from warning.rules.compile import Context
from warning.rules.load import RuleSet


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
    episodes: dict[str, lifecycle.Episode] = field(default_factory=dict)
    late: int = 0  # items that came after their time was evaluated
    received_at: float = 0.0  # newest arrival behind the items, for the delay metric only


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
        self.keep_ms = max((max(r.fresh_ms, r.no_data.after_ms if r.no_data else 0)
                            for r in rules.areas), default=0)
        #: The view of each (area, rule) at its latest evaluation, for ``rules explain``.
        self.last_view: dict[tuple[str, str], tuple[int, AreaView]] = {}

    def observe(self, state: AreaState, area: str, item: AreaSample | AreaMark | AreaProgress
                ) -> list[WarningEvent]:
        """Take one item; return the warning events of the times it allows to be evaluated."""
        if item.received_at > state.received_at:
            state.received_at = item.received_at
        if isinstance(item, AreaProgress):
            key = (item.sensor_id, item.source)
            state.progress[key] = max(item.ts, state.progress.get(key, item.ts))
            state.points.update(t for t in item.ticks
                                if state.horizon is None or t > state.horizon)
            members = self.members.get(area, ())
            if not members:
                return []
            sources = {src for _, src in state.progress}
            times = [state.progress.get((m, src)) for m in members for src in sources]
            if any(t is None for t in times):
                return []
            horizon = min(t for t in times if t is not None)
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
        elif item.level is None:
            state.warnings.pop((item.rule_id, item.subject), None)
        else:
            state.warnings[(item.rule_id, item.subject)] = (item.hazard, item.level)

    def view(self, state: AreaState, rule: AreaRule, now: int) -> AreaView:
        """Return what a rule sees at ``now``: fresh sensors of its kinds, active warnings."""
        fresh = {sid: (kind, vals) for sid, (kind, ts, vals) in state.sensors.items()
                 if kind in rule.kinds and now - ts <= rule.fresh_ms}
        warned: dict[tuple[str, str], Level] = {}
        for (_, subject), (hazard, level) in state.warnings.items():
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
            target = None
            if not silent:
                for level, cond in rule.levels:
                    if evaluate(cond.node, view) is True:
                        target = level
                        break
            ep = state.episodes.get(rule.id, lifecycle.QUIET)
            clear_ok = silent or rule.clear is None or ep.level is None or \
                evaluate(rule.clear.node, view) is True
            new, t = lifecycle.step(ep, target, now, rule_id=rule.id, subject=area,
                                    for_ms=rule.for_ms, hold_ms=0 if silent else rule.hold_ms,
                                    clear_ok=clear_ok)
            _keep(state.episodes, rule.id, new)
            if t is not None:
                events.append(replace(self._event(rule, t, area, now, view, silent),
                                      received_at=received))
            if rule.no_data is not None:
                events.extend(self._silence(state, rule, area, now))
        return events

    def _silence(self, state: AreaState, rule: AreaRule, area: str, now: int
                 ) -> list[WarningEvent]:
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
        fields = {"level": (t.level or t.previous or Level.YELLOW).colour, "hazard": nd.hazard,
                  "subject": area, "region": attrs["region"], "rule_id": sid, "event": t.event}
        message = nd.message.render(Context({}, attrs, now), {}, fields)
        if t.event == "cleared":
            message = f"Cleared: {message}"
        return [WarningEvent(t.warning_id, t.event, sid, nd.hazard, t.level, t.previous, area,
                             attrs["region"], now, {}, message,
                             nd.instruction if t.level else "", "Observed",
                             state.received_at, area=area)]

    def _event(self, rule: AreaRule, t: lifecycle.Transition, area: str, now: int,
               view: AreaView, silent: bool) -> WarningEvent:
        attrs = self.registry.area_attrs(area)
        values = {} if silent else {name: _number(evaluate(node, view))
                                    for name, node in rule.values}
        shown = t.level or t.previous
        fields = {"level": shown.colour if shown else "", "hazard": rule.hazard,
                  "subject": area, "region": attrs["region"], "rule_id": rule.id,
                  "event": t.event}
        template = rule.message.get(shown) if shown else None
        message = template.render(Context({}, attrs, now), values, fields) if template \
            else f"{attrs['name']}: {rule.hazard} {fields['level']}"
        if t.event == "cleared":
            message = f"Cleared: {message}" + (" (no sensor of the area reporting)"
                                               if silent else "")
        instruction = rule.instruction.get(t.level, "") if t.level else ""
        return WarningEvent(t.warning_id, t.event, rule.id, rule.hazard, t.level, t.previous,
                            area, attrs["region"], now, values, message, instruction,
                            "Observed", area=area)


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


class AreaLogic(StatefulLogic):
    """The ``evaluate_areas`` step for one area: bytewax's logic around ``AreaWatch``."""

    def __init__(self, steps: Any, resume: AreaState | None):
        self.steps = steps  # warning.pipeline.steps.Steps: its watch changes on reload
        self.state = resume if resume is not None else AreaState()

    def on_item(self, value: tuple[str, AreaSample | AreaMark | AreaProgress]
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
        return self.steps.area_watch_now().flush(self.state, self.state.area), \
            StatefulLogic.RETAIN

    def snapshot(self) -> AreaState:
        """Return a copy of the state for recovery."""
        return snapshot(self.state)
