"""Golden messages: the reviewed texts of every shipped rule, and the checks they must pass."""

from __future__ import annotations

import os
import re

import pytest

from tests.notify.golden import (
    ACK,
    GOLDEN,
    NOTIFICATION_ID,
    ROOT,
    events,
    messages,
    rule_file,
    sms_table,
    title,
)
from warning.notify.templates import sms_fits, sms_units
from warning.rules.load import load_rules

UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))
#: Latin tokens a Chinese text may hold: units, chemical formulas, index names, response levels.
ZH_LATIN = {
    "ppm",
    "LEL",
    "FWI",
    "FFMC",
    "ISI",
    "BUI",
    "H2S",
    "NH3",
    "Cl2",
    "CO",
    "O2",
    "R²",
    "UTC",
    "I",
    "II",
    "III",
    "IV",
}
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9²]*")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
FIRING = [e for e in events() if e.event != "cleared"]


def _check_file(path, text):
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 and review it"
    assert path.read_text(encoding="utf-8") == text, (
        f"{path} differs: run with UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize("rule_id", sorted({e.rule_id for e in events()}))
def test_golden_messages_of_each_rule(rule_id):
    _check_file(GOLDEN / f"{rule_id}.md", rule_file(rule_id))


def test_golden_sms_table_and_the_docs_show_it():
    table = sms_table()
    _check_file(GOLDEN / "sms.md", table)
    assert table in (ROOT / "docs" / "NOTIFY.md").read_text(encoding="utf-8")


def test_every_level_of_every_shipped_rule_has_a_golden_message():
    covered = {(e.rule_id, e.level.colour) for e in FIRING if e.level}
    wanted = set()
    for rule in load_rules([ROOT / "rules"]).rules:
        wanted |= {(rule.id, level.colour) for level, _ in rule.levels}
        if rule.no_data:
            wanted.add((rule.silence_id, rule.no_data.level.colour))
    assert wanted - covered == set()


@pytest.mark.parametrize("event", events(), ids=title)
def test_officer_text_has_no_internal_key_and_one_language(event):
    for (style, lang), m in messages(event).items():
        if style == "webhook":  # for machines: ids and keys are its point
            continue
        text = (m.title + "\n" + m.body).replace(ACK, "").replace(NOTIFICATION_ID, "")
        assert not SNAKE.findall(text), (style, lang, text)
        assert event.subject not in text, (style, lang, text)
        if lang == "en":
            assert not CJK.findall(text), (style, lang, text)
        else:
            assert set(LATIN.findall(text)) <= ZH_LATIN, (style, lang, text)


@pytest.mark.parametrize("event", FIRING, ids=title)
def test_sms_of_one_place_fits_two_segments_with_measurement_and_action(event):
    for lang in ("zh-CN", "en"):
        body = messages(event)[("sms", lang)].body
        assert sms_fits(body, 2), (sms_units(body), body)
        texts = event.texts[lang]
        assert texts["instruction"] in body and body.endswith(ACK)
        assert texts["place"] in body
        if event.measure:
            label = texts["labels"][event.measure["name"]]
            assert label in body, body
