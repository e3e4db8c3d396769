import type { FastifyInstance } from 'fastify'
import type { CollectionService } from '../../schema/index.js'
import { isJsonObject } from '../../lib/index.js'
import { requireSuperuser } from '../guards.js'
import { parseListQuery } from '../list-query.js'

type Params = { c: string }

/** The collections API (§6.7): superusers only. */
export function collectionRoutes(collections: CollectionService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.addHook('preHandler', async (req) => {
      requireSuperuser(req)
    })

    app.get('/api/collections', async (req) => collections.list(parseListQuery(req.query)))

    app.post('/api/collections', async (req) => collections.toJSON(await collections.create(req.body)))

    app.get('/api/collections/meta/scaffolds', async () => collections.scaffolds())

    app.post('/api/collections/meta/dry-run-view', async (req) => collections.dryRunView(req.body))

    app.put('/api/collections/import', async (req, reply) => {
      const body = isJsonObject(req.body) ? req.body : {}
      await collections.import(body.collections, body.deleteMissing === true)
      return reply.code(204).send()
    })

    app.get<{ Params: Params }>('/api/collections/:c', async (req) =>
      collections.toJSON(collections.get(req.params.c)),
    )

    app.patch<{ Params: Params }>('/api/collections/:c', async (req) =>
      collections.toJSON(await collections.update(collections.get(req.params.c).id, req.body)),
    )

    app.delete<{ Params: Params }>('/api/collections/:c', async (req, reply) => {
      await collections.delete(collections.get(req.params.c).id)
      return reply.code(204).send()
    })

    app.delete<{ Params: Params }>('/api/collections/:c/truncate', async (req, reply) => {
      await collections.truncate(req.params.c)
      return reply.code(204).send()
    })
  }
}
