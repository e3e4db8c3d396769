import { ClientResponseError } from 'pocketbase'

/** A server error in words: the message, and a message per field path (`fields.2.name`). */
export interface ServerError {
  readonly message: string
  readonly fields: Record<string, string>
}

function flatten(data: unknown, prefix: string, out: Record<string, string>): void {
  if (!data || typeof data !== 'object') return
  const o = data as Record<string, unknown>
  if (typeof o.message === 'string' && typeof o.code === 'string') {
    out[prefix] = o.message
    return
  }
  for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
}

export function toServerError(err: unknown): ServerError {
  if (err instanceof ClientResponseError) {
    if (err.status === 0)
      return { message: 'The server could not be reached. Is Galley running?', fields: {} }
    const fields: Record<string, string> = {}
    flatten(err.response?.data, '', fields)
    const message = typeof err.response?.message === 'string' ? err.response.message : err.message
    return { message: message || `Request failed (${err.status}).`, fields }
  }
  return { message: err instanceof Error ? err.message : String(err), fields: {} }
}

/** Field errors under `prefix.` (e.g. one field's `fields.2.`), keyed by the rest of the path. */
export function fieldErrorsUnder(error: ServerError | undefined, prefix: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!error) return out
  for (const [k, v] of Object.entries(error.fields)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v
  return out
}

/**
 * The error's message, plus each field error that no input shows (`placed(key)` is false), so
 * nothing the server said is ever hidden.
 */
export function unplacedText(error: ServerError | undefined, placed: (key: string) => boolean): string {
  if (!error) return ''
  const rest = Object.entries(error.fields).filter(([k]) => !placed(k))
  return [error.message, ...rest.map(([k, v]) => `${k}: ${v}`)].join(' ')
}
