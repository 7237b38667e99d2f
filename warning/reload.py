"""Hot reload of rule, registry and routing files: a valid change applies without a restart.

A reload is triggered by a change of the files (polled), by SIGHUP, or by ``POST /-/reload``
on the metrics server. An invalid change is refused with its problems in the log; the running
rules stay and ``hazard_rules_last_reload_success`` goes to 0. A valid one is handed to the
pipeline steps, which swap it in between two readings, keeping every sensor's windows and the
lifecycle of every rule whose id is unchanged.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from warning.config import Config
from warning.kinds import kinds_from_config
from warning.notify.routing_file import load_routing
from warning.pipeline.evaluate import state_ttl_ms
from warning.pipeline.steps import Steps
from warning.registry import load_registry
from warning.rules.load import load_rules, rule_files
from warning.yamlfile import ConfigError

log = logging.getLogger(__name__)


class Reloader:
    """Loads the configured rule and registry files again when asked or when they change."""

    def __init__(self, config: Config, steps: Steps):
        self.config = config
        self.steps = steps
        self.lock = threading.Lock()
        self.notify: Any = None  # the notification service, when the router runs here
        self.seen = self._stamps()

    def _files(self) -> list[Path]:
        files = rule_files([self.config.path(r) for r in self.config.rules])
        if self.config.sensors:
            files.append(self.config.path(self.config.sensors))
        if self.config.notify is not None:
            files.append(Path(self.config.notify.routing))
        return files

    def _stamps(self) -> dict[str, int]:
        out = {}
        for f in self._files():
            try:
                out[str(f)] = os.stat(f).st_mtime_ns
            except OSError:
                out[str(f)] = -1
        return out

    def reload(self) -> bool:
        """Load and check everything; hand it to the steps if valid. Return success."""
        with self.lock:
            self.seen = self._stamps()
            m = self.steps.metrics
            kinds = kinds_from_config(self.config.kinds)
            try:
                registry = load_registry(
                    self.config.path(self.config.sensors) if self.config.sensors else None,
                    kinds,
                    accept_unknown=self.config.pipeline.unknown_sensors == "accept",
                )
                rules = load_rules([self.config.path(r) for r in self.config.rules], kinds)
                p = self.config.pipeline
                state_ttl_ms(p.state_ttl, p.lateness, rules)  # new windows must fit the TTL
                routing = (
                    load_routing(self.config.notify.routing)
                    if self.notify is not None and self.config.notify
                    else None
                )
            except ConfigError as exc:
                for problem in exc.problems:
                    log.error("reload refused: %s", problem)
                m.reload_success.set(0)
                return False
            self.steps.replace(rules, registry)
            if routing is not None:
                self.notify.replace_routing(routing)
            m.reload_success.set(1)
            m.reload_time.set(time.time())
            log.info("reloaded %d rules", len(rules.rules))
            return True

    def changed(self) -> bool:
        """Return True if a watched file changed since the last load."""
        return self._stamps() != self.seen

    def watch(self, stop: threading.Event, every: float = 2.0) -> threading.Thread:
        """Poll the files in a background thread until ``stop`` is set."""

        def loop() -> None:
            while not stop.wait(every):
                if self.changed():
                    self.reload()

        thread = threading.Thread(target=loop, name="rule-reloader", daemon=True)
        thread.start()
        return thread

    def on_sighup(self) -> None:
        """Reload on SIGHUP (main thread only)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(
                signal.SIGHUP,
                lambda *_: threading.Thread(
                    target=self.reload, name="sighup-reload", daemon=True
                ).start(),
            )
