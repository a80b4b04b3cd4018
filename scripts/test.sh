#!/usr/bin/env bash
# The test suite: unit, socket integration, process-level, trybuild and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --workspace --all-features "$@"
