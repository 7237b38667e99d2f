"""The detector contract and the score squashing every detector shares."""

from __future__ import annotations

from typing import ClassVar

from mypy_extensions import mypyc_attr


def squash(z: float, z_half: float) -> float:
    """Map a deviation ``z >= 0`` to [0, 1): ``z / (z + z_half)``.

    >>> squash(5.0, 5.0), squash(0.0, 5.0)
    (0.5, 0.0)
    """
    z = abs(z)
    if z != z:  # NaN in, most suspicious out
        return 1.0
    return z / (z + z_half) if z_half > 0 else 1.0


@mypyc_attr(allow_interpreted_subclasses=True)
class Detector:
    """The contract every detector follows; subclasses override the two methods."""

    #: Name used on the command line and in ``DETECTORS``.
    name: ClassVar[str] = "detector"
    #: No ``__dict__`` for the subclasses that declare their slots (~40 bytes a detector).
    __slots__ = ()

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Take one value (at event time ``ts``) into the state."""
        raise NotImplementedError

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return how anomalous ``x`` is against what was learned, in [0, 1]."""
        raise NotImplementedError
