"""Versioned folders of trained models, ``LATEST`` naming the one in use.

Each version ``v1``, ``v2``, ... holds ``meta.json`` and ``models.pkl``; ``LATEST`` is swapped
atomically. Detectors (``anomaly train``) and nowcasts (``forecast train``) keep their models this way;
``run`` hot-reloads a new version and refuses one built on other features.
"""

from __future__ import annotations

import json
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def iso(ms: int) -> str:
    """Epoch milliseconds as RFC 3339 in UTC, to the second (training periods in meta.json)."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def write_version(folder: Path, meta: dict[str, Any], models: Any) -> tuple[int, Path, dict]:
    """Write the next version of ``folder`` and point LATEST at it; return number, path, meta."""
    folder.mkdir(parents=True, exist_ok=True)
    number = 1 + max(
        (int(p.name[1:]) for p in folder.glob("v*") if p.name[1:].isdigit()), default=0
    )
    path = folder / f"v{number}"
    path.mkdir()
    meta = {"version": number, **meta}
    with (path / "models.pkl").open("wb") as f:
        pickle.dump(models, f)
    (path / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    tmp = folder / "LATEST.tmp"
    tmp.write_text(path.name, encoding="utf-8")
    os.replace(tmp, folder / "LATEST")  # readers never see a half-written name
    return number, path, meta


def read_latest(
    folder: Path, made_by: str, feature_version: int, error: type[Exception]
) -> tuple[Path, dict[str, Any]]:
    """The LATEST version's folder and meta; ``error`` if there is none or its features differ."""
    latest = folder / "LATEST"
    if not latest.exists():
        found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else "none"
        msg = f"{folder}: expected a model folder with LATEST (made by '{made_by}'), found {found}"
        raise error(msg)
    path = folder / latest.read_text(encoding="utf-8").strip()
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    if meta.get("feature_version") != feature_version:
        msg = (
            f"{path}: expected feature version {feature_version}, found "
            f"{meta.get('feature_version')!r}: retrain with this code"
        )
        raise error(msg)
    return path, meta


def read_models(path: Path) -> Any:
    """The estimators of a version checked by ``read_latest``."""
    with (path / "models.pkl").open("rb") as f:
        return pickle.load(f)  # noqa: S301 - our own files, written by write_version
