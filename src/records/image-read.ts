import { sql, type Expression, type SqlBool } from 'kysely'
import type { Executor, GalleyDialect } from '../db/index.js'
import { FilterError } from '../filter/index.js'
import {
  compileRecordFilter,
  compileRecordPredicate,
  RecordPredicateUnsupported,
  ruleCondition,
  type RequestContext,
  type RuleEnv,
} from '../rules/index.js'
import type { Collection } from '../schema/index.js'
import { isSuperuserRequest } from './request.js'
import { virtualRowColumns, virtualRowName } from './record-write.js'
import { MANAGED, rowToJSON, type RecordJSON } from './serialize.js'

/** One reader of a record image: a realtime subscription with its client's request. */
export interface ImageReader {
  readonly request: RequestContext
  /** `collection/ID` topics check the viewRule; the others the listRule. */
  readonly view: boolean
  /** The subscription's `filter` option ('' for none). */
  readonly filter: string
}

/** Conditions decided by the database go in one statement, at most this many per statement. */
export const MAX_CONDITIONS_PER_QUERY = 200

export interface ImageReadDeps {
  readonly executor: Executor
  readonly dialect: GalleyDialect
  readonly env: (request: RequestContext) => RuleEnv
}

/** One condition of one reader: decided (true/false) or waiting for the database. */
type Check = boolean | { readonly expression: Expression<SqlBool> }

/**
 * Which readers may see `image` (a row in its JSON form, as it was when its event was logged) and
 * how they see it (hidden fields, email visibility), as REST would show it: the reader's rule (view
 * or list), its filter and, for auth records, whether it manages the record. A condition that reads
 * only the record and the request is decided in JavaScript (`compileRecordPredicate`); the others,
 * for every reader at once, in one query against the image in a CTE (so a deleted or since-changed
 * record is judged as the event left it; relations are read as they are now). A filter or rule that
 * does not compile hides the record from that reader. Returns, per reader, its JSON or undefined.
 */
export async function readImage(
  deps: ImageReadDeps,
  c: Collection,
  image: Readonly<Record<string, unknown>>,
  readers: readonly ImageReader[],
): Promise<(RecordJSON | undefined)[]> {
  const ref = virtualRowName(c)
  const pending: { expression: Expression<SqlBool>; resolve: (ok: boolean) => void }[] = []
  const decide = (text: string, privileged: boolean, env: RuleEnv): Check => {
    const predicate = compileRecordPredicate(text, c, privileged)
    if (predicate) {
      try {
        return predicate(image, env.request, env)
      } catch (err) {
        if (!(err instanceof RecordPredicateUnsupported)) throw err
      }
    }
    try {
      const expression = privileged
        ? ruleCondition(text, c, env, ref)
        : compileRecordFilter(text, { collection: c, privileged: false, ref }, env)
      if (expression === 'superusers') return false
      if (expression === 'anyone' || expression === undefined) return true
      return { expression }
    } catch (err) {
      if (err instanceof FilterError) return false
      throw err
    }
  }

  const results = readers.map((reader) => {
    const env = deps.env(reader.request)
    const su = isSuperuserRequest(reader.request)
    const rule = reader.view ? c.viewRule : c.listRule
    const checks: Check[] = []
    if (!su) {
      if (rule === null) return { env, checks: [false], managed: false as Check }
      // as the list endpoint: clients cannot filter by @collection or @request
      if (reader.filter.includes('@collection.') || reader.filter.includes('@request.'))
        return { env, checks: [false], managed: false as Check }
      if (rule !== '') checks.push(decide(rule, true, env))
    }
    if (reader.filter !== '') checks.push(decide(reader.filter, su, env))
    const managed: Check =
      !su && c.type === 'auth' && c.manageRule && reader.request.auth
        ? decide(c.manageRule, true, env)
        : false
    return { env, checks, managed }
  })

  // the conditions left to the database, every reader's, in as few statements as allowed
  const answers = new Map<Check, boolean>()
  for (const r of results)
    for (const check of [...r.checks, r.managed])
      if (typeof check !== 'boolean')
        pending.push({ expression: check.expression, resolve: (ok) => answers.set(check, ok) })
  const ask = async (chunk: typeof pending) => {
    const row = (await deps.executor
      .with(ref, (db) => db.selectNoFrom(virtualRowColumns(deps.dialect, c, image)))
      .selectFrom(ref)
      .select(chunk.map((p, j) => sql<number>`CASE WHEN ${p.expression} THEN 1 ELSE 0 END`.as(`c${j}`)))
      .executeTakeFirst()) as Record<string, unknown> | undefined
    chunk.forEach((p, j) => p.resolve(row !== undefined && Number(row[`c${j}`]) === 1))
  }
  for (let i = 0; i < pending.length; i += MAX_CONDITIONS_PER_QUERY) {
    const chunk = pending.slice(i, i + MAX_CONDITIONS_PER_QUERY)
    try {
      await ask(chunk)
    } catch (err) {
      // one reader's condition failing must not hide the record from the others: each alone, and
      // the ones that fail do not hold (a database outage fails them all: the caller sees it)
      if (chunk.length === 1) throw err
      for (const p of chunk) {
        try {
          await ask([p])
        } catch {
          p.resolve(false)
        }
      }
    }
  }
  const holds = (check: Check) => (typeof check === 'boolean' ? check : answers.get(check) === true)

  return results.map((r) => {
    if (!r.checks.every(holds)) return undefined
    return rowToJSON(c, { ...image, [MANAGED]: holds(r.managed) ? 1 : 0 }, r.env, true)
  })
}
