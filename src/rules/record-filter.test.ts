import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { DialectName } from '../db/index.js'
import { postgresDialect } from '../db/dialects/postgres.js'
import { sqliteDialect } from '../db/dialects/sqlite.js'
import { COMPARE_OPS, MACROS, MODIFIERS } from '../filter/ast.js'
import { compilerOnly } from '../filter/test-database.test-helper.js'
import { NOW, openFixture, PG_URL, requestAs, type Fixture } from './fixture.test-helper.js'
import { CASES, type Case } from './golden-cases.test-helper.js'
import { compileRecordFilter, type RequestContext, type RuleEnv } from './index.js'

/** The golden table (golden-cases.test-helper.ts): exact SQL on both databases, and the same ids. */

function envFor(fx: Fixture, name: DialectName, request: RequestContext): RuleEnv {
  return {
    findCollection: (idOrName) => fx.collections.find(idOrName),
    dialect: name === 'sqlite' ? sqliteDialect : postgresDialect,
    request,
    now: NOW,
  }
}

function where(c: Case, fx: Fixture, name: DialectName, request: RequestContext) {
  const collection = fx.collection(c.collection ?? 'posts')
  const expr = compileRecordFilter(c.filter, { collection, privileged: !c.client }, envFor(fx, name, request))
  if (expr === undefined) throw new Error('empty filter')
  return expr
}

test('the golden table has at least 150 cases, each named once, each run on both databases', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(150)
  expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length)
})

test('the golden table uses every operator, modifier and datetime macro', () => {
  const text = CASES.map((c) => c.filter).join('\n')
  const ops = new Set(text.match(/\?!~|\?!=|\?>=|\?<=|\?[=~<>]|!~|!=|>=|<=|[=~<>]/g))
  expect([...COMPARE_OPS].filter((op) => !ops.has(op))).toEqual([])
  for (const m of MODIFIERS) expect(text).toContain(`:${m}`)
  for (const m of MACROS) expect(text).toContain(m)
  for (const f of ['_via_', '@collection.', ':m.', '@request.', 'geoDistance(', 'strftime(', 'meta.']) {
    expect(text).toContain(f)
  }
})

describe('record filters: golden SQL', () => {
  // The schema is the same on both databases: SQL for either is compiled from the SQLite fixture.
  let fx: Fixture
  beforeAll(async () => {
    fx = await openFixture('sqlite')
  })
  afterAll(async () => fx?.close())

  for (const name of ['sqlite', 'postgres'] as const) {
    test.each(CASES)(`${name}: $name: $filter`, async (c) => {
      const request = await requestAs(c.as ?? 'guest', fx)
      const table = c.collection ?? 'posts'
      const compiled = compilerOnly(name)
        .selectFrom(table)
        .select('id')
        .where(where(c, fx, name, request))
        .compile()
      const [text, parameters] = c[name]
      expect(compiled.sql).toBe(`select "id" from "${table}" where ${text}`)
      expect(compiled.parameters).toEqual(parameters)
    })
  }
})

for (const name of ['sqlite', 'postgres'] as const) {
  const skip = name === 'postgres' && !PG_URL
  describe.skipIf(skip)(
    `record filters on ${name}${skip ? ' (SKIPPED: GALLEY_TEST_PG_URL is not set)' : ''}`,
    () => {
      let fx: Fixture
      beforeAll(async () => {
        fx = await openFixture(name)
      })
      afterAll(async () => fx?.close())

      test.each(CASES)('$name: $filter', async (c) => {
        const request = await requestAs(c.as ?? 'guest', fx)
        const query = fx.database.db
          .selectFrom(c.collection ?? 'posts')
          .select('id')
          .where(where(c, fx, name, request))
          .orderBy('id')
        // the SQL run on the real schema is the golden one
        expect(query.compile().parameters).toEqual(c[name][1])
        expect((await query.execute()).map((r) => r.id)).toEqual(c.ids)
      })
    },
  )
}
