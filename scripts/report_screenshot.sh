#!/usr/bin/env bash
# Backtest the simulator's typhoon scenario with its labels, write the HTML report and take a
# screenshot of it in headless Chromium (Debian's chromium package): docs/backtest_report_typhoon.png.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
python3 -m sensors_sim generate --scenario typhoon --output "$work/typhoon.jsonl" \
  --registry "$work/sensors.yaml" --labels "$work/labels.jsonl"
hazard-warning backtest --rules rules --sensors "$work/sensors.yaml" --input "$work/typhoon.jsonl" \
  --output "$work/events.jsonl" --labels "$work/labels.jsonl" --summary "$work/summary.json" \
  --report "$work/report.html" --no-progress
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$work/chrome" \
  --screenshot="$PWD/docs/backtest_report_typhoon.png" --window-size=1400,2000 \
  "file://$work/report.html"
echo "report: $work/report.html; summary: $work/summary.json"
