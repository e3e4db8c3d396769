import { sql } from 'kysely'
import { beforeAll, describe, expect, test } from 'vitest'
import type { DialectName } from '../db/index.js'
import { compileFilter, filterDialect, parseFilter, SimpleFieldResolver } from './index.js'
import { compilerOnly, describeEachDatabase } from './test-database.test-helper.js'

interface Case {
  readonly name: string
  readonly filter: string
  readonly sqlite: readonly [sql: string, parameters: readonly unknown[]]
  readonly postgres: readonly [sql: string, parameters: readonly unknown[]]
  /** The ids of the fixture rows it matches; cases without are only compiled. */
  readonly ids?: readonly string[]
}

const NOW = new Date('2024-06-15T08:00:00.000Z')

const resolver = new SimpleFieldResolver({
  id: 'text',
  title: 'text',
  nick: 'text',
  count: 'number',
  score: 'number',
  verified: 'bool',
  created: 'date',
  meta: 'json',
})

const ROWS = [
  {
    id: 'a',
    title: 'Hello World',
    nick: 'al',
    count: 5,
    score: 1.5,
    verified: true,
    created: '2024-01-10 10:00:00.000Z',
  },
  {
    id: 'b',
    title: 'hello_world 50%',
    nick: '',
    count: 10,
    score: null,
    verified: false,
    created: '2024-02-01 00:00:00.000Z',
  },
  {
    id: 'c',
    title: '',
    nick: null,
    count: 0,
    score: 0,
    verified: false,
    created: '2023-12-31 23:59:59.999Z',
  },
  {
    id: 'd',
    title: 'Ünïcode É',
    nick: 'DD',
    count: -2.5,
    score: -1,
    verified: true,
    created: '2024-06-15 12:30:00.000Z',
  },
  { id: 'e', title: '5', nick: 'e\\x', count: 5, score: null, verified: true, created: '' },
]

const CASES: readonly Case[] = [
  {
    name: 'text equals',
    filter: 'title = "Hello World"',
    sqlite: ['"title" = ?', ['Hello World']],
    postgres: ['"title" = $1', ['Hello World']],
    ids: ['a'],
  },
  {
    name: 'text not equals (NULL-safe)',
    filter: 'title != "Hello World"',
    sqlite: ['"title" IS NOT ?', ['Hello World']],
    postgres: ['"title" IS DISTINCT FROM $1', ['Hello World']],
    ids: ['b', 'c', 'd', 'e'],
  },
  {
    name: 'text equals empty string',
    filter: 'title = ""',
    sqlite: ['("title" = \'\' OR "title" IS NULL)', []],
    postgres: ['("title" = \'\' OR "title" IS NULL)', []],
    ids: ['c'],
  },
  {
    name: 'nullable text equals empty string matches NULL',
    filter: 'nick = ""',
    sqlite: ['("nick" = \'\' OR "nick" IS NULL)', []],
    postgres: ['("nick" = \'\' OR "nick" IS NULL)', []],
    ids: ['b', 'c'],
  },
  {
    name: 'equals null is equals empty',
    filter: 'nick = null',
    sqlite: ['("nick" = \'\' OR "nick" IS NULL)', []],
    postgres: ['("nick" = \'\' OR "nick" IS NULL)', []],
    ids: ['b', 'c'],
  },
  {
    name: 'not equals empty',
    filter: 'nick != ""',
    sqlite: ['("nick" <> \'\' AND "nick" IS NOT NULL)', []],
    postgres: ['("nick" <> \'\' AND "nick" IS NOT NULL)', []],
    ids: ['a', 'd', 'e'],
  },
  {
    name: 'not equals null',
    filter: 'nick != null',
    sqlite: ['("nick" <> \'\' AND "nick" IS NOT NULL)', []],
    postgres: ['("nick" <> \'\' AND "nick" IS NOT NULL)', []],
    ids: ['a', 'd', 'e'],
  },
  {
    name: 'empty literal on the left',
    filter: '"" = nick',
    sqlite: ['("nick" = \'\' OR "nick" IS NULL)', []],
    postgres: ['("nick" = \'\' OR "nick" IS NULL)', []],
    ids: ['b', 'c'],
  },
  {
    name: 'number equals',
    filter: 'count = 5',
    sqlite: ['"count" = ?', [5]],
    postgres: ['"count" = $1', [5]],
    ids: ['a', 'e'],
  },
  {
    name: 'number not equals',
    filter: 'count != 5',
    sqlite: ['"count" IS NOT ?', [5]],
    postgres: ['"count" IS DISTINCT FROM $1', [5]],
    ids: ['b', 'c', 'd'],
  },
  {
    name: 'number greater',
    filter: 'count > 4',
    sqlite: ['"count" > ?', [4]],
    postgres: ['"count" > $1', [4]],
    ids: ['a', 'b', 'e'],
  },
  {
    name: 'number greater or equal',
    filter: 'count >= 5',
    sqlite: ['"count" >= ?', [5]],
    postgres: ['"count" >= $1', [5]],
    ids: ['a', 'b', 'e'],
  },
  {
    name: 'number less',
    filter: 'count < 0',
    sqlite: ['"count" < ?', [0]],
    postgres: ['"count" < $1', [0]],
    ids: ['d'],
  },
  {
    name: 'number less or equal',
    filter: 'count <= 0',
    sqlite: ['"count" <= ?', [0]],
    postgres: ['"count" <= $1', [0]],
    ids: ['c', 'd'],
  },
  {
    name: 'literal on the left keeps its side',
    filter: '5 < count',
    sqlite: ['? < "count"', [5]],
    postgres: ['$1 < "count"', [5]],
    ids: ['b'],
  },
  {
    name: 'numeric text against a number',
    filter: 'count = "5"',
    sqlite: ['"count" = ?', [5]],
    postgres: ['"count" = $1', [5]],
    ids: ['a', 'e'],
  },
  {
    name: 'number against non-numeric text: numbers sort first (>)',
    filter: 'count > "abc"',
    sqlite: ['CASE WHEN "count" IS NOT NULL THEN FALSE END', []],
    postgres: ['CASE WHEN "count" IS NOT NULL THEN FALSE END', []],
    ids: [],
  },
  {
    name: 'number against non-numeric text: numbers sort first (<)',
    filter: 'count < "abc"',
    sqlite: ['CASE WHEN "count" IS NOT NULL THEN TRUE END', []],
    postgres: ['CASE WHEN "count" IS NOT NULL THEN TRUE END', []],
    ids: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: 'number never equals non-numeric text',
    filter: 'count = "abc"',
    sqlite: ['CASE WHEN "count" IS NOT NULL THEN FALSE END', []],
    postgres: ['CASE WHEN "count" IS NOT NULL THEN FALSE END', []],
    ids: [],
  },
  {
    name: 'number differs from non-numeric text',
    filter: 'count != "abc"',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: 'non-numeric text on the left mirrors the operator',
    filter: '"abc" > count',
    sqlite: ['CASE WHEN "count" IS NOT NULL THEN TRUE END', []],
    postgres: ['CASE WHEN "count" IS NOT NULL THEN TRUE END', []],
    ids: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: 'nullable number equals null',
    filter: 'score = null',
    sqlite: ['"score" IS NULL', []],
    postgres: ['"score" IS NULL', []],
    ids: ['b', 'e'],
  },
  {
    name: 'nullable number not null',
    filter: 'score != null',
    sqlite: ['"score" IS NOT NULL', []],
    postgres: ['"score" IS NOT NULL', []],
    ids: ['a', 'c', 'd'],
  },
  {
    name: 'number equals zero',
    filter: 'score = 0',
    sqlite: ['"score" = ?', [0]],
    postgres: ['"score" = $1', [0]],
    ids: ['c'],
  },
  {
    name: 'negative number literal',
    filter: 'score > -1',
    sqlite: ['"score" > ?', [-1]],
    postgres: ['"score" > $1', [-1]],
    ids: ['a', 'c'],
  },
  {
    name: 'bool equals true',
    filter: 'verified = true',
    sqlite: ['"verified" = ?', [1]],
    postgres: ['"verified" = $1', [true]],
    ids: ['a', 'd', 'e'],
  },
  {
    name: 'bool equals false',
    filter: 'verified = false',
    sqlite: ['"verified" = ?', [0]],
    postgres: ['"verified" = $1', [false]],
    ids: ['b', 'c'],
  },
  {
    name: 'bool not equals true',
    filter: 'verified != true',
    sqlite: ['"verified" IS NOT ?', [1]],
    postgres: ['"verified" IS DISTINCT FROM $1', [true]],
    ids: ['b', 'c'],
  },
  {
    name: 'bool not equals false',
    filter: 'verified != false',
    sqlite: ['"verified" IS NOT ?', [0]],
    postgres: ['"verified" IS DISTINCT FROM $1', [false]],
    ids: ['a', 'd', 'e'],
  },
  {
    name: 'bool against 1',
    filter: 'verified = 1',
    sqlite: ['"verified" = ?', [1]],
    postgres: ['"verified" = $1', [true]],
    ids: ['a', 'd', 'e'],
  },
  {
    name: 'bool against a fraction compares as a number',
    filter: 'verified > 0.5',
    sqlite: ['"verified" > ?', [0.5]],
    postgres: ['CAST(CAST("verified" AS INTEGER) AS DOUBLE PRECISION) > $1', [0.5]],
    ids: ['a', 'd', 'e'],
  },
  {
    name: 'number literal against text compares as text',
    filter: 'title = 5',
    sqlite: ['"title" = ?', ['5']],
    postgres: ['"title" = $1', ['5']],
    ids: ['e'],
  },
  {
    name: 'bool literal against text is 1/0',
    filter: 'title = true',
    sqlite: ['"title" = ?', ['1']],
    postgres: ['"title" = $1', ['1']],
    ids: [],
  },
  {
    name: 'contains (ASCII case-insensitive)',
    filter: 'title ~ "WORLD"',
    sqlite: ['"title" LIKE ? ESCAPE \'\\\'', ['%WORLD%']],
    postgres: ['"title" ILIKE $1 ESCAPE \'\\\'', ['%WORLD%']],
    ids: ['a', 'b'],
  },
  {
    name: 'not contains',
    filter: 'title !~ "world"',
    sqlite: ['"title" NOT LIKE ? ESCAPE \'\\\'', ['%world%']],
    postgres: ['"title" NOT ILIKE $1 ESCAPE \'\\\'', ['%world%']],
    ids: ['c', 'd', 'e'],
  },
  {
    name: 'percent makes a pattern (starts with)',
    filter: 'title ~ "hello%"',
    sqlite: ['"title" LIKE ? ESCAPE \'\\\'', ['hello%']],
    postgres: ['"title" ILIKE $1 ESCAPE \'\\\'', ['hello%']],
    ids: ['a', 'b'],
  },
  {
    name: 'escaped percent in a pattern',
    filter: 'title ~ "%50\\%"',
    sqlite: ['"title" LIKE ? ESCAPE \'\\\'', ['%50\\%']],
    postgres: ['"title" ILIKE $1 ESCAPE \'\\\'', ['%50\\%']],
    ids: ['b'],
  },
  {
    name: 'underscore is escaped in contains',
    filter: 'title ~ "o_w"',
    sqlite: ['"title" LIKE ? ESCAPE \'\\\'', ['%o\\_w%']],
    postgres: ['"title" ILIKE $1 ESCAPE \'\\\'', ['%o\\_w%']],
    ids: ['b'],
  },
  {
    name: 'unicode contains (same case)',
    filter: 'title ~ "Ünï"',
    sqlite: ['"title" LIKE ? ESCAPE \'\\\'', ['%Ünï%']],
    postgres: ['"title" ILIKE $1 ESCAPE \'\\\'', ['%Ünï%']],
    ids: ['d'],
  },
  {
    name: 'backslash is escaped in contains',
    filter: 'nick ~ "\\x"',
    sqlite: ['"nick" LIKE ? ESCAPE \'\\\'', ['%\\\\x%']],
    postgres: ['"nick" ILIKE $1 ESCAPE \'\\\'', ['%\\\\x%']],
    ids: ['e'],
  },
  {
    name: 'contains empty matches every non-NULL',
    filter: 'nick ~ ""',
    sqlite: ['"nick" LIKE ? ESCAPE \'\\\'', ['%%']],
    postgres: ['"nick" ILIKE $1 ESCAPE \'\\\'', ['%%']],
    ids: ['a', 'b', 'd', 'e'],
  },
  {
    name: 'contains null is unknown',
    filter: 'title ~ null',
    sqlite: ['NULL', []],
    postgres: ['NULL', []],
    ids: [],
  },
  {
    name: 'not contains null is unknown',
    filter: 'title !~ null',
    sqlite: ['NULL', []],
    postgres: ['NULL', []],
    ids: [],
  },
  {
    name: 'contains another field',
    filter: 'title ~ nick',
    sqlite: ["\"title\" LIKE ('%' || \"nick\" || '%') ESCAPE '\\'", []],
    postgres: ["\"title\" ILIKE ('%' || \"nick\" || '%') ESCAPE '\\'", []],
    ids: ['b'],
  },
  {
    name: 'number contains text',
    filter: 'count ~ "5"',
    sqlite: ['CAST("count" AS TEXT) LIKE ? ESCAPE \'\\\'', ['%5%']],
    postgres: ['CAST("count" AS TEXT) ILIKE $1 ESCAPE \'\\\'', ['%5%']],
    ids: ['a', 'd', 'e'],
  },
  {
    name: 'any-of equals on a single value',
    filter: 'count ?= 5',
    sqlite: ['"count" = ?', [5]],
    postgres: ['"count" = $1', [5]],
    ids: ['a', 'e'],
  },
  {
    name: 'any-of not contains on a single value',
    filter: 'title ?!~ "world"',
    sqlite: ['"title" NOT LIKE ? ESCAPE \'\\\'', ['%world%']],
    postgres: ['"title" NOT ILIKE $1 ESCAPE \'\\\'', ['%world%']],
    ids: ['c', 'd', 'e'],
  },
  {
    name: 'text equals text field (COALESCE)',
    filter: 'title = nick',
    sqlite: ['COALESCE("title", \'\') = COALESCE("nick", \'\')', []],
    postgres: ['COALESCE("title", \'\') = COALESCE("nick", \'\')', []],
    ids: ['c'],
  },
  {
    name: 'text not equals text field',
    filter: 'title != nick',
    sqlite: ['COALESCE("title", \'\') <> COALESCE("nick", \'\')', []],
    postgres: ['COALESCE("title", \'\') <> COALESCE("nick", \'\')', []],
    ids: ['a', 'b', 'd', 'e'],
  },
  {
    name: 'number equals number field (NULL-safe)',
    filter: 'count = score',
    sqlite: ['"count" IS "score"', []],
    postgres: ['"count" IS NOT DISTINCT FROM "score"', []],
    ids: ['c'],
  },
  {
    name: 'number greater than number field',
    filter: 'count > score',
    sqlite: ['"count" > "score"', []],
    postgres: ['"count" > "score"', []],
    ids: ['a'],
  },
  {
    // PocketBase's COALESCE(a, '') = COALESCE(b, '') has no affinity: '5' is not 5
    name: 'text never equals a number field',
    filter: 'title = count',
    sqlite: ['("count" IS NULL AND ("title" IS NULL OR "title" = \'\'))', []],
    postgres: ['("count" IS NULL AND ("title" IS NULL OR "title" = \'\'))', []],
    ids: [],
  },
  {
    name: 'bool equals number field compares as numbers',
    filter: 'verified = score',
    sqlite: ['"verified" IS "score"', []],
    postgres: ['CAST(CAST("verified" AS INTEGER) AS DOUBLE PRECISION) IS NOT DISTINCT FROM "score"', []],
    ids: ['c'],
  },
  {
    name: 'bool less than number field',
    filter: 'verified < count',
    sqlite: ['"verified" < "count"', []],
    postgres: ['CAST(CAST("verified" AS INTEGER) AS DOUBLE PRECISION) < "count"', []],
    ids: ['a', 'b', 'e'],
  },
  {
    name: 'date greater than text',
    filter: 'created > "2024-01-01"',
    sqlite: ['"created" > ?', ['2024-01-01']],
    postgres: ['"created" > $1', ['2024-01-01']],
    ids: ['a', 'b', 'd'],
  },
  {
    name: 'date equals empty',
    filter: 'created = ""',
    sqlite: ['("created" = \'\' OR "created" IS NULL)', []],
    postgres: ['("created" = \'\' OR "created" IS NULL)', []],
    ids: ['e'],
  },
  {
    name: 'macro @todayStart',
    filter: 'created >= @todayStart',
    sqlite: ['"created" >= ?', ['2024-06-15 00:00:00.000Z']],
    postgres: ['"created" >= $1', ['2024-06-15 00:00:00.000Z']],
    ids: ['d'],
  },
  {
    name: 'macro @monthStart',
    filter: 'created < @monthStart',
    sqlite: ['"created" < ?', ['2024-06-01 00:00:00.000Z']],
    postgres: ['"created" < $1', ['2024-06-01 00:00:00.000Z']],
    ids: ['a', 'b', 'c', 'e'],
  },
  {
    name: 'macro @year folds',
    filter: '@year = 2024',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: 'macro @month folds',
    filter: '@month > 6',
    sqlite: ['FALSE', []],
    postgres: ['FALSE', []],
    ids: [],
  },
  {
    name: 'two literals fold to TRUE',
    filter: '1 = 1',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: 'two literals fold to FALSE',
    filter: '"a" = "b"',
    sqlite: ['FALSE', []],
    postgres: ['FALSE', []],
    ids: [],
  },
  {
    name: 'number and text literals differ',
    filter: '5 = "5"',
    sqlite: ['FALSE', []],
    postgres: ['FALSE', []],
    ids: [],
  },
  {
    name: 'empty and null literals are equal',
    filter: '"" = null',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: 'numeric literals compare as numbers',
    filter: '10 > 9',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: 'literal contains literal',
    filter: '"abc" ~ "B"',
    sqlite: ['TRUE', []],
    postgres: ['TRUE', []],
    ids: ['a', 'b', 'c', 'd', 'e'],
  },
  {
    name: '&& binds tighter than OR',
    filter: 'title = "" || count = 5 && verified = true',
    sqlite: ['(("title" = \'\' OR "title" IS NULL) OR ("count" = ? AND "verified" = ?))', [5, 1]],
    postgres: ['(("title" = \'\' OR "title" IS NULL) OR ("count" = $1 AND "verified" = $2))', [5, true]],
    ids: ['a', 'c', 'e'],
  },
  {
    name: 'parentheses group',
    filter: '(title = "" || count = 5) && verified = true',
    sqlite: ['((("title" = \'\' OR "title" IS NULL) OR "count" = ?) AND "verified" = ?)', [5, 1]],
    postgres: ['((("title" = \'\' OR "title" IS NULL) OR "count" = $1) AND "verified" = $2)', [5, true]],
    ids: ['a', 'e'],
  },
  {
    name: 'or of ids',
    filter: 'id = "a" || id = "b"',
    sqlite: ['("id" = ? OR "id" = ?)', ['a', 'b']],
    postgres: ['("id" = $1 OR "id" = $2)', ['a', 'b']],
    ids: ['a', 'b'],
  },
  {
    name: 'lower modifier',
    filter: 'title:lower = "hello world"',
    sqlite: ['LOWER("title") = ?', ['hello world']],
    postgres: ['LOWER("title") = $1', ['hello world']],
    ids: ['a'],
  },
  {
    name: 'geoDistance',
    filter: 'geoDistance(count, score, 0, 0) < 600',
    sqlite: [
      '(6371 * acos(min(max(cos(radians("score")) * cos(radians(?)) * cos(radians(?) - radians("count")) + sin(radians("score")) * sin(radians(?)), -1), 1))) < ?',
      [0, 0, 0, 600],
    ],
    postgres: [
      '(6371 * acos((SELECT CASE WHEN "~c"."v" IS NULL THEN NULL ELSE LEAST(GREATEST("~c"."v", -1), 1) END FROM (SELECT cos(radians("score")) * cos(radians($1)) * cos(radians($2) - radians("count")) + sin(radians("score")) * sin(radians($3)) AS "v") AS "~c"))) < $4',
      [0, 0, 0, 600],
    ],
    ids: ['a', 'c', 'd'],
  },
  {
    name: 'json equals (no coalescing)',
    filter: 'meta = 5',
    sqlite: ['"meta" IS ?', [5]],
    postgres: [
      `(SELECT (CASE jsonb_typeof("~j"."v") WHEN 'number' THEN CAST(("~j"."v" #>> '{}') AS DOUBLE PRECISION) WHEN 'boolean' THEN CASE WHEN ("~j"."v" #>> '{}') = 'true' THEN 1 ELSE 0 END END) IS NOT DISTINCT FROM $1 FROM (SELECT "meta" AS "v") AS "~j")`,
      [5],
    ],
  },
  {
    name: 'json equals null',
    filter: 'meta = null',
    sqlite: ['"meta" IS NULL', []],
    postgres: [`COALESCE(jsonb_typeof("meta"), 'null') = 'null'`, []],
  },
  {
    name: 'json not equals text',
    filter: 'meta != "x"',
    sqlite: ['"meta" IS NOT ?', ['x']],
    postgres: [
      `(SELECT (CASE WHEN jsonb_typeof("~j"."v") = 'string' THEN ("~j"."v" #>> '{}') END) IS DISTINCT FROM $1 FROM (SELECT "meta" AS "v") AS "~j")`,
      ['x'],
    ],
  },
]

function where(name: DialectName, filter: string) {
  return compileFilter(parseFilter(filter)!, resolver, filterDialect(name), { now: NOW })
}

describe.each(['sqlite', 'postgres'] as const)('compileFilter golden SQL: %s', (name) => {
  const db = compilerOnly(name)
  test.each(CASES)('$name: $filter', (c) => {
    const compiled = db.selectFrom('t').selectAll().where(where(name, c.filter)).compile()
    const [text, parameters] = c[name]
    expect(compiled.sql).toBe(`select * from "t" where ${text}`)
    expect(compiled.parameters).toEqual(parameters)
  })
})

test('the golden table has at least 40 cases, most of them executed', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(40)
  expect(CASES.filter((c) => c.ids !== undefined).length).toBeGreaterThanOrEqual(40)
})

const DDL: Record<DialectName, string> = {
  sqlite: `CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, title TEXT DEFAULT '' NOT NULL, nick TEXT NULL,
    count NUMERIC DEFAULT 0 NOT NULL, score NUMERIC NULL, verified BOOLEAN DEFAULT FALSE NOT NULL,
    created TEXT DEFAULT '' NOT NULL, meta JSON DEFAULT NULL)`,
  postgres: `CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL DEFAULT '', nick TEXT NULL,
    count DOUBLE PRECISION NOT NULL DEFAULT 0, score DOUBLE PRECISION NULL, verified BOOLEAN NOT NULL DEFAULT FALSE,
    created TEXT NOT NULL DEFAULT '', meta JSONB DEFAULT NULL)`,
}

describeEachDatabase('compiled filters', (name, db) => {
  beforeAll(async () => {
    await sql.raw(DDL[name]).execute(db())
    const bool = filterDialect(name).bool
    await db()
      .insertInto('t')
      .values(ROWS.map((r) => ({ ...r, verified: bool(r.verified) })))
      .execute()
  })

  test.each(CASES.filter((c) => c.ids !== undefined))('$name: $filter', async (c) => {
    const rows = await db().selectFrom('t').select('id').where(where(name, c.filter)).orderBy('id').execute()
    expect(rows.map((r) => r.id)).toEqual(c.ids)
  })
})
