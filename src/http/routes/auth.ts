import type { FastifyInstance } from 'fastify'
import type { AuthService } from '../../auth/index.js'

type Params = { c: string }

/** Password sign-in and refresh for auth collections (§8.5, §8.9). */
export function authRoutes(auth: AuthService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Params: Params }>('/api/collections/:c/auth-with-password', async (req) =>
      auth.authWithPassword(auth.authCollection(req.params.c), req.body),
    )
    app.post<{ Params: Params }>('/api/collections/:c/auth-refresh', async (req) =>
      auth.refresh(auth.authCollection(req.params.c), req.actor),
    )
  }
}
