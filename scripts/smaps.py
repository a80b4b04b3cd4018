#!/usr/bin/env python3
"""Where a function's memory goes: starts BINARY as the Fn server would (a
fresh iofs directory, FN_LISTENER, FN_FORMAT=http-stream), makes N invoke
calls over one keep-alive connection, then sums `Rss:` per mapping from
/proc/PID/smaps (the binary's own pages, libc, the heap, the stack...).

    python3 scripts/smaps.py target/release/hello [N]    # N defaults to 20000

The benchmark's RSS column is the total; this says what it is made of.
"""
import collections
import os
import socket
import subprocess
import sys
import tempfile
import time

REQUEST = (
    b"POST /call HTTP/1.1\r\nHost: localhost\r\nFn-Call-Id: 01\r\n"
    b"Fn-Deadline: 2099-01-01T00:00:00Z\r\nContent-Type: text/plain\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n3\r\nJoe\r\n0\r\n\r\n"
)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    iofs = tempfile.mkdtemp()
    sock = os.path.join(iofs, "lsnr.sock")
    env = {
        "FN_LISTENER": "unix:" + sock,
        "FN_FORMAT": "http-stream",
        "FN_APP_ID": "app",
        "FN_FN_ID": "fn",
        "FN_MEMORY": "128",
        "FN_TYPE": "sync",
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not os.path.exists(sock):
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit(f"{binary} did not become ready")
            time.sleep(0.001)
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(sock)
        reader = conn.makefile("rb")
        for _ in range(calls):
            conn.sendall(REQUEST)
            length = 0
            while True:
                line = reader.readline()
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                if line in (b"\r\n", b""):
                    break
            reader.read(length)
        rss = collections.Counter()
        mapping = None
        with open(f"/proc/{proc.pid}/smaps") as smaps:
            for line in smaps:
                fields = line.split()
                if not fields[0].endswith(":"):
                    mapping = fields[5] if len(fields) > 5 else "[anon]"
                elif fields[0] == "Rss:":
                    rss[mapping] += int(fields[1])
        print(f"{binary} after {calls} calls, Rss per mapping:")
        for name, kib in rss.most_common():
            if kib:
                print(f"{kib:8d} KiB  {name}")
        print(f"{sum(rss.values()):8d} KiB  total")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
