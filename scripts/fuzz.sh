#!/usr/bin/env bash
# Fuzzes the FDK's parsers and encoders with cargo-fuzz (libFuzzer), each
# target for a bounded time, on the stable toolchain (`-s none`: no
# sanitizer, which is what needs nightly; Rust's own checks, debug
# assertions and overflow checks are on).
#
#   bash scripts/fuzz.sh                    # every target, 20 s each (CI)
#   bash scripts/fuzz.sh --time 600         # every target, 10 min each
#   bash scripts/fuzz.sh --time 3600 socket_request stdio_json
#
# Targets (fuzz/fuzz_targets/): socket_request, stdio_json,
# stdio_cloudevent, stdio_http, stdio_default, deadline, response_encode,
# http1_response (the emulator's reader).
# Each starts from the committed seeds (fuzz/seeds/<target>, regenerate with
# `python3 fuzz/make_seeds.py`) plus what earlier local runs found
# (fuzz/corpus/<target>, not committed). Exits 1 if any target crashed;
# the crash input is in fuzz/artifacts/<target>/ and its panic message and
# backtrace are printed. Reproduce one with
#   (cd fuzz && cargo fuzz run -s none <target> artifacts/<target>/crash-...)
set -euo pipefail
cd "$(dirname "$0")/.."

time_each=20
# libFuzzer's default limit, stated so that the committed seeds cannot
# raise it: inputs this small cannot reach the known `http::HeaderMap`
# panic at 24,577+ header values (json/cloudevent headers, FN_HEADER_*
# variables), which is handled separately.
max_len=4096
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_each="$2"; shift 2 ;;
    --time=*) time_each="${1#--time=}"; shift ;;
    --max-len) max_len="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  targets=(socket_request stdio_json stdio_cloudevent stdio_http stdio_default deadline response_encode http1_response)
fi

if ! command -v c++ >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  # libfuzzer-sys compiles libFuzzer (C++) in its build script.
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  # A pinned release from crates.io (about 1.5 min to build on 2 cores).
  cargo install --locked cargo-fuzz --version 0.13.2
fi

cd fuzz
# One build for every target (libFuzzer's C++ and the FDK, instrumented).
cargo fuzz build -s none
mkdir -p target/fuzz-logs
failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="target/fuzz-logs/$t.log"
  started=$SECONDS
  # -close_fd_mask=1: the log frame writes to stdout, which only slows a
  # run; stderr stays open for libFuzzer's report and the panic message.
  # -timeout: an input that runs 30 s is a hang, and a crash.
  if cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$time_each" -max_len="$max_len" -timeout=30 \
      -close_fd_mask=1 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    echo "fuzz $t: ok, ${runs:-?} runs in $((SECONDS - started)) s (${rate:-?} exec/s)"
  else
    echo "fuzz $t: FAILED after $((SECONDS - started)) s; the end of $log:"
    tail -n 60 "$log"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${time_each} s each, no crash"
