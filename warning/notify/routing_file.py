"""The routing file, loaded strictly: channels, people, schedules, receivers, routes and mutes.

Unknown keys are rejected and every problem names its file and line, as for rule files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import apprise

from warning.lang import normalize
from warning.notify.channels import redact, resolve_url
from warning.notify.records import LANGUAGES, STYLES, ChannelSpec
from warning.records import LEVEL_NAMES, Level, parse_duration_ms, zone
from warning.yamlfile import Checker, ConfigError, LineDict, describe, load_yaml

#: Labels every warning has; ``sensor.KEY`` reaches the subject's registry entry.
LABELS = ("hazard", "rule_id", "region", "subject", "level", "area")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Matcher:
    """Label equality (each label any of a set of values) plus an optional level floor."""

    labels: tuple[tuple[str, frozenset[str]], ...] = ()
    min_level: Level | None = None

    def matches(self, labels: dict[str, str], level: Level | None) -> bool:
        """Return True when every label matches and the level is at least ``min_level``."""
        if self.min_level is not None and (level is None or level < self.min_level):
            return False
        return all(labels.get(key) in values for key, values in self.labels)


@dataclass(frozen=True)
class Route:
    """A node of the route tree; children inherit the grouping settings they do not set."""

    matcher: Matcher
    receiver: str
    group_by: tuple[str, ...]
    group_wait_ms: int
    group_interval_ms: int
    repeat_interval_ms: int
    routes: tuple[Route, ...] = ()
    continue_: bool = False


@dataclass(frozen=True)
class Schedule:
    """A rotation of people handing over at a local time every ``period``."""

    rotation: tuple[str, ...]
    handover: time
    period_days: int
    start: date

    def on_call(self, now_s: float, tz: Any) -> str:
        """Return who is on call at ``now_s`` (epoch seconds) in zone ``tz``.

        >>> from zoneinfo import ZoneInfo
        >>> s = Schedule(("zhang", "li"), time(8, 30), 1, date(2026, 7, 1))
        >>> tz = ZoneInfo("Asia/Shanghai")
        >>> t = datetime(2026, 7, 2, 8, 29, tzinfo=tz).timestamp()
        >>> s.on_call(t, tz), s.on_call(t + 60, tz)
        ('zhang', 'li')
        """
        local = datetime.fromtimestamp(now_s, tz)
        shift_day = local.date().toordinal() - (local.time() < self.handover)
        turns = (shift_day - self.start.toordinal()) // self.period_days
        return self.rotation[turns % len(self.rotation)]


@dataclass(frozen=True)
class EscalationStep:
    """After ``after_ms`` without acknowledgement, notify ``receiver``."""

    after_ms: int
    receiver: str


@dataclass(frozen=True)
class Receiver:
    """Who gets a notification: fixed channels, people, or whoever a schedule has on call."""

    name: str
    channels: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    schedule: str | None = None
    escalate_from: Level | None = None
    escalation: tuple[EscalationStep, ...] = ()


@dataclass(frozen=True)
class Person:
    """An officer and the channels that reach them, in failover order."""

    name: str
    display: str
    channels: tuple[str, ...]
    phone: str = ""  # the mobile number SMS replies come from, for reply codes


@dataclass(frozen=True)
class Silence:
    """Mute matching warnings between two instants (epoch seconds)."""

    matcher: Matcher
    starts_s: float
    ends_s: float
    comment: str = ""
    created_by: str = ""

    def active(self, now_s: float, tz: Any) -> bool:
        """Return True while the silence is in force."""
        return self.starts_s <= now_s < self.ends_s


@dataclass(frozen=True)
class Maintenance:
    """Mute matching warnings every week on ``days`` between two local times."""

    matcher: Matcher
    days: frozenset[int]
    start: time
    end: time
    comment: str = ""

    def active(self, now_s: float, tz: Any) -> bool:
        """Return True inside the window (local time of ``tz``)."""
        local = datetime.fromtimestamp(now_s, tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end


@dataclass(frozen=True)
class Inhibit:
    """A warning matching ``source`` mutes lower levels matching ``target`` with equal labels."""

    source: Matcher
    target: Matcher
    equal: tuple[str, ...]


@dataclass(frozen=True)
class Routing:
    """The whole routing file."""

    route: Route
    receivers: dict[str, Receiver]
    channels: dict[str, ChannelSpec]
    people: dict[str, Person] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    mutes: tuple[Silence | Maintenance, ...] = ()
    inhibits: tuple[Inhibit, ...] = ()
    timezone: str = "Asia/Shanghai"
    ack_level: Level = Level.BLUE  # notifications at or above this level ask for acknowledgement

    @property
    def tz(self) -> Any:
        """The zone for schedules, maintenance windows and message times."""
        return zone(self.timezone)


_TOP = (
    "timezone",
    "channels",
    "people",
    "schedules",
    "receivers",
    "route",
    "silences",
    "maintenance",
    "inhibit",
    "ack_level",
)
#: ``url`` may hold ``{env:NAME}`` / ``{file:PATH}`` placeholders for the secret parts.
_CHANNEL = (
    "url",
    "url_env",
    "url_file",
    "style",
    "language",
    "retries",
    "backoff",
    "timeout",
    "send_resolved",
)
_ROUTE = (
    "match",
    "min_level",
    "receiver",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "routes",
    "continue",
)
_DEFAULT_TIMES = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


class _Loader:
    """Walks one routing file, collecting every problem before raising."""

    def __init__(self, path: Path):
        self.path = path
        self.c = Checker(str(path))

    # -- scalars ---------------------------------------------------------------------------

    def text(self, node: LineDict, key: str, where: str, default: str | None = None) -> str | None:
        value = node.get(key, default)
        if value is not None and not isinstance(value, str):
            self.c.expect(node, key, where, "a text", value)
            return default
        return value

    def number(self, node: LineDict, key: str, where: str, default: float, kind: type) -> Any:
        value = node.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or value < 0
            or (kind is int and not isinstance(value, int))
        ):
            self.c.expect(node, key, where, f"a non-negative {kind.__name__}", value)
            return default
        return kind(value)

    def duration(self, node: LineDict, key: str, where: str, default: str) -> int:
        value = node.get(key, default)
        try:
            if not isinstance(value, str):
                raise ValueError("a duration such as '5m' or '1h30m'")
            return parse_duration_ms(value)
        except ValueError as exc:
            self.c.add(node.line_of(key), where, key, f"expected {exc}")
            return parse_duration_ms(default)

    def names(
        self, node: LineDict, key: str, where: str, known: dict | None = None, what: str = ""
    ) -> tuple[str, ...]:
        value = node.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.c.expect(node, key, where, "a list of names", value)
            return ()
        if known is not None:
            for v in value:
                if v not in known:
                    self.c.expect(node, key, where, f"one of the {what} ({', '.join(known)})", v)
        return tuple(value)

    def level(self, node: LineDict, key: str, where: str) -> Level | None:
        value = node.get(key)
        if value is None:
            return None
        if value not in LEVEL_NAMES:
            self.c.expect(node, key, where, f"one of {', '.join(LEVEL_NAMES)}", value)
            return None
        return Level.parse(value)

    def local_time(self, node: LineDict, key: str, where: str) -> time:
        value = node.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"{value // 60:02d}:{value % 60:02d}"  # YAML 1.1 reads 08:30 as sexagesimal
        if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            self.c.expect(node, key, where, "a local time HH:MM", value)
            return time(0, 0)
        return time.fromisoformat(value)

    def instant(self, node: LineDict, key: str, where: str) -> float:
        value = node.get(key)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.timestamp()
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.c.expect(node, key, where, "an RFC 3339 time with offset", value)
            return 0.0
        return parsed.timestamp()

    def mapping(self, node: LineDict, key: str, where: str) -> LineDict:
        value = node.get(key)
        if value is None:
            return _empty(node.line_of(key) if key in node else node.line)
        return self.c.mapping(value, where, key, node.line_of(key)) or _empty(node.line)

    def entries(self, node: LineDict, key: str) -> list[tuple[str, LineDict]]:
        out = []
        for name, value in self.mapping(node, key, "").items():
            where = f"{key} '{name}'"
            if not isinstance(name, str) or not _NAME.match(name):
                self.c.add(
                    node[key].line_of(str(name)),
                    where,
                    "",
                    f"expected a name of letters, digits, '_', '.', '-', found {describe(name)}",
                )
                continue
            sub = self.c.mapping(value, where, "", node[key].line_of(name))
            if sub is not None:
                out.append((name, sub))
        return out

    # -- sections --------------------------------------------------------------------------

    def matcher(self, node: LineDict, where: str, with_level: bool = True) -> Matcher:
        labels = []
        match = self.mapping(node, "match", where)
        for key, value in match.items():
            if key not in LABELS and not (isinstance(key, str) and key.startswith("sensor.")):
                self.c.add(
                    match.line_of(str(key)),
                    where,
                    f"match.{key}",
                    f"expected one of {', '.join(LABELS)} or sensor.KEY, found unknown "
                    f"label {key!r}",
                )
                continue
            values = value if isinstance(value, list) else [value]
            if not values or not all(
                isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
            ):
                self.c.expect(match, key, where, "a value or a list of values", value)
                continue
            labels.append((key, frozenset(str(v) for v in values)))
        return Matcher(
            tuple(sorted(labels)), self.level(node, "min_level", where) if with_level else None
        )

    def channel(self, name: str, node: LineDict) -> ChannelSpec | None:
        where = f"channel '{name}'"
        self.c.known_keys(node, _CHANNEL, where)
        given = [k for k in ("url", "url_env", "url_file") if k in node]
        if len(given) != 1:
            self.c.add(
                node.line,
                where,
                "url",
                f"expected exactly one of url, url_env, url_file, found {len(given)}",
            )
            return None
        style = self.text(node, "style", where, "push")
        if style not in STYLES:
            self.c.expect(node, "style", where, f"one of {', '.join(STYLES)}", style)
        language = normalize(self.text(node, "language", where, "zh-CN") or "zh-CN")
        if language not in LANGUAGES:
            self.c.expect(node, "language", where, f"one of {', '.join(LANGUAGES)}", language)
        # url_env / url_file are the whole URL as a secret: the same placeholders as inside one.
        url = self.text(node, "url", where)
        env, file = self.text(node, "url_env", where), self.text(node, "url_file", where)
        if url is None:
            url = f"{{env:{env}}}" if env else f"{{file:{self.path.parent / (file or '')}}}"
        try:
            url = resolve_url(name, url)
        except ConfigError as exc:
            for p in exc.problems:
                self.c.add(node.line, where, "url", p.message)
            return None
        if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
            self.c.add(
                node.line, where, "url", f"expected a URL apprise can load, found {redact(url)}"
            )
        send_resolved = node.get("send_resolved", True)
        if not isinstance(send_resolved, bool):
            self.c.expect(node, "send_resolved", where, "true or false", send_resolved)
        return ChannelSpec(
            name=name,
            url=url or "",
            style=style or "push",
            language=language,
            retries=self.number(node, "retries", where, 3, int),
            backoff_s=self.duration(node, "backoff", where, "2s") / 1000,
            timeout_s=self.duration(node, "timeout", where, "10s") / 1000,
            send_resolved=bool(send_resolved),
        )

    def route(self, node: LineDict, where: str, parent: Route | None, receivers: dict) -> Route:
        self.c.known_keys(node, _ROUTE, where, required=() if parent else ("receiver",))
        if parent is None and "match" in node:
            self.c.add(
                node.line_of("match"),
                where,
                "match",
                "expected no matcher on the root route (it takes every warning)",
            )
        receiver = self.text(node, "receiver", where) or (parent.receiver if parent else "")
        if receiver and receiver not in receivers:
            self.c.expect(
                node, "receiver", where, f"one of the receivers ({', '.join(receivers)})", receiver
            )
        group_by = (
            self.names(node, "group_by", where)
            if "group_by" in node
            else (parent.group_by if parent else ("hazard", "region"))
        )
        for label in group_by:
            if label not in LABELS and not label.startswith("sensor."):
                self.c.expect(
                    node,
                    "group_by",
                    where,
                    f"labels among {', '.join(LABELS)} or sensor.KEY",
                    label,
                )
        times = {
            k: self.duration(node, k, where, v)
            if k in node or parent is None
            else getattr(parent, f"{k}_ms")
            for k, v in _DEFAULT_TIMES.items()
        }
        cont = node.get("continue", False)
        if not isinstance(cont, bool):
            self.c.expect(node, "continue", where, "true or false", cont)
        this = Route(
            self.matcher(node, where),
            receiver,
            tuple(group_by),
            times["group_wait"],
            times["group_interval"],
            times["repeat_interval"],
            continue_=bool(cont),
        )
        children = node.get("routes", [])
        if not isinstance(children, list):
            self.c.expect(node, "routes", where, "a list of routes", children)
            children = []
        kids = []
        for i, child in enumerate(children):
            sub = self.c.mapping(child, where, f"routes[{i}]", node.line_of("routes"))
            if sub is not None:
                kids.append(self.route(sub, f"{where}.routes[{i}]", this, receivers))
        return Route(
            this.matcher,
            this.receiver,
            this.group_by,
            this.group_wait_ms,
            this.group_interval_ms,
            this.repeat_interval_ms,
            tuple(kids),
            this.continue_,
        )

    def receiver(
        self,
        name: str,
        node: LineDict,
        channels: dict,
        people: dict,
        schedules: dict,
        receivers: LineDict,
    ) -> Receiver:
        where = f"receiver '{name}'"
        self.c.known_keys(
            node, ("channels", "people", "schedule", "escalate_from", "escalation"), where
        )
        schedule = self.text(node, "schedule", where)
        if schedule is not None and schedule not in schedules:
            self.c.expect(
                node, "schedule", where, f"one of the schedules ({', '.join(schedules)})", schedule
            )
        out = Receiver(
            name,
            self.names(node, "channels", where, channels, "channels"),
            self.names(node, "people", where, people, "people"),
            schedule,
            self.level(node, "escalate_from", where),
        )
        if not (out.channels or out.people or out.schedule):
            self.c.add(node.line, where, "", "expected channels, people or a schedule, found none")
        steps = node.get("escalation", [])
        if not isinstance(steps, list):
            self.c.expect(node, "escalation", where, "a list of {after, to} steps", steps)
            steps = []
        parsed = []
        for i, step in enumerate(steps):
            sw = f"{where} escalation[{i}]"
            sub = self.c.mapping(step, sw, "", node.line_of("escalation"))
            if sub is None:
                continue
            self.c.known_keys(sub, ("after", "to"), sw, required=("after", "to"))
            to = self.text(sub, "to", sw)
            if to is not None and to not in receivers:
                self.c.expect(sub, "to", sw, f"one of the receivers ({', '.join(receivers)})", to)
            parsed.append(EscalationStep(self.duration(sub, "after", sw, "15m"), to or ""))
        if parsed and out.escalate_from is None:
            out = Receiver(**{**out.__dict__, "escalate_from": Level.ORANGE})
        return Receiver(**{**out.__dict__, "escalation": tuple(parsed)})

    def load(self) -> Routing:
        doc = load_yaml(self.path)
        if not isinstance(doc, LineDict):
            self.c.add(
                1, "", "", f"expected a mapping with route and receivers, found {describe(doc)}"
            )
            self.c.raise_if_any()
        self.c.known_keys(doc, _TOP, "", required=("route", "receivers"))
        timezone = self.text(doc, "timezone", "", "Asia/Shanghai") or "Asia/Shanghai"
        try:
            zone(timezone)
        except (ValueError, KeyError):
            self.c.expect(doc, "timezone", "", "an IANA time zone such as Asia/Shanghai", timezone)
        channels = {
            n: ch
            for n, sub in self.entries(doc, "channels")
            if (ch := self.channel(n, sub)) is not None
        }
        channels_known = {n: None for n in self.mapping(doc, "channels", "")}
        people = {
            name: self.person(name, sub, channels_known)
            for name, sub in self.entries(doc, "people")
        }
        schedules = {
            name: sched
            for name, sub in self.entries(doc, "schedules")
            if (sched := self.schedule(name, sub, people)) is not None
        }
        receiver_nodes = self.mapping(doc, "receivers", "")
        receivers = {
            name: self.receiver(name, sub, channels_known, people, schedules, receiver_nodes)
            for name, sub in self.entries(doc, "receivers")
        }
        route = self.route(self.mapping(doc, "route", "route"), "route", None, receivers)
        mutes: list[Silence | Maintenance] = [
            *(
                self.silence(node, f"silences[{i}]")
                for i, node in enumerate(self.items(doc, "silences"))
            ),
            *(
                self.maintenance(node, f"maintenance[{i}]")
                for i, node in enumerate(self.items(doc, "maintenance"))
            ),
        ]
        inhibits = [
            self.inhibit(node, f"inhibit[{i}]") for i, node in enumerate(self.items(doc, "inhibit"))
        ]
        ack_level = self.level(doc, "ack_level", "") or Level.BLUE
        self.c.raise_if_any()
        return Routing(
            route,
            receivers,
            channels,
            people,
            schedules,
            tuple(mutes),
            tuple(inhibits),
            timezone,
            ack_level,
        )

    def person(self, name: str, sub: LineDict, channels_known: dict[str, Any]) -> Person:
        where = f"person '{name}'"
        self.c.known_keys(sub, ("display", "channels", "phone"), where, required=("channels",))
        phone = str(sub.get("phone", ""))
        if phone and not re.fullmatch(r"\+?\d{5,20}", phone):
            self.c.expect(
                sub, "phone", where, "a mobile number such as +8613800000000", sub.get("phone")
            )
        return Person(
            name,
            self.text(sub, "display", where, name) or name,
            self.names(sub, "channels", where, channels_known, "channels"),
            phone,
        )

    def schedule(self, name: str, sub: LineDict, people: dict[str, Person]) -> Schedule | None:
        where = f"schedule '{name}'"
        self.c.known_keys(
            sub, ("rotation", "handover", "period", "start"), where, required=("rotation", "start")
        )
        rotation = self.names(sub, "rotation", where, people, "people")
        period = self.duration(sub, "period", where, "1d")
        if period % 86_400_000 or period == 0:
            self.c.expect(sub, "period", where, "a whole number of days", sub.get("period"))
        start = sub.get("start")
        if isinstance(start, str):
            try:
                start = date.fromisoformat(start)
            except ValueError:
                start = None
        if not isinstance(start, date) or isinstance(start, datetime):
            self.c.expect(sub, "start", where, "a date YYYY-MM-DD", sub.get("start"))
            start = date(2000, 1, 1)
        if not rotation:
            return None
        return Schedule(
            rotation,
            self.local_time(sub, "handover", where) if "handover" in sub else time(8, 0),
            max(1, period // 86_400_000),
            start,
        )

    def silence(self, node: LineDict, where: str) -> Silence:
        self.c.known_keys(
            node,
            ("match", "min_level", "starts", "ends", "comment", "created_by"),
            where,
            required=("match", "starts", "ends"),
        )
        s = Silence(
            self.matcher(node, where),
            self.instant(node, "starts", where),
            self.instant(node, "ends", where),
            self.text(node, "comment", where, "") or "",
            self.text(node, "created_by", where, "") or "",
        )
        if s.ends_s <= s.starts_s and "ends" in node:
            self.c.expect(node, "ends", where, "a time after starts", node["ends"])
        return s

    def maintenance(self, node: LineDict, where: str) -> Maintenance:
        self.c.known_keys(
            node,
            ("match", "min_level", "days", "from", "to", "comment"),
            where,
            required=("match", "from", "to"),
        )
        days = self.names(node, "days", where) if "days" in node else DAYS
        for d in days:
            if d not in DAYS:
                self.c.expect(node, "days", where, f"days among {', '.join(DAYS)}", d)
        start, end = self.local_time(node, "from", where), self.local_time(node, "to", where)
        if end <= start and "to" in node:
            self.c.expect(node, "to", where, "a time after from (same day)", node["to"])
        if not node.get("match"):
            self.c.add(
                node.line,
                where,
                "match",
                "expected at least one label: a window that mutes everything is a silence",
            )
        return Maintenance(
            self.matcher(node, where),
            frozenset(DAYS.index(d) for d in days if d in DAYS),
            start,
            end,
            self.text(node, "comment", where, "") or "",
        )

    def inhibit(self, node: LineDict, where: str) -> Inhibit:
        self.c.known_keys(node, ("source", "target", "equal"), where, required=("source",))
        src = self.mapping(node, "source", f"{where}.source")
        tgt = self.mapping(node, "target", f"{where}.target")
        self.c.known_keys(src, ("match", "min_level"), f"{where}.source")
        self.c.known_keys(tgt, ("match",), f"{where}.target")
        equal = self.names(node, "equal", where) if "equal" in node else ("hazard", "region")
        return Inhibit(
            self.matcher(src, f"{where}.source"),
            self.matcher(tgt, f"{where}.target", with_level=False),
            tuple(equal),
        )

    def items(self, doc: LineDict, key: str) -> list[LineDict]:
        value = doc.get(key, [])
        if not isinstance(value, list):
            self.c.expect(doc, key, "", "a list", value)
            return []
        return [
            m
            for i, v in enumerate(value)
            if (m := self.c.mapping(v, f"{key}[{i}]", "", doc.line_of(key))) is not None
        ]


def _empty(line: int) -> LineDict:
    node = LineDict()
    node.line, node.key_lines = line, {}
    return node


def load_routing(path: str | Path) -> Routing:
    """Load and check a routing file; raise ConfigError listing every problem with its line."""
    return _Loader(Path(path)).load()


def routing_languages(path: str | Path) -> tuple[str, ...]:
    """Return the languages a routing file's channels send, without resolving any secret."""
    doc = load_yaml(path)
    channels = doc.get("channels") if isinstance(doc, Mapping) else None
    found = {
        normalize(str(spec.get("language", "zh-CN")))
        for spec in (channels or {}).values()
        if isinstance(spec, Mapping)
    }
    return tuple(lang for lang in LANGUAGES if lang in found)
