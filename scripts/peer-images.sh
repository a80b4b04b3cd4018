#!/usr/bin/env bash
# The official FDKs' probes as function images, built here without pulling a
# base image, each run with `fdk-conformance run --probe --image` (the
# server's container: uid 1000, read-only root, tmpfs /tmp, no network, 50
# processes, 350 files) and compared with its committed image-mode verdicts,
# conformance/probes/<lang>/expected-image.txt (any change, either way,
# fails). Each probe's README explains every verdict that differs from
# command mode (expected.txt).
#
#   go      FROM scratch: the probe built static (CGO_ENABLED=0), packaged by
#           `cargo fdk image --binary` (/function/func, run in /function: the
#           official Dockerfile's `./func` in WORKDIR /function)
#   python  a root file system made from this machine's Debian packages
#           (python3.11-minimal, libpython3.11-minimal, libpython3.11-stdlib,
#           their byte-compiled files, and every shared library their
#           programs and extension modules load, found with ldd), then the
#           official Dockerfile's function layer: `pip install --target
#           /python` of the pinned fdk (constraints.txt) by that same Python,
#           the probe as /function/func.py, PYTHONPATH=/function:/python,
#           ENTRYPOINT /python/bin/fdk /function/func.py handler
#   node    a root file system holding this machine's /usr/bin/node (the
#           Debian package `nodejs`, the same Node that command mode runs)
#           and the libraries it loads, then the function layer: the probe as
#           /function/func.js with package.json, package-lock.json and the
#           node_modules that install.sh's `npm ci` made; ENTRYPOINT node
#           func.js in /function
#   java    a root file system made from this machine's JRE package (the one
#           command mode runs: its files, what they link to, and the
#           libraries they load), then the function layer as fdk-java's images
#           lay it out: /function/runtime (fdk-java's jars and its JNI
#           library) and /function/app (the probe's classes); ENTRYPOINT the
#           JRE's java with run.sh's options, EntryPoint and
#           conformance.Probe::handleRequest
#
# The interpreter images have two layers, the runtime and the function, as
# the official ones do (a run image, then the function on top), packaged with
# this script into an OCI layout: target/peer-images/<lang>/layout (tag <lang>).
# No base image is pulled: the interpreters are this machine's. The Go
# module, the Python, npm and Maven packages are fetched by their own
# clients, pinned as the probes' install steps pin them (from their caches
# after the first run).
#
# Usage: scripts/peer-images.sh [--write-expect] [lang...]   (default: go
# python node java). --write-expect writes expected-image.txt instead of
# comparing (then edit its comments). One summary line per image at the end,
# with the time to build it and to run the suite. Needs root (the container
# does); without root it prints "skipped: ..." and exits 0, except under
# CI=true, where it fails. Tools: go, python3.11 with pip, node and npm,
# java, javac, mvn and cc (java/install.sh), ldd, dpkg, tar, gzip, sha256sum,
# cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

write_expect=0
if [ "${1:-}" = --write-expect ]; then
  write_expect=1
  shift
fi
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(go python node java)

if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "peer images: FAILED: not root (the server's container needs mount and network namespaces)" >&2
    exit 1
  fi
  echo "peer images: skipped: not root (the server's container needs mount and network namespaces)"
  exit 0
fi
missing=""
for tool in cargo ldd dpkg tar gzip sha256sum go /usr/bin/python3.11 node npm java mvn; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "peer images: FAILED: missing tools:$missing" >&2
  exit 1
fi

repo=$PWD
work=$repo/target/peer-images
bin=$repo/target/release
mkdir -p "$work"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds() { printf '%d.%01d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

echo "== peer images: building fdk-conformance and cargo-fdk (release)"
cargo build --release --locked -q -p fdk-conformance -p cargo-fdk

# A fresh root file system with Debian's merged /usr layout (/lib, /lib64,
# /bin and /sbin are links into /usr, as on this machine, so that the paths
# ldd prints resolve inside it) and the mount points the container needs.
new_rootfs() {
  local rootfs=$1 dir
  rm -rf "$rootfs"
  mkdir -p -m 0755 "$rootfs"
  for dir in usr/bin usr/sbin usr/lib usr/lib64 etc proc dev sys; do
    mkdir -p -m 0755 "$rootfs/$dir"
  done
  mkdir -m 1777 "$rootfs/tmp"
  for dir in bin sbin lib lib64; do
    ln -s "usr/$dir" "$rootfs/$dir"
  done
}

# Copies each file (or symlink) given on stdin into the root file system $1
# at the same path, parents first; a symlink's target too (Debian's JRE
# links its configuration in from /etc).
copy_paths() {
  local rootfs=$1 path target
  while IFS= read -r path; do
    # Regular files and links only (dpkg -L lists directories too), once.
    if { [ -f "$path" ] || [ -L "$path" ]; } && ! { [ -e "$rootfs$path" ] || [ -L "$rootfs$path" ]; }; then
      mkdir -p "$rootfs$(dirname "$path")"
      cp -a "$path" "$rootfs$path"
      target=$(readlink -f "$path")
      if [ -L "$path" ] && [ -f "$target" ]; then
        echo "$target" | copy_paths "$rootfs"
      fi
    fi
  done
  return 0
}

# Every shared library the ELF files under the directories $2... load, as
# this machine's loader resolves them, copied into the root file system $1 at
# the same path (the file itself, not a link to it); the loader too.
copy_libraries() {
  local rootfs=$1 lib libs
  shift
  # ldd fails on the files that are not dynamic programs (scripts, static
  # binaries); what it prints for the others is all that is wanted.
  libs=$(find "$@" -type f \( -perm -0100 -o -name '*.so' -o -name '*.so.*' \) -print0 \
    | xargs -0 -r ldd 2>/dev/null \
    | sed -n 's/^[^/]*\(\/[^ ]*\) (0x.*$/\1/p' \
    | sort -u || true)
  while IFS= read -r lib; do
    if [ -n "$lib" ] && [ ! -e "$rootfs$lib" ]; then
      mkdir -p "$rootfs$(dirname "$lib")"
      cp -L "$lib" "$rootfs$lib"
    fi
  done <<<"$libs"
}

# A JSON array of strings from the arguments (they hold no control
# characters: paths, NAME=value pairs).
json_array() {
  local out="" word
  for word in "$@"; do
    word=${word//\\/\\\\}
    out="$out,\"${word//\"/\\\"}\""
  done
  echo "[${out#,}]"
}

# Writes blob $2 (a file) into the layout $1 and prints `sha256:<hex> <size>`.
put_blob() {
  local hex
  hex=$(sha256sum "$2" | cut -d' ' -f1)
  mv "$2" "$1/blobs/sha256/$hex"
  echo "sha256:$hex $(stat -c %s "$1/blobs/sha256/$hex")"
}

# Packages a runtime root file system and the function's files as an OCI
# layout $1 tagged $2 with two gzip layers, the runtime ($3) and then the
# function ($4, also unpacked at /: its function/ and whatever else the
# official Dockerfile copies), as a Dockerfile's FROM and COPY make them. The
# config's Entrypoint is the rest of the arguments, its WorkingDir /function,
# its Env PATH and $image_env. Files are root's, modes and times as they are
# (Python checks its .pyc files against the sources' times).
#
# Written here rather than with umoci: this machine's umoci 0.4.7 `insert`
# of a directory wrote layers cut short (the runtime's without its
# end-of-archive blocks, the function's in the middle of a file), which tar
# readers refuse.
package() {
  local layout=$1 tag=$2 rootfs=$3 top=$4 dir blob diff_ids=() layers=() config manifest
  shift 4
  rm -rf "$layout"
  mkdir -p "$layout/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  for dir in "$rootfs" "$top"; do
    tar -C "$dir" --sort=name --numeric-owner --owner=0 --group=0 -cf "$layout/layer.tar" .
    diff_ids+=("sha256:$(sha256sum "$layout/layer.tar" | cut -d' ' -f1)")
    gzip -n -6 "$layout/layer.tar"
    read -r blob size < <(put_blob "$layout" "$layout/layer.tar.gz")
    layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$blob\",\"size\":$size}")
  done
  printf '{"created":"1970-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"Env":%s,"Entrypoint":%s,"WorkingDir":"/function"},"rootfs":{"type":"layers","diff_ids":%s},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"the runtime: %s"},{"created":"1970-01-01T00:00:00Z","created_by":"the function"}]}' \
    "$(json_array PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${image_env[@]}")" \
    "$(json_array "$@")" "$(json_array "${diff_ids[@]}")" "$tag" >"$layout/config.json"
  read -r config size < <(put_blob "$layout" "$layout/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s,%s]}' \
    "$config" "$size" "${layers[0]}" "${layers[1]}" >"$layout/manifest.json"
  read -r manifest size < <(put_blob "$layout" "$layout/manifest.json")
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}\n' \
    "$manifest" "$size" "$tag" >"$layout/index.json"
  # A second reader of what was just written: the OCI's own validator (CI
  # installs it for cargo-fdk's tests).
  if command -v oci-image-tool >/dev/null 2>&1; then
    oci-image-tool validate --type image --ref "name=$tag" "$layout" >/dev/null
  elif [ "${CI:-}" = true ]; then
    echo "peer images: oci-image-tool is not installed (CI installs it)" >&2
    return 1
  fi
}

build_go() {
  local dir=$repo/conformance/probes/go out=$work/go
  rm -rf "$out"
  mkdir -p "$out/func"
  echo "== peer images: go: the probe, static (CGO_ENABLED=0)"
  (
    cd "$dir"
    export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
    go mod download github.com/fnproject/fdk-go
    go build -trimpath -ldflags=-s -o "$out/func/probe" .
  )
  printf 'schema_version: 20180708\nname: go-probe\nversion: 0.0.1\nruntime: docker\n' \
    >"$out/func/func.yaml"
  "$bin/cargo-fdk" fdk image --manifest-path "$out/func/Cargo.toml" \
    --binary "$out/func/probe" --out "$out/image" --tag go-probe:go
}

build_python() {
  local dir=$repo/conformance/probes/python out=$work/python fdk_version
  rm -rf "$out"
  mkdir -p "$out"
  new_rootfs "$out/rootfs"
  echo "== peer images: python: root file system from this machine's Debian packages"
  dpkg -L python3.11-minimal libpython3.11-minimal libpython3.11-stdlib | copy_paths "$out/rootfs"
  # Debian byte-compiles the standard library when it installs it; the read-
  # only root could not hold them later, so every start would compile again.
  find /usr/lib/python3.11 -path '*/__pycache__/*.cpython-311.pyc' | copy_paths "$out/rootfs"
  ln -sf python3.11 "$out/rootfs/usr/bin/python3"
  echo "== peer images: python: pip install --target /python fdk (pinned) with /usr/bin/python3.11"
  fdk_version=$(sed -n 's/^FDK_VERSION=//p' "$dir/install.sh")
  mkdir -p -m 0755 "$out/top/function"
  # The official Dockerfile's build stage: `pip3 install --target /python/`;
  # the console script's #! names the interpreter that installed it.
  /usr/bin/python3.11 -m pip install --quiet --disable-pip-version-check --no-input \
    --no-warn-script-location --target "$out/top/python" \
    -c "$dir/constraints.txt" "fdk==$fdk_version"
  cp "$dir/probe.py" "$out/top/function/func.py"
  chmod -R o+rX "$out/top"
  copy_libraries "$out/rootfs" "$out/rootfs" "$out/top"
  image_env=(PYTHONPATH=/function:/python)
  package "$out/layout" python "$out/rootfs" "$out/top" /python/bin/fdk /function/func.py handler
}

build_node() {
  local dir=$repo/conformance/probes/node out=$work/node node
  rm -rf "$out"
  mkdir -p "$out"
  echo "== peer images: node: npm ci (install.sh)"
  bash "$dir/install.sh"
  new_rootfs "$out/rootfs"
  node=$(readlink -f "$(command -v node)")
  echo "== peer images: node: root file system: $node ($(node --version)) and its libraries"
  echo "$node" | copy_paths "$out/rootfs"
  [ "$node" = /usr/bin/node ] || ln -s "$node" "$out/rootfs/usr/bin/node"
  mkdir -p -m 0755 "$out/top/function"
  cp "$dir/probe.js" "$out/top/function/func.js"
  cp -a "$dir/package.json" "$dir/package-lock.json" "$dir/node_modules" "$out/top/function/"
  chmod -R o+rX "$out/top"
  copy_libraries "$out/rootfs" "$out/rootfs" "$out/top"
  image_env=()
  package "$out/layout" node "$out/rootfs" "$out/top" node func.js
}

build_java() {
  local dir=$repo/conformance/probes/java out=$work/java java jre package
  rm -rf "$out"
  mkdir -p "$out"
  echo "== peer images: java: mvn compile, the pinned jars, the JNI library (install.sh)"
  bash "$dir/install.sh"
  java=$(readlink -f "$(command -v java)")
  jre=$(dirname "$(dirname "$java")")
  package=$(dpkg -S "$java" | cut -d: -f1)
  echo "== peer images: java: root file system from this machine's $package ($jre)"
  new_rootfs "$out/rootfs"
  dpkg -L "$package" | copy_paths "$out/rootfs"
  copy_libraries "$out/rootfs" "$out/rootfs"
  # The function layer as fdk-java's images lay it out: the runtime's jars
  # and its JNI library under /function/runtime, the function's code under
  # /function/app.
  mkdir -p -m 0755 "$out/top/function/app" "$out/top/function/runtime/lib"
  cp -a "$dir/target/classes" "$out/top/function/app/classes"
  cp -a "$dir"/target/dependency/*.jar "$out/top/function/runtime/"
  cp -a "$dir/target/native/libfnunixsocket.so" "$out/top/function/runtime/lib/"
  chmod -R o+rX "$out/top"
  copy_libraries "$out/rootfs" "$out/top"
  image_env=()
  # run.sh's command (the JVM options of fdk-java's images), with the image's
  # paths; CMD, the function's class and method, is appended as an argument.
  package "$out/layout" java "$out/rootfs" "$out/top" "$java" \
    -XX:-UsePerfData -XX:+UseSerialGC -Djava.awt.headless=true \
    -Djava.library.path=/function/runtime/lib \
    -cp "/function/app/classes:/function/runtime/*" \
    com.fnproject.fn.runtime.EntryPoint conformance.Probe::handleRequest
}

status=0
summaries=()
all_start=$(now_ms)
for lang in "${langs[@]}"; do
  case "$lang" in
    go | python | node | java) ;;
    *)
      echo "peer images: no image recipe for $lang (go, python, node, java)" >&2
      status=1
      continue
      ;;
  esac
  expected=conformance/probes/$lang/expected-image.txt
  start=$(now_ms)
  # In a subshell outside any condition, so that set -e stops the build at
  # its first failing step (inside `if` it would not).
  set +e
  (
    set -e
    "build_$lang"
  )
  built_status=$?
  set -e
  if [ "$built_status" -ne 0 ]; then
    summaries+=("peer images: $lang: the image could not be built; FAILED")
    status=1
    continue
  fi
  # Where each recipe writes its image (the layout and its tag).
  case "$lang" in
    go) image_ref=$work/go/image/layout:go ;;
    *) image_ref=$work/$lang/layout:$lang ;;
  esac
  built=$(now_ms)
  layout=${image_ref%:*}
  size=$(find "$layout/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f MB", s / 1e6 }')
  echo "== peer images: $lang: fdk-conformance run --probe --image $image_ref"
  if [ "$write_expect" -eq 1 ]; then
    check=(--write-expect "$expected")
  else
    check=(--expect "$expected")
  fi
  log=$work/$lang.log
  result=ok
  code=0
  "$bin/fdk-conformance" run --probe "${check[@]}" --image "$image_ref" >"$log" 2>&1 || code=$?
  cat "$log"
  # Writing, only a run that could not be made fails (exit 2); comparing,
  # any verdict that differs from the file does (exit 1).
  if [ "$code" -ge "$((write_expect + 1))" ]; then
    result=FAILED
    status=1
  fi
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
  summaries+=("peer images: $lang: $size in the layout; ${counts:-no verdicts}; built in $(seconds $((built - start))), run in $(seconds $(($(now_ms) - built))); $result")
done

echo "== peer images: summary"
for line in "${summaries[@]}"; do
  echo "$line"
done
echo "peer images: ${#langs[@]} image(s) built and run in $(seconds $(($(now_ms) - all_start)))"
exit $status
