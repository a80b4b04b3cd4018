#!/usr/bin/env python3
"""Regenerates fuzz/seeds/<target>/ from the protocol-spec vectors and, when
present, the real server's captures (../shared/reference/captures beside
the repository, or the directory given as the first argument).

    python3 fuzz/make_seeds.py [CAPTURES_DIR]

Seeds are named by the hash of their bytes, so a rerun is a no-op and a
changed vector adds a file. Inputs over MAX_SEED bytes are left out: small
seeds keep libFuzzer's -max_len at its default and the runs fast.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VECTORS = os.path.join(REPO, "protocol-spec", "vectors")
SEEDS = os.path.join(HERE, "seeds")
MAX_SEED = 4096
# Captured deadlines are in the past; a past deadline answers 504 before the
# handler reads anything, so seeds carry one far ahead instead.
FUTURE = b"2099-01-01T00:00:00Z"


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def fresh_deadline(raw):
    return re.sub(rb"(?im)^(fn-deadline: )[^\r\n]*", lambda m: m.group(1) + FUTURE, raw)


def socket_requests(captures):
    out = []
    for v in load("requests.json"):
        out.append(fresh_deadline(base64.b64decode(v["raw_b64"])))
    if captures:
        for name in sorted(os.listdir(captures)):
            if not name.endswith(".json") or name.startswith("_"):
                continue
            with open(os.path.join(captures, name), encoding="utf-8") as f:
                cap = json.load(f)
            raw = (cap.get("function_received") or {}).get("raw_b64")
            if raw:
                out.append(fresh_deadline(base64.b64decode(raw)))
    small = [r for r in out if len(r) <= MAX_SEED]
    # Hand-written: the echo/status/fail headers the fuzz handler obeys,
    # the log frame, trace headers, and two calls on one connection.
    gateway = (
        b"POST /call HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n"
        b"Fn-Call-Id: 01ECHO\r\nFn-Deadline: " + FUTURE + b"\r\n"
        b"Fn-Intent: httprequest\r\nFn-Http-Method: PUT\r\n"
        b"Fn-Http-Request-Url: http://h/t/a/b?x=1&y=a%20b\r\n"
        b"Fn-Http-H-X-B3-TraceId: 463ac35c9f6413ad48485a3953bb6124\r\n"
        b"Fn-Http-H-Traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
        b"X-Fuzz-Frame: frame-1\r\nX-Fuzz-Status: 404\r\n"
        b"X-Echo-Connection: close\r\nX-Echo-X-Thing: v1\r\nX-Echo-Content-Length: 9\r\n\r\nhi"
    )
    invoke_fail = (
        b"POST /call HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        b"Fn-Call-Id: 01FAIL\r\nX-Fuzz-Fail: boom\r\nB3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\r\n"
        b"\r\n2\r\nhi\r\n0\r\n\r\n"
    )
    not_a_call = b"GET /other HTTP/1.1\r\nHost: localhost\r\n\r\n"
    small += [gateway, invoke_fail, gateway + invoke_fail, not_a_call]
    return small


def stdio(fmt):
    seeds = []
    for v in load("stdio.json"):
        if v["format"] != fmt:
            continue
        raw = base64.b64decode(v["input_b64"]) if "input_b64" in v else v.get("input", "").encode()
        if fmt == "default":
            env = "".join(f"{k}={val}\n" for k, val in sorted((v.get("env") or {}).items()))
            raw = env.encode() + b"\0" + raw
        seeds.append(raw)
    if fmt != "default":
        # The whole stream at once: several calls, one after another.
        joined = b"".join(seeds)
        if len(joined) <= MAX_SEED:
            seeds.append(joined)
    return [s for s in seeds if len(s) <= MAX_SEED]


def response_spec(kind, user):
    """A response_encode input for one vector's handler response."""
    outcome = user.get("outcome")
    if outcome == "error":
        return f"{kind} error\n500\n\n{user.get('error', '')}".encode()
    if outcome != "ok":
        return None
    lines = [kind, str(user.get("status", 200))]
    lines += [f"{n}: {v}" for n, v in user.get("headers", [])]
    return ("\n".join(lines) + "\n\n" + user.get("body", "")).encode()


def responses():
    out = []
    for v in load("responses.json"):
        out.append(response_spec(v["kind"], v["user"]))
    for v in load("stdio.json"):
        if "user" in v:
            out.append(response_spec("invoke", v["user"]))
    return [s for s in out if s is not None and len(s) <= MAX_SEED]


def deadlines():
    return [v["input"].encode() for v in load("deadline.json")]


def http1_responses():
    """http1_response inputs: a cut byte, then an answer as functions send them."""
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nchunk1-\r\n"
        b"7;x=y\r\nchunk2-\r\n0\r\nX-Trailer: t\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 502 Bad Gateway\r\n"
        b"Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"message\":1}",
        b"HTTP/1.0 200 OK\nFn-Http-Status: 404\n\nuntil the close",
        b"HTTP/1.1 204 No Content\r\nFn-Fdk-Version: x/1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ]
    return [bytes([cut]) + a for a in answers for cut in (0, 7, 40)]


def write(target, seeds):
    path = os.path.join(SEEDS, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    names = set()
    for seed in seeds:
        name = hashlib.sha1(seed).hexdigest()[:16]
        if name in names:
            continue
        names.add(name)
        with open(os.path.join(path, name), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(names)} seeds")


def main():
    captures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(REPO), "shared", "reference", "captures"
    )
    if not os.path.isdir(captures):
        # The vectors alone still give a seed per requests.json entry.
        print(f"no captures at {captures}; using the vectors only")
        captures = None
    write("socket_request", socket_requests(captures))
    for fmt in ("json", "cloudevent", "http", "default"):
        write(f"stdio_{fmt}", stdio(fmt))
    write("deadline", deadlines())
    write("response_encode", responses())
    write("http1_response", http1_responses())


if __name__ == "__main__":
    main()
