"""Module paths of release 0.1, so that recovery snapshots pickled by it still restore.

bytewax pickles each step's state, and a pickle names the module of every class in it
(``warning.engine.SensorState``). The modules moved in 0.2; this finder answers the old names
with the new modules, so a pipeline upgraded in the flood season resumes where it stopped
instead of forgetting every raised warning.

>>> import pickle
>>> from warning.pipeline.lifecycle import Episode
>>> install()
>>> old = pickle.dumps(Episode(), protocol=0).replace(b"warning.pipeline.lifecycle",
...                                                  b"warning.lifecycle")
>>> pickle.loads(old) == Episode()
True
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

MOVED = {
    "warning.engine": "warning.pipeline.evaluate",
    "warning.lifecycle": "warning.pipeline.lifecycle",
    "warning.silence": "warning.pipeline.nodata",
    "warning.daily": "warning.pipeline.daily_fwi",
    "warning.model": "warning.records",
    "warning.ingest": "warning.pipeline.ingest",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in MOVED:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The module is the new one, already executed."""


def install() -> None:
    """Answer the old module names from now on (idempotent)."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.insert(0, _Alias())  # before any finder that may know a stale copy
