import type { FastifyInstance } from 'fastify'
import type { SettingsService } from '../../settings/index.js'
import { requireSuperuser } from '../guards.js'

/** `GET/PATCH /api/settings` (§13.2): superusers only, secrets never returned. */
export function settingsRoutes(settings: SettingsService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.addHook('preHandler', async (req) => {
      requireSuperuser(req)
    })
    app.get('/api/settings', async () => settings.toJSON())
    app.patch('/api/settings', async (req) => settings.toJSON(await settings.update(req.body)))
  }
}
