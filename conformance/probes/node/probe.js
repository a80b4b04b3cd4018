'use strict'
/*
 * The conformance probe for the Node FDK (npm `@fnproject/fdk`, pinned in
 * package.json and package-lock.json).
 *
 * Each call's `X-Probe` header (a JSON object) says what to do, and the probe
 * does it through the FDK's public API and nothing else
 * (protocol-spec/probe.md). A test fixture, not an example of style: it never
 * works around the FDK, so whatever the FDK makes of an error, an empty
 * return or a missed deadline is what the harness sees.
 *
 * Started the way the FDK expects: `node probe.js` (run.sh).
 *
 * What the FDK offers, and so what the probe uses (fn-fdk.js, README.md):
 * - `fdk.handle(fn, {inputMode: 'buffer'})`: the body as a Buffer.
 * - `ctx.headers`, `ctx.getHeader(k)`: every request header, names in
 *   First-Caps; `ctx.httpGateway.headers`, `.getHeader(k)`: the
 *   `Fn-Http-H-*` headers, unprefixed; `.method`, `.requestURL`.
 * - `ctx.callID`, `ctx.deadline` (a Date, or null), `ctx.contentType`,
 *   `ctx.config` (a copy of the environment). Not `ctx.getConfig(k)`: it
 *   calls `process.env.get`, which does not exist, and throws a TypeError.
 * - `ctx.addResponseHeader(k, v)` (invoke calls),
 *   `ctx.httpGateway.addResponseHeader(k, v)` (gateway calls: prefixed),
 *   `ctx.responseContentType = ct`, `ctx.httpGateway.statusCode = s` (the
 *   FDK's only status setter; it sets `Fn-Http-Status` on any call).
 * - `fdk.rawResult(strOrBuffer)`: the bytes as they are (a plain string
 *   would be JSON-quoted under the default `application/json`);
 *   `fdk.streamResult(readable)`: a body piped to the socket as it comes.
 *
 * An `X-Probe` that is not a probe (not a JSON object, an unknown op, a field
 * missing or of the wrong type) fails the call as `error` does: the probe
 * throws an Error that names the problem.
 */

const crypto = require('crypto')
const { Readable } = require('stream')
const fdk = require('@fnproject/fdk')

function handler (input, ctx) {
  const gateway = ctx.getHeader('Fn-Intent') === 'httprequest'
  const op = probeOp(ctx, gateway)
  switch (op.op) {
    case 'echo':
      return octets(ctx, input)
    case 'report':
      return report(ctx, gateway, input, op.config || [])
    case 'respond':
      return respond(ctx, gateway, op)
    case 'sleep':
      // A timer: the event loop keeps running meanwhile.
      return new Promise((resolve) => setTimeout(() => resolve(text(ctx, 'slept')), op.ms))
    case 'error':
      // The FDK's handler-error path: a thrown error (or a rejected promise).
      throw new Error(op.message)
    case 'panic':
      // What a bug throws: a built-in error type the handler never meant to throw.
      throw new TypeError(op.message)
    case 'nothing':
      return undefined
    case 'emit': {
      const body = Buffer.alloc(op.bytes)
      for (let i = 0; i < op.bytes; i++) body[i] = i % 251
      return octets(ctx, body)
    }
    case 'stream':
      return stream(ctx, op.chunks, op.size)
    case 'log':
      if (op.stdout != null) process.stdout.write(op.stdout + '\n')
      if (op.stderr != null) process.stderr.write(op.stderr + '\n')
      return text(ctx, 'logged')
    default: // exit
      // At once, mid-call: no response, as a crash would.
      process.exit(op.code)
  }
}

// Each op's fields: name -> [kind, required]. Kinds are checked by `valid`.
const OPS = {
  echo: {},
  report: { config: ['strings', false] },
  respond: { status: ['int', true], headers: ['pairs', false], body: ['str', false], content_type: ['str', false] },
  sleep: { ms: ['count', true] },
  error: { message: ['str', true] },
  panic: { message: ['str', true] },
  nothing: {},
  emit: { bytes: ['count', true] },
  stream: { chunks: ['count', true], size: ['count', true] },
  log: { stdout: ['str', false], stderr: ['str', false] },
  exit: { code: ['exit code', true] }
}

const KINDS = {
  int: 'an integer',
  count: 'an integer of 0 or more',
  'exit code': 'an integer from 0 to 255',
  str: 'a string',
  strings: 'a list of strings',
  pairs: 'a list of [name, value] string pairs'
}

function valid (kind, value) {
  const isStr = (v) => typeof v === 'string'
  switch (kind) {
    case 'int': return Number.isInteger(value)
    case 'count': return Number.isInteger(value) && value >= 0
    case 'exit code': return Number.isInteger(value) && value >= 0 && value <= 255
    case 'str': return isStr(value)
    case 'strings': return Array.isArray(value) && value.every(isStr)
    default: // pairs
      return Array.isArray(value) &&
        value.every((p) => Array.isArray(p) && p.length === 2 && p.every(isStr))
  }
}

/**
 * The call's `X-Probe` request, from the client's headers; none is `echo`.
 * A value that is not a probe fails the call as `error` does, saying why.
 */
function probeOp (ctx, gateway) {
  const text = gateway ? ctx.httpGateway.getHeader('X-Probe') : ctx.getHeader('X-Probe')
  if (text == null) return { op: 'echo' }
  const quoted = JSON.stringify(text)
  let op
  try {
    op = JSON.parse(text)
  } catch (err) {
    throw new Error(`X-Probe ${quoted} is not JSON: ${err.message}`)
  }
  if (op === null || typeof op !== 'object' || Array.isArray(op)) {
    throw new Error(`X-Probe ${quoted} is not a JSON object`)
  }
  if (op.op == null) throw new Error(`X-Probe ${quoted}: \`op\` is missing`)
  const fields = typeof op.op === 'string' && Object.prototype.hasOwnProperty.call(OPS, op.op)
    ? OPS[op.op]
    : null
  if (fields == null) throw new Error(`X-Probe ${quoted}: unknown op ${JSON.stringify(op.op)}`)
  for (const [name, [kind, required]] of Object.entries(fields)) {
    if (op[name] == null) {
      if (required) throw new Error(`X-Probe ${quoted}: \`${name}\` is missing`)
    } else if (!valid(kind, op[name])) {
      throw new Error(`X-Probe ${quoted}: \`${name}\` is not ${KINDS[kind]}`)
    }
  }
  return op
}

function octets (ctx, body) {
  ctx.responseContentType = 'application/octet-stream'
  return fdk.rawResult(body)
}

function text (ctx, body) {
  ctx.responseContentType = 'text/plain'
  return fdk.rawResult(body)
}

function respond (ctx, gateway, op) {
  const target = gateway ? ctx.httpGateway : ctx
  for (const [name, value] of op.headers || []) {
    if (name.toLowerCase() === 'content-type') {
      ctx.responseContentType = value
    } else {
      target.addResponseHeader(name, value)
    }
  }
  if (op.content_type != null) ctx.responseContentType = op.content_type
  ctx.httpGateway.statusCode = op.status
  return fdk.rawResult(op.body || '')
}

function report (ctx, gateway, body, configKeys) {
  const headers = gateway ? ctx.httpGateway.headers : ctx.headers
  const pairs = []
  for (const name of Object.keys(headers)) {
    for (const value of headers[name]) pairs.push([name.toLowerCase(), value])
  }
  const config = ctx.config
  const configOut = {}
  for (const key of configKeys) {
    configOut[key] = Object.prototype.hasOwnProperty.call(config, key) ? config[key] : null
  }
  const answer = {
    call_id: ctx.callID,
    deadline: deadline(ctx.deadline),
    gateway,
    method: gateway ? ctx.httpGateway.method : null,
    url: gateway ? ctx.httpGateway.requestURL : null,
    content_type: ctx.contentType,
    headers: pairs,
    config: configOut,
    body_len: body.length,
    body_sha256: crypto.createHash('sha256').update(body).digest('hex')
  }
  ctx.responseContentType = 'application/json'
  return fdk.rawResult(JSON.stringify(answer))
}

/** The FDK's deadline as RFC 3339 UTC, whole seconds; `Invalid Date` as such. */
function deadline (date) {
  if (date == null) return null
  if (isNaN(date.getTime())) return String(date)
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** `chunks` writes of `size` bytes of `x`, each its own chunk on the socket. */
function stream (ctx, chunks, size) {
  ctx.responseContentType = 'application/octet-stream'
  const chunk = Buffer.alloc(size, 'x')
  let sent = 0
  const readable = new Readable({
    read () {
      if (sent < chunks) {
        sent++
        // One chunk per turn of the event loop, so each is written on its own.
        setImmediate(() => this.push(chunk))
      } else {
        this.push(null)
      }
    }
  })
  return fdk.streamResult(readable)
}

fdk.handle(handler, { inputMode: 'buffer' })
