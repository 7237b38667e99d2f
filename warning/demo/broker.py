"""Start a local MQTT broker for the demo and tests: Mosquitto where installed, else amqtt."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: Lift Mosquitto's per-client queue limit, which silently drops messages (DOMAIN.md).
MOSQUITTO_LIMITS = "max_queued_messages 0\nmax_queued_bytes 268435456\nmax_inflight_messages 0\n"


def stop_process(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """Terminate a server process, killing it if it does not exit within ``timeout``."""
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(
    port: int,
    timeout: float = 10.0,
    host: str = "127.0.0.1",
    alive: Callable[[], int | None] | None = None,
) -> None:
    """Wait until something listens on the port, or raise TimeoutError.

    ``alive`` is the server's ``Popen.poll``: a server that exited ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and alive() is not None:
            msg = f"the server exited with status {alive()} before listening on {host}:{port}"
            raise TimeoutError(msg)
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    msg = f"nothing listens on {host}:{port} after {timeout} s"
    raise TimeoutError(msg)


def mosquitto_path() -> str | None:
    """Return the Mosquitto binary, if installed."""
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


class Broker:
    """A broker on a free loopback port; ``stop()`` ends it."""

    def __init__(self, port: int | None = None, extra_conf: str = "", prefer: str = "mosquitto"):
        self.port = port or free_port()
        self.kind = "mosquitto" if prefer == "mosquitto" and mosquitto_path() else "amqtt"
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="hazard-broker-")
        self.extra_conf = extra_conf

    def start(self) -> Broker:
        """Start the broker and wait until it accepts connections."""
        if self.kind == "mosquitto":
            conf = Path(self._dir.name) / "mosquitto.conf"
            # As root, Mosquitto would switch to its own user, which cannot write our folder.
            user = "user root\n" if os.geteuid() == 0 else ""
            conf.write_text(
                f"{user}listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                f"persistence true\npersistence_location {self._dir.name}/\n"
                f"{MOSQUITTO_LIMITS}{self.extra_conf}"
            )
            # Its log goes to a file: an unread pipe fills up (64 KiB of connection lines)
            # and then the broker blocks on its next log line, stalling every client.
            with (Path(self._dir.name) / "mosquitto.log").open("wb") as log_file:
                self._proc = subprocess.Popen(
                    [mosquitto_path() or "mosquitto", "-c", str(conf)],
                    stdout=subprocess.DEVNULL,
                    stderr=log_file,
                )
        else:
            self._start_amqtt()
        try:
            wait_for_port(self.port, alive=self._proc.poll if self._proc else None)
        except TimeoutError as exc:
            log_tail = (Path(self._dir.name) / f"{self.kind}.log").read_text(errors="replace")
            msg = f"{self.kind} broker did not start on port {self.port}: {exc}\n{log_tail[-2000:]}"
            raise RuntimeError(msg) from exc
        log.info("%s broker on 127.0.0.1:%d", self.kind, self.port)
        return self

    def _start_amqtt(self) -> None:
        # In its own process, as Mosquitto is: in the pipeline's process its event loop would
        # share the interpreter lock with the engine, the simulator and the router.
        with (Path(self._dir.name) / "amqtt.log").open("wb") as log_file:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "warning.demo.broker", str(self.port)],
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )

    def pause(self) -> None:
        """Stop the broker process but keep its persistence, so ``start()`` resumes sessions."""
        stop_process(self._proc, 5)
        self._proc = None

    def stop(self) -> None:
        """Stop the broker."""
        self.pause()
        self._dir.cleanup()

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_amqtt(port: int) -> None:
    """Run an amqtt broker on loopback ``port`` until the process is terminated."""
    import signal

    from amqtt.broker import Broker as AmqttBroker

    logging.getLogger("amqtt").setLevel(logging.CRITICAL)  # it logs every probe connect
    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }

    async def main() -> None:
        broker = AmqttBroker(config)
        await broker.start()
        stopped = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        await stopped.wait()
        await broker.shutdown()

    asyncio.run(main())


if __name__ == "__main__":
    serve_amqtt(int(sys.argv[1]))
