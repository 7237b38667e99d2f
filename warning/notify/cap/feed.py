"""The active CAP alerts as an Atom feed, and the WSGI app that serves it and each alert.

Each open episode shows one entry, its newest message, with the CAP alert embedded in
``<content type="text/xml">`` as public alert hubs do. Every message of an episode in the
feed can be fetched by identifier, so consumers can follow ``references``. An episode
leaves the feed when its newest message expires; a Cancel stays until its own expiry or
``cancel_keep``, whichever comes first. Time is passed in (epoch milliseconds), never read.
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from warning.notify.cap.alert import (
    CAP_NS,
    MSG_TYPES,
    CapSettings,
    MessageRef,
    cap_time,
    expires_ms,
    identifier,
    message_ref,
    render,
)
from warning.records import WarningEvent, parse_duration_ms, zone

ATOM_NS = "http://www.w3.org/2005/Atom"
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One rendered CAP message held by the feed."""

    identifier: str
    sender: str
    sent: str  # CAP date-time
    sent_ms: int
    expires_ms: int
    msg_type: str
    title: str  # headline in the feed's language
    summary: str  # description in the feed's language
    xml: str


def _texts(xml: bytes, language: str) -> tuple[str, str]:
    """Return the headline and description of the info block in ``language`` (or the first)."""
    ns = {"cap": CAP_NS}
    infos = ET.fromstring(xml).findall("cap:info", ns)
    chosen = next(
        (i for i in infos if i.findtext("cap:language", "", ns) == language),
        infos[0] if infos else None,
    )
    if chosen is None:
        return "", ""
    return chosen.findtext("cap:headline", "", ns), chosen.findtext("cap:description", "", ns)


class CapFeed:
    """The active episodes and their CAP messages; thread-safe (the HTTP server reads it)."""

    def __init__(
        self,
        settings: CapSettings | None = None,
        base_url: str = "",
        language: str = "zh-CN",
        title: str = "",
        cancel_keep: str | None = None,
    ):
        self.settings = settings or CapSettings()
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.title = (
            title
            or f"{self.settings.sender_name_zh} 预警 / {self.settings.sender_name_en} warnings"
        )
        self.cancel_keep_ms = parse_duration_ms(cancel_keep) if cancel_keep else None
        self._episodes: dict[str, list[FeedEntry]] = {}
        self._changed_ms: int | None = None
        self._lock = threading.Lock()

    def observe(self, event: WarningEvent, sensor: Mapping[str, Any] | None = None) -> bytes:
        """Render ``event`` into its episode and return the CAP XML (the same again if seen)."""
        ident = identifier(event)
        with self._lock:
            messages = self._episodes.get(event.warning_id, [])
            for m in messages:
                if m.identifier == ident:  # redelivered: at-least-once upstream
                    return m.xml.encode()
            earlier = [MessageRef(m.sender, m.identifier, m.sent) for m in messages]
            xml = render(event, sensor, earlier, self.settings)
            title, summary = _texts(xml, self.language)
            ref = message_ref(event, self.settings)
            message = FeedEntry(
                ident,
                ref.sender,
                ref.sent,
                event.ts,
                expires_ms(event, self.settings),
                MSG_TYPES[event.event],
                title,
                summary,
                xml.decode(),
            )
            self._episodes[event.warning_id] = [*messages, message]
            self._changed_ms = max(self._changed_ms or event.ts, event.ts)
        return xml

    def _until(self, messages: list[FeedEntry]) -> int:
        last = messages[-1]
        if last.msg_type == "Cancel" and self.cancel_keep_ms is not None:
            return min(last.expires_ms, last.sent_ms + self.cancel_keep_ms)
        return last.expires_ms

    def expire(self, now_ms: int) -> list[str]:
        """Drop episodes whose newest message has expired; return their warning ids."""
        with self._lock:
            gone = [wid for wid, ms in self._episodes.items() if self._until(ms) <= now_ms]
            for wid in gone:
                until = self._until(self._episodes.pop(wid))
                self._changed_ms = max(self._changed_ms or until, until)
        return gone

    def active(self, now_ms: int) -> list[FeedEntry]:
        """Return the newest message of each episode still in the feed, newest first."""
        with self._lock:
            latest = [ms[-1] for ms in self._episodes.values() if self._until(ms) > now_ms]
        return sorted(latest, key=lambda m: (-m.sent_ms, m.identifier))

    def alert(self, ident: str) -> bytes | None:
        """Return the CAP XML of any message of an episode in the feed, or None."""
        with self._lock:
            for messages in self._episodes.values():
                for m in messages:
                    if m.identifier == ident:
                        return m.xml.encode()
        return None

    def alert_url(self, ident: str, base_url: str | None = None) -> str:
        """Return where the message ``ident`` is served."""
        base = self.base_url if base_url is None else base_url.rstrip("/")
        return f"{base}/cap/alerts/{ident}.xml"

    def atom(self, now_ms: int, base_url: str | None = None) -> bytes:
        """Return the Atom 1.0 feed of the active alerts at ``now_ms``."""
        base = self.base_url if base_url is None else base_url.rstrip("/")
        tz = zone(self.settings.tz)
        entries = self.active(now_ms)
        stamps = [m.sent_ms for m in entries]
        if self._changed_ms is not None:
            stamps.append(min(self._changed_ms, now_ms))
        updated = cap_time(max(stamps) if stamps else now_ms, tz)
        author = (
            f"<author><name>{escape(self.settings.sender_name_zh)} "
            f"{escape(self.settings.sender_name_en)}</name></author>"
        )
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<feed xmlns="{ATOM_NS}" xml:lang={quoteattr(self.language)}>',
            f"  <id>{escape(base)}/cap/feed.atom</id>",
            f"  <title>{escape(self.title)}</title>",
            f"  <updated>{updated}</updated>",
            f"  {author}",
            f'  <link rel="self" type="application/atom+xml" '
            f"href={quoteattr(base + '/cap/feed.atom')}/>",
        ]
        for m in entries:
            url = self.alert_url(m.identifier, base)
            body = m.xml.split("?>", 1)[1].strip() if m.xml.startswith("<?xml") else m.xml
            lines += [
                "  <entry>",
                f"    <id>{escape(url)}</id>",
                f"    <title>{escape(m.title)}</title>",
                f"    <updated>{m.sent}</updated>",
                f"    {author}",
                f"    <summary>{escape(m.summary)}</summary>",
                f'    <link rel="alternate" type="application/cap+xml" href={quoteattr(url)}/>',
                f'    <content type="text/xml">{body}</content>',
                "  </entry>",
            ]
        lines.append("</feed>")
        return ("\n".join(lines) + "\n").encode("utf-8")

    def to_state(self) -> dict[str, Any]:
        """Return the feed's episodes as JSON-able data, for persistence across restarts."""
        with self._lock:
            return {
                "version": STATE_VERSION,
                "changed_ms": self._changed_ms,
                "episodes": {wid: [asdict(m) for m in ms] for wid, ms in self._episodes.items()},
            }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace the episodes with those of ``to_state()``; raise ValueError if malformed."""
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            found = state.get("version") if isinstance(state, Mapping) else type(state).__name__
            msg = f"CAP feed state must be a mapping with version {STATE_VERSION}; found {found!r}"
            raise ValueError(msg)
        try:
            episodes = {
                str(wid): [FeedEntry(**m) for m in ms] for wid, ms in state["episodes"].items()
            }
        except (KeyError, TypeError, AttributeError) as exc:
            msg = f"CAP feed state episodes must map ids to lists of messages; found {exc}"
            raise ValueError(msg) from None
        with self._lock:
            self._episodes = {wid: ms for wid, ms in episodes.items() if ms}
            self._changed_ms = state.get("changed_ms")

    @classmethod
    def from_state(cls, state: Mapping[str, Any], **kwargs: Any) -> CapFeed:
        """Return a feed built with ``kwargs`` holding the episodes of ``state``."""
        feed = cls(**kwargs)
        feed.load_state(state)
        return feed


def feed_app(
    feed: CapFeed, base_url: str, clock: Callable[[], float] = time.time
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Return a WSGI app serving ``/cap/feed.atom`` and ``/cap/alerts/<identifier>.xml``.

    ``clock`` gives the wall-clock time in seconds; it is read once per request, here at the
    edge, to expire old alerts.
    """
    prefix, suffix = "/cap/alerts/", ".xml"

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        body: bytes | None = None
        ctype = "text/plain; charset=utf-8"
        if method in ("GET", "HEAD"):
            now_ms = int(clock() * 1000)
            feed.expire(now_ms)
            if path == "/cap/feed.atom":
                body, ctype = feed.atom(now_ms, base_url), "application/atom+xml; charset=utf-8"
            elif path.startswith(prefix) and path.endswith(suffix):
                body = feed.alert(path[len(prefix) : -len(suffix)])
                ctype = "application/cap+xml; charset=utf-8"
        if body is None:
            known = path == "/cap/feed.atom" or path.startswith(prefix)
            status = (
                "405 Method Not Allowed"
                if method not in ("GET", "HEAD") and known
                else "404 Not Found"
            )
            body, ctype = f"{status}: {path}\n".encode(), "text/plain; charset=utf-8"
        else:
            status = "200 OK"
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
        if status.startswith("405"):
            headers.append(("Allow", "GET, HEAD"))
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    return app
