"""Detector parameters: one object for every detector made with the same ones.

Kept apart from the detectors so that those can be compiled (setup.py): a parameter set is
built from a dict by name, which compiled classes do not allow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

SURPRISE = (
    "bins",
    "order",
    "slots",
    "rate",
    "short",
    "alpha",
    "warm",
    "tol",
    "smooth",
    "smooth_tol",
    "rest",
    "base",
    "min_scale",
    "floor",
    "half",
)
JUDGE = (
    "spike_k",
    "spike_rare",
    "stuck_min",
    "stuck_margin",
    "gap_margin",
    "drift_fast",
    "drift_slow",
    "drift_margin",
    "drift_hold",
    "drift_warm",
    "low",
    "high",
    "band",
    "fault_rest",
    "held",
    "held_k",
    "held_rare",
)


class Params:
    """A detector's parameters, one object for every detector made with the same ones.

    Each sensor's field has its own detector, and a slot per parameter cost 8 bytes each (~260
    bytes a ``Judge``); the detectors read them as ``self.p.<name>``. A subclass per detector
    class names them in its ``__slots__``.
    """

    __slots__: tuple[str, ...] = ()

    def __init__(self, values: dict[str, Any]):
        for k, v in values.items():
            setattr(self, k, v)

    def values(self) -> dict[str, Any]:
        """Return the parameters by name."""
        return {k: getattr(self, k) for k in self.__slots__}

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...


class SurpriseParams(Params):
    """``Surprise``'s parameters."""

    __slots__ = SURPRISE


_SHARED: dict[tuple, Params] = {}


def shared(kind: type[Params], values: dict[str, Any]) -> Params:
    """Return the ``kind`` of ``values``, the same object for equal values."""
    try:
        key = (kind, *((k, type(v), v) for k, v in values.items()))  # 1 and 1.0 not shared
        found = _SHARED.get(key)
    except TypeError:  # an unhashable value: not shared
        return kind(values)
    if found is None:
        if len(_SHARED) >= 4096:  # bounded (a few sets are in use: one per field scale)
            _SHARED.clear()
        found = _SHARED[key] = kind(values)
    return found


class JudgeParams(Params):
    """``Judge``'s parameters: ``Surprise``'s and its own."""

    __slots__ = (*SURPRISE, *JUDGE)
