#!/usr/bin/env bash
# Instructions per call of a function binary, counted by callgrind: a
# measure that the noise of a shared VM does not move. Each binary is run
# twice under `valgrind --tool=callgrind` (served like the Fn server serves
# it), fed N and 3N invoke calls with the server's exact bytes over one
# keep-alive connection, and stopped with SIGTERM; the difference of the two
# totals over 2N is what one call costs, start-up excluded.
#
#   bash scripts/instructions.sh [N] [BINARY...]   # default: 1000, floor, contract-floor and hello
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
shift || true
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
if [ $# -eq 0 ]; then
  # hello on its own: built with another package that uses the FDK's
  # default features, it would get the stdin/stdout formats it leaves out.
  cargo build -q --release -p hello
  cargo build -q --release -p fdk-conformance --bin floor --bin contract-floor
  set -- target/release/floor target/release/contract-floor target/release/hello
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/drive.py" <<'PY'
import datetime, os, socket, sys, time
path, calls = sys.argv[1], int(sys.argv[2])
for _ in range(400):
    if os.path.exists(path):
        break
    time.sleep(0.05)
deadline = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
request = ("POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n"
           "Content-Length: 0\r\nFn-Call-Id: 01KINSTRUCTIONS00000000001\r\n"
           "Fn-Deadline: %s\r\nAccept-Encoding: gzip\r\n\r\n" % deadline).encode()
conn = socket.socket(socket.AF_UNIX)
conn.connect(path)
for _ in range(calls):
    conn.sendall(request)
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            sys.exit("the function closed the connection")
        data += chunk
        end = data.find(b"\r\n\r\n")
        if end < 0:
            continue
        head = data[:end].decode("latin-1").lower()
        if not head.startswith("http/1.1 200"):
            sys.exit("unexpected answer: " + head.splitlines()[0])
        length = int(head.split("content-length:")[1].split("\r\n")[0])
        if len(data) >= end + 4 + length:
            break
PY
total() { # binary, calls -> callgrind's instruction total
  local dir="$work/run$2" out="$work/cg.$2"
  rm -rf "$dir"; mkdir -m 0777 "$dir"
  FN_LISTENER="unix:$dir/lsnr.sock" FN_FORMAT=http-stream FN_MEMORY=128 \
    valgrind --tool=callgrind --callgrind-out-file="$out" "$1" 2>/dev/null &
  local pid=$!
  python3 "$work/drive.py" "$dir/lsnr.sock" "$2"
  kill -TERM "$pid"; wait "$pid" || true
  sed -n 's/^summary: //p' "$out"
}
printf '%-40s %s\n' binary instructions/call
for bin in "$@"; do
  few=$(total "$bin" "$n")
  many=$(total "$bin" $((3 * n)))
  printf '%-40s %d\n' "$bin" $(((many - few) / (2 * n)))
done
