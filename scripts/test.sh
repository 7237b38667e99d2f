#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: installs the servers the tests start
# (Debian's mosquitto, influxdb, prometheus) and the Python packages, then ruff, mypy and pytest,
# then the unit and frozen-event tests again on the compiled build.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
missing=()
for pkg in mosquitto mosquitto-clients influxdb prometheus openssl gcc; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
# Packages may start system services on install; the tests start their own on free ports.
python3 -m pip install -q --disable-pip-version-check -e ".[test]"
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy
python3 -m pytest -q --durations=25 "$@"

# The compiled build (setup.py, docs/PERFORMANCE.md) on a copy of this checkout: the unit tests,
# the frozen events, and snapshots crossing between it and this pure checkout (tests/compiled).
# The arguments given to this script go to the run above only.
compiled=$(mktemp -d)
trap 'rm -rf "$compiled"' EXIT
bash scripts/compiled_tree.sh "$compiled"
pure=$PWD
(
  cd "$compiled"
  export HAZARD_WARNING_PURE_TREE="$pure" PYTHONPATH="$compiled"
  python3 -m pytest -q -m "not integration"
  python3 -m pytest -q tests/pipeline/test_frozen.py
)
