"""Signed, expiring acknowledgement links: HMAC-SHA256 over notification, person and expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import quote, urlencode


def load_key(env: str | None, file: str | None, state_dir: Path) -> bytes:
    """Return the signing key: from ``env`` or ``file``, else one generated once in ``state_dir``.

    A generated key is written with mode 0600 and reused after restarts, so links stay valid.
    """
    if env:
        value = os.environ.get(env)
        if not value:
            msg = f"expected environment variable {env} to hold the acknowledgement key"
            raise ValueError(msg)
        return _checked(value.encode(), env)
    path = Path(file) if file else state_dir / "ack.key"
    if not path.exists() and not file:
        state_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)  # never a half-written key
    key = path.read_text(encoding="utf-8").strip().encode()
    return _checked(key, str(path))


def _checked(key: bytes, where: str) -> bytes:
    if len(key) < 16:
        msg = f"{where}: expected an acknowledgement key of at least 16 bytes, found {len(key)}"
        raise ValueError(msg)
    return key


def signature(key: bytes, notification_id: str, person: str, expires: int) -> str:
    """Return the URL-safe signature of one acknowledgement link."""
    mac = hmac.new(key, f"{notification_id}|{person}|{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:12]).decode()


def ack_link(base_url: str, key: bytes, notification_id: str, person: str, expires: int) -> str:
    """Return the acknowledgement link for ``person``, valid until ``expires`` (epoch seconds).

    >>> ack_link("http://h:9110", b"k", "n1", "zhang", 100)
    'http://h:9110/ack/n1?by=zhang&exp=100&sig=x9WSZVuWLaXDioPT'
    """
    query = urlencode(
        {"by": person, "exp": expires, "sig": signature(key, notification_id, person, expires)}
    )
    return f"{base_url.rstrip('/')}/ack/{quote(notification_id)}?{query}"


def check(key: bytes, notification_id: str, person: str, expires: str, sig: str, now: float) -> str:
    """Return "" when the link is genuine and unexpired, else what is wrong with it."""
    try:
        exp = int(expires)
    except ValueError:
        return "expected an integer exp"
    if not hmac.compare_digest(
        signature(key, notification_id, person, exp).encode(), sig.encode("utf-8", "replace")
    ):
        return "signature does not match"
    if now > exp:
        return "link expired"
    return ""


#: Characters of a short acknowledgement code: 72 bits of HMAC, URL-safe base64.
SHORT_CODE_CHARS = 12


def short_code(key: bytes, notification_id: str, person: str, expires: int) -> str:
    """Return the short signed code of one acknowledgement, for a link of ``/a/CODE``.

    The router stores what the code stands for; the code itself is an HMAC, so it can be
    neither guessed (72 bits) nor made for another notification or person.

    >>> short_code(b"k" * 16, "n1", "zhang", 100)
    'cw_-ajRAL9zm'
    """
    mac = hmac.new(key, f"short|{notification_id}|{person}|{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:9]).decode()


def short_link(base_url: str, code: str) -> str:
    """Return the short acknowledgement link for a code.

    >>> short_link("http://h:9110/", "cw_-ajRAL9zm")
    'http://h:9110/a/cw_-ajRAL9zm'
    """
    return f"{base_url.rstrip('/')}/a/{code}"


def check_short(
    key: bytes, code: str, notification_id: str, person: str, expires: int, now: float
) -> str:
    """Return "" when a stored short code is genuine and unexpired, else what is wrong."""
    if not hmac.compare_digest(
        short_code(key, notification_id, person, expires).encode(), code.encode("utf-8", "replace")
    ):
        return "signature does not match"
    if now > expires:
        return "link expired"
    return ""
