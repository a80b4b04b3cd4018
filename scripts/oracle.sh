#!/usr/bin/env bash
# The real Fn server as the harness's oracle (issue: the harness's verdicts
# must be the real server's). Every mode of the conformance fixture becomes a
# FROM-scratch image (`cargo fdk image --binary`), is loaded into the real
# server's dockerd, and one fixed call sequence (conformance/src/oracle/) is
# played both by a real fnserver 0.3.753 and by the harness's emulation. Per
# call it compares the client's status, the client's message and whether the
# container was kept or killed; any difference fails. The harness plays it
# three times: the fixture as a command, the image unpacked into the
# server's sandbox without a daemon (`--image`), and the image in the
# server's own container on the same dockerd (`--docker`); each must agree
# with the real server.
#
# Usage: scripts/oracle.sh [--write] [MODE...]   (default: every fixture mode)
#   --write   also copy the side-by-side table to docs/oracle.md
#
# Needs root, Go and a C compiler (the server is built from the vendored
# source once per machine), and Debian's docker.io (installed when missing and
# apt-get exists). Uses ../shared/fn-server (FN_SERVER_DIR overrides). Starts
# the server with real-fn.sh unless one is already up, and stops what it
# started. Output: target/oracle/{real,emulated,emulated-image,emulated-docker}.tsv
# and table.md. ORACLE_JOBS (4) and ORACLE_IMAGE_JOBS (6): modes at once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
write=0
if [ "${1:-}" = "--write" ]; then write=1; shift; fi

[ "$(id -u)" = 0 ] || { echo "oracle.sh: needs root (dockerd, network namespace, uid 1000)" >&2; exit 2; }
fn_dir=${FN_SERVER_DIR:-$root/../shared/fn-server}
[ -f "$fn_dir/real-fn.sh" ] || { echo "oracle.sh: no real-fn.sh in $fn_dir (set FN_SERVER_DIR)" >&2; exit 2; }
if ! command -v dockerd >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

echo "== oracle: the real server (built once per machine)"
# (Two steps: `eval "$(…)"` would hide build.sh's failure.)
built=$(bash "$fn_dir/build.sh")
eval "$built"
export FNSERVER
export REAL_FN_DIR=${REAL_FN_DIR:-/tmp/real-fn}
export DOCKER_HOST=unix://$REAL_FN_DIR/dockerd.sock
api=http://127.0.0.1:${FN_PORT:-8080}
started=0
bg_pids=()
# On any exit: background work first, then the server this script started
# (`down` copes with a half-started one), then the temp dirs.
finish() {
  # (Under set -e a pid that already exited must not end the clean-up here.)
  if [ ${#bg_pids[@]} -gt 0 ]; then
    kill "${bg_pids[@]}" 2>/dev/null || true
    wait "${bg_pids[@]}" 2>/dev/null || true
  fi
  if [ "$started" = 1 ]; then bash "$fn_dir/real-fn.sh" down >/dev/null 2>&1 || true; fi
  rm -rf "${fnproj:-}" "${work:-}"
}
trap finish EXIT
if ! bash "$fn_dir/real-fn.sh" sh curl -fs "$api/version" >/dev/null 2>&1; then
  started=1
  bash "$fn_dir/real-fn.sh" up
fi

echo "== oracle: the fixture as a static binary and a FROM-scratch image"
out=$root/target/oracle
mkdir -p "$out"
RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --locked --release -p fdk-conformance-fixtures \
  --bin fixture --target x86_64-unknown-linux-gnu --target-dir "$out/build"
cargo build -q --locked -p fdk-conformance -p cargo-fdk
fixture=$out/build/x86_64-unknown-linux-gnu/release/fixture
fnproj=$(mktemp -d)
work=$(mktemp -d)
printf 'schema_version: 20180708\nname: fdk-fixture\nversion: 0.0.1\nruntime: docker\n' >"$fnproj/func.yaml"
(cd "$fnproj" && "$root/target/debug/cargo-fdk" fdk image --binary "$fixture" \
  --tag fdk-fixture:oracle --out "$fnproj/image" | sed 's/^/  /')
docker load -q -i "$fnproj/image/image.tar"

if [ $# -gt 0 ]; then
  modes=("$@")
else
  # Every mode the fixture has (its usage line lists them).
  read -r -a modes <<<"$("$fixture" 2>&1 | sed -n 's/^modes: //p' | tr -d ',')"
fi
echo "== oracle: ${#modes[@]} modes: ${modes[*]}"

# The emulation runs the fixture as the server runs a container: uid 1000,
# a read-only working directory; so the binary lives where uid 1000 can run it.
chmod 0755 "$work"
cp "$fixture" "$work/fixture"
mkdir "$work/cwd" && chmod 0555 "$work/cwd"

harness=$root/target/debug/fdk-conformance
# One side after the other. Side by side (8 modes at once on 2 cores, one
# of them writing 600 MiB of log through the server) docker removed some
# killed containers more than 300 ms after the server's answer, after the
# next call had started, and the real side's rows said "kept" (two CI runs
# of six differences or more, 2026-12-03).
jobs=${ORACLE_JOBS:-4}
bash "$fn_dir/real-fn.sh" sh "$harness" oracle real --api "$api" --image fdk-fixture:oracle \
  --jobs "$jobs" --app "oracle$$" --out "$out/real.tsv" "${modes[@]}" 2>"$out/real.log" \
  || { echo "oracle.sh: the real server's run failed:"; cat "$out/real.log"; exit 2; }
"$harness" oracle emulate --fixture "$work/fixture" --uid 1000 --cwd "$work/cwd" --jobs "$jobs" \
  --out "$out/emulated.tsv" "${modes[@]}" 2>"$out/emulated.log" || { echo "oracle.sh: the emulation failed:"; cat "$out/emulated.log"; exit 2; }
# The same fixture image as the real server's, in the two other ways the
# harness runs an image: unpacked into the server's sandbox without a daemon
# (`run --image`), and in the server's own container on the same dockerd
# (`run --docker`). The calls of one mode mostly wait (idle steps, the
# timeout), so more modes run at once than on the real side.
image_jobs=${ORACLE_IMAGE_JOBS:-6}
for side in image docker; do
  case $side in
    image) subject=(--image "$fnproj/image/image.tar") ;;
    docker) subject=(--docker fdk-fixture:oracle) ;;
  esac
  started_at=$(date +%s)
  "$harness" oracle emulate "${subject[@]}" --jobs "$image_jobs" --out "$out/emulated-$side.tsv" \
    "${modes[@]}" 2>"$out/emulated-$side.log" \
    || { echo "oracle.sh: the $side emulation failed:"; cat "$out/emulated-$side.log"; exit 2; }
  echo "  the $side emulation took $(( $(date +%s) - started_at )) s"
done

# Then (not during the timed sequences above): the whole suite against
# every mode, as the server runs a container (uid 1000, read-only cwd).
# Not compared, with the reason:
#   ignore-deadline  sleeps 3 s on every call: past the oracle's 2 s fn timeout
#                    the server times out every call, as it would any function
#                    that slow; under the suite's 30 s deadlines it is served,
#                    and its FDK fault (no 504 of its own) is a SHOULD.
#   sleeper          not a function (the child `grandchild` leaves behind).
#   log-flood        writes 50 MiB of log in every call: through docker's log
#                    pipeline that takes about the oracle's 2 s fn timeout, so
#                    whether a call times out varies from run to run.
not_compared=" ignore-deadline sleeper log-flood "
# Faults only the handler sees (what the server sent does not reach it):
# the server serves every call, and the suite must still fail them.
handler_only=" drop-content-type hide-fn-vars "
# A run that has not ended in 2 minutes has failed (a function the server
# would time out call after call).
: >"$out/suites.txt"
: >"$out/suites-image.txt"
# Each mode twice, as two runs: the command (uid 1000, read-only cwd) and
# the image, run with `run --image` and the mode as the fn's config, as the
# server gets it.
suite() {
  local code=0
  case $2 in
    command)
      (cd "$work/cwd" && "$harness" run --probe --uid 1000 --run-timeout 120s -- "$work/fixture" "$1") \
        >"$out/suite-$1.txt" 2>&1 || code=$?
      echo "$1 $code" >>"$out/suites.txt" ;;
    image)
      "$harness" run --probe --image "$fnproj/image/image.tar" --config "FIXTURE_MODE=$1" \
        --run-timeout 120s >"$out/suite-image-$1.txt" 2>&1 || code=$?
      echo "$1 $code" >>"$out/suites-image.txt" ;;
  esac
}
# The modes whose runs last the whole 2 minutes (every case waits out its
# deadline on a body that never ends; measured 2026-12-04: 120 s each, the
# others 1 to 11 s) mostly wait: up to three of them run beside two of the
# others, and they start first, so that none is the last to start.
slow=" length-too-long no-final-crlf reuse-length "
slow_jobs=()
fast_jobs=()
for mode in "${modes[@]}"; do
  case $not_compared in *" $mode "*) continue ;; esac
  for side in command image; do
    case $slow in
      *" $mode "*) slow_jobs+=("$mode $side") ;;
      *) fast_jobs+=("$mode $side") ;;
    esac
  done
done
suites_started=$(date +%s)
suite_pids=()
slow_pids=()
fast_pids=()
alive() { local n=0 p; for p in "$@"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; echo "$n"; }
while [ ${#slow_jobs[@]} -gt 0 ] || [ ${#fast_jobs[@]} -gt 0 ]; do
  if [ ${#slow_jobs[@]} -gt 0 ] && [ "$(alive "${slow_pids[@]}")" -lt 3 ]; then
    # shellcheck disable=SC2086 # "mode side", two words
    suite ${slow_jobs[0]} &
    slow_pids+=($!)
    slow_jobs=("${slow_jobs[@]:1}")
  elif [ ${#fast_jobs[@]} -gt 0 ] && [ "$(alive "${fast_pids[@]}")" -lt 2 ]; then
    # shellcheck disable=SC2086
    suite ${fast_jobs[0]} &
    fast_pids+=($!)
    fast_jobs=("${fast_jobs[@]:1}")
  else
    sleep 0.2
    continue
  fi
  suite_pids+=($!)
  bg_pids+=($!)
done
for p in "${suite_pids[@]}"; do wait "$p" || true; done
bg_pids=()
echo "  the suites (${#modes[@]} modes, command and image) took $(( $(date +%s) - suites_started )) s"

echo "== oracle: compare"
status=0
# Shown, not judged: exit-on-close exits when the server closes a connection,
# and whether the agent notices before the next call 0.3 s later is a race
# inside the real server (two runs: "error receiving function response"
# once, a new container's 200 the other); log-flood's calls race the fn
# timeout through docker's log pipeline (see above).
"$harness" oracle compare "$out/real.tsv" "$out/emulated.tsv" --table "$out/table.md" \
  --unsettled exit-on-close,log-flood || status=$?
# The image sides: the same rows required, the same races shown.
: >"$out/sides.md"
for side in image docker; do
  echo "== oracle: compare, the harness running the image ($side)"
  code=0
  "$harness" oracle compare "$out/real.tsv" "$out/emulated-$side.tsv" --table "$out/table-$side.md" \
    --unsettled exit-on-close,log-flood >"$out/compare-$side.txt" || code=$?
  cat "$out/compare-$side.txt"
  [ "$code" = 0 ] || status=$code
  {
    echo
    case $side in
      image) echo "### The image without a daemon (\`oracle emulate --image\`, as \`run --image\`)" ;;
      docker) echo "### The image on dockerd in the server's container (\`oracle emulate --docker\`, as \`run --docker\`)" ;;
    esac
    echo
    head -n 1 "$out/table-$side.md"
    if grep -q '^DIFFERENT' "$out/compare-$side.txt"; then
      echo
      sed -n 's/^DIFFERENT /- /p' "$out/compare-$side.txt"
    fi
  } >>"$out/sides.md"
done

# The suite's exit code answers one question: would the real server serve
# this function's calls correctly? Non-zero exactly for the modes the real
# server failed in the sequence.
echo "== oracle: the suite's exit code against the real server's verdict"
"$harness" oracle served "$out/real.tsv" >"$out/served.txt"
{
  echo
  echo "| mode | real server | \`fdk-conformance run\` exit | \`run --image\` exit | agree |"
  echo "|---|---|---|---|---|"
} >>"$out/table.md"
while read -r verdict mode why; do
  mode=${mode%:}
  case $not_compared in *" $mode "*)
    echo "| $mode | $verdict${why:+: $why} | (not compared: see scripts/oracle.sh) | - | - |" >>"$out/table.md"
    continue ;;
  esac
  code=$(awk -v m="$mode" '$1 == m { print $2 }' "$out/suites.txt")
  image_code=$(awk -v m="$mode" '$1 == m { print $2 }' "$out/suites-image.txt")
  agree=yes
  expect_fail=0
  [ "$verdict" = failed ] && expect_fail=1
  case $handler_only in *" $mode "*) expect_fail=1; why="${why:+$why; }the handler's view is wrong" ;; esac
  for side in command image; do
    c=$code; file=$out/suite-$mode.txt
    [ "$side" = image ] && { c=$image_code; file=$out/suite-image-$mode.txt; }
    if { [ "$expect_fail" = 0 ] && [ "$c" != 0 ]; } || { [ "$expect_fail" = 1 ] && [ "$c" = 0 ]; }; then
      agree="**NO**"
      status=1
      echo "DISAGREE $mode ($side): real server $verdict${why:+ ($why)}, suite exit $c (see $file)"
    fi
  done
  echo "| $mode | $verdict${why:+: $why} | $code | $image_code | $agree |" >>"$out/table.md"
done <"$out/served.txt"
if [ "$write" = 1 ]; then
  {
    echo "# The harness against the real Fn server"
    echo
    echo "Written by \`scripts/oracle.sh --write\`: every fixture mode (\`conformance/fixtures/src/bin/fixture/\`)"
    echo "as a FROM-scratch image on a real fnserver 0.3.753 (dockerd 20.10, cgroup v1), and the same"
    echo "call sequence (\`conformance/src/oracle/mod.rs\`) through the harness's emulation. A cell is"
    echo "the client's status, the server's message (or the body's length) and the container's fate."
    echo "The same image is also run by the harness without a daemon and on dockerd in the server's"
    echo "container (summaries below the first table; any difference listed); and every mode's suite"
    echo "runs as a command and as the image (last table)."
    echo
    sed -n '1,/^| mode | real server | `fdk/{/^| mode | real server | `fdk/!p}' "$out/table.md"
    cat "$out/sides.md"
    echo
    sed -n '/^| mode | real server | `fdk/,$p' "$out/table.md"
  } >docs/oracle.md
  echo "wrote docs/oracle.md"
fi
exit $status
