"""Which local addresses listen on a port, read from /proc/net/tcp (no extra tools needed)."""

from __future__ import annotations

from pathlib import Path


def listening(port: int) -> set[str]:
    """Return the local addresses (hex, as in /proc/net/tcp) listening on a TCP port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK = "0100007F"  # 127.0.0.1, little-endian hex
