#!/usr/bin/env bash
# `cargo fdk deploy` against a real Fn server (issue: cargo fdk as complete as
# the Fn CLI), the README's walk-through as a test:
#
#   cargo fdk new hello → cargo fdk deploy --create-app → the answer through
#   /invoke and through the trigger → edit the code → cargo fdk deploy → the new
#   answer, version 0.0.3 → the stock Fn CLI's `fn list functions` shows it →
#   an edit deployed with --no-bump is refused (its tag already names another
#   image) and func.yaml is left alone → `cargo fdk run --watch` serves the
#   next edit on the same endpoint.
#
# Usage: scripts/deploy-e2e.sh
# Needs root, Go and a C compiler for the server (built once per machine from
# ../shared/fn-server; FN_SERVER_DIR overrides), Debian's docker.io (installed
# when missing). Starts the server with real-fn.sh unless one is up, and stops
# what it started. The function is built inside the server's loopback-only
# namespace, so its crates are fetched first, outside it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

[ "$(id -u)" = 0 ] || { echo "deploy-e2e.sh: needs root (dockerd, network namespace)" >&2; exit 2; }
fn_dir=${FN_SERVER_DIR:-$root/../shared/fn-server}
[ -f "$fn_dir/real-fn.sh" ] || { echo "deploy-e2e.sh: no real-fn.sh in $fn_dir (set FN_SERVER_DIR)" >&2; exit 2; }
if ! command -v dockerd >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

built=$(bash "$fn_dir/build.sh")
eval "$built"
export FNSERVER
export REAL_FN_DIR=${REAL_FN_DIR:-/tmp/real-fn}
export DOCKER_HOST=unix://$REAL_FN_DIR/dockerd.sock
api=http://127.0.0.1:${FN_PORT:-8080}
started=0
work=""
finish() {
  if [ "$started" = 1 ]; then bash "$fn_dir/real-fn.sh" down >/dev/null 2>&1 || true; fi
  [ -z "$work" ] || rm -rf "$work"
}
trap finish EXIT
if ! bash "$fn_dir/real-fn.sh" sh curl -fs "$api/version" >/dev/null 2>&1; then
  started=1
  bash "$fn_dir/real-fn.sh" up
fi
# Inside the server's namespace, where its API is; cargo offline there.
in_ns() {
  bash "$fn_dir/real-fn.sh" sh env CARGO_NET_OFFLINE=true DOCKER_HOST="$DOCKER_HOST" \
    FN_API_URL="$api" "$@"
}
fail() { echo "deploy-e2e: FAIL: $*" >&2; exit 1; }

cargo build -q --locked -p cargo-fdk
cfdk=$root/target/debug/cargo-fdk
work=$(mktemp -d)
app=e2e-$$
# A name of its own: a daemon that served earlier runs may hold hello:0.0.2.
name=hello-e2e-$$
cd "$work"
echo "== cargo fdk new $name"
"$cfdk" fdk new "$name" >/dev/null
cd "$name"
cargo fetch -q

deploy() { in_ns "$cfdk" fdk deploy --app "$app" "$@"; }
answer_of() { in_ns curl -fsS -d "$2" "$1"; }
expect() { # url body answer
  local got
  got=$(answer_of "$1" "$2") || fail "POST $1 failed"
  [ "$got" = "$3" ] || fail "POST $1 answered '$got', not '$3'"
  echo "  $1 -> $got"
}

echo "== cargo fdk deploy --app $app --create-app"
deploy --create-app | tee "$work/first.txt"
invoke=$(sed -n 's/^invoke   //p' "$work/first.txt")
trigger=$(sed -n "s|^trigger  $name /$name: ||p" "$work/first.txt")
[ -n "$invoke" ] && [ -n "$trigger" ] || fail "deploy printed no invoke or trigger endpoint"
grep -qx 'version: 0.0.2' func.yaml || fail "func.yaml was not bumped to 0.0.2"
expect "$invoke" Jo "Hello Jo"
expect "$trigger" Al "Hello Al"

echo "== edit, cargo fdk deploy"
sed -i 's/"Hello {}"/"Howdy {}"/' src/main.rs
grep -q 'Howdy' src/main.rs || fail "the edit did not apply"
deploy | tee "$work/second.txt"
grep -q "^Function $name (.*, updated)\$" "$work/second.txt" || fail "the function was not updated"
grep -qx 'version: 0.0.3' func.yaml || fail "func.yaml was not bumped to 0.0.3"
expect "$invoke" Jo "Howdy Jo"
expect "$trigger" Al "Howdy Al"

echo "== fn list functions $app (the stock Fn CLI)"
listed=$(in_ns "$FN_CLI" list functions "$app")
echo "$listed" | sed 's/^/  /'
echo "$listed" | grep -Eq "^$name[[:space:]]+$name:0\\.0\\.3[[:space:]]" || fail "fn list functions does not show $name:0.0.3"

echo "== an edit deployed with --no-bump is refused"
sed -i 's/"Howdy {}"/"Hi {}"/' src/main.rs
if deploy --no-bump >"$work/third.txt" 2>&1; then fail "--no-bump over a changed image succeeded"; fi
sed 's/^/  /' "$work/third.txt"
grep -q "already has $name:0.0.3 as another image" "$work/third.txt" || fail "not the refusal expected"
grep -qx 'version: 0.0.3' func.yaml || fail "func.yaml changed"
expect "$invoke" Jo "Howdy Jo"

echo "== cargo fdk run --watch: an edit to the crate is served on the same endpoint"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$cfdk" fdk run --watch --addr "127.0.0.1:$port" >"$work/watch.log" 2>&1 &
watcher=$!
wait_line() { # text seconds
  for _ in $(seq $(($2 * 10))); do grep -q "$1" "$work/watch.log" && return 0; sleep 0.1; done
  kill "$watcher" 2>/dev/null; sed 's/^/  /' "$work/watch.log"; fail "no '$1' from cargo fdk run --watch"
}
wait_line "Serving $name on" 300
got=$(curl -fsS -d Jo "http://127.0.0.1:$port/invoke/$name")
[ "$got" = "Hi Jo" ] || fail "cargo fdk run answered '$got', not 'Hi Jo'"
sed -i 's/"Hi {}"/"Hey {}"/' src/main.rs
edited=$(date +%s)
wait_line "watch: the new build serves now" 300
got=$(curl -fsS -d Jo "http://127.0.0.1:$port/invoke/$name")
kill -INT "$watcher"; wait "$watcher" || true
[ "$got" = "Hey Jo" ] || fail "after the edit cargo fdk run answered '$got', not 'Hey Jo'"
echo "  the edit is served $(( $(date +%s) - edited )) s after the save (a release build with LTO)"
echo "deploy-e2e: ok"
