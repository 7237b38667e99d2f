"""Channels: deliver a notification through apprise, with retries, backoff and failover."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import apprise
from prometheus_client import CollectorRegistry, Counter, Histogram

from warning.notify.records import ChannelSpec, Delivery, Notification
from warning.notify.templates import Rendered, level_of, render
from warning.records import Level
from warning.yamlfile import ConfigError, Problem

log = logging.getLogger(__name__)

_REF = re.compile(r"\{(env|file):([^{}]+)\}")
# Path segments and query values that look like access tokens: long, letters and digits.
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])"
    r"[A-Za-z0-9_-]{20,}"
)
_URLISH = re.compile(r"(?:[a-z][a-z0-9+.-]*://|(?<=\s)/|^/)\S*")
_SECRET_KEYS = re.compile(r"(?i)token|key|secret|sign|pass|auth|sid")
_STATUS = re.compile(r"error=(\d{3})\b")
MASK = "****"


class _Secrets:
    """Secret values resolved into channel URLs, so that logs and errors can hide them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()

    def add(self, value: str) -> None:
        with self._lock:
            forms = {value, quote(value, safe="")} - {""}
            self._values = tuple(sorted(set(self._values) | forms, key=len, reverse=True))

    def hide(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
        return text


SECRETS = _Secrets()
# Query parameters of apprise itself, whose values are settings, not secrets.
_SETTINGS = {
    "method",
    "overflow",
    "format",
    "rto",
    "cto",
    "retry",
    "wait",
    "optional",
    "priority",
    "mode",
    "image",
    "verify",
    "emojis",
    "store",
    "tz",
    "lang",
    "avatar",
    "discovery",
    "batch",
    "name",
}


def remember_secret(value: str) -> None:
    """Hide ``value`` in logs and errors from now on; of a URL, also its secret-bearing parts.

    The parts are the password, path segments and query values of six characters or more
    (tokens, ntfy topics, phone numbers), found however the URL was configured.
    """
    SECRETS.add(value)
    if "://" not in value:
        return
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return
    pieces = [password or "", *parts.path.split("/")]
    pieces += [
        v
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lstrip("+-:").lower() not in _SETTINGS
    ]
    for piece in pieces:
        if len(piece) >= 6:
            SECRETS.add(unquote(piece))
            SECRETS.add(piece)


def scrub(text: str) -> str:
    """Hide known secrets and token-like parts of URLs and paths in a text (log lines, errors).

    >>> scrub("POST http://gw:80/robot/send/3f9a1c2e7b4d4e0a9c1b2d3e4f5a6b7c?x=1 failed")
    'POST http://gw:80/robot/send/****?x=1 failed'
    """
    text = SECRETS.hide(text)
    return _URLISH.sub(lambda m: _TOKEN.sub(MASK, m.group(0)), text)


def redact(url: str) -> str:
    """Return a URL safe to log: apprise's privacy form, with secrets and tokens hidden.

    >>> redact("json://user:pw@127.0.0.1:8080/hook?-access_token=s3cr3t")
    'json://user:****@127.0.0.1:8080/hook?method=POST&overflow=upstream&retry=0&wait=0.5&optional=no&-access_token=****'
    """
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme[:16]}://{MASK} (not a valid apprise URL)"
    parts = urlsplit(scrub(plugin.url(privacy=True)))
    query = [
        (k, MASK if v and _SECRET_KEYS.search(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*/:+")))


def resolve_url(channel: str, url: str) -> str:
    """Replace ``{env:NAME}`` and ``{file:PATH}`` in a channel URL with the secrets they name.

    A placeholder that is the whole URL is taken as it is; inside a URL the secret is
    percent-encoded. Resolved values are remembered so that ``redact`` and ``scrub`` hide them.
    """

    def value(m: re.Match[str]) -> str:
        source, ref = m.group(1), m.group(2).strip()
        if source == "env":
            found = os.environ.get(ref)
            if found is None:
                _problem(
                    channel,
                    f"expected environment variable {ref} to be set for the "
                    f"secret in its url; found it unset",
                )
        else:
            try:
                found = Path(ref).read_text(encoding="utf-8").strip()
            except OSError as exc:
                _problem(
                    channel,
                    f"expected a readable secret file {ref} for its url; found {exc.strerror}",
                )
        remember_secret(found)
        return found if m.group(0) == url.strip() else quote(found, safe="")

    return _REF.sub(value, url)


def _problem(channel: str, message: str) -> NoReturn:
    raise ConfigError([Problem("<channels>", 0, channel, "url", message)])


def with_timeouts(url: str, timeout_s: float) -> str:
    """Add apprise's connect and read timeouts (``cto``, ``rto``) unless the URL sets them.

    >>> with_timeouts("json://127.0.0.1:9/hook?rto=3", 1.5)
    'json://127.0.0.1:9/hook?rto=3&cto=1.5'
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    have = {k for k, _ in query}
    query += [(k, f"{timeout_s:g}") for k in ("rto", "cto") if k not in have]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*/:+@")))


OUTCOMES = ("ok", "failed", "timeout")


class ChannelMetrics:
    """Delivery attempts by channel and outcome, and their latency (one per registry)."""

    def __init__(self, registry: CollectorRegistry, channels: set[str] | None = None):
        self.registry = r = registry
        self.attempts = Counter(
            "hazard_notification_attempts_total",
            "Delivery attempts on a channel, by outcome (ok, failed, timeout).",
            ["channel", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "hazard_notification_attempt_seconds",
            "Wall time of one delivery attempt on a channel.",
            ["channel"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.init_channels(channels or set())

    def init_channels(self, channels: set[str]) -> None:
        """Create zero series for each channel name, so dashboards show zeros, not gaps."""
        for channel in channels:
            for outcome in OUTCOMES:
                self.attempts.labels(channel, outcome)
            self.latency.labels(channel)


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What became of one notification: every attempt, and the channel that took it."""

    ok: bool
    deliveries: tuple[Delivery, ...]
    channel: str | None = None  # the channel that delivered it


_NOTIFY_TYPE = {
    Level.BLUE: apprise.NotifyType.WARNING,
    Level.YELLOW: apprise.NotifyType.WARNING,
    Level.ORANGE: apprise.NotifyType.FAILURE,
    Level.RED: apprise.NotifyType.FAILURE,
}


class Dispatcher:
    """Deliver notifications over their channels in failover order, retrying each with backoff.

    ``sleep`` and ``clock`` are injected so that tests need not wait; the clock stamps
    ``Delivery.at`` and the monotonic clock measures latency.
    """

    def __init__(
        self,
        tz: tzinfo,
        metrics: ChannelMetrics | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        sms_segments: int = 2,
        max_backoff_s: float = 60.0,
    ):
        self.tz, self.metrics = tz, metrics
        self.sleep, self.clock = sleep, clock
        self.sms_segments, self.max_backoff_s = sms_segments, max_backoff_s
        self._seen: set[str] = set()
        _guard_logs()
        # apprise loads its ~190 plugins on first use (~0.5 s): not during the first warning.
        apprise.Apprise.instantiate("json://localhost", suppress_exceptions=True)

    def deliver(self, n: Notification, **context: Any) -> DeliveryOutcome:
        """Deliver ``n`` on the first channel that takes it; ``context`` goes to ``render``."""
        deliveries: list[Delivery] = []
        for spec in n.channels:
            if spec.url not in self._seen:  # however its secrets came in, hide them
                remember_secret(spec.url)
                self._seen.add(spec.url)
            if n.kind == "resolved" and not spec.send_resolved:
                log.debug(
                    "notification %s: channel %s does not take resolved messages",
                    n.notification_id,
                    spec.name,
                )
                continue
            try:
                message = render(
                    n, spec.style, spec.language, self.tz, sms_segments=self.sms_segments, **context
                )
            except ValueError as exc:  # this channel's style cannot take it; the next may
                at, start = self.clock(), time.monotonic()
                deliveries.append(
                    self._record(n, spec, 1, at, start, "failed", f"cannot render: {exc}")
                )
                continue
            for attempt in range(1, max(1, spec.retries) + 1):
                if attempt > 1:
                    self.sleep(min(spec.backoff_s * 2 ** (attempt - 2), self.max_backoff_s))
                d, final = self._attempt(n, spec, message, attempt)
                deliveries.append(d)
                if d.ok:
                    return DeliveryOutcome(True, tuple(deliveries), spec.name)
                if final:
                    break
        if deliveries:  # none at all: no channel wants this kind (a resolve), not a failure
            log.error(
                "notification %s for %s: not delivered on any of %d channels",
                n.notification_id,
                n.receiver,
                len(n.channels),
            )
        return DeliveryOutcome(False, tuple(deliveries))

    def _attempt(
        self, n: Notification, spec: ChannelSpec, message: Rendered, attempt: int
    ) -> tuple[Delivery, bool]:
        """Make one attempt; the flag says retrying the channel is pointless (a bad URL)."""
        at, start = self.clock(), time.monotonic()
        sender = apprise.Apprise()
        if not sender.add(with_timeouts(spec.url, spec.timeout_s)):
            error = f"expected a URL apprise can load; found {redact(spec.url)}"
            return self._record(n, spec, attempt, at, start, "failed", error), True
        level = level_of(max(n.events, key=lambda e: int(level_of(e) or 0)))
        if n.kind == "resolved" or level is None:
            kind = apprise.NotifyType.SUCCESS if n.kind == "resolved" else apprise.NotifyType.INFO
        else:
            kind = _NOTIFY_TYPE.get(level, apprise.NotifyType.INFO)
        try:
            result = sender.notify(
                message.body,
                title=message.title,
                notify_type=kind,
                body_format=apprise.NotifyFormat.TEXT,
                timeout=spec.timeout_s,
                log_level=logging.DEBUG,
            )
        except Exception as exc:  # noqa: BLE001 - a plugin bug must not stop failover
            return self._record(
                n, spec, attempt, at, start, "failed", f"apprise raised {type(exc).__name__}: {exc}"
            ), False
        if result:
            return self._record(n, spec, attempt, at, start, "ok", ""), False
        error = _reasons(result) or f"apprise status {result.status.name}"
        status = _STATUS.search(error)
        if status:
            error = f"HTTP {status.group(1)}: {error}"
        # apprise reports a read timeout as a connection error (the cause is logged only at
        # DEBUG), so a failure that took the whole timeout is counted as one.
        slow = time.monotonic() - start >= 0.9 * spec.timeout_s
        if result.status == apprise.AppriseResultStatus.TIMEOUT or slow or "timed out" in error:
            error = f"timed out: expected an answer within {spec.timeout_s:g} s; {error}"
            return self._record(n, spec, attempt, at, start, "timeout", error), False
        return self._record(n, spec, attempt, at, start, "failed", error), False

    def _record(
        self,
        n: Notification,
        spec: ChannelSpec,
        attempt: int,
        at: float,
        start: float,
        outcome: str,
        error: str,
    ) -> Delivery:
        latency = time.monotonic() - start
        error = scrub(error)[:500]
        if self.metrics is not None:
            self.metrics.attempts.labels(spec.name, outcome).inc()
            self.metrics.latency.labels(spec.name).observe(latency)
        if outcome == "ok":
            log.info(
                "notification %s delivered to %s via %s (attempt %d, %.3f s)",
                n.notification_id,
                n.person or n.receiver,
                spec.name,
                attempt,
                latency,
            )
        else:
            log.warning(
                "notification %s via %s (%s), attempt %d of %d: %s",
                n.notification_id,
                spec.name,
                redact(spec.url),
                attempt,
                spec.retries,
                error,
            )
        return Delivery(n.notification_id, spec.name, outcome == "ok", attempt, at, latency, error)


def _reasons(result: apprise.AppriseResult) -> str:
    """Return why apprise failed: its warnings, and with DEBUG logging the cause and answer."""
    reasons = []
    for entry in result.logs():
        text = entry.message.strip()
        if entry.level in ("WARNING", "ERROR", "CRITICAL") or text.startswith("Socket Exc"):
            reasons.append(text)
        elif text.startswith("Response Details"):
            answer = text.split(":", 1)[1].strip()
            if answer not in ("b''", 'b""'):
                reasons.append(f"gateway said {answer[:200]}")
    return "; ".join(dict.fromkeys(reasons))


class _ScrubFilter(logging.Filter):
    """Hide secrets in records of libraries that may log URLs (apprise debug, urllib3)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = scrub(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


_GUARDED = ("apprise", "urllib3.connectionpool", "requests")
_guard_lock = threading.Lock()


def _guard_logs() -> None:
    with _guard_lock:
        for name in _GUARDED:
            logger = logging.getLogger(name)
            if not any(isinstance(f, _ScrubFilter) for f in logger.filters):
                logger.addFilter(_ScrubFilter())
