import { sql, type RawBuilder } from 'kysely'
import type { GalleyDialect } from '../db/index.js'
import { FilterError } from '../filter/index.js'
import { ruleCondition, type RuleEnv } from '../rules/index.js'
import { columnKind, type Collection } from '../schema/index.js'
import { isSuperuserRequest } from './request.js'

export type RecordRow = Record<string, unknown>
export type RecordJSON = Record<string, unknown>

export interface SerializeOptions {
  /** Superusers (and the owner, for auth email) see hidden fields; everyone else never does. */
  readonly showHidden?: boolean
  /** Include `email` of auth records regardless of `emailVisibility` (owner, manager, superuser). */
  readonly showEmail?: boolean
  /** The values are already in their JSON form (a realtime row image), not the driver's. */
  readonly decoded?: boolean
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
    out[f.name] = opts.decoded ? row[f.name] : d.decode(columnKind(f), row[f.name])
  }
  if (c.type === 'auth' && !opts.showEmail && !opts.showHidden && out.emailVisibility !== true)
    delete out.email
  return out
}

/** The selected column telling whether the requester satisfies the row's manageRule. */
export const MANAGED = '~managed'

/**
 * `CASE WHEN <manageRule> THEN 1 ELSE 0 END`, to select as MANAGED in a records query of an auth
 * collection whose manageRule a non-superuser may satisfy (§3.1, §7.4: managers see the email of the
 * records they manage); undefined where it cannot change what is shown. The rule compiles with full
 * privileges against the collection's table, as every rule does. A rule that no longer compiles
 * grants nothing.
 */
export function managedExpression(c: Collection, env: RuleEnv): RawBuilder<number> | undefined {
  if (c.type !== 'auth' || !c.manageRule || isSuperuserRequest(env.request)) return undefined
  let cond
  try {
    cond = ruleCondition(c.manageRule, c, env)
  } catch (err) {
    if (err instanceof FilterError) return undefined
    throw err
  }
  if (cond === 'superusers') return undefined
  return cond === 'anyone' ? sql<number>`1` : sql<number>`CASE WHEN ${cond} THEN 1 ELSE 0 END`
}

/**
 * A row of a records query as `env.request`'s requester may see it: superusers see everything; the
 * record itself and its managers (`managedExpression` selected as MANAGED) see the email.
 */
export function rowToJSON(c: Collection, row: RecordRow, env: RuleEnv, decoded = false): RecordJSON {
  const auth = env.request.auth
  const su = isSuperuserRequest(env.request)
  const self = auth?.collection.id === c.id && auth.record.id === row.id
  const managed = row[MANAGED] !== undefined && Number(row[MANAGED]) === 1
  return recordToJSON(env.dialect, c, row, { showHidden: su, showEmail: su || self || managed, decoded })
}
