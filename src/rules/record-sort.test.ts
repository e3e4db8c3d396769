import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { DialectName } from '../db/index.js'
import { postgresDialect } from '../db/dialects/postgres.js'
import { sqliteDialect } from '../db/dialects/sqlite.js'
import { FilterResolveError, FilterSyntaxError } from '../filter/index.js'
import { compilerOnly } from '../filter/test-database.test-helper.js'
import { NOW, openFixture, PG_URL, requestAs, type As, type Fixture } from './fixture.test-helper.js'
import { compileRecordSort } from './index.js'

interface SortCase {
  readonly sort: string
  readonly as?: As
  readonly client?: true
  /** The ORDER BY clause on each database. */
  readonly sqlite: string
  readonly postgres: string
  readonly ids: readonly string[]
}

const AUTHOR_EMAIL = (q: string) =>
  `CASE WHEN (SELECT "users~1"."emailVisibility" = TRUE FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = ${q}) THEN (SELECT "users~1"."email" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author" AND "users~1"."id" = ${q}) END`

const CASES: readonly SortCase[] = [
  {
    sort: '-views,title',
    sqlite: '"posts"."views" desc nulls last, "posts"."title" asc nulls first',
    postgres: '"posts"."views" desc nulls last, "posts"."title" asc nulls first',
    ids: ['p4', 'p1', 'p5', 'p2', 'p7', 'p6', 'p3'],
  },
  {
    sort: 'author.name, id',
    sqlite:
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") asc nulls first, "posts"."id" asc nulls first',
    postgres:
      '(SELECT "users~1"."name" FROM "users" AS "users~1" WHERE "users~1"."id" = "posts"."author") asc nulls first, "posts"."id" asc nulls first',
    ids: ['p3', 'p7', 'p5', 'p1', 'p4', 'p2', 'p6'],
  },
  {
    sort: '-tags.name,id',
    sqlite:
      '(SELECT "tags~4"."name" FROM (SELECT 1) AS "~" LEFT JOIN json_each(CASE WHEN json_valid("posts"."tags") THEN "posts"."tags" WHEN "posts"."tags" IS NULL OR "posts"."tags" = \'\' THEN \'[]\' ELSE json_array("posts"."tags") END) AS "each~3" ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" ORDER BY 1 ASC NULLS LAST LIMIT 1) desc nulls last, "posts"."id" asc nulls first',
    postgres:
      '(SELECT "tags~4"."name" FROM (SELECT 1) AS "~" LEFT JOIN LATERAL jsonb_array_elements_text("posts"."tags") AS "each~3"("value") ON TRUE LEFT JOIN "tags" AS "tags~4" ON "tags~4"."id" = "each~3"."value" ORDER BY 1 ASC NULLS LAST LIMIT 1) desc nulls last, "posts"."id" asc nulls first',
    ids: ['p5', 'p4', 'p1', 'p3', 'p2', 'p6', 'p7'],
  },
  {
    sort: '@rowid',
    sqlite: '"posts"."_rowid_" asc nulls first',
    postgres: 'CAST("posts"."_rowid_" AS DOUBLE PRECISION) asc nulls first',
    ids: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  },
  {
    sort: '-@rowid',
    sqlite: '"posts"."_rowid_" desc nulls last',
    postgres: 'CAST("posts"."_rowid_" AS DOUBLE PRECISION) desc nulls last',
    ids: ['p7', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1'],
  },
  {
    sort: 'meta.status,id',
    sqlite: 'json_extract("posts"."meta", ?) asc nulls first, "posts"."id" asc nulls first',
    postgres: '("posts"."meta" #> CAST($1 AS text[])) asc nulls first, "posts"."id" asc nulls first',
    ids: ['p3', 'p5', 'p6', 'p7', 'p1', 'p4', 'p2'],
  },
  {
    // a client sees another user's email only where it is visible, and only users it may list
    sort: 'author.email,id',
    as: 'u1',
    client: true,
    sqlite: `${AUTHOR_EMAIL('?')} asc nulls first, "posts"."id" asc nulls first`,
    postgres: `${AUTHOR_EMAIL('$1').replace('= $1) END', '= $2) END')} asc nulls first, "posts"."id" asc nulls first`,
    ids: ['p2', 'p3', 'p5', 'p6', 'p7', 'p1', 'p4'],
  },
  {
    // a value of the request orders nothing
    sort: '@request.auth.id,-id',
    as: 'u1',
    sqlite: '"posts"."id" desc nulls last',
    postgres: '"posts"."id" desc nulls last',
    ids: ['p7', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1'],
  },
]

function envFor(fx: Fixture, name: DialectName, request: Awaited<ReturnType<typeof requestAs>>) {
  return {
    findCollection: (x: string) => fx.collections.find(x),
    dialect: name === 'sqlite' ? sqliteDialect : postgresDialect,
    request,
    now: NOW,
  }
}

function ordered(
  fx: Fixture,
  name: DialectName,
  db: 'compile' | 'run',
  c: SortCase,
  request: Parameters<typeof envFor>[2],
) {
  const items = compileRecordSort(
    c.sort,
    { collection: fx.collection('posts'), privileged: !c.client },
    envFor(fx, name, request),
  )
  let query = (db === 'compile' ? compilerOnly(name) : fx.database.db).selectFrom('posts').select('id')
  for (const item of items) query = query.orderBy(item.expression, item.modifiers)
  return query
}

describe('record sort: golden SQL', () => {
  let fx: Fixture
  beforeAll(async () => {
    fx = await openFixture('sqlite')
  })
  afterAll(async () => fx?.close())

  for (const name of ['sqlite', 'postgres'] as const) {
    test.each(CASES)(`${name}: $sort`, async (c) => {
      const compiled = ordered(fx, name, 'compile', c, await requestAs(c.as ?? 'guest', fx)).compile()
      expect(compiled.sql).toBe(`select "id" from "posts" order by ${c[name]}`)
    })
  }

  test('items carry their direction; @random sorts randomly', async () => {
    const env = envFor(fx, 'sqlite', await requestAs('guest', fx))
    const items = compileRecordSort(
      '-title,@random',
      { collection: fx.collection('posts'), privileged: false },
      env,
    )
    expect(items.map((i) => i.direction)).toEqual(['desc', 'asc'])
    expect(compileRecordSort('', { collection: fx.collection('posts'), privileged: false }, env)).toEqual([])
  })

  test('a client sorts by no hidden field, and by nothing behind a locked listRule', async () => {
    const env = envFor(fx, 'sqlite', await requestAs('guest', fx))
    const target = { collection: fx.collection('posts'), privileged: false }
    expect(() => compileRecordSort('secret', target, env)).toThrow(FilterResolveError)
    expect(() => compileRecordSort('-category.name', target, env)).toThrow(FilterResolveError)
    expect(() => compileRecordSort('"title"', target, env)).toThrow(FilterSyntaxError)
  })
})

for (const name of ['sqlite', 'postgres'] as const) {
  const skip = name === 'postgres' && !PG_URL
  describe.skipIf(skip)(
    `record sort on ${name}${skip ? ' (SKIPPED: GALLEY_TEST_PG_URL is not set)' : ''}`,
    () => {
      let fx: Fixture
      beforeAll(async () => {
        fx = await openFixture(name)
      })
      afterAll(async () => fx?.close())

      test.each(CASES)('$sort', async (c) => {
        const rows = await ordered(fx, name, 'run', c, await requestAs(c.as ?? 'guest', fx)).execute()
        expect(rows.map((r) => r.id)).toEqual(c.ids)
      })
    },
  )
}
