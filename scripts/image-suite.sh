#!/usr/bin/env bash
# The image suite: the images of examples/hello and examples/probe, built by
# `cargo fdk image`, run as the Fn server runs them but without a daemon
# (scripts/fn-sandbox.sh: the unpacked rootfs read-only, tmpfs /tmp, uid/gid
# 1000, no network, /tmp/iofs bound to the harness's socket directory, 50
# processes and 350 files), with the conformance suite against that socket:
#
#   hello   the black-box cases; every MUST case must pass
#   probe   every case, compared with conformance/probes/rust/expected-image.txt
#           (the same verdicts as the bare binary in scripts/main-job.sh,
#           conformance/probes/rust/expected.txt; the matrix shows both)
#
# and then a check of the sandbox itself, which the suite cannot see from the
# socket: the process the harness would signal is /function/func, as uid and
# gid 1000 with no groups and no capabilities, in /function, under a read-only
# root with a tmpfs /tmp, in its own network and mount namespaces, with the two
# limits; SIGTERM gives exit 0 and an empty socket directory.
#
# One summary line per image at the end. Needs root (the sandbox does);
# without root it prints one "skipped: ..." line and exits 0. As root, any
# failure fails the script (exit 1). Tools: cargo, and util-linux (unshare,
# prlimit, setpriv, mount), coreutils, tar, sed, grep and awk; nothing else.
#
# The examples have no func.yaml, which `cargo fdk image` reads for the name
# and version. So each binary is built static here (musl when its standard
# library is installed, else the host's gnu target with +crt-static, the rule
# cargo fdk build follows), and `cargo fdk image --binary` makes the image,
# with a func.yaml written into a temporary directory (name and version from
# the example's Cargo.toml). cargo fdk still checks that the binary is static.
# Images go to target/fdk-image/<name>-<version>/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "image suite: skipped: not root (scripts/fn-sandbox.sh needs mount and network namespaces, chroot and setuid)"
  exit 0
fi
missing=""
for tool in cargo rustc prlimit unshare setpriv mount tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "image suite: FAILED: missing tools:$missing (cargo; util-linux, coreutils, tar)" >&2
  exit 1
fi

repo=$PWD
bin=$repo/target/release
sandbox=$repo/scripts/fn-sandbox.sh
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds() { printf '%d.%01d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

echo "== image suite: building cargo-fdk, fdk-conformance, and hello and probe static"
cargo build --release --locked -p cargo-fdk -p fdk-conformance
host=$(rustc -vV | sed -n 's/^host: //p')
musl="${host%%-*}-unknown-linux-musl"
musl_libdir=$(rustc --print target-libdir --target "$musl" 2>/dev/null || true)
if [ -n "$musl_libdir" ] && compgen -G "$musl_libdir/libstd-*" >/dev/null; then
  triple=$musl
  static=()
else
  triple=$host
  static=(--config "target.$host.rustflags=[\"-C\", \"target-feature=+crt-static\"]")
fi
# One package at a time, as cargo fdk builds them, so that cargo-fdk's own
# tests and this script share the build cache.
for name in hello probe; do
  cargo build --release --locked -p "$name" --target "$triple" "${static[@]}"
done

# Unpacks the one layer of the OCI layout $1 into the new directory $2, after
# checking the blobs' digests: index.json -> manifest -> layer.
unpack() {
  local layout=$1 rootfs=$2 manifest layers layer blob
  manifest=$(sed -n 's/.*"digest":"sha256:\([0-9a-f]\{64\}\)".*/\1/p' "$layout/index.json")
  [ -n "$manifest" ] || { echo "no manifest in $layout/index.json" >&2; return 1; }
  layers=$(sed -e 's/.*"layers":\[//' -e 's/\].*//' "$layout/blobs/sha256/$manifest" \
    | grep -o '"digest":"sha256:[0-9a-f]\{64\}"' | sed 's/.*sha256:\([0-9a-f]*\)"/\1/')
  [ "$(printf '%s\n' "$layers" | grep -c .)" -eq 1 ] \
    || { echo "expected exactly one layer in manifest $manifest" >&2; return 1; }
  layer=$layers
  for blob in "$manifest" "$layer"; do
    [ "$(sha256sum < "$layout/blobs/sha256/$blob" | cut -d' ' -f1)" = "$blob" ] \
      || { echo "blob sha256:$blob does not match its digest" >&2; return 1; }
  done
  mkdir -m 0755 "$rootfs"
  tar -xzf "$layout/blobs/sha256/$layer" -C "$rootfs" --no-same-owner
  # The mount points Docker adds to every container (it creates them itself).
  mkdir -m 0755 "$rootfs/proc" "$rootfs/dev"
}

# The sandbox's own properties, read from /proc/<pid> of the PID it was started as.
check_sandbox() {
  local rootfs=$1 dir pid st lim ns status i
  sandbox_ok=1
  dir=$(mktemp -d "$scratch/iofs.XXXXXX")
  chmod 0777 "$dir"
  FN_LISTENER="unix:$dir/lsnr.sock" FN_FORMAT=http-stream FN_MEMORY=128 FN_TYPE=sync \
    "$sandbox" "$rootfs" </dev/null >"$dir.log" 2>&1 &
  pid=$!
  for i in $(seq 500); do
    [ -L "$dir/lsnr.sock" ] && break
    # A child that exited stays a zombie (State Z) until `wait` below.
    case "$(field "/proc/$pid/status" State 2>/dev/null | cut -c1)" in
      Z | X | "")
        fail "the function exited before lsnr.sock appeared"
        break
        ;;
    esac
    if [ "$i" -eq 500 ]; then fail "lsnr.sock did not appear within 5 s"; fi
    sleep 0.01
  done
  if [ "$sandbox_ok" -eq 1 ]; then
    st=/proc/$pid/status
    lim=/proc/$pid/limits
    expect "the started PID's program" "$(field "$st" Name)" "func"
    expect "uids (real, effective, saved, fs)" "$(field "$st" Uid)" "1000 1000 1000 1000"
    expect "gids (real, effective, saved, fs)" "$(field "$st" Gid)" "1000 1000 1000 1000"
    expect "supplementary groups" "$(field "$st" Groups)" ""
    expect "effective capabilities" "$(field "$st" CapEff)" "0000000000000000"
    expect "permitted capabilities" "$(field "$st" CapPrm)" "0000000000000000"
    expect "no_new_privs" "$(field "$st" NoNewPrivs)" "1"
    expect "exe" "$(readlink "/proc/$pid/exe")" "$rootfs/function/func"
    expect "cwd" "$(readlink "/proc/$pid/cwd")" "$rootfs/function"
    expect "root" "$(readlink "/proc/$pid/root")" "$rootfs"
    expect "RLIMIT_NPROC (soft hard)" "$(awk '/^Max processes / { print $3, $4 }' "$lim")" "50 50"
    expect "RLIMIT_NOFILE (soft hard)" "$(awk '/^Max open files / { print $4, $5 }' "$lim")" "350 350"
    for ns in net mnt ipc uts; do
      [ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] \
        || fail "it shares this script's $ns namespace"
    done
    # mountinfo as the function sees it: field 5 is the mount point, 6 its options.
    expect "/ (access)" "$(mounted "$pid" / | cut -d' ' -f1)" "ro"
    expect "/tmp (access, type)" "$(mounted "$pid" /tmp)" "rw tmpfs"
    expect "/tmp/iofs (access)" "$(mounted "$pid" /tmp/iofs | cut -d' ' -f1)" "rw"
    # A new network namespace has only its loopback interface.
    expect "network interfaces" "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' "/proc/$pid/net/dev")" "lo"
  fi
  kill -TERM "$pid" 2>/dev/null || true
  status=0
  wait "$pid" || status=$?
  expect "exit status after SIGTERM" "$status" "0"
  expect "left in the socket directory" "$(ls -A "$dir")" ""
  if [ "$sandbox_ok" -ne 1 ]; then
    echo "  the function's output:" >&2
    sed 's/^/    /' "$dir.log" >&2
  fi
  [ "$sandbox_ok" -eq 1 ]
}
fail() {
  echo "  sandbox: $*" >&2
  sandbox_ok=0
}
expect() { # what, got, wanted
  [ "$2" = "$3" ] || fail "$1: got '$2', wanted '$3'"
}
field() { # /proc/<pid>/status, key: the value, white space squeezed
  awk -v key="$2:" '$1 == key { $1 = ""; sub(/^ /, ""); print; exit }' "$1"
}
mounted() { # pid, mount point: "ro|rw type" of the top mount there, as the function sees it
  awk -v at="$2" '$5 == at {
    for (i = 7; i <= NF; i++) if ($i == "-") { type = $(i + 1); break }
    split($6, opts, ",")
    print opts[1], type
  }' "/proc/$1/mountinfo" | tail -1
}

status=0
summaries=()
for name in hello probe; do
  start=$(now_ms)
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "examples/$name/Cargo.toml" | head -1)
  out=target/fdk-image/$name-$version
  echo "== image suite: $name:$version, cargo fdk image -> $out"
  funcdir=$scratch/$name-func
  mkdir "$funcdir"
  printf 'schema_version: 20180708\nname: %s\nversion: %s\nruntime: docker\n' \
    "$name" "$version" >"$funcdir/func.yaml"
  "$bin/cargo-fdk" fdk image --manifest-path "$funcdir/Cargo.toml" \
    --binary "target/$triple/release/$name" --out "$out" | tee "$scratch/$name.image"
  size=$(sed -n 's/^size *\([0-9,]*\) bytes compressed.*/\1/p' "$scratch/$name.image")
  rootfs=$scratch/$name-rootfs
  unpack "$out/layout" "$rootfs"

  if [ "$name" = probe ]; then
    echo "== image suite: probe in its image (all cases, against conformance/probes/rust/expected-image.txt)"
    args=(--probe --expect conformance/probes/rust/expected-image.txt)
  else
    echo "== image suite: hello in its image (black-box cases)"
    args=()
  fi
  log=$scratch/$name.log
  result=ok
  # The image itself, as a function author hands it over: the harness reads,
  # unpacks and starts it in the server's container (the same fn-sandbox.sh).
  "$bin/fdk-conformance" run "${args[@]}" --image "$out/image.tar" 2>&1 | tee "$log" \
    || { result=FAILED; status=1; }
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
  if [ "$name" = hello ]; then
    echo "== image suite: the sandbox itself (hello: uid, capabilities, cwd, mounts, namespaces, limits, SIGTERM)"
    if check_sandbox "$rootfs"; then
      echo "  pid = /function/func, uid/gid 1000 no groups, no capabilities, cwd /function," \
        "read-only /, tmpfs /tmp, own net/mnt/ipc/uts, nproc 50, nofile 350, SIGTERM -> exit 0"
    else
      result=FAILED
      status=1
    fi
  fi
  took=$(seconds $(($(now_ms) - start)))
  summaries+=("image suite: $name:$version ${size:-?} bytes compressed; ${counts:-no verdicts}; $took; $result")
done

echo "== image suite: summary"
for line in "${summaries[@]}"; do
  echo "$line"
done
exit $status
