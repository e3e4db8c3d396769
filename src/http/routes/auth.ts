import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuthOptions, AuthService } from '../../auth/index.js'
import { clientInfo } from '../client-ip.js'
import { firstString } from '../list-query.js'
import { requestContext } from '../request-context.js'
import { recordOptions } from './records.js'

type Params = { c: string }

const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i

/**
 * A form body infers `12345678` as a number and `true` as a boolean (§1.2); PocketBase binds auth
 * forms to string fields, so there such credentials are their original text. JSON stays as sent.
 */
export function credentials(req: FastifyRequest): unknown {
  const body = req.body
  if (!FORM.test(req.headers['content-type'] ?? '') || typeof body !== 'object' || body === null) return body
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) }
  for (const key of ['identity', 'password', 'otpId', 'mfaId']) {
    const v = out[key]
    if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v)
  }
  return out
}

/**
 * `?expand=` on the signed-in record (§8.2), with the request rules would see, and the client (login
 * alerts, rate limits): its address honours `settings.trustedProxy`.
 */
export function authOptions(req: FastifyRequest): AuthOptions {
  const { expand } = recordOptions(req)
  const client = clientInfo(req)
  const mfaId = mfaIdOf(req)
  return expand ? { expand, request: requestContext(req), client, mfaId } : { client, mfaId }
}

/** An MFA second step names the first one as `?mfaId=` (the SDK's options) or a body field (§8.6). */
function mfaIdOf(req: FastifyRequest): string | undefined {
  const fromQuery = firstString((req.query as Record<string, unknown> | undefined)?.mfaId)
  if (fromQuery) return fromQuery
  const body = credentials(req)
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).mfaId : undefined
  return typeof v === 'string' && v !== '' ? v : undefined
}

/** Password sign-in and refresh for auth collections (§8.5, §8.9). */
export function authRoutes(auth: AuthService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Params: Params }>('/api/collections/:c/auth-with-password', async (req) =>
      auth.authWithPassword(auth.authCollection(req.params.c), credentials(req), authOptions(req)),
    )
    app.post<{ Params: Params }>('/api/collections/:c/auth-refresh', async (req) =>
      auth.refresh(auth.authCollection(req.params.c), req.actor, authOptions(req), req.headers.authorization),
    )
  }
}
