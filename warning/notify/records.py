"""Plain data of the notification router: what goes to whom, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from warning.lang import LANGUAGES as _LANGUAGES
from warning.records import WarningEvent

#: Kinds of notification: a group firing, a group resolved, a step up the escalation chain,
#: and a reminder after ``repeat_interval``.
NOTIFICATION_KINDS = ("firing", "resolved", "escalation", "reminder")

#: Message styles a channel can ask for: short (SMS), medium (push, chat), long (email), JSON.
STYLES = ("sms", "push", "email", "webhook")

LANGUAGES = _LANGUAGES

#: Actions in the audit log.
AUDIT_ACTIONS = (
    "received",
    "issued",
    "delivered",
    "failed",
    "acknowledged",
    "escalated",
    "resolved",
    "suppressed",
)


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One way to reach a receiver: an apprise URL with its message style and retry policy.

    ``url`` holds resolved secrets: never log it (``warning.notify.channels.redact`` does).
    """

    name: str
    url: str
    style: str = "push"
    language: str = "zh-CN"
    retries: int = 3
    backoff_s: float = 2.0
    timeout_s: float = 10.0
    send_resolved: bool = True


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one receiver about one group of warnings."""

    notification_id: str  # stable for the same group state and step: delivery is idempotent
    receiver: str  # receiver name in the routing config
    person: str | None  # the on-call person at send time, None for a group receiver
    channels: tuple[ChannelSpec, ...]  # in failover order
    kind: str  # one of NOTIFICATION_KINDS
    group_key: str  # e.g. "hazard=rainstorm,region=wuxing"
    events: tuple[WarningEvent, ...]  # the newest event of each warning in the group
    step: int = 0  # escalation step, 0 = the first receiver
    ack_url: str | None = None  # signed acknowledgement link
    ack_reply: str | None = None  # the number the person may reply by SMS to acknowledge
    created_at: float = 0.0  # wall clock, seconds
    #: What made this message: each warning whose state the receiver had not been told yet,
    #: with the level it was last told (0: never), so the message can say which way it went.
    news: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one attempt to deliver a notification on one channel."""

    notification_id: str
    channel: str
    ok: bool
    attempt: int
    at: float  # wall clock, seconds
    latency_s: float
    error: str = ""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit log: who was warned of what, when, by which channel."""

    at: float  # wall clock, seconds
    action: str  # one of AUDIT_ACTIONS
    warning_id: str
    notification_id: str | None = None
    receiver: str | None = None
    person: str | None = None
    channel: str | None = None
    detail: str = ""
    #: Set on the records the router decides with its state and on the delivery loop's: they
    #: are staged in the transaction that changes the router's store and copied to the log
    #: afterwards, and the log keeps one record per id, so a crash between the two neither
    #: loses a record nor writes it twice.
    record_id: str | None = field(default=None, compare=False)
