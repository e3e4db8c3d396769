/**
 * The error catalogue. Every error a client can see comes from here, in PocketBase's wire shape
 * `{ status, message, data }`; `data` only ever holds safe per-field validation items. Internal
 * causes travel in `cause` for the logs and are never serialized.
 */

/** One validation problem of one field, as PocketBase serializes it. */
export interface FieldError {
  readonly code: string
  readonly message: string
  readonly params?: Readonly<Record<string, unknown>>
}

/** Nested map of field errors: `{ title: {code,message} }` or `{ fields: { 2: { name: {...} } } }`. */
export interface ErrorData {
  [key: string]: FieldError | ErrorData
}

export const ERRORS = {
  BAD_REQUEST: { status: 400, message: 'Something went wrong while processing your request.' },
  INVALID_BODY: { status: 400, message: 'Failed to read the submitted data.' },
  UNSUPPORTED_CONTENT_TYPE: { status: 400, message: 'Unsupported Content-Type.' },
  VALIDATION: { status: 400, message: 'An error occurred while validating the submitted data.' },
  AUTH_FAILED: { status: 400, message: 'Failed to authenticate.' },
  OAUTH2_TOKEN_FAILED: { status: 400, message: 'Failed to fetch OAuth2 token.' },
  OAUTH2_USER_FAILED: { status: 400, message: 'Failed to fetch OAuth2 user.' },
  UNAUTHORIZED: { status: 401, message: 'The request requires valid record authorization token.' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to perform this request.' },
  SUPERUSER_ONLY: { status: 403, message: 'Only superusers can perform this action.' },
  NOT_FOUND: { status: 404, message: "The requested resource wasn't found." },
  TOO_LARGE: { status: 413, message: 'Request entity too large.' },
  RATE_LIMITED: { status: 429, message: 'Too Many Requests.' },
  OTP_INVALID: { status: 400, message: 'Invalid or expired OTP.' },
  OTP_TOO_MANY_ATTEMPTS: {
    status: 429,
    message: 'Too many attempts, please try again later with a new OTP.',
  },
  MFA_REQUIRED: { status: 401, message: 'A second authentication method is required.' },
  INTERNAL: { status: 500, message: 'Something went wrong while processing your request.' },
  UNAVAILABLE: { status: 503, message: 'The service is temporarily unavailable. Please try again later.' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof ERRORS

/** Upper-cases the first letter and ends the text with punctuation, as PocketBase does. */
export function sentenize(text: string): string {
  const t = text.trim()
  if (t === '') return t
  const first = t.charAt(0).toUpperCase() + t.slice(1)
  return /[.!?]$/.test(first) ? first : `${first}.`
}

export class GalleyError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly data: ErrorData

  constructor(code: ErrorCode, message?: string, data?: ErrorData, options?: { cause?: unknown }) {
    super(sentenize(message ?? ERRORS[code].message), options)
    this.name = 'GalleyError'
    this.code = code
    this.status = ERRORS[code].status
    this.data = data ?? {}
  }

  /** The public body of the response: never includes the cause or a stack. */
  toJSON(): { status: number; message: string; data: ErrorData } {
    return { status: this.status, message: this.message, data: this.data }
  }

  /** The HTTP response body: `toJSON()`, except for the few errors PocketBase answers otherwise. */
  wireBody(): object {
    return this.toJSON()
  }
}

/**
 * The first step of an MFA sign-in (§8.6): a 401 whose body is `{"mfaId": "…"}`, not the usual
 * error shape; the HTTP error handler sends `wireBody()`.
 */
export class MfaRequiredError extends GalleyError {
  readonly mfaId: string

  constructor(mfaId: string) {
    super('MFA_REQUIRED')
    this.mfaId = mfaId
  }

  override wireBody(): { mfaId: string } {
    return { mfaId: this.mfaId }
  }
}

export function isGalleyError(err: unknown): err is GalleyError {
  return err instanceof GalleyError
}

export const badRequest = (message?: string, data?: ErrorData, cause?: unknown): GalleyError =>
  new GalleyError('BAD_REQUEST', message, data, { cause })
export const notFound = (message?: string): GalleyError => new GalleyError('NOT_FOUND', message)
export const forbidden = (message?: string): GalleyError => new GalleyError('FORBIDDEN', message)
export const unauthorized = (message?: string): GalleyError => new GalleyError('UNAUTHORIZED', message)
export const unavailable = (cause?: unknown): GalleyError =>
  new GalleyError('UNAVAILABLE', undefined, undefined, { cause })

export function fieldError(code: string, message: string, params?: Record<string, unknown>): FieldError {
  return params === undefined
    ? { code, message: sentenize(message) }
    : { code, message: sentenize(message), params }
}

/** True for a leaf `{code, message}` item, false for a nested map. */
export function isFieldError(v: FieldError | ErrorData): v is FieldError {
  return typeof (v as FieldError).code === 'string' && typeof (v as FieldError).message === 'string'
}

/**
 * Collects nested validation errors by path: `errs.add(['fields', 2, 'name'], fieldError(...))`.
 * The first error of a path wins, as in PocketBase's validators.
 */
export class ValidationErrors {
  readonly data: ErrorData = {}

  add(path: readonly (string | number)[], err: FieldError): this {
    let node: ErrorData = this.data
    for (let i = 0; i < path.length - 1; i++) {
      const key = String(path[i])
      const next = node[key]
      if (next === undefined) {
        const created: ErrorData = {}
        node[key] = created
        node = created
      } else if (isFieldError(next)) {
        return this
      } else {
        node = next
      }
    }
    const last = String(path[path.length - 1])
    if (node[last] === undefined) node[last] = err
    return this
  }

  merge(prefix: readonly (string | number)[], data: ErrorData): this {
    for (const [key, value] of Object.entries(data)) {
      if (isFieldError(value)) this.add([...prefix, key], value)
      else this.merge([...prefix, key], value)
    }
    return this
  }

  get empty(): boolean {
    return Object.keys(this.data).length === 0
  }

  /** Throws a 400 with the collected errors, if any. */
  throwIfAny(message: string): void {
    if (!this.empty) throw badRequest(message, this.data)
  }
}
