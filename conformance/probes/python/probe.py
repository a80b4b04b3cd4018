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
    name = op.get("op")
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
    if name == "exit":
        # At once, mid-call, no cleanup: as a crash would.
        os._exit(op["code"])
    raise ValueError("X-Probe {0!r} is not a probe".format(op))


def probe_op(ctx):
    """The call's `X-Probe` request; a call without one is `echo`."""
    text = ctx.Headers().get("x-probe")
    if text is None:
        return {"op": "echo"}
    op = json.loads(text)
    if not isinstance(op, dict):
        raise ValueError("X-Probe {0!r} is not a JSON object".format(text))
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
