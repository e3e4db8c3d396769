/**
 * Raw HTTP for exact wire checks (status, body text) with a per-request timeout, and the scans the
 * security suites run over every response body: PocketBase's error shape, internals (SQL text,
 * driver names, stack traces) and planted canaries.
 */
import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'

/** A request's query: pairs keep order and allow a repeated key. */
export type Query = Record<string, string> | readonly (readonly [string, string])[]

export interface WireRequest {
  readonly token?: string | undefined
  readonly query?: Query | undefined
  readonly body?: unknown
  /** Abort (and fail) after this many milliseconds: a hang is a failure, not a slow test. */
  readonly timeoutMs?: number
}

export interface WireResponse {
  readonly status: number
  readonly text: string
  /** The parsed body, or undefined when it is empty or not JSON. */
  readonly json: unknown
}

/**
 * Percent-encodes UTF-16 text as its code units would be written by a careless client: a lone
 * surrogate becomes its 3-byte (invalid UTF-8, "CESU") form instead of making encodeURIComponent
 * throw.
 */
export function encodeComponent(text: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    const isHigh = unit >= 0xd800 && unit <= 0xdbff
    const isLow = unit >= 0xdc00 && unit <= 0xdfff
    if (isHigh && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += encodeURIComponent(text.slice(i, i + 2))
        i++
        continue
      }
    }
    if (isHigh || isLow) {
      const bytes = [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
      out += bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('')
    } else out += encodeURIComponent(text[i]!)
  }
  return out
}

export function queryString(query: Query | undefined): string {
  if (!query) return ''
  const pairs = Array.isArray(query) ? query : Object.entries(query)
  if (pairs.length === 0) return ''
  return `?${pairs.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join('&')}`
}

/** One request over fetch; `path` is sent as given (already encoded), the query is encoded here. */
export async function send(
  base: string,
  method: string,
  path: string,
  req: WireRequest = {},
): Promise<WireResponse> {
  const headers: Record<string, string> = {}
  if (req.token) headers.authorization = req.token
  let body: string | undefined
  if (req.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(req.body)
  }
  const res = await fetch(`${base}${path}${queryString(req.query)}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(req.timeoutMs ?? 15_000),
  })
  const text = await res.text()
  let json: unknown
  try {
    json = text === '' ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, text, json }
}

/** PocketBase's error body (§2.1): exactly `{status, message, data}`, status = the HTTP status. */
export function expectErrorShape(res: WireResponse, status = res.status): void {
  expect(res.status, res.text).toBe(status)
  const body = res.json as Record<string, unknown> | undefined
  expect(body, `not a JSON object: ${res.text}`).toBeTypeOf('object')
  expect(Object.keys(body!).sort()).toEqual(['data', 'message', 'status'])
  expect(body!.status).toBe(status)
  expect(body!.message).toBeTypeOf('string')
  expect(body!.message).toMatch(/^\S.*[.!?]$/s)
  expect(body!.data).toBeTypeOf('object')
  expect(body!.data).not.toBeNull()
  expect(Array.isArray(body!.data)).toBe(false)
}

/** Text that tells of the server's insides: SQL, the database, the runtime, stack traces. */
const INTERNALS: readonly (readonly [string, RegExp])[] = [
  ['SQL SELECT', /\bSELECT\b/],
  ['SQL FROM', /\bFROM\b/],
  ['SQL WHERE', /\bWHERE\b/],
  ['SQL function', /\b(json_extract|json_each|jsonb_\w+|json_array_length|COALESCE|ESCAPE)\b/],
  ['rowid column', /_rowid_/],
  ['sqlite', /sqlite/i],
  ['SQL syntax error', /syntax error/i],
  ['PostgreSQL error code', /\b(SQLSTATE|22021|22P05|42601|42P01)\b/],
  ['PostgreSQL catalogue', /\bpg_/i],
  ['PostgreSQL missing relation', /relation "[^"]*" does not exist/],
  ['missing table or column', /no such (table|column)/i],
  ['quoted qualified identifier', /["`]\w+["`]\s*\.\s*["`]\w+["`]/],
  ['SQL on a quoted table', /\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+["`]/],
  ['stack frame', / {4}at |\n\s*at \S/],
  ['source position', /\.(ts|js|mjs|cjs):\d/],
  ['node_modules', /node_modules/],
  ['JavaScript error', /\b(TypeError|RangeError|ReferenceError|SyntaxError|Maximum call stack)\b/],
  ['object text', /\[object \w+\]/],
]

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v)
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out))
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push(k)
      strings(x, out)
    }
  return out
}

/**
 * The internals found in a response body. What the request itself sent may come back quoted in an
 * error message (`unknown field "SELECT"`): quoted fragments that are part of `sent` are removed first.
 */
export function internals(res: WireResponse, sent: readonly string[] = []): string[] {
  const texts = res.json === undefined ? [res.text] : strings(res.json)
  const found: string[] = []
  for (const raw of texts) {
    const text = raw.replace(/"([^"]*)"/g, (m: string, inner: string) =>
      sent.some((s) => s.includes(inner)) ? '""' : m,
    )
    for (const [name, re] of INTERNALS) if (re.test(text)) found.push(`${name} in ${JSON.stringify(raw)}`)
  }
  return found
}

/** The canaries that occur in a response body, raw or JSON-escaped. */
export function canariesIn(res: WireResponse, canaries: readonly string[]): string[] {
  return canaries.filter((c) => res.text.includes(c) || res.text.includes(JSON.stringify(c).slice(1, -1)))
}

/** A unique value to plant: `label-` plus 16 random hex digits. */
export function canary(label: string): string {
  return `${label}-${randomBytes(8).toString('hex')}`
}
