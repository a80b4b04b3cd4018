#!/usr/bin/env bash
# Regenerates docs/conformance-matrix.md from the committed verdicts.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -q -p fdk-conformance
cols=()
for dir in conformance/probes/*/; do
  lang=$(basename "$dir")
  [ -f "${dir}expected.txt" ] && cols+=("$lang=${dir}expected.txt")
done
{
  echo "# Conformance matrix"
  echo
  echo "Every case of \`fdk-conformance run --probe\` against each FDK's probe, from the committed"
  echo "verdicts in \`conformance/probes/<fdk>/expected.txt\` (CI fails when a verdict changes)."
  echo "Each probe's README says why each failure happens. Regenerate with \`bash scripts/matrix.sh\`."
  echo
  target/debug/fdk-conformance matrix "${cols[@]}"
} > docs/conformance-matrix.md
echo "wrote docs/conformance-matrix.md (${cols[*]})"
