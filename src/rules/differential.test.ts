import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { FilterError } from '../filter/index.js'
import { NOW, openFixture, PG_URL, requestAs, type As, type Fixture } from './fixture.test-helper.js'
import { compileRecordFilter } from './index.js'

/**
 * Random rules over the fixture give the same records on SQLite and PostgreSQL, and nothing but a
 * FilterError (400) on either: relation paths, multi-valued paths, JSON paths, `@request.*` values and
 * literals of every type, under every operator.
 */

const OPERANDS = [
  'id',
  'title',
  'title:lower',
  'views',
  'published',
  'created',
  'author',
  'author.name',
  'author.verified',
  'author.email',
  'parent.title',
  'parent.views',
  'parent.parent.author.name',
  'tags.name',
  'tags.name:lower',
  'tags.id',
  'tags:each',
  'tags:length',
  'labels',
  'labels:each',
  'labels:length',
  'meta',
  'meta.status',
  'meta.n',
  'meta.flag',
  'meta.items.0.name',
  'loc.lon',
  'comments_via_post.body',
  'comments_via_post.author.name',
  'covers_via_post.caption',
  '@collection.tags.name',
  '@collection.members:m.user',
  '@collection.members:m.post',
  '@request.auth.id',
  '@request.auth.name',
  '@request.auth.verified',
  '@request.body.title',
  '@request.body.views',
  '@request.body.tags:each',
  '@request.body.tags.name',
  '@request.body.title:changed',
  '@request.query.page',
  'geoDistance(loc.lon, loc.lat, 23.32, 42.69)',
]
// ASCII only: PostgreSQL's ILIKE folds non-ASCII letters, SQLite's LIKE does not (documented).
const LITERALS = [
  '""',
  'null',
  'true',
  'false',
  '0',
  '1',
  '5',
  '10',
  '-5.5',
  '"go"',
  '"a"',
  '"5"',
  '"draft"',
  '"o%"',
  '"%_"',
  '"Hello World"',
  '@todayStart',
]
const OPS = ['=', '!=', '>', '>=', '<', '<=', '~', '!~', '?=', '?!=', '?>', '?>=', '?<', '?<=', '?~', '?!~']

const side = fc.oneof(fc.constantFrom(...OPERANDS), fc.constantFrom(...LITERALS))
const comparison = fc
  .tuple(fc.constantFrom(...OPERANDS), fc.constantFrom(...OPS), side, fc.boolean())
  // SQLite renders a computed REAL such as 0.0 as '0.0' and PostgreSQL as '0' (documented): no LIKE on them
  .map(
    ([a, op, b, flip]) =>
      [a, op.includes('~') && `${a}${b}`.includes('geoDistance') ? '=' : op, b, flip] as const,
  )
  .map(([a, op, b, flip]) => (flip ? `${b} ${op} ${a}` : `${a} ${op} ${b}`))
const filter = fc
  .array(fc.tuple(comparison, fc.constantFrom('&&', '||')), { minLength: 1, maxLength: 3 })
  .chain((parts) =>
    fc.boolean().map((group) => {
      const text = parts.map(([c], i) => (i === 0 ? c : `${parts[i - 1]![1]} ${c}`)).join(' ')
      return group && parts.length > 1 ? `(${text}) && id != ""` : text
    }),
  )

type Outcome = { ids: string[] } | { error: string }

async function run(fx: Fixture, text: string, as: As): Promise<Outcome> {
  const env = {
    findCollection: (x: string) => fx.collections.find(x),
    dialect: fx.database.dialect,
    request: await requestAs(as, fx),
    now: NOW,
  }
  let where
  try {
    where = compileRecordFilter(text, { collection: fx.collection('posts'), privileged: true }, env)
  } catch (err) {
    if (err instanceof FilterError) return { error: err.message }
    throw err
  }
  let query = fx.database.db.selectFrom('posts').select('id').orderBy('id')
  if (where) query = query.where(where)
  return { ids: (await query.execute()).map((r) => r.id as string) }
}

describe.skipIf(!PG_URL)('rules differential: SQLite and PostgreSQL agree', () => {
  let sqlite: Fixture
  let postgres: Fixture
  beforeAll(async () => {
    sqlite = await openFixture('sqlite')
    postgres = await openFixture('postgres')
  })
  afterAll(async () => {
    await sqlite?.close()
    await postgres?.close()
  })

  test('random rules select the same records', async () => {
    await fc.assert(
      fc.asyncProperty(filter, fc.constantFrom<As>('guest', 'u1', 'u2', 'body'), async (text, as) => {
        const a = await run(sqlite, text, as)
        const b = await run(postgres, text, as)
        if (process.env.DIFF_LOG) console.log(JSON.stringify({ text, as, a }))
        expect({ text, as, ...b }).toEqual({ text, as, ...a })
      }),
      { numRuns: Number(process.env.DIFF_RUNS ?? 400) },
    )
  }, 120_000)
})
