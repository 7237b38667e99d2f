"""Differential test: the engine gives the frozen results of 0.2 on every fixed workload.

The records (warning events, dead letters, indicator records) of the bench workload, every
simulator scenario, every shipped rule test case and the FWI reference table were frozen from
the engine as it was before the lean-engine work (``tests/support/frozen.py``). Numbers must
agree to 1e-9 and everything else exactly: the same events, at the same readings, in the same
order, with the same texts.
"""

from __future__ import annotations

import pytest

from tests.support import frozen

# Whole workloads through the whole dataflow: the slow end of the suite.
pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", sorted(frozen.cases()))
def test_same_results_as_frozen(name):
    want, got = frozen.load(name), frozen.run(name)
    assert want, f"{name}: the frozen file is empty"
    problems = [
        f"record {i} ({w.get('record')} {w.get('case', '')} {w.get('warning_id', '')}){d}"
        for i, (w, g) in enumerate(zip(want, got, strict=False))
        for d in frozen.differences(w, g)
    ]
    if len(want) != len(got):
        problems.insert(0, f"{len(want)} records frozen, {len(got)} now")
    assert not problems, f"{name}: {len(problems)} differences, first: " + "\n".join(problems[:10])


def test_differences_sees_a_change_beyond_the_tolerance():
    """The comparison itself: 1e-10 apart is equal, 1e-6 is not, and so is a changed text."""
    a = {"values": {"rain_3h": 50.0}, "message": "x", "texts": [1, 2]}
    assert list(frozen.differences(a, {**a, "values": {"rain_3h": 50.0 + 1e-10}})) == []
    assert list(frozen.differences(a, {**a, "values": {"rain_3h": 50.000001}}))
    assert list(frozen.differences(a, {**a, "message": "y"})) == [".message: 'x' -> 'y'"]
    assert list(frozen.differences(a, {**a, "texts": [1]}))
    assert list(frozen.differences({"level": True}, {"level": 1}))
