"""One side of a snapshot crossing builds: run as ``python cross.py STATE_IN OUT``.

Loads the pickled sensor state ``STATE_IN`` (written by the other build), evaluates the
readings that follow it, and writes the events, the state and this build's kind to ``OUT``.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from tests.compiled.storm import evaluate_from, is_compiled

if __name__ == "__main__":
    state = pickle.loads(Path(sys.argv[1]).read_bytes())
    state, events = evaluate_from(state, 180, 300)
    out = {"compiled": is_compiled(), "events": events, "state": pickle.dumps(state)}
    Path(sys.argv[2]).write_bytes(pickle.dumps(out))
