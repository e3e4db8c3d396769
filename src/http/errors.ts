import type { GalleyDialect } from '../db/index.js'
import { GalleyError, isGalleyError } from '../lib/index.js'

const FASTIFY_CODES: Record<string, GalleyError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_CONTENT_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_BODY',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_BODY',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
}

/**
 * Maps anything thrown while handling a request to the catalogue: Galley errors as they are,
 * Fastify's own 4xx by code, an unreachable database to 503; everything else is a 500 whose cause
 * goes to the log only.
 */
export function toGalleyError(err: unknown, dialect: GalleyDialect): GalleyError {
  if (isGalleyError(err)) return err
  const e = err as { code?: unknown; statusCode?: unknown }
  const code = typeof e?.code === 'string' ? FASTIFY_CODES[e.code] : undefined
  if (code) return new GalleyError(code, undefined, undefined, { cause: err })
  const kind = dialect.classifyError(err).kind
  if (kind === 'unavailable') return new GalleyError('UNAVAILABLE', undefined, undefined, { cause: err })
  // Writes refuse NUL characters and lookups skip them; anything else that reaches PostgreSQL with
  // one is still the client's input, not a server failure.
  if (kind === 'invalidText')
    return new GalleyError('BAD_REQUEST', 'Text values cannot contain the NUL character.', undefined, {
      cause: err,
    })
  // What the data made a query fail on (a view collection's query dividing by zero): a 400, as
  // PocketBase answers query errors.
  if (kind === 'dataError') return new GalleyError('BAD_REQUEST', undefined, undefined, { cause: err })
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return new GalleyError('TOO_LARGE', undefined, undefined, { cause: err })
    if (e.statusCode === 415)
      return new GalleyError('UNSUPPORTED_CONTENT_TYPE', undefined, undefined, { cause: err })
    return new GalleyError('BAD_REQUEST', undefined, undefined, { cause: err })
  }
  return new GalleyError('INTERNAL', undefined, undefined, { cause: err })
}
