import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely'
import type { Executor } from '../db/index.js'
import { filterDialect } from '../filter/index.js'
import { badRequest, type Logger } from '../lib/index.js'
import { ruleCondition, type RuleEnv } from '../rules/index.js'
import { FIELD_TYPES, type Collection } from '../schema/index.js'
import type { ExpandNode } from './expand-plan.js'
import { MANAGED, managedExpression, rowToJSON, type RecordJSON, type RecordRow } from './serialize.js'

/** Back-relation records expanded per parent record (PocketBase's arbitrary 1000), oldest first. */
export const MAX_BACK_RELATION_EXPAND = 1000
/** Records fetched for the expansions of one response, all paths and levels together. */
export const MAX_EXPAND_RECORDS = 10_000
/** Ids (or parent ids) bound to one expand query; more are fetched in several queries. */
export const MAX_EXPAND_IDS_PER_QUERY = 1000

export interface ExpandEnv {
  readonly executor: Executor
  /** The requester, with `@request.context` = "expand". */
  readonly rules: RuleEnv
  readonly superuser: boolean
  /**
   * Past MAX_EXPAND_RECORDS, `refuse` answers 400 (a read, nothing done yet); `omit` leaves the
   * relation out and logs it (a write that is already committed must not look failed).
   */
  readonly overflow: 'refuse' | 'omit'
  readonly logger: Logger
}

class Overflow extends Error {}

/** A node's records: each parent's in order, and all of them once (the parents of the next level). */
interface Fetched {
  readonly of: (parent: RecordJSON) => RecordJSON[]
  readonly records: RecordJSON[]
}

/**
 * Runs `fn` so that its failure leaves a surrounding transaction usable: inside one (a batch), in a
 * savepoint rolled back on error, since PostgreSQL refuses every later statement of a transaction
 * after a failed one. Expand failures are left out of the response; the batch must go on.
 */
async function isolated<T>(ex: Executor, fn: () => Promise<T>): Promise<T> {
  if (!ex.isTransaction) return fn()
  await sql`SAVEPOINT galley_expand`.execute(ex)
  try {
    const result = await fn()
    await sql`RELEASE SAVEPOINT galley_expand`.execute(ex)
    return result
  } catch (err) {
    await sql`ROLLBACK TO SAVEPOINT galley_expand`.execute(ex)
    await sql`RELEASE SAVEPOINT galley_expand`.execute(ex)
    throw err
  }
}

/**
 * Sets `expand` on `records` (all of one collection) as `plan` says (§5.2). One query per relation
 * path, whatever the number of records (MAX_EXPAND_IDS_PER_QUERY ids per query): ids are collected
 * across all parents, fetched through the target's viewRule (superusers: no rule), then given back
 * to each parent. Every record gets `expand`, `{}` when nothing was found. A relation that cannot be
 * expanded is left out and logged, never failing the request (except `refuse` past the limit).
 */
export async function expandRecords(
  env: ExpandEnv,
  records: RecordJSON[],
  plan: ExpandNode[],
): Promise<void> {
  if (plan.length === 0) return
  for (const r of records) r.expand = {}
  const budget = { left: MAX_EXPAND_RECORDS }
  for (const node of plan) await expandNode(env, budget, records, node, node.key)
}

async function expandNode(
  env: ExpandEnv,
  budget: { left: number },
  parents: RecordJSON[],
  node: ExpandNode,
  path: string,
): Promise<void> {
  let fetched: Fetched
  try {
    fetched = await isolated(env.executor, () =>
      node.via ? backRelation(env, budget, parents, node) : forward(env, budget, parents, node),
    )
  } catch (err) {
    if (err instanceof Overflow && env.overflow === 'refuse')
      throw badRequest(
        `Too many records to expand (more than ${MAX_EXPAND_RECORDS}): ask for fewer records or fewer expand paths.`,
      )
    env.logger.warn({ err, path }, 'expand: relation left out')
    return
  }
  if (node.children.length > 0) {
    for (const r of fetched.records) r.expand = {}
    for (const child of node.children)
      await expandNode(env, budget, fetched.records, child, `${path}.${child.key}`)
  }
  for (const p of parents) {
    const list = fetched.of(p)
    if (list.length > 0) (p.expand as RecordJSON)[node.key] = node.single ? list[0] : list
  }
}

function idsOf(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : []
}

function* chunks<T>(items: T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += MAX_EXPAND_IDS_PER_QUERY)
    yield items.slice(i, i + MAX_EXPAND_IDS_PER_QUERY)
}

/** A forward relation: the stored ids of every parent, one `id IN (…)` query. */
async function forward(
  env: ExpandEnv,
  budget: { left: number },
  parents: RecordJSON[],
  node: ExpandNode,
): Promise<Fetched> {
  const name = node.field!.name
  const ids = new Set<string>()
  for (const p of parents) for (const id of idsOf(p[name])) ids.add(id)
  const byId = new Map<string, RecordJSON>()
  const t = node.target
  for (const chunk of chunks([...ids])) {
    const rows = await select(env, budget, t, {
      extra: sql``,
      from: sql.table(t.name),
      where: sql<SqlBool>`${sql.ref(`${t.name}.id`)} IN ${idList(env, chunk)}`,
      suffix: sql``,
    })
    for (const row of rows) byId.set(row.id as string, rowToJSON(t, row, env.rules))
  }
  return {
    records: [...byId.values()],
    of: (p: RecordJSON) => {
      const out: RecordJSON[] = []
      for (const id of idsOf(p[name])) {
        const r = byId.get(id)
        if (r) out.push(r)
      }
      return out
    },
  }
}

/**
 * `<target>_via_<field>`: the target's records whose `field` holds a parent's id, at most
 * MAX_BACK_RELATION_EXPAND per parent in insertion order, for all parents in one query (a window
 * numbers each parent's records; a multiple relation is unnested so each parent counts its own).
 */
async function backRelation(
  env: ExpandEnv,
  budget: { left: number },
  parents: RecordJSON[],
  node: ExpandNode,
): Promise<Fetched> {
  const t = node.target
  const via = node.via!
  const d = filterDialect(env.rules.dialect.name)
  const multiple = FIELD_TYPES.get(via.type)?.multiple?.(via) ?? false
  const column = sql.ref(`${t.name}.${via.name}`)
  const parent = multiple ? sql.ref('~p.value') : column
  const order = t.type === 'view' ? sql.ref(`${t.name}.id`) : sql.ref(`${t.name}._rowid_`)
  const byParent = new Map<string, RecordJSON[]>()
  const byId = new Map<string, RecordJSON>()
  for (const chunk of chunks(parents.map((p) => p.id as string))) {
    const rows = await select(env, budget, t, {
      extra: sql`, ${parent} AS "~parent", ROW_NUMBER() OVER (PARTITION BY ${parent} ORDER BY ${order}) AS "~n"`,
      from: multiple
        ? sql`${sql.table(t.name)} CROSS JOIN ${d.jsonEach(d.jsonArrayOf(column), '~p')}`
        : sql.table(t.name),
      where: sql<SqlBool>`${parent} IN ${idList(env, chunk)}`,
      suffix: sql` ORDER BY "~n"`,
      window: MAX_BACK_RELATION_EXPAND,
    })
    for (const row of rows) {
      const id = row.id as string
      let json = byId.get(id)
      if (!json) byId.set(id, (json = rowToJSON(t, row, env.rules)))
      const key = row['~parent'] as string
      const list = byParent.get(key)
      if (list) list.push(json)
      else byParent.set(key, [json])
    }
  }
  return { records: [...byId.values()], of: (p: RecordJSON) => byParent.get(p.id as string) ?? [] }
}

/** `(SELECT value FROM json_each(?))`: every id list is one bound JSON text, one statement text. */
function idList(env: ExpandEnv, ids: string[]): RawBuilder<unknown> {
  const d = filterDialect(env.rules.dialect.name)
  return sql`(SELECT ${sql.ref('~i.value')} FROM ${d.jsonEach(d.jsonValue(JSON.stringify(ids)), '~i')})`
}

interface Shape {
  /** More selected columns, after the record's. */
  readonly extra: RawBuilder<unknown>
  readonly from: Expression<unknown>
  readonly where: Expression<SqlBool>
  readonly suffix: RawBuilder<unknown>
  /** Rows per parent (a `~n` column numbers them). */
  readonly window?: number
}

/**
 * The records of `t` matching `shape.where` and `t`'s viewRule for this requester, with the columns
 * recordToJSON reads (and MANAGED), at most `budget.left` of them (Overflow past it).
 */
async function select(
  env: ExpandEnv,
  budget: { left: number },
  t: Collection,
  shape: Shape,
): Promise<RecordRow[]> {
  let where = shape.where
  if (!env.superuser) {
    const rule = ruleCondition(t.viewRule, t, env.rules)
    if (rule === 'superusers') return []
    if (rule !== 'anyone') where = sql<SqlBool>`${where} AND (${rule})`
  }
  const managed = managedExpression(t, env.rules)
  const columns = sql.join([
    ...t.fields.map((f) => sql.ref(`${t.name}.${f.name}`)),
    ...(managed ? [sql`${managed} AS ${sql.id(MANAGED)}`] : []),
  ])
  const limit = budget.left + 1
  const inner = sql`SELECT ${columns}${shape.extra} FROM ${shape.from} WHERE ${where}`
  const query =
    shape.window === undefined
      ? sql<RecordRow>`${inner}${shape.suffix} LIMIT ${limit}`
      : sql<RecordRow>`SELECT * FROM (${inner}) AS "~b" WHERE "~n" <= ${shape.window}${shape.suffix} LIMIT ${limit}`
  const { rows } = await query.execute(env.executor)
  if (rows.length > budget.left) throw new Overflow()
  budget.left -= rows.length
  return rows
}
