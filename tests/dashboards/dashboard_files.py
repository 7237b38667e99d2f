"""Paths and the checked-in dashboards, for the dashboard tests."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JSON_DIR = ROOT / "dashboards" / "json"


def load_boards() -> dict[str, dict]:
    """Every checked-in dashboard by file stem."""
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(JSON_DIR.glob("*.json"))
    }
