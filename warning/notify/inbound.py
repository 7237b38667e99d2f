"""SMS replies: the gateway's inbound webhook carries "1" back from an officer's phone."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

#: Reply numbers a person may hold at once (1 .. MAX_REPLIES), each for one notification.
MAX_REPLIES = 99


def digits(phone: str) -> str:
    """Return the national part of a mobile number: its last 11 digits.

    >>> digits("+86 138-0000-0001"), digits("13800000001")
    ('13800000001', '13800000001')
    """
    return re.sub(r"\D", "", phone)[-11:]


def person_by_phone(people: Mapping[str, Any], phone: str) -> str | None:
    """Return the routing file's person whose ``phone`` sent a reply, or None."""
    wanted = digits(phone)
    if not wanted:
        return None
    return next((name for name, p in people.items() if p.phone and digits(p.phone) == wanted),
                None)


def reply_number(text: str) -> str | None:
    """Return the number a reply text gives, e.g. ``1`` of "1", " 1 确认" or "１".

    >>> reply_number(" 1 确认"), reply_number("１"), reply_number("ok")
    ('1', '1', None)
    """
    m = re.match(r"\s*(\d{1,2})(?!\d)", text.translate(_FULL_WIDTH))
    return str(int(m.group(1))) if m else None


def next_number(in_use: set[str]) -> str | None:
    """Return the smallest reply number not in use, or None when all are taken.

    >>> next_number(set()), next_number({"1", "2"})
    ('1', '3')
    """
    return next((str(i) for i in range(1, MAX_REPLIES + 1) if str(i) not in in_use), None)


def parse(body: bytes, content_type: str) -> tuple[str, str]:
    """Return the sender and text of an inbound SMS, as JSON or a form; raise ValueError."""
    if "json" in content_type:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
    else:
        data = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    sender = data.get("from") or data.get("mobile") or data.get("phone")
    text = data.get("text") or data.get("content") or data.get("body")
    if not isinstance(sender, str) or not isinstance(text, str):
        raise ValueError("expected 'from' and 'text'")
    return sender, text


def authorised(token: str, header: str, query: Mapping[str, str]) -> bool:
    """Tell whether the request carries the gateway's token (bearer header or ``token``)."""
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") \
        else query.get("token", "")
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
