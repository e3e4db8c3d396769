import { SUPERUSERS_COLLECTION_NAME, type AuthCollection } from '../schema/index.js'
import type { RecordRow } from '../records/index.js'

/** Who makes a request: an authenticated auth record, or undefined for a guest. */
export interface Actor {
  readonly collection: AuthCollection
  /** The stored row of the auth record (raw column values). */
  readonly record: RecordRow
  /** False for impersonation tokens, which cannot be refreshed. */
  readonly refreshable: boolean
}

export const SUPERUSERS = SUPERUSERS_COLLECTION_NAME

export function isSuperuser(actor: Actor | undefined): actor is Actor {
  return actor?.collection.name === SUPERUSERS
}
