#!/usr/bin/env bash
# The conformance suite against the official FDKs' probes, each pinned and
# installed by its own install.sh, each compared with its committed verdicts
# (conformance/probes/<lang>/expected.txt): any change, either way, fails.
# No --fail-on: the committed verdicts, expected failures included, decide.
#
# Usage: scripts/peers.sh [lang...]   (default: every probe directory with
# install.sh, run.sh and expected.txt)
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -q -p fdk-conformance || exit 2
harness=target/debug/fdk-conformance

langs=("$@")
if [ ${#langs[@]} -eq 0 ]; then
  for dir in conformance/probes/*/; do
    lang=$(basename "$dir")
    [ -x "$dir/install.sh" ] && [ -x "$dir/run.sh" ] && [ -f "$dir/expected.txt" ] && langs+=("$lang")
  done
fi

status=0
for lang in "${langs[@]}"; do
  dir=conformance/probes/$lang
  echo "== $lang: install"
  if ! bash "$dir/install.sh"; then
    echo "$lang: install.sh failed"
    status=1
    continue
  fi
  echo "== $lang: conformance (against $dir/expected.txt)"
  "$harness" run --probe --expect "$dir/expected.txt" -- "$dir/run.sh" || status=1
done
exit $status
