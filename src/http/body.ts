import { unlink } from 'node:fs/promises'
import { Transform } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest, RequestPayload } from 'fastify'
import { GalleyError, isJsonObject, MAX_JSON_DEPTH } from '../lib/index.js'
import { Upload } from '../records/index.js'
import { readMultipart, rejectFileUploads, type UploadedFile } from './multipart.js'
import type { UploadOptions } from './uploads.js'

/** The form key whose values are JSON objects merged over the other values, uninferred (§1.2). */
export const JSON_PAYLOAD_KEY = '@jsonPayload'

/**
 * Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest round-trip digits (the same as
 * JavaScript's) written without an exponent.
 */
function formatFixed(v: number): string {
  if (Object.is(v, -0)) return '-0'
  const s = String(v)
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)
  if (!m) return s
  const [, sign, int, frac = '', exp] = m
  const digits = int! + frac
  const point = 1 + Number(exp)
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length)
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
}

/**
 * PocketBase's inference of multipart/urlencoded values (`router.inferValue`): `"true"`/`"false"`
 * are booleans; a string of digits, dots and minus signs starting with a digit or `-` is a number
 * when it is exactly the number's shortest fixed-point form (`"12"`, `"-1.5"`, `"-0"`, but not
 * `"012"`, `"1.0"`, `".5"` or `"1e3"`); anything else (the empty string too) stays a string.
 */
export function inferFormValue(v: string): unknown {
  if (v === 'true') return true
  if (v === 'false') return false
  if (!/^[-\d][-.\d]*$/.test(v)) return v
  const n = Number(v)
  return Number.isFinite(n) && formatFixed(n) === v ? n : v
}

/** Whether JSON `text` nests arrays/objects deeper than `max` (brackets inside strings do not count). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      // A backslash escapes the next character.
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

/** JSON text as a value; 400 when it is not JSON or nests deeper than `MAX_JSON_DEPTH`. */
export function parseJsonText(text: string): unknown {
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw new GalleyError('INVALID_BODY')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new GalleyError('INVALID_BODY', undefined, undefined, { cause: err })
  }
}

/**
 * The body of a form (urlencoded or multipart), as PocketBase's `UnmarshalRequestData` builds it:
 * each key's values inferred, a key sent once is a value and several times an array; then every
 * `@jsonPayload` (a JSON object, or null) is merged over it key by key, without inference. The
 * result is a plain object like a parsed JSON body (`__proto__` stays an own, inert key).
 */
export function formBody(entries: Iterable<readonly [string, string]>): Record<string, unknown> {
  const values = new Map<string, string[]>()
  for (const [key, value] of entries) {
    const list = values.get(key)
    if (list) list.push(value)
    else values.set(key, [value])
  }
  const out = new Map<string, unknown>()
  for (const [key, list] of values) {
    if (key === JSON_PAYLOAD_KEY) continue
    out.set(key, list.length === 1 ? inferFormValue(list[0]!) : list.map(inferFormValue))
  }
  for (const text of values.get(JSON_PAYLOAD_KEY) ?? []) {
    const payload = parseJsonText(text)
    if (payload === null) continue
    if (!isJsonObject(payload))
      throw new GalleyError('INVALID_BODY', `${JSON_PAYLOAD_KEY} must hold a JSON object.`)
    for (const [key, value] of Object.entries(payload)) out.set(key, value)
  }
  return Object.fromEntries(out)
}

/** The body limit of a request's route, in bytes. */
export function routeBodyLimit(req: FastifyRequest): number {
  return req.routeOptions.bodyLimit
}

/**
 * A `preParsing` hook holding the body to a limit known only at request time (batch's
 * `maxBodySize` setting): 413 from the declared length at once, else when the bytes read pass it.
 * The route's static `bodyLimit` must be at least as large.
 */
export function limitBody(limitOf: (req: FastifyRequest) => number) {
  return async (
    req: FastifyRequest,
    reply: FastifyReply,
    payload: RequestPayload,
  ): Promise<RequestPayload> => {
    const limit = limitOf(req)
    if (Number(req.headers['content-length']) > limit) {
      // The body is never read: the client must not send it on this connection.
      reply.header('connection', 'close')
      throw new GalleyError('TOO_LARGE')
    }
    let received = 0
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length
        if (received > limit) done(new GalleyError('TOO_LARGE'))
        else done(null, chunk)
      },
    })
    payload.on('error', (err) => counted.destroy(err))
    return payload.pipe(counted)
  }
}

/**
 * Kept file parts join the body under their part name, after the plain values of that name (kept
 * file names, §10.4), as Upload values the records service alone knows.
 */
export function withUploads(body: Record<string, unknown>, files: readonly UploadedFile[]): void {
  for (const f of files) {
    if (f.tempPath === undefined) continue
    const upload = new Upload(f.filename, f.tempPath, f.size, f.head ?? Buffer.alloc(0))
    const prev = Object.hasOwn(body, f.field) ? body[f.field] : undefined
    const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [prev]
    Object.defineProperty(body, f.field, {
      value: [...list, upload],
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
}

/** Temporary upload files of a request, removed once it is answered (or abandoned). */
const requestTemps = new WeakMap<FastifyRequest, string[]>()

async function removeTemps(req: FastifyRequest): Promise<void> {
  const temps = requestTemps.get(req)
  if (!temps) return
  requestTemps.delete(req)
  await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)))
}

/**
 * Body parsing (§1.2): JSON (an empty body is `{}`), urlencoded and multipart with value inference
 * and `@jsonPayload`; any other content type with a body is a 400. Every parser yields the same
 * plain object, so routes never know which one ran. Unknown keys such as `__proto__` stay plain
 * data: services only ever read the keys they know.
 */
export function registerBodyParsers(app: FastifyInstance, uploads?: UploadOptions): void {
  app.removeAllContentTypeParsers()
  if (uploads) {
    // The handler is done with them once the answer is ready: removed before it is sent.
    app.addHook('onSend', async (req, _reply, payload) => {
      await removeTemps(req)
      return payload
    })
    app.addHook('onResponse', async (req) => removeTemps(req))
    app.addHook('onRequestAbort', async (req) => removeTemps(req))
  }
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body)
    if (text.trim() === '') return done(null, {})
    try {
      done(null, parseJsonText(text))
    } catch (err) {
      done(err as GalleyError, undefined)
    }
  })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, formBody(new URLSearchParams(String(body))))
    } catch (err) {
      done(err as GalleyError, undefined)
    }
  })
  app.addContentTypeParser(
    'multipart/form-data',
    async (req: FastifyRequest, payload: NodeJS.ReadableStream) => {
      const declared = Number(req.headers['content-length'])
      if (declared === 0) return {}
      const limit = routeBodyLimit(req)
      // As Fastify's own parsers do: a declared length past the limit is refused before reading.
      if (declared > limit) throw new GalleyError('TOO_LARGE')
      const sink = uploads?.sinkFor(req)
      const form = await readMultipart(payload, String(req.headers['content-type']), limit, sink)
      const temps = form.files.flatMap((f) => (f.tempPath === undefined ? [] : [f.tempPath]))
      if (temps.length > 0) requestTemps.set(req, temps)
      if (!sink) rejectFileUploads(form.files)
      const body = formBody(form.values)
      withUploads(body, form.files)
      return body
    },
  )
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    if ((body as Buffer).length === 0) return done(null, {})
    done(new GalleyError('UNSUPPORTED_CONTENT_TYPE'), undefined)
  })
}
