#!/usr/bin/env bash
# The main job: build the bundled example function (`hello`) and a bare
# reference server (`floor`), then drive both exactly as the Fn server does
# (FN_LISTENER in a fresh directory, readiness by lsnr.sock, calls with the
# server's bytes over one keep-alive connection). Every answer is checked;
# the exit status is non-zero if any call failed or a function never became
# ready. Extra arguments go to `fdk-conformance bench` (e.g. --calls 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p hello -p fdk-conformance
exec target/release/fdk-conformance bench --calls 20000 "$@" \
  --fn floor=target/release/floor \
  --fn hello=target/release/hello
