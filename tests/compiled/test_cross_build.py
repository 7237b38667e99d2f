"""The compiled build (setup.py) against the pure one: same events, snapshots that cross.

Collected only in the compiled copy that scripts/test.sh makes (``HAZARD_WARNING_PURE_TREE``
names the pure checkout beside it); the rest of the suite also runs there, unchanged.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compiled.storm import ROOT, compiled_modules, evaluate_from, is_compiled

PURE = Path(os.environ.get("HAZARD_WARNING_PURE_TREE", "/nonexistent"))


def test_every_listed_module_runs_compiled_here():
    assert compiled_modules(), "pyproject.toml lists no module to compile"
    assert is_compiled()


def other_side(tree: Path, state: object, tmp_path: Path) -> dict:
    """Evaluate minutes 180-300 from ``state`` in a process importing ``tree``."""
    (tmp_path / "in.pickle").write_bytes(pickle.dumps(state))
    env = dict(os.environ, PYTHONPATH=str(tree))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.compiled.cross",
            tmp_path / "in.pickle",
            tmp_path / "out.pickle",
        ],
        cwd=tree,
        env=env,
        check=True,
    )
    return pickle.loads((tmp_path / "out.pickle").read_bytes())


@pytest.mark.parametrize("tree", ["pure", "compiled"])
def test_a_snapshot_resumes_in_either_build_with_the_same_events(tree, tmp_path):
    state, before = evaluate_from(None, 0, 180)
    assert any(e.event == "raised" for e in before), "the state must hold a raised warning"
    _, want = evaluate_from(pickle.loads(pickle.dumps(state)), 180, 300)
    assert want, "the storm must go on to give events after the snapshot"
    got = other_side(PURE if tree == "pure" else ROOT, state, tmp_path)
    assert got["compiled"] is (tree == "compiled")
    assert got["events"] == want
    # and the state it pickled comes back here, evaluating as this build's own does
    back = pickle.loads(got["state"])
    _, again = evaluate_from(back, 300, 330)
    mine, _ = evaluate_from(pickle.loads(pickle.dumps(state)), 180, 300)
    _, expect = evaluate_from(mine, 300, 330)
    assert again == expect
