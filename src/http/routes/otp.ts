import type { FastifyInstance } from 'fastify'
import type { AuthService } from '../../auth/index.js'
import { authOptions, credentials } from './auth.js'

type Params = { c: string }

/** Email one-time passwords (§8.7): request-otp and auth-with-otp. */
export function otpRoutes(auth: AuthService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Params: Params }>('/api/collections/:c/request-otp', async (req) =>
      auth.otp.request(auth.authCollection(req.params.c), req.body),
    )
    app.post<{ Params: Params }>('/api/collections/:c/auth-with-otp', async (req) =>
      auth.otp.authenticate(auth.authCollection(req.params.c), credentials(req), authOptions(req)),
    )
  }
}
