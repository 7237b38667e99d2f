"""SMS replies: the gateway's inbound webhook carries "1" back from an officer's phone."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from warning.notify import signing

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
    return next((name for name, p in people.items() if p.phone and digits(p.phone) == wanted), None)


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
    given = (
        header.removeprefix("Bearer ").strip()
        if header.startswith("Bearer ")
        else query.get("token", "")
    )
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def answer(service: Any, environ: dict, start_response: Callable) -> list[bytes]:
    """Take an SMS reply from the gateway's inbound webhook for a ``NotifyService``."""
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if not service.inbound_token or not authorised(
        service.inbound_token, environ.get("HTTP_AUTHORIZATION", ""), q
    ):
        return _plain(start_response, "401 Unauthorized", "expected the gateway's token")
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        sender, text = parse(
            environ["wsgi.input"].read(min(size, 65536)), environ.get("CONTENT_TYPE", "")
        )
    except ValueError as exc:
        service.metrics.rejected.inc()
        return _plain(start_response, "400 Bad Request", f"inbound SMS refused: {exc}")
    person = person_by_phone(service.routing.people, sender)
    number = reply_number(text)
    code = service.store.reply(person, number) if person and number else None
    found = service.store.code(code) if code else None
    if found is None:
        return _plain(start_response, "404 Not Found", "no acknowledgement waits for this reply")
    nid, who, exp = found
    problem = signing.check_short(service.key, code or "", nid, who, exp, service.clock())
    if problem:
        return _plain(
            start_response,
            "410 Gone" if problem == "link expired" else "403 Forbidden",
            f"acknowledgement refused: {problem}",
        )
    service.store.put("ack", {"notification_id": nid, "by": who, "via": "sms"})
    return _plain(start_response, "200 OK", "acknowledged")


def _plain(start_response: Callable, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [f"{text}\n".encode()]


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
