"""Message templates: what an on-call officer must read, in every style, language and kind."""

from __future__ import annotations

import dataclasses
import json

import pytest

from warning.notify.records import Notification
from warning.notify.templates import render, sms_fits, sms_units
from warning.records import Level, WarningEvent, zone

TZ = zone("Asia/Shanghai")
T0 = 1783231200000  # 2026-07-05 14:00 +08:00
ACK = "https://hw.example/ack/7Hx2kq"
INSTRUCTION = "Level-II flood response: 24 h embankment patrols, evacuate flood-prone areas."
INSTRUCTION_ZH = "启动防汛II级应急响应：堤防24小时巡查，转移易涝区群众。"
INSTRUCTIONS = {"zh": INSTRUCTION_ZH, "en": INSTRUCTION}


def texts(i: int, level: Level | None) -> dict:
    """An event's texts as the engine writes them from a rule file with both languages."""
    m = f"{4.5 + i / 100:.2f}"
    return {
        "zh-CN": {
            "message": f"杭长桥{i}：水位{m}米",
            "place": f"杭长桥{i}",
            "instruction": "" if level is None else INSTRUCTION_ZH,
            "labels": {"level_m": "水位", "rise_m_per_h": "每小时涨幅"},
            "units": {"level_m": "米", "rise_m_per_h": "米/小时"},
        },
        "en": {
            "message": f"Hangchangqiao {i}: level {m} m",
            "place": f"Hangchangqiao {i}",
            "instruction": "" if level is None else INSTRUCTION,
            "labels": {"level_m": "level", "rise_m_per_h": "rise"},
            "units": {"level_m": "m", "rise_m_per_h": "m/h"},
        },
    }


def event(
    i: int = 42,
    level: Level | None = Level.ORANGE,
    region: str = "wuxing",
    event: str = "raised",
    **kw,
) -> WarningEvent:
    value = 4.5 + i / 100
    measure = (
        {"name": "level_m", "value": value, "op": ">=", "threshold": 4.5, "level": level.colour}
        if level
        else {}
    )
    kw.setdefault("texts", texts(i, level))
    return WarningEvent(
        f"w-{i}",
        event,
        "water_level",
        "flood",
        level,
        Level.ORANGE if level is None else None,
        f"wl-{i:02d}",
        region,
        T0 + i * 60_000,
        {"level_m": value, "rise_m_per_h": 0.12},
        f"Hangchangqiao {i}: level {value:.2f} m",
        "" if level is None else INSTRUCTION,
        measure=measure,
        **kw,
    )


def note(events, kind="firing", step=0, ack=ACK) -> Notification:
    return Notification(
        "n-7", "duty", "li", (), kind, "hazard=flood", tuple(events), step=step, ack_url=ack
    )


ONE = [event()]
# A storm: 40 gauges in two districts, three of them red.
GROUP = [
    event(i, Level.RED if i % 13 == 0 else Level.ORANGE, ["wuxing", "nanxun"][i % 2])
    for i in range(40)
]
CLEARED = [event(i, None, event="cleared") for i in range(3)]

LEVEL = {"zh": ("橙色预警(II级)", "红色预警(I级)"), "en": ("ORANGE (II)", "RED (I)")}
HAZARD = {"zh": "水位", "en": "Water level"}


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("style", ["sms", "push", "email"])
@pytest.mark.parametrize(
    ("events", "worst", "place"),
    [
        # one station: its region and name
        (ONE, 0, {"zh": "吴兴区杭长桥42", "en": "Hangchangqiao 42, Wuxing"}),
        # 40 gauges: the worst level, the regions and the count
        (GROUP, 1, {"zh": "南浔区、吴兴区 40处", "en": "Nanxun, Wuxing 40 sites"}),
    ],
)
def test_firing_message_says_level_hazard_place_and_ack(style, language, events, worst, place):
    m = render(note(events), style, language, TZ)
    text = m.title + "\n" + m.body
    assert LEVEL[language][worst] in text
    assert HAZARD[language] in text
    assert place[language] in text
    assert ACK in m.body
    if style != "sms":
        assert INSTRUCTIONS[language] in m.body and "2026-07-05 14:" in m.body


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("segments", [1, 2, 3])
@pytest.mark.parametrize("events", [ONE, GROUP], ids=["one", "group"])
def test_sms_fits_its_segments_and_keeps_the_essentials(language, segments, events):
    body = render(note(events), "sms", language, TZ, sms_segments=segments).body
    units, ucs2 = sms_units(body)
    limit = (70 if ucs2 else 160) if segments == 1 else (67 if ucs2 else 153) * segments
    assert units <= limit, (units, body)
    assert sms_fits(body, segments)
    assert LEVEL[language][events is GROUP].split("(")[0].strip() in body
    assert HAZARD[language] in body and body.endswith(ACK)


def test_sms_zh_single_segment_is_seventy_characters_at_most():
    body = render(note(GROUP), "sms", "zh", TZ, sms_segments=1).body
    assert len(body) <= 70
    assert body.startswith("【红色预警(I级)】水位 南浔区、吴兴区 40处")


def test_sms_group_lists_the_worst_subjects_first_and_says_how_many_more():
    body = render(note(GROUP), "sms", "en", TZ, sms_segments=2).body
    # red before orange, newest first; the decisive value against its threshold
    assert "Hangchangqiao 39 Nanxun RED level 4.89 m (red at 4.5)" in body
    assert "+37 more" in body or "+38 more" in body


def test_sms_with_room_carries_time_values_and_instruction():
    body = render(note(ONE), "sms", "en", TZ, sms_segments=3).body
    assert body == (
        "[ORANGE (II)] Water level Hangchangqiao 42, Wuxing 07-05 14:42 level 4.92 m "
        f"(orange at 4.5) rise 0.12 m/h {INSTRUCTION} Ack: {ACK}"
    )


def test_sms_zh_in_the_order_an_officer_reads_it():
    body = render(note(ONE), "sms", "zh-CN", TZ, sms_segments=2).body
    assert body == (
        "【橙色预警(II级)】水位 吴兴区杭长桥42 07-05 14:42 水位4.92米(橙色标准4.5) "
        f"每小时涨幅0.12米/小时 {INSTRUCTION_ZH} 确认:{ACK}"
    )


def test_sms_keeps_measurement_and_action_before_time_and_other_values():
    long_ack = "https://hw.example/" + "a" * 40
    body = render(note(ONE, ack=long_ack), "sms", "zh-CN", TZ, sms_segments=2).body
    assert "水位4.92米(橙色标准4.5)" in body and INSTRUCTION_ZH in body
    assert "每小时涨幅" not in body and sms_fits(body, 2)


def test_sms_cuts_an_overlong_place_but_keeps_level_and_ack_link():
    long_region = [event(region="x" * 300)]
    body = render(note(long_region), "sms", "en", TZ, sms_segments=1).body
    assert sms_fits(body, 1) and body.startswith("[ORANGE (II)] Water level Hangchangqiao 42, xx")
    assert body.endswith(f"... Ack: {ACK}")


def test_push_lists_five_subjects_and_the_rest_as_a_count():
    m = render(note(GROUP), "push", "zh", TZ)
    assert m.title == "【红色预警(I级)】水位 南浔区、吴兴区 40处"
    assert sum(line.startswith("· ") for line in m.body.splitlines()) == 5
    assert "……另有35处" in m.body


def test_email_lists_every_subject_with_values_and_messages():
    m = render(note(GROUP), "email", "en", TZ)
    for i in range(40):
        assert f"- Hangchangqiao {i} (" in m.body
    assert "wl-" not in m.title + m.body
    assert "Sites: 40" in m.body and "Level: RED (I)" in m.body
    # The notification id, for acknowledging from the CLI; no internal routing keys.
    assert m.body.endswith("Notification n-7") and "hazard=" not in m.body


def test_event_time_is_shown_in_the_configured_zone():
    shanghai = render(note(ONE), "push", "en", TZ).body
    utc = render(note(ONE), "push", "en", zone("UTC")).body
    assert "Time: 2026-07-05 14:42 (UTC+0800)" in shanghai
    assert "Time: 2026-07-05 06:42 (UTC+0000)" in utc


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh", "第1级升级：li 15分钟内未确认"),
        ("en", "Escalation step 1: not acknowledged by li after 15 min"),
    ],
)
@pytest.mark.parametrize("style", ["sms", "push", "email"])
def test_escalation_says_who_did_not_acknowledge(language, expected, style):
    m = render(
        note(ONE, "escalation", step=1), style, language, TZ, unacked_by="li", ack_wait_s=900
    )
    assert expected in m.body and ACK in m.body
    assert ("升级1" if language == "zh" else "ESCALATION 1") in m.title + m.body


@pytest.mark.parametrize("style", ["sms", "push", "email"])
@pytest.mark.parametrize(
    ("language", "tag"),
    [("zh", "【解除】水位橙色预警解除"), ("en", "[CLEARED] Water level ORANGE warning cleared")],
)
def test_resolved_is_a_clear_message_without_ack_or_instruction(style, language, tag):
    m = render(note(CLEARED, "resolved"), style, language, TZ)
    assert tag in m.title + m.body
    assert ACK not in m.body and INSTRUCTIONS[language] not in m.body


def _withdrawn(i: int) -> WarningEvent:
    e = event(i, None, event="cleared")
    why = {"zh-CN": "所依据的读数为传感器故障", "en": "the reading it rested on was a sensor fault"}
    return dataclasses.replace(
        e, texts={lang: {**t, "withdrawn": why[lang]} for lang, t in e.texts.items()}
    )


@pytest.mark.parametrize("style", ["sms", "push", "email"])
@pytest.mark.parametrize(
    ("language", "tag"),
    [
        ("zh", "【撤销】水位橙色预警撤销（传感器故障所致）"),
        ("en", "[WITHDRAWN] Water level ORANGE warning withdrawn (raised on a sensor fault)"),
    ],
)
def test_a_warning_withdrawn_as_a_sensor_fault_says_so(style, language, tag):
    """An officer told of a red or orange warning learns it was a fault, not that it ended."""
    m = render(note([_withdrawn(i) for i in range(2)], "resolved"), style, language, TZ)
    assert tag in m.title + m.body
    # One plain clear among them: the notification is an ordinary clear.
    mixed = render(note([_withdrawn(0), *CLEARED[1:]], "resolved"), style, language, TZ)
    assert tag not in mixed.title + mixed.body


@pytest.mark.parametrize(
    ("language", "tag"), [("zh", "【提醒·橙色预警(II级)】"), ("en", "[REMINDER ORANGE (II)]")]
)
def test_reminder_is_tagged(language, tag):
    assert render(note(ONE, "reminder"), "push", language, TZ).title.startswith(tag)


def test_suspect_data_is_flagged():
    m = render(note([event(certainty="Possible")]), "push", "en", TZ)
    assert "Note: data suspect (Possible)" in m.body


def test_webhook_is_json_with_the_notification_and_wire_format_events():
    m = render(note(GROUP, "escalation", step=2), "webhook", "zh", TZ)
    doc = json.loads(m.body)
    assert {k: doc[k] for k in ("notification_id", "kind", "step", "level", "ack_url")} == {
        "notification_id": "n-7",
        "kind": "escalation",
        "step": 2,
        "level": "red",
        "ack_url": ACK,
    }
    by_id = {e["warning_id"]: e for e in doc["events"]}
    assert by_id == {e.warning_id: e.to_dict(TZ) for e in GROUP}
    assert doc["events"][0]["level"] == "red"


def test_unknown_hazard_region_and_unnamed_sensor_show_their_ids():
    e = WarningEvent(
        "w", "raised", "pest_x", "pest_x", Level.BLUE, None, "trap-1", "taihu", T0, {"count_n": 3.0}
    )
    m = render(note([e]), "push", "zh", TZ)
    assert m.title == "【蓝色预警(IV级)】pest_x taihu trap-1"
    assert "count_n" not in m.body  # a value without a label is never shown


def test_an_event_without_texts_in_the_language_never_mixes_in_another():
    e = event(texts={"en": texts(1, Level.ORANGE)["en"]})
    body = render(note([e]), "push", "zh", TZ).body
    assert INSTRUCTION not in body and "Hangchangqiao" not in body


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fax", "zh"), "style must be one of sms, push, email, webhook; found 'fax'"),
        (("sms", "fr"), "language must be one of zh-CN, en; found 'fr'"),
    ],
)
def test_bad_style_or_language_says_expected_and_found(args, message):
    with pytest.raises(ValueError, match=message):
        render(note(ONE), *args, TZ)


def test_sms_group_keeps_the_action_before_naming_more_places():
    body = render(note(GROUP), "sms", "zh", TZ, sms_segments=2).body
    # worst first, with its measurement; then the action; more places only if room is left
    assert "杭长桥39 南浔区 红色 水位4.89米(红色标准4.5)" in body and "另39处" in body
    assert INSTRUCTION_ZH in body and sms_fits(body, 2)


def test_sms_with_a_reply_number_asks_for_the_reply_instead_of_the_link():
    n = dataclasses.replace(note(ONE), ack_reply="3")
    assert render(n, "sms", "zh", TZ).body.endswith(f"{INSTRUCTION_ZH} 回复3确认")
    assert render(n, "sms", "en", TZ).body.endswith("Reply 3 to ack")
    assert render(n, "push", "zh", TZ).body.endswith(ACK)  # push and email keep the link


def _in_force_and_cleared() -> list[WarningEvent]:
    """A station's blue level warning in force; its red rise warning cleared a minute later."""
    rise = dataclasses.replace(
        event(1, None, event="cleared"),
        warning_id="w-1-rise",
        previous_level=Level.RED,
        ts=T0 + 2 * 60_000,
        measure={"name": "rise_m_per_h", "value": 0.12, "op": ">=", "threshold": 0.2},
    )
    return [rise, event(1, Level.BLUE)]


@pytest.mark.parametrize(
    ("language", "head", "note_", "level_value"),
    [
        (
            "zh",
            "【蓝色预警(IV级)】水位 吴兴区杭长桥1",
            "已解除：每小时涨幅0.12米/小时",
            "水位4.51米",
        ),
        ("en", "[BLUE (IV)] Water level Hangchangqiao 1", "cleared: rise 0.12 m/h", "level 4.51 m"),
    ],
)
def test_a_warning_cleared_among_ones_in_force_is_named_and_never_sets_the_level(
    language, head, note_, level_value
):
    """The SMS an officer got in the demo read as a new blue warning with the cleared value.

    It must keep the level in force (blue, not the cleared warning's red), give the value of
    the warning in force, and say what cleared.
    """
    sms = render(note(_in_force_and_cleared()), "sms", language, TZ, sms_segments=2).body
    assert sms.startswith(head), sms
    assert note_ in sms and level_value in sms, sms
    assert sms.index(level_value) < sms.index(note_), sms
    push = render(note(_in_force_and_cleared()), "push", language, TZ)
    assert push.title.startswith(head.split(" ")[0] if language == "en" else head[:9])
    lines = [x for x in push.body.splitlines() if x.startswith("·")]
    assert len(lines) == 1 and level_value in lines[0], push.body  # what is in force, no colour
    assert lines[0].split(" ")[1] != ("蓝色" if language == "zh" else "BLUE"), push.body
    assert note_ in push.body.splitlines(), push.body  # and what cleared, on its own line


def test_a_place_cleared_in_a_group_in_force_is_named_by_place():
    elsewhere = dataclasses.replace(CLEARED[2], subject="wl-09", ts=T0 + 9 * 60_000)
    sms = render(note([elsewhere, event(1, Level.BLUE)]), "sms", "zh", TZ, sms_segments=2).body
    assert sms.startswith("【蓝色预警(IV级)】水位 吴兴区杭长桥1"), sms
    assert "已解除：杭长桥2" in sms, sms


@pytest.mark.parametrize(
    ("language", "change"),
    [("zh", "降为蓝色：每小时涨幅0.12米/小时"), ("en", "down to blue: rise 0.12 m/h")],
)
def test_a_lesser_warning_that_changed_is_why_the_message_came(language, change):
    """Orange level in force; the rise warning at the same station came down to blue."""
    rise = dataclasses.replace(
        event(1, Level.BLUE, event="deescalated"),
        warning_id="w-1-rise",
        previous_level=Level.YELLOW,
        ts=T0 + 5 * 60_000,
        measure={"name": "rise_m_per_h", "value": 0.12, "op": ">=", "threshold": 0.1},
    )
    level = event(1, Level.ORANGE)
    told = dataclasses.replace(note([rise, level]), news=(("w-1-rise", 2),))  # told yellow
    sms = render(told, "sms", language, TZ).body
    assert sms.startswith(LEVEL[language][0].join(["【", "】"]) if language == "zh" else "[ORANGE")
    assert change in sms, sms
    # Not news (e.g. a reminder, or an outbox row from before): no change is claimed.
    assert change not in render(note([rise, level]), "sms", language, TZ).body


def _level_and_rise(rise_level: Level, told: int) -> Notification:
    """A station's yellow level warning in force, told; its rise warning now ``rise_level``."""
    rise = dataclasses.replace(
        event(1, rise_level, event="deescalated"),
        warning_id="w-1-rise",
        ts=T0 + 5 * 60_000,
        measure={"name": "rise_m_per_h", "value": 0.12, "op": ">=", "threshold": 0.1},
    )
    level = event(1, Level.YELLOW)
    return dataclasses.replace(note([rise, level]), news=(("w-1-rise", told),))


def test_at_one_level_the_standing_warning_leads_and_the_one_that_moved_has_the_note():
    """Rise down from orange to yellow beside a standing yellow level warning."""
    sms = render(_level_and_rise(Level.YELLOW, 3), "sms", "en", TZ).body
    assert sms.startswith("[YELLOW (III)]") and "level 4.51 m (yellow at 4.5)" in sms, sms
    assert "down to yellow: rise 0.12 m/h" in sms, sms


@pytest.mark.parametrize("reply", [None, "3"])
def test_a_one_segment_sms_keeps_at_least_the_words_of_the_change(reply):
    n = dataclasses.replace(note(_in_force_and_cleared()), ack_reply=reply)
    sms = render(n, "sms", "zh", TZ, sms_segments=1).body
    assert sms_fits(sms, 1) and sms.startswith("【蓝色预警(IV级)】"), sms
    assert "已解除" in sms, sms


def test_push_lists_what_is_in_force_and_says_what_cleared_beyond_it():
    """Five yellow in force and four red cleared: the clears are told, the count is of the
    warnings in force left out (none here)."""
    in_force = [event(i, Level.YELLOW) for i in range(5)]
    gone = [
        dataclasses.replace(e, previous_level=Level.RED, ts=T0 + 90 * 60_000)
        for e in [event(i, None, event="cleared") for i in range(10, 14)]
    ]
    n = dataclasses.replace(note([*gone, *in_force]), news=tuple((e.warning_id, 4) for e in gone))
    push = render(n, "push", "en", TZ)
    assert push.title.startswith("[YELLOW (III)]") and "5 sites" in push.title, push.title
    lines = push.body.splitlines()
    assert sum(x.startswith("·") for x in lines) == 5 and not any("more" in x for x in lines[:6])
    assert any(x.startswith("cleared: Hangchangqiao 10") for x in lines), push.body
    assert json.loads(render(n, "webhook", "en", TZ).body)["news"][0] == {
        "warning_id": "w-10",
        "told": "red",
    }
