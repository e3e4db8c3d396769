import type { FastifyInstance } from 'fastify'
import type { AuthService } from '../../auth/index.js'
import { requireSuperuser } from '../guards.js'
import { requestContext } from '../request-context.js'
import { authOptions } from './auth.js'

type Params = { c: string }

/**
 * The auth methods of a collection (public, §8.4), the OAuth2 code exchange (§8.8) and the list of
 * supported providers (superusers). The popup flow's `/api/oauth2-redirect` is in oauth2-redirect.ts
 * (it answers through realtime).
 */
export function oauth2Routes(auth: AuthService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Params: Params }>('/api/collections/:c/auth-methods', async (req) =>
      auth.oauth2.authMethods(auth.authCollection(req.params.c)),
    )
    app.post<{ Params: Params }>('/api/collections/:c/auth-with-oauth2', async (req) =>
      auth.oauth2.authWithOAuth2(auth.authCollection(req.params.c), req.body, {
        ...authOptions(req),
        request: requestContext(req, 'oauth2'),
      }),
    )
    app.get('/api/collections/meta/oauth2-providers', async (req) => {
      requireSuperuser(req)
      return auth.oauth2.providers()
    })
  }
}
