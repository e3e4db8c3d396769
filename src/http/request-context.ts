import type { FastifyRequest } from 'fastify'
import type { RequestContext, RequestContextName } from '../rules/index.js'

const first = (v: unknown): string | undefined =>
  Array.isArray(v) ? first(v[0]) : typeof v === 'string' ? v : v === undefined ? undefined : String(v)

/** What rules may see of a request (§4.3): auth, method, headers, query; the body is added by the service. */
export function requestContext(req: FastifyRequest, context: RequestContextName = 'default'): RequestContext {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers)) {
    const value = first(v)
    if (value !== undefined) headers[k.toLowerCase()] = value
  }
  const query: Record<string, string> = {}
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
    const value = first(v)
    if (value !== undefined) query[k] = value
  }
  return {
    auth: req.actor ? { collection: req.actor.collection, record: req.actor.record } : undefined,
    method: req.method,
    headers,
    query,
    body: {},
    context,
  }
}
