import type { FastifyInstance } from 'fastify'
import { GalleyError, MAX_JSON_DEPTH } from '../lib/index.js'

/** PocketBase's multipart/urlencoded inference: booleans and round-trippable numbers become JSON values. */
export function inferFormValue(v: string): unknown {
  if (v === 'true') return true
  if (v === 'false') return false
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(v) && String(Number(v)) === v) return Number(v)
  return v
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

/**
 * Body parsing (§1.2): JSON (an empty body is `{}`), urlencoded with value inference; any other
 * content type with a body is a 400. Unknown keys such as `__proto__` stay plain data: services
 * only ever read the keys they know.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body)
    if (text.trim() === '') return done(null, {})
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return done(new GalleyError('INVALID_BODY'), undefined)
    try {
      done(null, JSON.parse(text))
    } catch (err) {
      done(new GalleyError('INVALID_BODY', undefined, undefined, { cause: err }), undefined)
    }
  })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, unknown> = {}
    for (const [key, value] of new URLSearchParams(String(body))) {
      const v = inferFormValue(value)
      const prev = out[key]
      out[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
    }
    done(null, out)
  })
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    if ((body as Buffer).length === 0) return done(null, {})
    done(new GalleyError('UNSUPPORTED_CONTENT_TYPE'), undefined)
  })
}
