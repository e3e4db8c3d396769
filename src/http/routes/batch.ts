import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Database, Executor } from '../../db/index.js'
import { badRequest, forbidden } from '../../lib/index.js'
import {
  newFileChanges,
  type FileChanges,
  type RecordChange,
  type RecordService,
} from '../../records/index.js'
import type { RequestContext } from '../../rules/index.js'
import type { SettingsService } from '../../settings/index.js'
import { AbortQueriesPlugin } from '../abort-queries.js'
import {
  attachBatchUploads,
  batchItemFailure,
  matchBatchAction,
  readBatchRequests,
  type BatchRequestInput,
} from '../batch-request.js'
import { limitBody } from '../body.js'
import { toGalleyError } from '../errors.js'
import { parseFields, pickFields } from '../fields-picker.js'
import type { RateLimiter } from '../rate-limit.js'
import { requestContext } from '../request-context.js'

/** `batch.maxBodySize` 0 means this (PocketBase's default). */
export const DEFAULT_BATCH_MAX_BODY_BYTES = 128 * 1024 * 1024
/** `batch.timeout` 0 or less means this many seconds: a batch always has a time limit. */
export const DEFAULT_BATCH_TIMEOUT_SECONDS = 3

/** One entry of a successful batch's response. */
export interface BatchResult {
  readonly status: number
  readonly body: unknown
}

/** The whole batch stops: timed out, or the client went away. Answered as `data: {}`. */
class BatchAborted extends Error {}

/** Request `index` failed with `error`; the transaction rolls back and the batch reports it. */
class BatchItemFailed extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super('batch request failed')
  }
}

const first = (q: URLSearchParams, key: string) => q.get(key) ?? undefined

/** A batch request's view of the parent request: its method, query and headers (never its auth). */
function itemContext(
  parent: RequestContext,
  r: BatchRequestInput,
  method: string,
  query: URLSearchParams,
): RequestContext {
  // Maps, then own properties: a name like `__proto__` stays plain data.
  const headers = new Map(Object.entries(parent.headers))
  for (const [name, value] of Object.entries(r.headers)) {
    const key = name.toLowerCase()
    // The parent's auth applies to every request: a per-request token is ignored (§12).
    if (key !== 'authorization') headers.set(key, value)
  }
  const q = new Map<string, string>()
  for (const [key, value] of query) if (!q.has(key)) q.set(key, value)
  return { ...parent, method, headers: Object.fromEntries(headers), query: Object.fromEntries(q) }
}

/** The batch API (§12): record writes in one transaction, all or nothing. */
export function batchRoutes(
  database: Database,
  settings: SettingsService,
  records: RecordService,
  limiter?: RateLimiter,
) {
  const batchSettings = () => {
    const b = settings.get().batch
    return {
      enabled: b.enabled && b.maxRequests > 0,
      maxRequests: b.maxRequests,
      timeoutMs: (b.timeout > 0 ? b.timeout : DEFAULT_BATCH_TIMEOUT_SECONDS) * 1000,
      maxBodySize: b.maxBodySize > 0 ? b.maxBodySize : DEFAULT_BATCH_MAX_BODY_BYTES,
    }
  }

  async function runItem(
    r: BatchRequestInput,
    parent: RequestContext,
    executor: Executor,
    changes: RecordChange[],
    files: FileChanges,
  ) {
    const action = matchBatchAction(r.method, r.url)
    if (!action) throw badRequest()
    const fields = action.query.get('fields')
    const tree = fields === null ? undefined : parseFields(fields)
    const c = records.collection(action.collection)
    const opts = { executor, changes, files, expand: first(action.query, 'expand') }
    const pick = (record: unknown) => (tree ? pickFields(record, tree) : record)
    switch (action.kind) {
      case 'upsert': {
        const request = itemContext(parent, r, 'PUT', action.query)
        return { status: 200, body: pick(await records.upsert(c, r.body, request, opts)) }
      }
      case 'create': {
        const request = itemContext(parent, r, 'POST', action.query)
        return { status: 200, body: pick(await records.create(c, r.body, request, opts)) }
      }
      case 'update': {
        const request = itemContext(parent, r, 'PATCH', action.query)
        return { status: 200, body: pick(await records.update(c, action.id, r.body, request, opts)) }
      }
      default: {
        await records.delete(c, action.id, itemContext(parent, r, 'DELETE', action.query), opts)
        return { status: 204, body: null }
      }
    }
  }

  /**
   * Runs the requests in order inside one transaction. The time limit starts once the transaction
   * holds its connection, as PocketBase's; past it (or when the client disconnects) the next
   * statement fails and everything rolls back.
   */
  async function runBatch(
    requests: readonly BatchRequestInput[],
    parent: RequestContext,
    timeoutMs: number,
    reply: FastifyReply,
  ): Promise<BatchResult[]> {
    const controller = new AbortController()
    const onClose = () => {
      if (!reply.raw.writableFinished) controller.abort(new BatchAborted('batch request interrupted'))
    }
    reply.raw.on('close', onClose)
    const changes: RecordChange[] = []
    const files = newFileChanges()
    let committed = false
    try {
      const results = await database.transaction(async (trx) => {
        const timer = setTimeout(
          () => controller.abort(new BatchAborted('batch transaction timeout')),
          timeoutMs,
        )
        try {
          const executor = trx.withPlugin(new AbortQueriesPlugin(controller.signal))
          const results: BatchResult[] = []
          for (const [i, r] of requests.entries()) {
            controller.signal.throwIfAborted()
            try {
              results.push(await runItem(r, parent, executor, changes, files))
            } catch (err) {
              if (controller.signal.aborted) throw controller.signal.reason
              throw new BatchItemFailed(i, err)
            }
          }
          // what must commit with the writes (realtime's log on PostgreSQL), then nothing more
          await records.committing(executor, changes)
          // Past the time limit nothing commits, even when the last statement made it.
          controller.signal.throwIfAborted()
          return results
        } finally {
          clearTimeout(timer)
        }
      })
      committed = true
      // only now, and only when it committed: a rolled-back batch announces nothing
      records.announce(changes)
      return results
    } finally {
      reply.raw.off('close', onClose)
      // Files the batch stored go when it rolled back; those it made obsolete once it committed.
      await records.settleFiles(files, committed)
    }
  }

  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/api/batch',
      {
        // The limit is the `batch.maxBodySize` setting, checked by `limitBody` as the body arrives.
        bodyLimit: Number.MAX_SAFE_INTEGER,
        onRequest: async () => {
          if (!batchSettings().enabled) throw forbidden('Batch requests are not allowed.')
        },
        preParsing: limitBody(() => batchSettings().maxBodySize),
      },
      async (req: FastifyRequest, reply: FastifyReply) => {
        const { maxRequests, timeoutMs } = batchSettings()
        const requests = attachBatchUploads(req.body, readBatchRequests(req.body, maxRequests))
        try {
          // Every request counts against its own rate limit rule, before anything runs (§12).
          requests.forEach((r, i) => {
            const limited = limiter?.checkBatchItem(req, r)
            if (limited) throw new BatchItemFailed(i, limited)
          })
          return await runBatch(requests, requestContext(req, 'batch'), timeoutMs, reply)
        } catch (err) {
          if (err instanceof BatchAborted) throw badRequest('Batch transaction failed.', undefined, err)
          if (!(err instanceof BatchItemFailed)) throw err
          const e = toGalleyError(err.error, database.dialect)
          // The database failing is the server's problem, not the request's: 5xx as any route.
          if (e.status >= 500) throw e
          throw batchItemFailure(err.index, e, err.error)
        }
      },
    )
  }
}
