import fc from 'fast-check'
import { type Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { DialectName } from '../db/index.js'
import { compileFilter, FilterError, filterDialect, parseFilter, SimpleFieldResolver } from './index.js'
import { openTestDatabase, type TestDatabase } from './test-database.test-helper.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the fixture table is untyped */

const PG = Boolean(process.env.GALLEY_TEST_PG_URL)
const NOW = new Date('2024-06-15T08:00:00.000Z')

const resolver = new SimpleFieldResolver({
  id: 'text',
  title: 'text',
  nick: 'text',
  count: 'number',
  score: 'number',
  verified: 'bool',
  created: 'date',
})

const DDL: Record<DialectName, string> = {
  sqlite: `CREATE TABLE t (id TEXT PRIMARY KEY, title TEXT NOT NULL, nick TEXT NULL, count NUMERIC NOT NULL,
    score NUMERIC NULL, verified BOOLEAN NOT NULL, created TEXT NOT NULL)`,
  postgres: `CREATE TABLE t (id TEXT PRIMARY KEY, title TEXT NOT NULL, nick TEXT NULL, count DOUBLE PRECISION NOT NULL,
    score DOUBLE PRECISION NULL, verified BOOLEAN NOT NULL, created TEXT NOT NULL)`,
}

const ROWS = [
  ['a', 'Hello World', 'al', 5, 1.5, true, '2024-01-10 10:00:00.000Z'],
  ['b', 'hello_world 50%', '', 10, null, false, '2024-02-01 00:00:00.000Z'],
  ['c', '', null, 0, 0, false, '2023-12-31 23:59:59.999Z'],
  ['d', 'Ünïcode É', 'DD', -2.5, -1, true, '2024-06-15 12:30:00.000Z'],
  ['e', '5', 'e\\x', 5, null, true, ''],
  ['f', 'abc', 'ABC', 0.5, 10, false, '2024-06-15 00:00:00.000Z'],
  ['g', '10', '9', 100, 5, true, '2024-06-14 23:59:59.999Z'],
] as const

async function setUp(name: DialectName): Promise<TestDatabase> {
  const database = await openTestDatabase(name)
  await sql.raw(DDL[name]).execute(database.db)
  const bool = filterDialect(name).bool
  await database.db
    .insertInto('t')
    .values(
      ROWS.map(([id, title, nick, count, score, verified, created]) => ({
        id,
        ...{ title, nick, count, score, created },
        verified: bool(verified),
      })),
    )
    .execute()
  return database
}

async function ids(db: Kysely<any>, name: DialectName, filter: string): Promise<string[]> {
  const ast = parseFilter(filter)
  let query = db.selectFrom('t').select('id').orderBy('id')
  if (ast) query = query.where(compileFilter(ast, resolver, filterDialect(name), { now: NOW }))
  return (await query.execute()).map((r) => r.id as string)
}

// ASCII only: PostgreSQL's ILIKE also folds non-ASCII letters, SQLite's LIKE does not
const word = fc.array(fc.constantFrom('a', 'B', 'o', ' ', '%', '_', '\\', '5', '0', '.', '-', "'"), {
  maxLength: 5,
})
const literal = fc.oneof(
  fc.constantFrom(
    '""',
    'null',
    'true',
    'false',
    '0',
    '1',
    '5',
    '-2.5',
    '0.5',
    '100',
    '@todayStart',
    '@year',
    '@now',
  ),
  fc.integer({ min: -5, max: 200 }).map(String),
  word.map((w) => `"${w.join('').replace(/"/g, '\\"')}"`).filter((q) => !q.endsWith('\\"')),
)
const field = fc.constantFrom('id', 'title', 'nick', 'count', 'score', 'verified', 'created')
const operand = fc.oneof({ weight: 3, arbitrary: field }, { weight: 3, arbitrary: literal })
const op = fc.constantFrom('=', '!=', '>', '>=', '<', '<=', '~', '!~', '?=', '?!=', '?>', '?<=', '?~', '?!~')
const comparison = fc.tuple(operand, op, operand).map(([l, o, r]) => `${l} ${o} ${r}`)
const { filter } = fc.letrec((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    fc.tuple(tie('filter'), fc.constantFrom('&&', '||'), tie('filter')).map(([a, j, b]) => `${a} ${j} ${b}`),
    tie('filter').map((f) => `(${f})`),
  ),
}))

describe('any input gives an AST or a FilterError, and its SQL runs', () => {
  let sqlite: TestDatabase
  beforeAll(async () => {
    sqlite = await setUp('sqlite')
  })
  afterAll(async () => sqlite?.close())

  test('random token soup', async () => {
    const piece = fc.constantFrom(
      'a',
      'title',
      'count',
      '=',
      '!=',
      '?~',
      '&&',
      '||',
      '(',
      ')',
      '"x"',
      "'",
      '"',
      '1',
      '-',
      '.',
      ':',
      'each',
      '{:p}',
      '//',
      '\n',
      ',',
      'geoDistance(',
      '@now',
      ' ',
    )
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 25 }), async (pieces) => {
        try {
          await ids(sqlite.db, 'sqlite', pieces.join(''))
        } catch (err) {
          if (!(err instanceof FilterError)) throw err
        }
      }),
      { numRuns: 1000 },
    )
  })

  test('generated filters run on SQLite', async () => {
    await fc.assert(
      fc.asyncProperty(filter, async (f) => {
        await ids(sqlite.db, 'sqlite', f)
      }),
      { numRuns: 300 },
    )
  })
})

const describePg = PG ? describe : describe.skip

describePg(
  `SQLite and PostgreSQL return the same rows${PG ? '' : ' (SKIPPED: GALLEY_TEST_PG_URL is not set)'}`,
  () => {
    let sqlite: TestDatabase
    let postgres: TestDatabase
    beforeAll(async () => {
      sqlite = await setUp('sqlite')
      postgres = await setUp('postgres')
    })
    afterAll(async () => {
      await sqlite?.close()
      await postgres?.close()
    })

    test('for generated filters', async () => {
      await fc.assert(
        fc.asyncProperty(filter, async (f) => {
          expect(await ids(postgres.db, 'postgres', f), f).toEqual(await ids(sqlite.db, 'sqlite', f))
        }),
        { numRuns: Number(process.env.FILTER_RUNS ?? 500) },
      )
    })
  },
)
