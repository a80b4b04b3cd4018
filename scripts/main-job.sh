#!/usr/bin/env bash
# The main job: the conformance suite against the bundled example function,
# then against the Rust probe (every case, compared with its committed
# verdicts), then the benchmark against the bare hyper floor.
#
# Each function is started exactly as the Fn server starts it (FN_LISTENER in
# a fresh 0777 directory, readiness by the inotify event for lsnr.sock) and
# called with the server's bytes. Exit status: non-zero if any step failed.
# Extra arguments go to the benchmark (e.g. --calls 100000).
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p hello -p probe -p fdk-conformance || exit 2
bin=target/release
status=0

echo "== conformance: examples/hello (black-box cases)"
"$bin/fdk-conformance" run -- "$bin/hello" || status=1

echo "== conformance: examples/probe (all cases, against conformance/probes/rust/expected.txt)"
"$bin/fdk-conformance" run --probe --expect conformance/probes/rust/expected.txt -- "$bin/probe" || status=1

echo "== benchmark: hello against the floor"
"$bin/fdk-conformance" bench --calls 20000 "$@" \
  --fn floor="$bin/floor" \
  --fn hello="$bin/hello" || status=1

exit $status
