"""Module paths of release 0.1, so that recovery snapshots pickled by it still restore.

bytewax pickles each step's state, and a pickle names the module of every class in it
(``warning.engine.SensorState``). The modules moved in 0.2; this finder answers the old names
with the new modules, so a pipeline upgraded in the flood season resumes where it stopped
instead of forgetting every raised warning.

>>> import pickle
>>> from warning.pipeline.nodata import Heard
>>> install()
>>> heard = Heard("rain_gauge", "anji", 0)
>>> old = pickle.dumps(heard, protocol=0).replace(b"warning.pipeline.nodata", b"warning.silence")
>>> pickle.loads(old) == heard
True
"""

from __future__ import annotations

import dataclasses
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


def fields_state(obj: object) -> dict:
    """Return a dataclass's fields by name: its pickled form, compiled or not.

    The classes of the compiled modules (setup.py) pickle through this and ``restore_fields``,
    so that both builds read each other's snapshots and fields newer than a snapshot take their
    defaults. They are marked ``mypyc_attr(allow_interpreted_subclasses=True)``, which lets
    pickle make one without calling ``__init__``; ``serializable=True`` would too, but mypy 2.4
    then leaves ``__init__`` uncalled when the class is called from interpreted code.
    """
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]


def field_values(obj: object) -> list:
    """Return a frozen slots dataclass's field values in order: the form Python pickles it in."""
    return [getattr(obj, f.name) for f in dataclasses.fields(obj)]  # type: ignore[arg-type]


def restore_fields(obj: object, state: object) -> dict:
    """Set a dataclass from any pickled form of it; return the fields unknown now.

    Snapshots of 0.2 pickled these classes with a ``__dict__`` (a plain dict); ``__slots__``
    classes pickle ``(None, {slot: value})``, and dataclasses with slots a list of the field
    values in order. Fields missing from ``state`` (newer than the snapshot) take their
    defaults; a missing field without one is an error. Frozen classes are set too.
    """
    names = [f.name for f in dataclasses.fields(obj)]  # type: ignore[arg-type]
    if isinstance(state, list):
        state = dict(zip(names, state, strict=False))
    elif isinstance(state, tuple):
        merged: dict = {}
        for part in state:
            merged.update(part or {})
        state = merged
    if not isinstance(state, dict):
        msg = f"cannot restore {type(obj).__name__} from {type(state).__name__}"
        raise TypeError(msg)
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        if f.name in state:
            value = state[f.name]
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            msg = f"cannot restore {type(obj).__name__}: the snapshot lacks {f.name!r}"
            raise TypeError(msg)
        object.__setattr__(obj, f.name, value)
    return {k: v for k, v in state.items() if k not in names}
