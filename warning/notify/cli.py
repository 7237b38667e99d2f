"""The ``hazard-warning notify`` commands: serve, check a routing file, acknowledge, audit."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from warning.console import print_tables
from warning.notify.records import AUDIT_ACTIONS
from warning.records import zone

notify_app = typer.Typer(
    no_args_is_help=True, help="Notifications: who was warned, when, by what channel."
)


def _time(text: str | None, tz: tzinfo, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        msg = (
            f"expected an ISO time such as 2026-07-05T14:00 or 2026-07-05T14:00+08:00; "
            f"found {text!r}"
        )
        raise typer.BadParameter(msg, param_hint=option) from None
    return t if t.tzinfo else t.replace(tzinfo=tz)


@notify_app.command()
def audit(
    db: Annotated[Path, typer.Option("--db", help="The audit log (SQLite file).")],
    warning_id: Annotated[
        str | None, typer.Option("--warning-id", help="Only this warning.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="From this time (ISO; zone --tz if none).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO).")] = None,
    action: Annotated[
        str | None, typer.Option(help=f"Only this action: {', '.join(AUDIT_ACTIONS)}.")
    ] = None,
    receiver: Annotated[str | None, typer.Option(help="Only this receiver.")] = None,
    tz: Annotated[str, typer.Option("--tz", help="Time zone to show times in.")] = "Asia/Shanghai",
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
) -> None:
    """Show who was warned of what, when and by which channel, oldest first."""
    from warning.notify.audit import AuditLog

    zone_ = zone(tz)
    if not db.is_file():
        raise typer.BadParameter(
            f"expected an audit log file; found nothing at {db}", param_hint="--db"
        )
    if action is not None and action not in AUDIT_ACTIONS:
        raise typer.BadParameter(
            f"expected one of {', '.join(AUDIT_ACTIONS)}; found {action!r}", param_hint="--action"
        )
    with AuditLog(db) as log:
        records = log.query(
            warning_id=warning_id,
            since=_time(since, zone_, "--since"),
            until=_time(until, zone_, "--until"),
            action=action,
            receiver=receiver,
        )
    if as_json:
        for r in records:
            row = asdict(r)
            row["time"] = datetime.fromtimestamp(r.at, zone_).isoformat(timespec="milliseconds")
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{len(records)} audit records in {db}")
    for column in ("time", "action", "warning", "receiver", "person", "channel", "detail"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            datetime.fromtimestamp(r.at, zone_).strftime("%Y-%m-%d %H:%M:%S"),
            r.action,
            r.warning_id,
            r.receiver or "",
            r.person or "",
            r.channel or "",
            r.detail,
        )
    print_tables(table)


@notify_app.command()
def check(routing: Annotated[Path, typer.Argument(help="The routing file.")]) -> None:
    """Check a routing file: every problem with file, line, place and key; exit 1 if any."""
    from warning.cli import _fail
    from warning.notify.routing_file import load_routing
    from warning.yamlfile import ConfigError

    try:
        r = load_routing(routing)
    except ConfigError as exc:
        _fail(exc)
    typer.echo(
        f"{routing}: ok: {len(r.receivers)} receivers, {len(r.channels)} channels, "
        f"{len(r.people)} people, {len(r.schedules)} schedules, {len(r.mutes)} "
        f"silences and maintenance windows, {len(r.inhibits)} inhibition rules"
    )


@notify_app.command()
def ack(
    notification_id: Annotated[
        str, typer.Argument(help="The notification to acknowledge (or one warning id).")
    ],
    by: Annotated[str, typer.Option("--by", help="Who acknowledges.")],
    state_dir: Annotated[
        Path, typer.Option("--state-dir", help="The router's state directory (notify.state_dir).")
    ],
) -> None:
    """Acknowledge a notification; the running router takes it within one tick."""
    from warning.notify.store import RouterStore

    db = state_dir / "router.sqlite"
    if not db.exists():
        typer.echo(f"{db}: expected the router's database, found no file", err=True)
        raise typer.Exit(1)
    store = RouterStore(db)
    store.put("ack", {"notification_id": notification_id, "by": by, "via": "cli"})
    store.close()
    typer.echo(f"acknowledgement of {notification_id} by {by} queued")


@notify_app.command()
def serve(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Run configuration with a notify section.")
    ],
    verbose: bool = False,
) -> None:
    """Run the notification router alone, beside a pipeline running elsewhere."""
    import logging
    import sys
    import threading

    from prometheus_client import start_http_server

    from warning.app import StopOnSignals
    from warning.cli import _fail
    from warning.config import load_config
    from warning.metrics import Metrics
    from warning.notify.serve import start as start_router
    from warning.registry import load_registry
    from warning.yamlfile import ConfigError

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        cfg = load_config(config)
        if cfg.notify is None:
            typer.echo(f"{config}: notify: expected a notify section, found none", err=True)
            raise typer.Exit(1)
        sensors = load_registry(cfg.path(cfg.sensors) if cfg.sensors else None, accept_unknown=True)
        metrics = Metrics()
        registry = metrics.registry
        stop = threading.Event()
        start_router(cfg, stop, metrics, lambda sid: dict(sensors.subject_attrs(sid) or {}))
    except ConfigError as exc:
        _fail(exc)
    if cfg.metrics.enabled:
        start_http_server(cfg.metrics.port, cfg.metrics.host, registry)
    with StopOnSignals(stop):
        while not stop.wait(1):
            pass
