import type { GalleyDialect } from '../db/index.js'
import { columnKind, type Collection } from '../schema/index.js'

export type RecordRow = Record<string, unknown>
export type RecordJSON = Record<string, unknown>

export interface SerializeOptions {
  /** Superusers (and the owner, for auth email) see hidden fields; everyone else never does. */
  readonly showHidden?: boolean
  /** Include `email` of auth records regardless of `emailVisibility` (owner, manager, superuser). */
  readonly showEmail?: boolean
}

/**
 * A stored row as the API returns it: `collectionId`, `collectionName`, then each field decoded from
 * its column. Password fields are never output; hidden fields only with `showHidden`.
 */
export function recordToJSON(
  d: GalleyDialect,
  c: Collection,
  row: RecordRow,
  opts: SerializeOptions = {},
): RecordJSON {
  const out: RecordJSON = { collectionId: c.id, collectionName: c.name }
  for (const f of c.fields) {
    if (f.type === 'password') continue
    // tokenKey signs the record's tokens: never output, not even to superusers (§3.1).
    if (c.type === 'auth' && f.name === 'tokenKey') continue
    if (f.hidden && !opts.showHidden) continue
    out[f.name] = d.decode(columnKind(f), row[f.name])
  }
  if (c.type === 'auth' && !opts.showEmail && !opts.showHidden && out.emailVisibility !== true)
    delete out.email
  return out
}
