"""The router's decisions, table by table, on an injected clock (no I/O)."""

from __future__ import annotations

import json

import pytest

from tests.notify.helpers import T0, event, routing
from warning.notify.router import Router, notification_from_state, notification_to_state


@pytest.fixture
def router(tmp_path):
    return Router(routing(tmp_path))


def run(router, until, step=10.0, start=T0):
    """Tick the router every ``step`` seconds up to ``until``; return (time, notification)."""
    out, audit = [], []
    t = start
    while t <= until:
        notes, records = router.tick(t)
        out += [(t, n) for n in notes]
        audit += records
        t += step
    return out, audit


def test_forty_gauges_in_two_regions_make_one_message_per_region(router):
    for i in range(40):
        region = "wuxing" if i < 25 else "nanxun"
        router.ingest(
            event(f"w{i}", "raised", "yellow", subject=f"rg-{i}", region=region), {}, T0 + i * 0.5
        )
    sent, _ = run(router, T0 + 60)
    assert [(n.group_key, len(n.events), n.kind) for _, n in sent] == [
        ("region-duty/hazard=rainstorm,region=wuxing", 25, "firing"),
        ("region-duty/hazard=rainstorm,region=nanxun", 15, "firing"),
    ]
    # Sent group_wait (30 s) after the group's first warning (nanxun's at +12.5 s), on the
    # first tick after that.
    assert [t - T0 for t, _ in sent] == [30, 50]
    # Schedule: zhang is on duty on odd days from 2026-06-01 08:30 (1 July is day 30: zhang).
    assert {n.person for _, n in sent} == {"zhang"}
    assert [c.name for c in sent[0][1].channels] == ["duty", "backup"]


def test_changes_wait_for_group_interval_and_reminders_for_repeat_interval(router):
    router.ingest(event("a", "raised", "yellow"), {}, T0)
    sent, _ = run(router, T0 + 40)
    assert len(sent) == 1
    # A second gauge joins one minute later: told at the next group interval (30 s + 5 min).
    router.ingest(event("b", "raised", "yellow", subject="rg-2"), {}, T0 + 60)
    sent, _ = run(router, T0 + 3600, start=T0 + 60)
    assert [(t - T0, len(n.events)) for t, n in sent] == [(330, 2)]
    # Nothing changes: a reminder after repeat_interval (4 h) from the last notification.
    sent, _ = run(router, T0 + 5 * 3600, step=60, start=T0 + 3600)
    assert [(n.kind, len(n.events)) for _, n in sent] == [("reminder", 2)]
    assert sent[0][0] - (T0 + 330) == pytest.approx(4 * 3600, abs=300)


def test_level_change_and_clear_are_news_and_the_group_ends(router):
    router.ingest(event("a", "raised", "yellow"), {}, T0)
    run(router, T0 + 30)
    router.ingest(event("a", "escalated", "orange", previous="yellow", ts_s=T0 + 100), {}, T0 + 100)
    sent, _ = run(router, T0 + 400, start=T0 + 40)
    assert [(n.kind, n.events[0].level.colour) for _, n in sent] == [("firing", "orange")]
    router.ingest(event("a", "cleared", None, ts_s=T0 + 500), {}, T0 + 500)
    sent, _ = run(router, T0 + 1000, start=T0 + 410)
    assert [(n.kind, n.events[0].event) for _, n in sent] == [("resolved", "cleared")]
    assert router.groups == {} and router.alerts == {}


def test_a_notification_names_the_warnings_that_changed_since_the_receiver_was_told(router):
    router.ingest(event("a", "raised", "orange"), {}, T0)
    router.ingest(event("b", "raised", "yellow", subject="rg-2"), {}, T0 + 1)
    sent, _ = run(router, T0 + 30)
    assert [sorted(n.news) for _, n in sent] == [[("a", 0), ("b", 0)]]  # never told before
    # b comes down to blue while a stays orange: the message is about b's change.
    router.ingest(event("b", "deescalated", "blue", previous="yellow", subject="rg-2"), {}, T0 + 60)
    sent, _ = run(router, T0 + 400, start=T0 + 40)
    assert [(n.kind, n.news) for _, n in sent] == [("firing", (("b", 2),))]  # told yellow
    router.ingest(event("b", "cleared", None, subject="rg-2"), {}, T0 + 500)
    sent, _ = run(router, T0 + 1000, start=T0 + 410)
    told = [(n.kind, n.news, len(n.events)) for _, n in sent if n.kind != "escalation"]
    assert told == [("firing", (("b", 1),), 2)]  # told blue


def test_news_pending_counts_groups_whose_receiver_was_not_told_yet(router):
    assert router.news_pending(T0) == 0
    router.ingest(event("a", "raised", "yellow"), {}, T0)
    assert router.news_pending(T0) == 1  # waiting for group_wait
    run(router, T0 + 30)
    assert router.news_pending(T0 + 30) == 0  # told
    router.ingest(event("a", "escalated", "orange", previous="yellow", ts_s=T0 + 100), {}, T0 + 100)
    assert router.news_pending(T0 + 100) == 1  # waiting for group_interval
    run(router, T0 + 400, start=T0 + 40)
    router.ingest(event("a", "cleared", None, ts_s=T0 + 500), {}, T0 + 500)
    assert router.news_pending(T0 + 500) == 1  # the all-clear is news too
    run(router, T0 + 1000, start=T0 + 410)
    assert router.news_pending(T0 + 1000) == 0


def test_a_warning_raised_and_cleared_within_group_wait_is_never_sent(router):
    router.ingest(event("a", "raised", "blue"), {}, T0)
    router.ingest(event("a", "cleared", None, ts_s=T0 + 10), {}, T0 + 10)
    sent, _ = run(router, T0 + 600)
    assert sent == []


def test_repeated_events_are_taken_once_even_after_the_episode_ended(router):
    e = event("a", "raised", "yellow")
    router.ingest(e, {}, T0)
    router.ingest(e, {}, T0 + 1)
    assert len(run(router, T0 + 30)[0][0][1].events) == 1
    clear = event("a", "cleared", None, ts_s=T0 + 60)
    router.ingest(clear, {}, T0 + 60)
    sent, _ = run(router, T0 + 400, start=T0 + 40)
    assert len(sent) == 1
    # Redelivered after a restart (at-least-once upstream): ignored, nothing sent again.
    assert router.ingest(e, {}, T0 + 500) == [] and router.ingest(clear, {}, T0 + 500) == []
    assert run(router, T0 + 1000, start=T0 + 500)[0] == []


@pytest.mark.parametrize(
    ("subject", "attrs", "when", "muted"),
    [
        # A silence on one gauge, inside and after its end.
        ("rg-repair", {}, T0, "silence: gauge under repair"),
        ("rg-repair", {}, T0 + 3 * 3600, ""),
        # A weekly window (Wednesdays 09:00-11:00) for sensors whose registry operator is calib.
        ("rg-5", {"operator": "calib"}, T0, "maintenance window: weekly calibration"),
        ("rg-5", {"operator": "calib"}, T0 + 2 * 3600, ""),
        ("rg-5", {"operator": "city"}, T0, ""),
    ],
)
def test_silences_and_maintenance_windows(router, subject, attrs, when, muted):
    router.ingest(event("a", "raised", "yellow", subject=subject), attrs, when)
    sent, audit = run(router, when + 60, start=when)
    assert len(sent) == (0 if muted else 1)
    assert [r.detail for r in audit if r.action == "suppressed"] == ([muted] if muted else [])


def test_a_red_warning_inhibits_lower_levels_of_the_same_hazard_in_its_area(router):
    router.ingest(event("red", "raised", "red", subject="rg-1"), {}, T0)
    router.ingest(event("yel", "raised", "yellow", subject="rg-2"), {}, T0)
    router.ingest(event("other", "raised", "yellow", subject="rg-3", region="nanxun"), {}, T0)
    router.ingest(event("gas", "raised", "yellow", subject="gs-1", hazard="gas"), {}, T0)
    sent, audit = run(router, T0 + 60)
    told = sorted(e.warning_id for _, n in sent for e in n.events)
    assert told == ["gas", "other", "red"]
    assert [(r.warning_id, r.detail) for r in audit if r.action == "suppressed"] == [
        ("yel", "inhibited by red (red)")
    ]


def test_escalation_goes_up_the_chain_when_nobody_acknowledges(router):
    router.ingest(event("a", "raised", "orange"), {}, T0)
    sent, audit = run(router, T0 + 3600)
    assert [(round(t - T0), n.receiver, n.person, n.kind, n.step) for t, n in sent] == [
        (30, "region-duty", "zhang", "firing", 0),
        (30 + 900, "deputy", "wang", "escalation", 1),
        (30 + 900 + 1800, "leader", "chen", "escalation", 2),
    ]
    assert [r.receiver for r in audit if r.action == "escalated"] == ["deputy", "leader"]
    assert [(r.receiver, r.person, r.detail) for r in audit if r.action == "issued"] == [
        ("region-duty", "zhang", "firing"),
        ("deputy", "wang", "escalation"),
        ("leader", "chen", "escalation"),
    ]


def test_no_escalation_after_an_acknowledgement_until_the_level_rises(router):
    router.ingest(event("a", "raised", "orange"), {}, T0)
    ((_, first),) = run(router, T0 + 30)[0]
    assert first.kind == "firing"
    records = router.acknowledge(first.notification_id, "zhang", "http", T0 + 300)
    assert [(r.action, r.warning_id, r.person, r.detail) for r in records] == [
        ("acknowledged", "a", "zhang", "via http")
    ]
    sent, _ = run(router, T0 + 3600, start=T0 + 310)
    assert sent == []
    # Red needs a new acknowledgement: escalates 15 min after it was sent.
    router.ingest(event("a", "escalated", "red", previous="orange", ts_s=T0 + 3600), {}, T0 + 3600)
    sent, _ = run(router, T0 + 3600 + 1500, start=T0 + 3610)
    assert [(n.receiver, n.kind) for _, n in sent] == [
        ("region-duty", "firing"),
        ("deputy", "escalation"),
    ]


def test_blue_and_yellow_do_not_escalate_and_faults_go_to_maintenance(router):
    router.ingest(event("a", "raised", "yellow"), {}, T0)
    router.ingest(event("f", "raised", "yellow", hazard="sensor_fault", subject="wl-1"), {}, T0)
    sent, _ = run(router, T0 + 7200, step=30)
    assert sorted((n.receiver, n.kind) for _, n in sent) == [
        ("maint", "firing"),
        ("region-duty", "firing"),
    ]


def test_state_survives_a_restart_mid_wait_and_mid_escalation(tmp_path, router):
    router.ingest(event("a", "raised", "orange"), {}, T0)
    run(router, T0 + 30)
    router.ingest(event("b", "raised", "yellow", subject="rg-2"), {}, T0 + 60)
    saved = json.loads(json.dumps(router.to_state()))
    again = Router(routing(tmp_path))
    again.restore(saved)
    assert run(again, T0 + 1000, start=T0 + 40) == run(router, T0 + 1000, start=T0 + 40)
    # Ignores what it already took, also after the restart.
    assert again.ingest(event("b", "raised", "yellow", subject="rg-2"), {}, T0 + 1001) == []


def test_a_queued_notification_round_trips_without_its_secrets(tmp_path, router):
    router.ingest(event("a", "raised", "orange"), {}, T0)
    ((_, note),) = run(router, T0 + 30)[0]
    data = json.loads(json.dumps(notification_to_state(note)))
    assert data["channels"] == ["duty", "backup"] and "json://" not in json.dumps(data)
    assert notification_from_state(data, router.routing) == note and note.news == (("a", 0),)
    # An outbox row written before notifications named their news still loads.
    del data["news"]
    assert notification_from_state(data, router.routing).news == ()


def test_an_old_link_does_not_acknowledge_a_higher_level(router):
    router.ingest(event("a", "raised", "orange"), {}, T0)
    ((_, orange),) = run(router, T0 + 30)[0]
    router.ingest(event("a", "escalated", "red", previous="orange", ts_s=T0 + 60), {}, T0 + 60)
    assert router.acknowledge(orange.notification_id, "zhang", "http", T0 + 70) == []
    sent, _ = run(router, T0 + 1400, start=T0 + 40)
    assert [(n.receiver, n.kind) for _, n in sent] == [
        ("region-duty", "firing"),
        ("deputy", "escalation"),
    ]


def test_warnings_are_routed_again_when_their_receiver_leaves_the_routing(tmp_path, router):
    import dataclasses

    router.ingest(event("a", "raised", "yellow"), {}, T0)
    run(router, T0 + 30)
    # The new routing file sends everything to maintenance: the open warning follows.
    routing = router.routing
    receivers = {k: v for k, v in routing.receivers.items() if k != "region-duty"}
    route = dataclasses.replace(routing.route, receiver="maint", routes=())
    router.routing = dataclasses.replace(routing, receivers=receivers, route=route)
    router.groups = {k: g for k, g in router.groups.items() if g.receiver in receivers}
    assert router.regroup(T0 + 40) == 1
    sent, _ = run(router, T0 + 100, start=T0 + 40)
    assert [(n.receiver, n.events[0].warning_id) for _, n in sent] == [("maint", "a")]


def _firing(sent):
    return [n for _, n in sent if n.kind == "firing"]


def _sms(n, language="en"):
    from tests.notify.helpers import TZ
    from warning.notify.templates import render

    return render(n, "sms", language, TZ).body


def test_a_change_is_told_against_the_level_the_receiver_last_heard(router):
    """Not the warning's last event: blue told, then up to orange and down to yellow within
    one group interval, is "up to yellow" (its last event was a de-escalation)."""
    router.ingest(event("a", "raised", "orange"), {}, T0)
    router.ingest(event("b", "raised", "blue", subject="rg-2"), {}, T0 + 1)
    (first,) = _firing(run(router, T0 + 40)[0])
    assert "new" not in _sms(first) and "up to" not in _sms(first)  # the first message: no notes
    router.ingest(event("b", "escalated", "orange", previous="blue", subject="rg-2"), {}, T0 + 60)
    router.ingest(
        event("b", "deescalated", "yellow", previous="orange", subject="rg-2"), {}, T0 + 120
    )
    (n,) = _firing(run(router, T0 + 400, start=T0 + 50)[0])
    assert n.news == (("b", 1),)
    assert "up to yellow: rg-2" in _sms(n) and "升为黄色：rg-2" in _sms(n, "zh")


def test_a_warning_raised_and_raised_again_before_it_was_told_is_new(router):
    router.ingest(event("a", "raised", "orange"), {}, T0)
    run(router, T0 + 40)
    router.ingest(event("b", "raised", "blue", subject="rg-2"), {}, T0 + 60)
    router.ingest(event("b", "escalated", "yellow", previous="blue", subject="rg-2"), {}, T0 + 90)
    (n,) = _firing(run(router, T0 + 400, start=T0 + 50)[0])
    assert n.news == (("b", 0),) and "new yellow: rg-2" in _sms(n)


def test_warnings_shown_again_after_an_inhibition_are_not_new(router):
    """A red warning inhibits the yellow and blue ones told before; when it comes down to
    orange they show again: the message names the red one's change, not two "new" ones."""
    router.ingest(event("a", "raised", "yellow"), {}, T0)
    router.ingest(event("b", "raised", "blue", subject="rg-2"), {}, T0 + 1)
    run(router, T0 + 40)
    router.ingest(event("c", "raised", "red", subject="rg-3"), {}, T0 + 60)
    run(router, T0 + 400, start=T0 + 50)
    router.ingest(event("c", "deescalated", "orange", previous="red", subject="rg-3"), {}, T0 + 500)
    (n,) = _firing(run(router, T0 + 800, start=T0 + 410)[0])
    assert dict(n.news) == {"a": 2, "b": 1, "c": 4}
    sms = _sms(n)
    assert sms.startswith("[ORANGE (II)]") and "down to orange: rg-3" in sms, sms
    assert "new" not in sms, sms
