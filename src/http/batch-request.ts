import {
  badRequest,
  fieldError,
  isJsonObject,
  ValidationErrors,
  type ErrorData,
  type FieldError,
  type GalleyError,
} from '../lib/index.js'
import { Upload } from '../records/index.js'

/** Longest URL of one batch request, in characters (PocketBase's `InternalRequest` rule). */
export const MAX_BATCH_URL_LENGTH = 2000

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/** One request of a batch as submitted (§12). */
export interface BatchRequestInput {
  readonly method: string
  readonly url: string
  /** Headers set on this request; names as sent. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Readonly<Record<string, unknown>>
}

const unreadable = () => badRequest('Failed to read the submitted batch data.')

/** A string field of a request: absent or null is "", anything but a string is unreadable. */
function text(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw unreadable()
  return v
}

function headers(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {}
  if (!isJsonObject(v)) throw unreadable()
  const out: Record<string, string> = {}
  for (const [k, value] of Object.entries(v)) {
    if (value !== null && typeof value !== 'string') throw unreadable()
    Object.defineProperty(out, k, { value: value ?? '', enumerable: true, writable: true })
  }
  return out
}

function request(v: unknown): BatchRequestInput {
  if (!isJsonObject(v)) throw unreadable()
  const body = v.body ?? {}
  if (!isJsonObject(body)) throw unreadable()
  return { method: text(v.method), url: text(v.url), headers: headers(v.headers), body }
}

/**
 * The requests of a batch body `{"requests": [...]}`, as PocketBase binds and validates them: a
 * body of the wrong shape is a 400 `Failed to read the submitted batch data.`; 1..`maxRequests`
 * requests, each with a known method and a URL of at most 2000 characters, else a 400 `Invalid
 * batch request data.` with the errors under `data.requests`.
 */
export function readBatchRequests(body: unknown, maxRequests: number): BatchRequestInput[] {
  if (!isJsonObject(body)) throw unreadable()
  const raw = body.requests ?? []
  if (!Array.isArray(raw)) throw unreadable()
  const requests = raw.map(request)
  const errors = new ValidationErrors()
  if (requests.length === 0) errors.add(['requests'], fieldError('validation_required', 'Cannot be blank.'))
  else if (requests.length > maxRequests)
    errors.add(
      ['requests'],
      fieldError('validation_length_too_long', `The length must be no more than ${maxRequests}.`, {
        min: 0,
        max: maxRequests,
      }),
    )
  else
    requests.forEach((r, i) => {
      if (r.method === '')
        errors.add(['requests', i, 'method'], fieldError('validation_required', 'Cannot be blank.'))
      else if (!METHODS.includes(r.method))
        errors.add(['requests', i, 'method'], fieldError('validation_in_invalid', 'Must be a valid value.'))
      if (r.url === '')
        errors.add(['requests', i, 'url'], fieldError('validation_required', 'Cannot be blank.'))
      // Go's validator counts runes (code points), not UTF-16 units.
      else if ([...r.url].length > MAX_BATCH_URL_LENGTH)
        errors.add(
          ['requests', i, 'url'],
          fieldError(
            'validation_length_too_long',
            `The length must be no more than ${MAX_BATCH_URL_LENGTH}.`,
            {
              min: 0,
              max: MAX_BATCH_URL_LENGTH,
            },
          ),
        )
    })
  errors.throwIfAny('Invalid batch request data.')
  return requests
}

/** What a batch request does, once its method and URL are matched (§12's allowed actions). */
export type BatchAction =
  | { readonly kind: 'create' | 'upsert'; readonly collection: string; readonly query: URLSearchParams }
  | {
      readonly kind: 'update' | 'delete'
      readonly collection: string
      readonly id: string
      readonly query: URLSearchParams
    }

// PocketBase's `ValidBatchActions`; `.` does not match line breaks there either.
const ACTIONS: readonly [RegExp, 'create' | 'upsert' | 'update' | 'delete'][] = [
  [/^PUT \/api\/collections\/([^/?]+)\/records(\?.*)?$/, 'upsert'],
  [/^POST \/api\/collections\/([^/?]+)\/records(\?.*)?$/, 'create'],
  [/^PATCH \/api\/collections\/([^/?]+)\/records\/([^/?]+)(\?.*)?$/, 'update'],
  [/^DELETE \/api\/collections\/([^/?]+)\/records\/([^/?]+)(\?.*)?$/, 'delete'],
]

const decode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

/** The action of a request, or undefined for anything else ("unknown batch request action"). */
export function matchBatchAction(method: string, url: string): BatchAction | undefined {
  const full = `${method.toUpperCase()} ${url}`
  for (const [re, kind] of ACTIONS) {
    const m = re.exec(full)
    if (!m) continue
    const collection = decode(m[1]!)
    if (collection === undefined) return undefined
    if (kind === 'create' || kind === 'upsert')
      return { kind, collection, query: new URLSearchParams(m[2]?.slice(1) ?? '') }
    const id = decode(m[2]!)
    if (id === undefined) return undefined
    return { kind, collection, id, query: new URLSearchParams(m[3]?.slice(1) ?? '') }
  }
  return undefined
}

/**
 * The file parts of a multipart batch joined to their requests (§12): a part `requests.N.<key>` (or
 * `requests[N].<key>`) is an upload under `<key>` of request N's body, after any values the request
 * already has there (kept file names); parts of requests that do not exist are dropped.
 */
export function attachBatchUploads(
  body: unknown,
  requests: readonly BatchRequestInput[],
): BatchRequestInput[] {
  const out = requests.map((r) => ({ ...r, body: { ...r.body } }))
  if (!isJsonObject(body)) return out
  for (const [part, value] of Object.entries(body)) {
    const target = batchFilePart(part)
    const uploads = (Array.isArray(value) ? value : [value]).filter((v) => v instanceof Upload)
    if (!target || uploads.length === 0 || target.index >= out.length) continue
    const b = out[target.index]!.body
    const prev = Object.hasOwn(b, target.key) ? b[target.key] : undefined
    const list = prev === undefined || prev === null ? [] : Array.isArray(prev) ? prev : [prev]
    Object.defineProperty(b, target.key, {
      value: [...list, ...uploads],
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/**
 * A batch file part's name (§12): `requests.N.<field>` or `requests[N].<field>`, the field possibly
 * with a modifier; undefined for any other name.
 */
export function batchFilePart(part: string): { index: number; key: string } | undefined {
  const m = /^requests(?:\.(\d{1,6})|\[(\d{1,6})\])\.(.+)$/s.exec(part)
  if (!m) return undefined
  return { index: Number(m[1] ?? m[2]), key: m[3]! }
}

/**
 * The batch's answer when request `index` failed with `error` (§12): 400 `Batch transaction failed.`
 * with the request's own error under `data.requests.<index>.response`.
 */
export function batchItemFailure(index: number, error: GalleyError, cause?: unknown): GalleyError {
  const item = {
    code: 'batch_request_failed',
    message: 'Batch request failed.',
    response: error.toJSON(),
  } satisfies FieldError & { response: unknown }
  const data: ErrorData = { requests: { [index]: item } }
  return badRequest('Batch transaction failed.', data, cause)
}
