import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RecordOptions, RecordService } from '../../records/index.js'
import { firstString, parseListQuery } from '../list-query.js'
import { requestContext } from '../request-context.js'

type Params = { c: string }
type IdParams = { c: string; id: string }

/** The options every records route takes from its query: `?expand=` (§3.2; first value wins). */
export function recordOptions(req: FastifyRequest): RecordOptions {
  return { expand: firstString((req.query as Record<string, unknown> | undefined)?.expand) }
}

/** The records API (§3): thin adapters over the records service. */
export function recordRoutes(records: RecordService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Params: Params }>('/api/collections/:c/records', async (req) =>
      records.list(
        records.collection(req.params.c),
        parseListQuery(req.query),
        requestContext(req),
        recordOptions(req),
      ),
    )
    app.get<{ Params: IdParams }>('/api/collections/:c/records/:id', async (req) =>
      records.view(records.collection(req.params.c), req.params.id, requestContext(req), recordOptions(req)),
    )
    app.post<{ Params: Params }>('/api/collections/:c/records', async (req) =>
      records.create(
        records.collection(req.params.c),
        req.body ?? {},
        requestContext(req),
        recordOptions(req),
      ),
    )
    app.patch<{ Params: IdParams }>('/api/collections/:c/records/:id', async (req) =>
      records.update(
        records.collection(req.params.c),
        req.params.id,
        req.body ?? {},
        requestContext(req),
        recordOptions(req),
      ),
    )
    app.delete<{ Params: IdParams }>('/api/collections/:c/records/:id', async (req, reply) => {
      await records.delete(records.collection(req.params.c), req.params.id, requestContext(req))
      return reply.code(204).send()
    })
  }
}
