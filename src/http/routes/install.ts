import type { FastifyInstance } from 'fastify'
import { isJsonObject } from '../../lib/index.js'
import type { SuperuserInstaller } from '../../auth/index.js'

/**
 * The first-run installer (Galley's own, public): `POST /api/galley/install/check` `{token}` → 204
 * while the link works; `POST /api/galley/install` `{token, email, password, passwordConfirm}` →
 * 204 after creating the first superuser. A bad or expired token is 400, and once any superuser
 * exists both answer 403.
 */
export function installRoutes(installer: SuperuserInstaller) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/api/galley/install/check', async (req, reply) => {
      await installer.check(isJsonObject(req.body) ? req.body.token : undefined)
      return reply.status(204).send()
    })
    app.post('/api/galley/install', async (req, reply) => {
      await installer.install(req.body)
      return reply.status(204).send()
    })
  }
}
