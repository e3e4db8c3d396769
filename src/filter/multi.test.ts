import { sql, type SqlBool } from 'kysely'
import { beforeAll, describe, expect, test } from 'vitest'
import type { DialectName } from '../db/index.js'
import type { IdentifierNode } from './ast.js'
import {
  compileFilter,
  FilterResolveError,
  filterDialect,
  MAX_JOINS_PER_QUERY,
  parseFilter,
} from './index.js'
import type { FieldResolver, Join, Resolved } from './resolve.js'
import { compilerOnly, describeEachDatabase } from './test-database.test-helper.js'

/**
 * Multi-valued operands through a tiny resolver over `t(id, vals)`: `vals` is the items of the JSON
 * array `t.vals` (match-all), `anyvals` the same items as an any-of operand, `n` a text column,
 * `chain<N>` an operand over N joins (for the join limit).
 */
function resolver(name: DialectName): FieldResolver {
  const d = filterDialect(name)
  let n = 0
  const each = (alias: string): Join => ({
    alias,
    source: d.jsonEach(sql.ref('t.vals'), alias),
    on: sql<SqlBool>`TRUE`,
  })
  return {
    resolve(id: IdentifierNode): Resolved {
      if (id.path === 'n') return { expression: sql.ref('t.n'), kind: 'text' }
      const chain = /^chain(\d+)$/.exec(id.path)
      const count = chain ? Number(chain[1]) : 1
      const joins = (prefix: string) => Array.from({ length: count }, (_, i) => each(`${prefix}${i}`))
      const shared = joins('j')
      return {
        type: 'multiple',
        expression: sql.ref(`j${count - 1}.value`),
        kind: 'text',
        joins: shared,
        matchAll: id.path !== 'anyvals',
        isolated() {
          const fresh = joins(`i${++n}_`)
          return { expression: sql.ref(`${fresh.at(-1)!.alias}.value`), joins: fresh }
        },
      }
    },
  }
}

const where = (name: DialectName, filter: string) =>
  compileFilter(parseFilter(filter)!, resolver(name), filterDialect(name))

describe.each(['sqlite', 'postgres'] as const)('multi-valued lowering: %s', (name) => {
  const db = compilerOnly(name)
  const sqlOf = (filter: string) =>
    db
      .selectFrom('t')
      .select('id')
      .where(where(name, filter))
      .compile()
      .sql.replace('select "id" from "t" where ', '')
  const each = (alias: string) =>
    name === 'sqlite'
      ? `json_each("t"."vals") AS "${alias}"`
      : `LATERAL jsonb_array_elements_text("t"."vals") AS "${alias}"("value")`

  test('any-of: one EXISTS over the joins', () => {
    expect(sqlOf('vals ?= "a"')).toBe(
      `EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN ${each('j0')} ON TRUE WHERE "j0"."value" = ${name === 'sqlite' ? '?' : '$1'})`,
    )
  })

  test('match-all: no value may fail, over isolated joins', () => {
    const [p1, p2] = name === 'sqlite' ? ['?', '?'] : ['$1', '$2']
    expect(sqlOf('vals = "a"')).toBe(
      `EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN ${each('j0')} ON TRUE WHERE ("j0"."value" = ${p1} AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "~" LEFT JOIN ${each('i1_0')} ON TRUE WHERE NOT ("i1_0"."value" = ${p2}))))`,
    )
  })

  test('conjuncts sharing a join are quantified together; others stay outside', () => {
    const out = sqlOf('vals ?= "a" && n = "x" && vals ?= "b"')
    expect(out.match(/EXISTS/g)).toHaveLength(1)
    expect(out).toMatch(
      /^\(EXISTS \(.* WHERE \("j0"\."value" = \S+ AND "j0"\."value" = \S+\)\) AND "t"\."n" = \S+\)$/,
    )
  })

  test('each OR branch is quantified on its own', () => {
    expect(sqlOf('vals ?= "a" || vals ?= "b"').match(/EXISTS/g)).toHaveLength(2)
  })

  test(`at most ${MAX_JOINS_PER_QUERY} joins in one subquery`, () => {
    expect(() => sqlOf(`chain${MAX_JOINS_PER_QUERY} ?= "a"`)).not.toThrow()
    expect(() => sqlOf(`chain${MAX_JOINS_PER_QUERY + 1} ?= "a"`)).toThrow(FilterResolveError)
  })
})

interface EmptySetCase {
  readonly filter: string
  /** Rows: a = ["a","b"], e = [] (empty set), x = ["x"]. */
  readonly ids: readonly string[]
}

// pocketbase-api.md §4.7: on an empty set `=`, `~`, `>` are false, `!=` and `!~` true (match-all);
// the any-of forms range over the empty set's one NULL row.
const EMPTY_SET: readonly EmptySetCase[] = [
  { filter: 'vals = "a"', ids: [] },
  { filter: 'vals = "x"', ids: ['x'] },
  { filter: 'vals != "a"', ids: ['e', 'x'] },
  { filter: 'vals ~ "a"', ids: [] },
  { filter: 'vals !~ "a"', ids: ['e', 'x'] },
  { filter: 'vals > "a"', ids: ['x'] },
  { filter: 'vals >= "a"', ids: ['a', 'x'] },
  { filter: 'vals < "z"', ids: ['a', 'x'] },
  { filter: 'vals ?= "a"', ids: ['a'] },
  { filter: 'vals ?!= "a"', ids: ['a', 'e', 'x'] },
  { filter: 'vals ?~ "a"', ids: ['a'] },
  { filter: 'vals ?!~ "a"', ids: ['a', 'x'] },
  { filter: 'vals ?> "a"', ids: ['a', 'x'] },
  { filter: 'vals = ""', ids: ['e'] },
  { filter: 'vals != ""', ids: ['a', 'x'] },
  { filter: 'anyvals = "b"', ids: ['a'] },
  { filter: 'anyvals != "b"', ids: ['a', 'e', 'x'] },
  { filter: 'vals = n', ids: ['x'] },
  { filter: 'vals ?= n', ids: ['a', 'x'] },
]

describeEachDatabase('match-all and any-of on empty and non-empty sets', (name, db) => {
  beforeAll(async () => {
    const json = name === 'sqlite' ? 'JSON' : 'JSONB'
    await sql
      .raw(`CREATE TABLE t (id TEXT PRIMARY KEY, n TEXT NOT NULL, vals ${json} NOT NULL)`)
      .execute(db())
    await db()
      .insertInto('t')
      .values([
        { id: 'a', n: 'a', vals: '["a","b"]' },
        { id: 'e', n: 'e', vals: '[]' },
        { id: 'x', n: 'x', vals: '["x"]' },
      ])
      .execute()
  })

  test.each(EMPTY_SET)('$filter', async (c) => {
    const rows = await db().selectFrom('t').select('id').where(where(name, c.filter)).orderBy('id').execute()
    expect(rows.map((r) => r.id)).toEqual(c.ids)
  })
})
