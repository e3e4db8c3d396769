import { ClientResponseError } from 'pocketbase'
import { toServerError } from './errors'
import { pb } from './pb'

/** A record a bulk delete did not delete, and why, in words. */
export interface DeleteFailure {
  readonly id: string
  readonly message: string
}

export interface DeleteReport {
  readonly deleted: readonly string[]
  readonly failed: readonly DeleteFailure[]
  /** 'batch' when the batch API was used (settings: batch enabled), else 'one by one'. */
  readonly how: 'batch' | 'one by one'
}

/** The batch settings (superusers read them); batch is off when they cannot be read. */
async function batchLimit(): Promise<number> {
  try {
    const s = (await pb.settings.getAll()) as { batch?: { enabled?: boolean; maxRequests?: number } }
    return s.batch?.enabled ? Math.max(1, Number(s.batch.maxRequests ?? 50)) : 0
  } catch {
    return 0
  }
}

/** The failing request's index and the server's words for it, from a batch error (§12). */
function batchFailure(err: unknown): { index: number; message: string } | undefined {
  if (!(err instanceof ClientResponseError)) return undefined
  const requests = (err.response?.data as { requests?: Record<string, { response?: { message?: string } }> })
    ?.requests
  const [index, item] = Object.entries(requests ?? {})[0] ?? []
  if (index === undefined) return undefined
  return { index: Number(index), message: item?.response?.message ?? 'Batch request failed.' }
}

/**
 * Deletes `ids` of a collection: in batches of the server's `maxRequests` when batch requests are
 * enabled (each batch is one transaction: one refused record keeps the others of its batch), else
 * one request per record. Every record not deleted is reported with the reason.
 */
export async function deleteRecords(collectionId: string, ids: readonly string[]): Promise<DeleteReport> {
  const deleted: string[] = []
  const failed: DeleteFailure[] = []
  const limit = await batchLimit()
  if (limit === 0) {
    for (const id of ids) {
      try {
        await pb.collection(collectionId).delete(id)
        deleted.push(id)
      } catch (err) {
        failed.push({ id, message: toServerError(err).message })
      }
    }
    return { deleted, failed, how: 'one by one' }
  }
  for (let at = 0; at < ids.length; at += limit) {
    const chunk = ids.slice(at, at + limit)
    const batch = pb.createBatch()
    for (const id of chunk) batch.collection(collectionId).delete(id)
    try {
      await batch.send()
      deleted.push(...chunk)
    } catch (err) {
      const culprit = batchFailure(err)
      for (const [i, id] of chunk.entries()) {
        if (culprit?.index === i) failed.push({ id, message: culprit.message })
        else if (culprit)
          failed.push({
            id,
            message: `Not deleted: the batch was rolled back because record ${chunk[culprit.index]} was refused.`,
          })
        else failed.push({ id, message: toServerError(err).message })
      }
    }
  }
  return { deleted, failed, how: 'batch' }
}
