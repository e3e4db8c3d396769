import type { FastifyInstance } from 'fastify'
import { isSuperuser } from '../../auth/index.js'

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/health', async (req) => ({
    message: 'API is healthy.',
    code: 200,
    data: isSuperuser(req.actor) ? { canBackup: false, realIP: req.clientIp, possibleProxyHeader: '' } : {},
  }))
}
