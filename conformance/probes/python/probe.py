"""The conformance probe for the Python FDK (PyPI `fdk`, pinned in install.sh).

Each call's `X-Probe` header (a JSON object) says what to do, and the probe
does it through the FDK's public API and nothing else
(protocol-spec/probe.md). A test fixture, not an example of style: it never
works around the FDK, so whatever the FDK makes of an error, an odd status or
a missed deadline is what the harness sees.

Started by the FDK's own entry point: `fdk probe.py handler` (run.sh).

What the FDK offers, and so what the probe uses (fdk/context.py, response.py):
* `ctx.Headers()`: the request headers, names in lower case, one value per
  name (the FDK keeps a plain dict). On gateway calls it is the client's
  headers unprefixed, merged with the others; repeated `Fn-Http-H-` names
  become lists.
* `ctx.CallID()`, `ctx.Deadline()` (the `Fn-Deadline` string as sent, or
  now + 30 s when absent), `ctx.Config()` (`os.environ`), `ctx.Method()`,
  `ctx.RequestURL()`. There is no content-type accessor.
* `fdk.response.Response(ctx, response_data, headers: dict, status_code)`.
  A dict holds one value per name; for a name given more than once the probe
  passes a list, the FDK's own shape for repeated headers (headers.py).
* No streaming: the handler's result is one buffer.

An `X-Probe` that is not a probe (not a JSON object, an unknown op, a field
missing or of the wrong type) fails the call as `error` does: the probe
raises an exception that names the problem.
"""

import asyncio
import datetime
import hashlib
import json
import os
import sys

from fdk import response


async def handler(ctx, data=None):
    op = probe_op(ctx)
    name = op["op"]
    if name == "echo":
        return octets(ctx, data.getvalue())
    if name == "report":
        return report(ctx, data.getvalue(), op.get("config") or [])
    if name == "respond":
        return respond(ctx, op)
    if name == "sleep":
        # A timer on the FDK's asyncio loop: the loop keeps running meanwhile.
        await asyncio.sleep(op["ms"] / 1000)
        return "slept"
    if name == "error":
        # The FDK's handler-error path: any exception the handler raises.
        raise Exception(op["message"])
    if name == "panic":
        # What a bug raises: a built-in exception type the handler never
        # meant to raise.
        raise TypeError(op["message"])
    if name == "nothing":
        return None
    if name == "emit":
        return octets(ctx, bytes(i % 251 for i in range(op["bytes"])))
    if name == "stream":
        # The FDK buffers the handler's whole result; it has no streaming API.
        return unsupported(ctx, "stream")
    if name == "log":
        if op.get("stdout") is not None:
            print(op["stdout"], flush=True)
        if op.get("stderr") is not None:
            print(op["stderr"], file=sys.stderr, flush=True)
        return "logged"
    # exit: at once, mid-call, no cleanup, as a crash would.
    os._exit(op["code"])


# Each op's fields: name -> (kind, required). Kinds are checked by `valid`.
OPS = {
    "echo": {},
    "report": {"config": ("strings", False)},
    "respond": {"status": ("int", True), "headers": ("pairs", False),
                "body": ("str", False), "content_type": ("str", False)},
    "sleep": {"ms": ("count", True)},
    "error": {"message": ("str", True)},
    "panic": {"message": ("str", True)},
    "nothing": {},
    "emit": {"bytes": ("count", True)},
    "stream": {"chunks": ("count", True), "size": ("count", True)},
    "log": {"stdout": ("str", False), "stderr": ("str", False)},
    "exit": {"code": ("exit code", True)},
}


KINDS = {
    "int": "an integer",
    "count": "an integer of 0 or more",
    "exit code": "an integer from 0 to 255",
    "str": "a string",
    "strings": "a list of strings",
    "pairs": "a list of [name, value] string pairs",
}


def valid(kind, value):
    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    def is_str(v):
        return isinstance(v, str)

    if kind == "int":
        return is_int(value)
    if kind == "count":
        return is_int(value) and value >= 0
    if kind == "exit code":
        return is_int(value) and 0 <= value <= 255
    if kind == "str":
        return is_str(value)
    if kind == "strings":
        return isinstance(value, list) and all(map(is_str, value))
    # pairs: a list of [name, value] string pairs
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(map(is_str, p))
        for p in value)


def probe_op(ctx):
    """The call's `X-Probe` request; a call without one is `echo`. A value
    that is not a probe fails the call as `error` does, saying why."""
    text = ctx.Headers().get("x-probe")
    if text is None:
        return {"op": "echo"}
    try:
        op = json.loads(text)
    except ValueError as err:
        raise Exception("X-Probe {0!r} is not JSON: {1}".format(text, err))
    if not isinstance(op, dict):
        raise Exception("X-Probe {0!r} is not a JSON object".format(text))
    if op.get("op") is None:
        raise Exception("X-Probe {0!r}: `op` is missing".format(text))
    fields = OPS.get(op["op"]) if isinstance(op["op"], str) else None
    if fields is None:
        raise Exception("X-Probe {0!r}: unknown op {1}".format(
            text, json.dumps(op.get("op"))))
    for name, (kind, required) in fields.items():
        if op.get(name) is None:
            if required:
                raise Exception("X-Probe {0!r}: `{1}` is missing".format(
                    text, name))
        elif not valid(kind, op[name]):
            raise Exception("X-Probe {0!r}: `{1}` is not {2}".format(
                text, name, KINDS[kind]))
    return op


def octets(ctx, body):
    return response.Response(
        ctx, response_data=body,
        headers={"Content-Type": "application/octet-stream"})


def unsupported(ctx, op):
    return response.Response(
        ctx, response_data=json.dumps({"probe_unsupported": op}),
        headers={"Content-Type": "application/json"})


def respond(ctx, op):
    headers = {}
    for name, value in op.get("headers") or []:
        if name in headers:
            previous = headers[name]
            headers[name] = (previous if isinstance(previous, list)
                             else [previous]) + [value]
        else:
            headers[name] = value
    content_type = op.get("content_type")
    if content_type is not None:
        # Replaces a Content-Type given in `headers`: one field, one value.
        for name in [n for n in headers if n.lower() == "content-type"]:
            del headers[name]
        headers["Content-Type"] = content_type
    return response.Response(
        ctx, response_data=op.get("body") or "",
        headers=headers, status_code=op["status"])


def report(ctx, body, config_keys):
    headers = ctx.Headers()
    gateway = headers.get("fn-intent") == "httprequest"
    pairs = []
    for name, value in headers.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append([name.lower(), one])
    config = ctx.Config()
    answer = {
        "call_id": ctx.CallID(),
        "deadline": deadline(ctx.Deadline()),
        "gateway": gateway,
        "method": ctx.Method() if gateway else None,
        "url": ctx.RequestURL() if gateway else None,
        # The FDK has no accessor for the request's content type.
        "content_type": None,
        "headers": pairs,
        "config": {key: config.get(key) for key in config_keys},
        "body_len": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    return response.Response(
        ctx, response_data=json.dumps(answer, separators=(",", ":")),
        headers={"Content-Type": "application/json"})


def deadline(text):
    """The FDK's deadline string as RFC 3339 UTC, whole seconds; the string
    itself if it is not a date (the FDK passes a garbled header through)."""
    if text is None:
        return None
    try:
        when = datetime.datetime.fromisoformat(
            text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return text
    if when.tzinfo is None:
        return text
    when = when.astimezone(datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
