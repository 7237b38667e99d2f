#!/usr/bin/env bash
# Copy this checkout's files (committed or not, none ignored) to DEST and build the compiled
# modules there in place (setup.py, HAZARD_WARNING_COMPILE=1), so tests and benches can run the
# compiled build beside the pure one. Needs mypy (the test extra) and a C compiler.
#
#     bash scripts/compiled_tree.sh DEST
set -euo pipefail
dest=${1:?usage: compiled_tree.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
cd "$(dirname "$0")/.."
git ls-files -co --exclude-standard | while IFS= read -r f; do
  if [ -f "$f" ]; then printf '%s\0' "$f"; fi  # a deleted file is still listed until committed
done | tar -c --null -T - | tar -x -C "$dest"
cd "$dest"
HAZARD_WARNING_COMPILE=1 python3 setup.py -q build_ext --inplace -j 2 >build.log 2>&1 \
  || { cat build.log >&2; exit 1; }
echo "compiled $(find warning -name '*.so' | wc -l) modules in $dest"
