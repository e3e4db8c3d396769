import type { FastifyInstance } from 'fastify'
import { impersonate, type AuthService } from '../../auth/index.js'
import { requireSuperuser } from '../guards.js'
import { authOptions } from './auth.js'

/** `POST /api/collections/{c}/impersonate/{id}` (§8.11): superusers only, 401/403 before anything else. */
export function impersonateRoutes(auth: AuthService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Params: { c: string; id: string } }>('/api/collections/:c/impersonate/:id', async (req) => {
      requireSuperuser(req)
      return impersonate(auth, auth.authCollection(req.params.c), req.params.id, req.body, authOptions(req))
    })
  }
}
