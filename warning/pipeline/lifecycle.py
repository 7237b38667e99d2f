"""The warning lifecycle: one small state machine per (rule, subject), as pure functions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from mypy_extensions import mypyc_attr

from warning.legacy import field_values, restore_fields
from warning.records import Level


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(frozen=True, slots=True)
class Episode:
    """Where one (rule, subject) stands.

    ``since[i]`` is the event time from which "target >= Level(i + 1)" has held without a break
    (None when it does not hold); ``for:`` durations are measured from it.
    """

    warning_id: str | None = None
    level: Level | None = None
    level_since: int = 0
    since: tuple[int | None, int | None, int | None, int | None] = (None, None, None, None)
    #: The level is reached in a forecast or nowcast but not (yet) in observations.
    expected: bool = False

    def __getstate__(self) -> list:
        return field_values(self)  # what earlier releases pickled and read back

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(frozen=True, slots=True)
class Transition:
    """A lifecycle event to emit."""

    event: str
    level: Level | None
    previous: Level | None
    warning_id: str

    def __getstate__(self) -> list:
        return field_values(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


QUIET = Episode()


def warning_id(rule_id: str, subject: str, ts: int) -> str:
    """Name an episode by rule, subject and the moment it was raised (UTC).

    >>> warning_id("rainstorm", "rg-wx-01", 1783231200000)
    'rainstorm/rg-wx-01/20260705T060000Z'
    """
    stamp = datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{rule_id}/{subject}/{stamp}"


def step(
    ep: Episode,
    target: Level | None,
    ts: int,
    *,
    rule_id: str,
    subject: str,
    for_ms: int = 0,
    hold_ms: int = 0,
    clear_ok: bool = True,
) -> tuple[Episode, Transition | None]:
    """Advance one episode to event time ``ts`` given the highest level whose condition holds.

    Upward moves wait until the level has held for ``for_ms``; downward moves wait until the
    current level has lasted ``hold_ms``; clearing also needs ``clear_ok`` (hysteresis).

    >>> ep, t = step(QUIET, Level.YELLOW, 0, rule_id="r", subject="s")
    >>> t.event, t.level.colour
    ('raised', 'yellow')
    >>> ep, t = step(ep, None, 60_000, rule_id="r", subject="s", hold_ms=3_600_000)
    >>> t is None, ep.level.colour
    (True, 'yellow')
    """
    held = target.value if target is not None else 0
    # Each level at or below the target holds since its first moment; those above are reset.
    s0, s1, s2, s3 = (
        (s if s is not None else ts) if i < held else None for i, s in enumerate(ep.since)
    )
    since = (s0, s1, s2, s3)
    effective = None
    for i in range(held - 1, -1, -1):
        start = since[i]
        if start is not None and ts - start >= for_ms:
            effective = Level(i + 1)
            break
    current = ep.level
    if current is None:
        if effective is None:
            return (Episode(since=since) if since != ep.since else ep), None
        wid = warning_id(rule_id, subject, ts)
        return Episode(wid, effective, ts, since), Transition("raised", effective, None, wid)
    assert ep.warning_id is not None
    wid = ep.warning_id
    if effective is not None and effective > current:
        return Episode(wid, effective, ts, since), Transition("escalated", effective, current, wid)
    if (effective is None or effective < current) and ts - ep.level_since >= hold_ms:
        if effective is None:
            if clear_ok:
                return Episode(since=since), Transition("cleared", None, current, wid)
        else:
            return Episode(wid, effective, ts, since), Transition(
                "deescalated", effective, current, wid
            )
    return Episode(wid, current, ep.level_since, since, ep.expected), None


def confirm(
    ep: Episode, t: Transition | None, observed: Level | None
) -> tuple[Episode, Transition | None]:
    """Mark an active episode expected or observed, given the level observations alone reach.

    A transition to a level above ``observed`` makes the episode expected; an expected episode
    whose level observations then reach is ``confirmed``, in the same episode.

    >>> ep, t = step(QUIET, Level.ORANGE, 0, rule_id="r", subject="s")
    >>> ep, t = confirm(ep, t, Level.YELLOW); ep.expected, t.event
    (True, 'raised')
    >>> ep, t = confirm(ep, None, Level.ORANGE); ep.expected, t.event, t.level.colour
    (False, 'confirmed', 'orange')
    """
    if ep.level is None:
        return ep, t
    reached = observed is not None and observed >= ep.level
    if t is not None:
        return replace(ep, expected=not reached), t
    if ep.expected and reached:
        assert ep.warning_id is not None
        return replace(ep, expected=False), Transition(
            "confirmed", ep.level, ep.level, ep.warning_id
        )
    return ep, None
