"""Rendered templates: a notification rendered for one channel style and language (pure)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from warning.lang import DEFAULT, normalize
from warning.notify.records import LANGUAGES, NOTIFICATION_KINDS, STYLES, Notification
from warning.notify.texts import HAZARDS, OPS, REGIONS, TEXTS
from warning.records import Level, WarningEvent

#: Characters in one SMS segment alone / within a multi-part message (GSM-7 and UCS-2).
SMS_GSM = (160, 153)
SMS_UCS2 = (70, 67)
#: How many subjects a push message lists before "and N more"; SMS lists at most this many.
PUSH_TOP = 5
SMS_TOP = 3
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered message: ``title`` may be empty (SMS), ``body`` is text or JSON (webhook)."""

    title: str
    body: str


def render(
    n: Notification,
    style: str,
    language: str,
    tz: tzinfo,
    *,
    sms_segments: int = 2,
    unacked_by: str | None = None,
    ack_wait_s: float | None = None,
) -> Rendered:
    """Render a notification as a message for one channel style and language.

    ``unacked_by`` and ``ack_wait_s`` say who did not acknowledge, and after how long, on an
    escalation (the notification itself carries only the step).
    """
    if style not in STYLES:
        msg = f"style must be one of {', '.join(STYLES)}; found {style!r}"
        raise ValueError(msg)
    if normalize(language) not in LANGUAGES:
        msg = f"language must be one of {', '.join(LANGUAGES)}; found {language!r}"
        raise ValueError(msg)
    if n.kind not in NOTIFICATION_KINDS:
        msg = f"notification kind must be one of {', '.join(NOTIFICATION_KINDS)}; found {n.kind!r}"
        raise ValueError(msg)
    if not n.events:
        msg = f"a notification with at least one event; {n.notification_id} has none"
        raise ValueError(msg)
    v = _View(n, normalize(language), tz, unacked_by, ack_wait_s)
    if style == "sms":
        return Rendered("", _sms(v, max(1, sms_segments)))
    if style == "push":
        return Rendered(v.title(), "\n".join(_push_lines(v)))
    if style == "email":
        return Rendered(v.title(), "\n".join(_email_lines(v)))
    return Rendered(v.title(), _webhook(v))


def sms_units(text: str) -> tuple[int, bool]:
    """Return the length of ``text`` in SMS characters and whether it needs UCS-2.

    GSM-7 extension characters such as ``[`` count twice.

    >>> sms_units("[RED] ok"), sms_units("暴雨 ok")
    ((10, False), (5, True))
    """
    if all(c in _GSM or c in _GSM_EXT for c in text):
        return len(text) + sum(c in _GSM_EXT for c in text), False
    return len(text), True


def sms_capacity(text: str, segments: int) -> int:
    """Return how many SMS characters fit in ``segments`` segments in ``text``'s alphabet.

    >>> [sms_capacity(text, n) for text, n in (("ok", 1), ("ok", 2), ("暴雨", 1), ("暴雨", 3))]
    [160, 306, 70, 201]
    """
    single, multi = SMS_UCS2 if sms_units(text)[1] else SMS_GSM
    return single if segments == 1 else multi * segments


def sms_fits(text: str, segments: int) -> bool:
    """Tell whether ``text`` fits in ``segments`` SMS segments."""
    return sms_units(text)[0] <= sms_capacity(text, segments)


_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = set("^{}\\[~]|€\f")


def level_of(e: WarningEvent) -> Level | None:
    """Return the level an event is about (the level it had, for a cleared warning)."""
    return e.level if e.level is not None else e.previous_level


def number(x: float | None) -> str:
    """Format a measured value briefly: at most two decimals, no trailing zeros.

    >>> number(57.5), number(4.0), number(0.125), number(None)
    ('57.5', '4', '0.12', '-')
    """
    if x is None or x != x:
        return "-"
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class _View:
    """What every style needs, computed once from the notification."""

    def __init__(
        self,
        n: Notification,
        language: str,
        tz: tzinfo,
        unacked_by: str | None,
        ack_wait_s: float | None,
    ):
        self.n, self.lang, self.tz = n, language, tz
        self.t = TEXTS[language]
        self.unacked_by, self.ack_wait_s = unacked_by, ack_wait_s
        #: Warning id -> the level its receiver was last told (0: never), for the news.
        self.told = dict(n.news)
        # Warnings in force first (a firing group may also carry one that just cleared), worst
        # first, at one level a standing warning before one that moved (which then gets its
        # note); then by time (newest first) and subject, so the order is stable.
        self.events = sorted(
            n.events,
            key=lambda e: (
                self.cleared_here(e),
                -int(level_of(e) or 0),
                self.moved(e),
                -e.ts,
                e.subject,
            ),
        )
        self.worst = level_of(self.events[0])
        #: The group's first message: every warning in it is new, and none needs a note.
        self.first = all(self.told.get(e.warning_id, -1) == 0 for e in self.events)
        # The title names what is in force; a warning cleared among them has its own note.
        self.in_force = [e for e in self.events if not self.cleared_here(e)] or self.events
        self.hazards = _unique(e.hazard for e in self.in_force)
        self.regions = _unique(e.region for e in self.in_force)
        self.subjects = _unique(e.subject for e in self.in_force)
        #: A resolved notification whose every warning rested on a reading named a fault.
        self.withdrawn = n.kind == "resolved" and all(
            (e.texts.get("en") or {}).get("withdrawn") for e in self.events
        )

    def cleared_here(self, e: WarningEvent) -> bool:
        """Whether ``e`` is a warning that cleared, told among warnings still in force."""
        return e.event == "cleared" and self.n.kind != "resolved"

    def moved(self, e: WarningEvent) -> bool:
        """Whether the receiver was told ``e`` at another level before (it went up or down)."""
        before = self.told.get(e.warning_id, 0)
        return bool(before) and before != _level_now(e)

    def change(self, e: WarningEvent) -> str:
        """How ``e`` changed since its receiver was told, beside the title's warning, else "".

        E.g. ``降为蓝色`` or ``已解除``: a message whose level stands (another warning's) must
        say why it came, or an officer reads a repeat of the warning already told. The word
        compares the level told with the level now, so a warning that went up and came part
        way down within one group interval is "up to", and one never told is "new".
        """
        if self.n.kind == "resolved" or len(self.events) == 1 or self.first:
            return ""  # the title says it
        now = _level_now(e)
        if e.warning_id not in self.told:
            # Not news, or an outbox row from before notifications named it: only a clear,
            # which is always news beside warnings in force, can be told.
            return self.t["changes"]["cleared"] if now == 0 else ""
        before = self.told[e.warning_id]
        if now == before or (e is self.events[0] and not before):
            return ""  # shown again after a mute; or new, and the title is about it
        if now == 0:
            return self.t["changes"]["cleared"]
        key = "raised" if not before else "escalated" if now > before else "deescalated"
        return self.t["changes"][key].format(colour=self.t["colours_short"][Level(now)])

    def what_changed(self, e: WarningEvent) -> str:
        """The warning a change note is about: its decisive value, with its place if need be."""
        value = self.values(e, 1)[:1]
        if self.subjects == [e.subject] and value:
            return value[0]  # the one place in force: which value changed
        return " ".join([self.name(e), *value])

    def changes(self, skip: Sequence[WarningEvent] = (), brief: int = 0) -> str:
        """The news beside the title's warning, e.g. ``已解除：每小时涨幅0.09米/小时``.

        ``skip``: warnings already shown with their change. ``brief``: 1, the first note and a
        count; 2, the words alone (e.g. ``降为蓝色``), for a message short of room.
        """
        notes = [(c, e) for e in self.events if e not in skip and (c := self.change(e))]
        if brief == 2:
            return self.t["sep"].join(_unique(c for c, _ in notes))
        shown = notes[:1] if brief else notes[:2]
        out = [self.t["change_note"].format(change=c, what=self.what_changed(e)) for c, e in shown]
        return self.t["sep"].join(out) + self.more(len(notes) - len(shown))

    def level(self) -> str:
        """Colour and response level, e.g. ``红色预警(I级)`` or ``RED (I)``."""
        if self.worst is None:
            return self.t["no_level"]
        return self.t["level"].format(
            colour=self.t["colours"][self.worst], response=_RESPONSE[self.worst]
        )

    def hazard(self) -> str:
        names = [HAZARDS[self.lang].get(h, h) for h in self.hazards]
        return self.t["sep"].join(names)

    def region_of(self, region: str) -> str:
        """A region's name: from the registry (the events' texts), else the built-in names."""
        named = next(
            (
                self.text(e, "region")
                for e in self.events
                if e.region == region and self.text(e, "region")
            ),
            "",
        )
        return named or REGIONS[self.lang].get(region, region)

    def region(self) -> str:
        names = [self.region_of(r) for r in self.regions]
        if len(names) > 3:
            return self.t["sep"].join(names[:3]) + self.more(len(names) - 3)
        return self.t["sep"].join(names)

    def more(self, n: int) -> str:
        """Say "and N more", or nothing when none is left out."""
        return self.t["more"].format(n=n) if n > 0 else ""

    def place(self) -> str:
        """Region and place name, or region and the number of places for a group."""
        if len(self.subjects) == 1:
            e = self.events[0]
            if e.area and e.area == e.region:  # a region's own warning: the region is the place
                return self.region()
            name = self.name(e)
            if name == e.subject:  # an unnamed sensor: its id, set apart
                return f"{self.region()} {name}"
            return self.t["where"].format(region=self.region(), place=name)
        return f"{self.region()} {self.t['count'].format(n=len(self.subjects))}"

    def text(self, e: WarningEvent, key: str) -> Any:
        """Return one of an event's texts in this language (older events: the default one)."""
        texts = e.texts.get(self.lang) or {}
        if key in texts:
            return texts[key]
        if key in ("message", "instruction") and (not e.texts or self.lang == DEFAULT):
            return getattr(e, key)
        return {} if key in ("labels", "units") else ""

    def name(self, e: WarningEvent) -> str:
        """The place of an event by its name; the sensor id only when no name is known."""
        if e.area and e.area == e.region:  # a region's own warning: the region by name
            return self.region_of(e.region)
        return self.text(e, "place") or e.subject

    def quantity(self, e: WarningEvent, key: str, value: float | None) -> str:
        """A labelled value with its unit, e.g. ``3小时雨量102.9毫米``; "" if it has no label."""
        label = self.text(e, "labels").get(key)
        if not label or value is None or value != value:
            return ""  # an internal key is never shown to an officer, nor a missing number
        unit = self.text(e, "units").get(key, "")
        if label[-1].isalnum() and ord(label[-1]) < 0x2E80:  # "R² 0.9", not "R²0.9", in Chinese
            label += " " if not self.t["quantity"].startswith("{label} ") else ""
        return self.t["quantity"].format(label=label, value=number(value), unit=unit).strip()

    def measure(self, e: WarningEvent) -> str:
        """The decisive value against its threshold, e.g. ``3小时雨量102.9毫米(红色标准100)``."""
        m = e.measure
        if not m or m.get("name") not in e.values:
            return ""
        shown = self.quantity(e, m["name"], e.values[m["name"]])
        level = Level.parse(m["level"]) if m.get("level") else None
        if not shown or level is None:
            return shown
        return shown + self.t["against"].format(
            colour=self.t["colours_short"][level],
            op=OPS[self.lang].get(m.get("op", ">="), ""),
            threshold=number(m.get("threshold")),
        )

    def values(self, e: WarningEvent, limit: int) -> list[str]:
        """The decisive measurement first, then other labelled values, at most ``limit``."""
        out = [self.measure(e)] if self.measure(e) else []
        decisive = e.measure.get("name") if e.measure else None
        out += [self.quantity(e, k, x) for k, x in e.values.items() if k != decisive]
        return [x for x in out if x][:limit]

    def head(self) -> str:
        """The kind tag with the level, e.g. ``【红色预警(I级)】``."""
        t = self.t
        if self.n.kind == "resolved":
            return t["tag_withdrawn" if self.withdrawn else "tag_resolved"]
        tag = t["tag_" + self.n.kind].format(step=self.n.step)
        return t["bracket"].format(tag + t["dot"] + self.level() if tag else self.level())

    def title(self) -> str:
        return f"{self.head()}{self.what()} {self.place()}"

    def what(self) -> str:
        """The hazard, or on a resolved notification the hazard and level cleared."""
        if self.n.kind != "resolved":
            return self.hazard()
        colour = self.t["colours"][self.worst] if self.worst else ""
        title = self.t["title_withdrawn" if self.withdrawn else "title_resolved"]
        return title.format(hazard=self.hazard(), colour=colour)

    def when(self, short: bool = False) -> str:
        newest = max(e.ts for e in self.events)
        dt = datetime.fromtimestamp(newest / 1000, self.tz)
        return dt.strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M (UTC%z)")

    def subject_line(self, e: WarningEvent, values: int, mark: bool = True) -> str:
        """A place's line: name, region if several, its change (``mark``) or level, values."""
        parts = [self.name(e)]
        if len(self.regions) > 1:
            parts.append(self.region_of(e.region))
        if mark and (change := self.change(e)):
            parts.append(change)
        elif len({level_of(x) for x in self.events if not self.cleared_here(x)}) > 1:
            parts.append(self.t["colours"].get(level_of(e), "") if level_of(e) else "")
        parts += self.values(e, values)
        return " ".join(p for p in parts if p)

    def instruction(self) -> str:
        if self.n.kind == "resolved":
            return ""
        return next(
            (self.text(e, "instruction") for e in self.events if self.text(e, "instruction")), ""
        )

    def escalation(self) -> str:
        if self.n.step <= 0:
            return ""
        who = self.unacked_by or self.t["previous"]
        if self.ack_wait_s is None:
            return self.t["escalated"].format(step=self.n.step, who=who)
        return self.t["escalated_after"].format(
            step=self.n.step, who=who, minutes=round(self.ack_wait_s / 60)
        )

    def suspect(self) -> str:
        doubtful = sorted({e.certainty for e in self.events if e.certainty != "Observed"})
        words = [self.t["certainty"].get(c, c) for c in doubtful]
        return self.t["suspect"].format(c="/".join(words)) if doubtful else ""

    def ack(self, sms: bool = False) -> str:
        """The acknowledgement: on an SMS the reply number when there is one, else the link."""
        if self.n.kind == "resolved" or not self.n.ack_url:
            return ""
        if sms and self.n.ack_reply:
            return self.t["reply"].format(n=self.n.ack_reply)
        return self.t["ack"].format(url=self.n.ack_url)


_RESPONSE = {Level.BLUE: "IV", Level.YELLOW: "III", Level.ORANGE: "II", Level.RED: "I"}


def _level_now(e: WarningEvent) -> int:
    """The level a warning stands at after ``e``: 0 once cleared (the router's ``sent``)."""
    return 0 if e.event == "cleared" else int(e.level or 0)


def _unique(items: object) -> list[str]:
    return list(dict.fromkeys(items))  # type: ignore[call-overload]


def _sms(v: _View, segments: int) -> str:
    """Fit the message in ``segments`` segments, in the order an officer needs it.

    Level, hazard, county and place, and the acknowledgement always stay; then the decisive
    measurement against its threshold, the action, the time and an escalation note, each
    while it fits (the action cut short if need be).
    """
    t = v.t
    essential = [(0, v.head() + v.what()), (1, v.place())]
    ack = v.ack(sms=True)
    group = len(v.subjects) > 1
    # Optional parts by priority: (position in the text, variants richest first).
    optional: list[tuple[float, list[str]]] = []
    richer: list[str] = []  # a group: more places named, if the action still fits
    if group:
        lines = [v.subject_line(e, 1, mark=False) for e in v.in_force[:SMS_TOP]]
        listed = [
            t["sep"].join(lines[:k]) + v.more(len(v.subjects) - k) for k in range(len(lines), 0, -1)
        ]
        optional.append((4, listed[-1:]))  # the worst place first
        richer = listed[:-1]
    elif v.n.kind != "resolved" and not v.change(v.events[0]):  # else its note has it
        optional.append((4, v.values(v.events[0], 1)))
    # Why a message came while its level stands: first, so a short message keeps at least
    # its words ("已解除"), else it reads as a repeat or a new warning.
    optional.insert(0, (4.2, [v.changes(), v.changes(brief=1), v.changes(brief=2)]))
    instruction = v.instruction()
    later: list[tuple[float, list[str]]] = [(2, [v.escalation()])] if v.escalation() else []
    later.append((3, [v.when(short=True), v.when(short=True)[6:]]))
    if not group and v.n.kind != "resolved" and not v.changes():
        # (Not beside a change: these are as of the warning's own last change, and a rise of
        # 0.25 m/h from then next to "cleared: rise 0.09 m/h" now reads as a contradiction.)
        later.append((4.5, v.values(v.events[0], 2)[1:]))

    def compose(parts: list[tuple[float, str]]) -> str:
        text = " ".join(p for _, p in sorted(parts) if p)
        return text + (" " + ack if ack else "")

    def fits(text: str) -> bool:
        return sms_fits(text, segments)

    def add(options: list[tuple[float, list[str]]]) -> None:
        for order, variants in options:
            for variant in variants:
                if variant and fits(compose([*chosen, (order, variant)])):
                    chosen.append((order, variant))
                    break

    chosen: list[tuple[float, str]] = list(essential)
    add(optional)
    if instruction:
        if fits(compose([*chosen, (5, instruction)])):
            chosen.append((5, instruction))
        else:
            stub = _cut(instruction, lambda p: compose([*chosen, (5, p)]), fits, keep=8)
            if stub:  # fewer than 8 characters of an instruction would say nothing
                chosen.append((5, stub))
    for variant in richer:
        more = [(o, variant) if o == 4 else (o, p) for o, p in chosen]
        if any(o == 4 for o, _ in chosen) and fits(compose(more)):
            chosen = more
            break
    add(later)
    if not fits(compose(chosen)):  # the place is too long: cut it, never level or ack link
        cut = _cut(chosen[1][1], lambda p: compose([chosen[0], (1, p), *chosen[2:]]), fits)
        chosen[1] = (1, cut or chosen[1][1][:1])
    return compose(chosen)


def _cut(text: str, make: Callable[[str], str], fits: Callable[[str], bool], keep: int = 1) -> str:
    """Return the longest prefix of ``text`` (with an ellipsis) whose message fits, or ""."""
    for end in range(len(text) - 1, keep - 1, -1):
        ell = "..." if (make("") + text[:end]).isascii() else ELLIPSIS
        if fits(make(text[:end].rstrip() + ell)):
            return text[:end].rstrip() + ell
    return ""


def _push_lines(v: _View) -> list[str]:
    t = v.t
    lines = [f"{t['time']}: {v.when()}"]
    if v.escalation():
        lines.insert(0, v.escalation())
    listed = v.in_force[:PUSH_TOP]  # (on a resolved notification: every warning)
    for e in listed:
        lines.append("· " + v.subject_line(e, 2))
    if len(v.in_force) > len(listed):
        lines.append(t["more_line"].format(n=len(v.in_force) - len(listed)))
    if v.changes(skip=listed):  # what changed beyond the lines above (a clear, or the rest)
        lines.append(v.changes(skip=listed))
    if len(v.events) == 1 and v.text(v.events[0], "message"):
        lines.append(v.text(v.events[0], "message"))
    if v.suspect():
        lines.append(v.suspect())
    if v.instruction():
        lines.append(f"{t['instruction']}: {v.instruction()}")
    if v.ack():
        lines.append(v.ack())
    return lines


def _email_lines(v: _View) -> list[str]:
    t, n = v.t, v.n
    lines = []
    if v.escalation():
        lines += [v.escalation(), ""]
    lines += [
        f"{t['f_level']}: {v.level()}",
        f"{t['f_hazard']}: {v.hazard()}",
        f"{t['f_region']}: {v.region()}",
        f"{t['f_count']}: {len(v.subjects)}",
        f"{t['time']}: {v.when()}",
    ]
    if v.suspect():
        lines.append(v.suspect())
    if v.instruction():
        lines += ["", f"{t['instruction']}:", v.instruction()]
    lines += ["", f"{t['f_list']}:"]
    for e in v.events:
        lvl = level_of(e)
        colour = t["colours"][lvl] if lvl else t["no_level"]
        when = datetime.fromtimestamp(e.ts / 1000, v.tz).strftime("%m-%d %H:%M")
        values = t["list_sep"].join(v.values(e, len(e.values) + 1))
        lines.append(
            f"- {v.name(e)} ({v.region_of(e.region)}) {colour} "
            f"{t['events'].get(e.event, e.event)} {when}: {values}".rstrip(": ")
        )
        if v.text(e, "message"):
            lines.append(f"  {v.text(e, 'message')}")
    if v.ack():
        lines += ["", v.ack()]
    lines += ["", t["footer"].format(id=n.notification_id, receiver=n.receiver, group=n.group_key)]
    return lines


def _webhook(v: _View) -> str:
    n = v.n
    doc = {
        "notification_id": n.notification_id,
        "kind": n.kind,
        "receiver": n.receiver,
        "person": n.person,
        "group_key": n.group_key,
        "step": n.step,
        "level": v.worst.colour if v.worst else None,
        "language": v.lang,
        "title": v.title(),
        "text": "\n".join(_push_lines(v)),
        "ack_url": n.ack_url,
        "created_at": n.created_at,
        "news": [{"warning_id": w, "told": Level(lv).colour if lv else None} for w, lv in n.news],
        "events": [e.to_dict(v.tz) for e in v.events],
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
