"""The Atom feed of active CAP alerts: entries, expiry, Cancel, state, and its HTTP server."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from lxml import etree

from tests.notify.cap_helpers import NS, SENSOR, WID, assert_valid, episode, event, ms, settings
from warning.notify.cap.alert import identifier
from warning.notify.cap.feed import CapFeed, feed_app
from warning.records import Level

BASE = "https://alerts.huzhou.example"
HOUR = 3_600_000


def _feed(**kw) -> CapFeed:
    return CapFeed(settings(), base_url=BASE, **kw)


def _parse_atom(data: bytes) -> etree._Element:
    """Parse a feed and check what RFC 4287 requires of it; return the root."""
    root = etree.fromstring(data)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for required in ("atom:id", "atom:title", "atom:updated", "atom:author/atom:name"):
        assert root.findtext(required, namespaces=NS), required
    for entry in root.findall("atom:entry", NS):
        for required in ("atom:id", "atom:title", "atom:updated", "atom:summary"):
            assert entry.findtext(required, namespaces=NS), required
        link = entry.find("atom:link[@rel='alternate']", NS)
        assert link.get("type") == "application/cap+xml"
        assert link.get("href") == entry.findtext("atom:id", namespaces=NS)
        content = entry.find("atom:content", NS)
        assert content.get("type") == "text/xml"
        (alert,) = list(content)  # inline XML content: exactly one child element
        assert_valid(etree.tostring(alert))
    return root


def _entries(root) -> list[tuple[str, str]]:
    """(msgType, identifier) of each entry's embedded alert."""
    return [
        (
            e.findtext("atom:content/cap:alert/cap:msgType", namespaces=NS),
            e.findtext("atom:content/cap:alert/cap:identifier", namespaces=NS),
        )
        for e in root.findall("atom:entry", NS)
    ]


def test_the_feed_shows_the_newest_message_of_each_active_episode():
    feed = _feed()
    events = episode()
    silent = event(
        "raised",
        Level.YELLOW,
        None,
        ms(6),
        wid="silent_rain_gauge/rg-2/x",
        rule_id="silent_rain_gauge",
        hazard="sensor_silence",
        subject="rg-2",
    )
    feed.observe(events[0], SENSOR)
    feed.observe(silent, None)
    feed.observe(events[1], SENSOR)
    root = _parse_atom(feed.atom(ms(7, 30)))
    assert _entries(root) == [("Update", identifier(events[1])), ("Alert", identifier(silent))]
    assert root.findtext("atom:updated", namespaces=NS) == "2026-07-05T07:15:00+08:00"
    assert root.findtext("atom:id", namespaces=NS) == f"{BASE}/cap/feed.atom"
    first = root.find("atom:entry", NS)
    assert first.findtext("atom:title", namespaces=NS) == "吴兴区暴雨预警升级为橙色"
    assert (
        first.find("atom:link", NS).get("href") == f"{BASE}/cap/alerts/{identifier(events[1])}.xml"
    )
    # the earlier message stays retrievable, so that references can be followed
    assert feed.alert(identifier(events[0])) is not None


def test_an_alert_leaves_the_feed_when_it_expires():
    feed = _feed()
    raised = episode()[0]  # 05:05, valid 6 h
    feed.observe(raised, SENSOR)
    assert len(_entries(_parse_atom(feed.atom(ms(11, 4))))) == 1
    assert _entries(_parse_atom(feed.atom(ms(11, 5)))) == []
    assert feed.expire(ms(11, 5)) == [WID]
    assert feed.alert(identifier(raised)) is None
    # the feed still says when it last changed: the expiry
    root = _parse_atom(feed.atom(ms(12)))
    assert root.findtext("atom:updated", namespaces=NS) == "2026-07-05T11:05:00+08:00"


def test_a_cancel_stays_until_its_own_expiry_or_the_keep_time():
    events = episode()  # cleared at 14:30; a Cancel is valid 1 h
    for keep, gone_at in ((None, ms(15, 30)), ("20m", ms(14, 50))):
        feed = _feed(cancel_keep=keep)
        for e in events:
            feed.observe(e, SENSOR)
        assert _entries(_parse_atom(feed.atom(gone_at - 1))) == [("Cancel", identifier(events[-1]))]
        assert _entries(_parse_atom(feed.atom(gone_at))) == []
        assert feed.expire(gone_at) == [WID]


def test_redelivered_events_are_rendered_once():
    feed = _feed()
    first = feed.observe(episode()[0], SENSOR)
    again = feed.observe(episode()[0], SENSOR)
    update = assert_valid(feed.observe(episode()[1], SENSOR))
    assert first == again
    refs = update.findtext("cap:references", namespaces=NS).split(" ")
    assert len(refs) == 1  # the duplicate did not become a second earlier message


def test_the_feed_references_chain_matches_the_pure_renderer():
    from warning.notify.cap.alert import render_episode

    feed = _feed()
    assert [feed.observe(e, SENSOR) for e in episode()] == render_episode(
        episode(), {"rg-1": SENSOR}, settings()
    )


def test_state_round_trip_through_json():
    feed = _feed()
    events = episode()
    for e in events[:3]:
        feed.observe(e, SENSOR)
    state = json.loads(json.dumps(feed.to_state()))
    restored = CapFeed.from_state(state, settings=settings(), base_url=BASE)
    assert restored.atom(ms(9)) == feed.atom(ms(9))
    assert restored.alert(identifier(events[0])) == feed.alert(identifier(events[0]))
    # after a restart the episode continues with the same references
    assert restored.observe(events[3], SENSOR) == feed.observe(events[3], SENSOR)


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"version": 2, "episodes": {}},
        [],
        {"version": 1, "episodes": {"w": [{"identifier": "x"}]}},
    ],
)
def test_bad_state_is_refused_with_a_reason(state):
    with pytest.raises(ValueError, match="CAP feed state"):
        CapFeed.from_state(state)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served():
    """The feed app on a real HTTP server on a free loopback port; the clock is fixed."""
    feed = _feed()
    now = {"s": ms(9) / 1000}
    server = make_server(
        "127.0.0.1", 0, feed_app(feed, BASE, clock=lambda: now["s"]), handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield feed, f"http://127.0.0.1:{server.server_port}", now
    server.shutdown()
    server.server_close()
    thread.join(5)


def _get(url: str, method: str = "GET") -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_http_serves_the_feed_and_the_alerts(served):
    feed, url, now = served
    events = episode()
    for e in events[:3]:
        feed.observe(e, SENSOR)
    status, ctype, body = _get(f"{url}/cap/feed.atom")
    assert (status, ctype) == (200, "application/atom+xml; charset=utf-8")
    assert _entries(_parse_atom(body)) == [("Update", identifier(events[2]))]
    for e in events[:3]:
        status, ctype, body = _get(f"{url}/cap/alerts/{identifier(e)}.xml")
        assert (status, ctype) == (200, "application/cap+xml; charset=utf-8")
        assert body == feed.alert(identifier(e))
        assert_valid(body)
    assert _get(f"{url}/cap/alerts/nope.xml")[0] == 404
    assert _get(f"{url}/cap/alerts/{identifier(events[0])}")[0] == 404  # no .xml
    assert _get(f"{url}/")[0] == 404
    assert _get(f"{url}/cap/feed.atom", method="POST")[0] == 405
    # the injected clock moves past the red update's expiry: everything is gone
    now["s"] = (ms(8, 15) + 6 * HOUR) / 1000
    assert _entries(_parse_atom(_get(f"{url}/cap/feed.atom")[2])) == []
    assert _get(f"{url}/cap/alerts/{identifier(events[0])}.xml")[0] == 404


def test_the_feed_language_picks_the_info_block_for_titles():
    feed = CapFeed(settings(), base_url=BASE, language="en")
    feed.observe(episode()[0], SENSOR)
    root = _parse_atom(feed.atom(ms(6)))
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    entry = root.find("atom:entry", NS)
    assert (
        entry.findtext("atom:title", namespaces=NS)
        == "Yellow rainstorm warning for Wuxing District"
    )
    assert entry.findtext("atom:summary", namespaces=NS).startswith("Yellow rainstorm warning")
