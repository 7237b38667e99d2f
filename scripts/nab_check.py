"""Score the result files NAB ships with our scorer and compare with NAB's published figures.

Usage: ``python scripts/nab_check.py [NAB_DIR]`` (default ``$NAB_DIR`` or /work/data/NAB), with
a checkout of github.com/numenta/NAB (its data, labels, results and config). Prints, for every
detector and profile, the score at NAB's own threshold against the published one, and the best
score of our threshold sweep; exits 1 if any differs by more than 1e-6. The data is not shipped
with the project (docs/QUALITY.md, "Detectors").
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from warning.anomaly import nab
from warning.anomaly.evaluate import PROFILES, at, best


def main() -> int:
    """Compare every shipped detector's score with the published one; 0 if all match."""
    root = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NAB_DIR", "/work/data/NAB"))
    files = nab.load(root)
    published = nab.published(root)
    thresholds = json.loads((root / "config" / "thresholds.json").read_text())
    worst = 0.0
    for detector in sorted(published):
        if detector not in thresholds or not (root / "results" / detector).is_dir():
            continue
        series = nab.shipped(root, detector, files)
        for name, profile in PROFILES.items():
            fixed = at(series, thresholds[detector][name]["threshold"], profile).score
            swept = best(series, profile).score
            worst = max(worst, abs(fixed - published[detector][name]))
            print(
                f"{detector:<28} {name:<20} published {published[detector][name]:8.3f}  "
                f"ours {fixed:8.3f}  sweep {swept:8.3f}"
            )
    print(f"largest difference at NAB's thresholds: {worst:.2e}")
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
