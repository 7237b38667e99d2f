"""SMS replies: what the gateway's inbound webhook may post, and who it comes from."""

from __future__ import annotations

import pytest

from warning.notify.inbound import authorised, parse, person_by_phone, reply_number
from warning.notify.routing_file import Person

PEOPLE = {
    "zhang": Person("zhang", "张伟", ("duty",), "+8613800000001"),
    "li": Person("li", "李娜", ("duty",), "13800000002"),
    "wang": Person("wang", "王芳", ("deputy",)),
}


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"from": "+8613800000001", "text": "1"}', "application/json", ("+8613800000001", "1")),
        (
            b"mobile=13800000002&content=2%20%E7%A1%AE%E8%AE%A4",
            "application/x-www-form-urlencoded",
            ("13800000002", "2 确认"),
        ),
    ],
)
def test_json_and_form_bodies(body, content_type, expected):
    assert parse(body, content_type) == expected


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"[1]", "application/json", "expected a JSON object"),
        (b'{"from": "1380"}', "application/json", "expected 'from' and 'text'"),
        (b"text=1", "application/x-www-form-urlencoded", "expected 'from' and 'text'"),
    ],
)
def test_bad_bodies_say_what_was_expected(body, content_type, message):
    with pytest.raises(ValueError, match=message):
        parse(body, content_type)


def test_the_sender_is_found_by_the_last_eleven_digits_only_among_people_with_a_phone():
    assert person_by_phone(PEOPLE, "+86 138-0000-0001") == "zhang"
    assert person_by_phone(PEOPLE, "008613800000002") == "li"
    assert person_by_phone(PEOPLE, "13800000003") is None
    assert person_by_phone(PEOPLE, "") is None


def test_reply_numbers_and_the_gateway_token():
    assert [reply_number(t) for t in ("1", "12", "123", "确认", "２ ok")] == [
        "1",
        "12",
        None,
        None,
        "2",
    ]
    assert authorised("s3cret-token", "Bearer s3cret-token", {})
    assert authorised("s3cret-token", "", {"token": "s3cret-token"})
    assert not authorised("s3cret-token", "Bearer wrong", {"token": "s3cret-token"})
    assert not authorised("s3cret-token", "", {})
