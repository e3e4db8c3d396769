import fc from 'fast-check'
import { sql, type Expression, type SqlBool } from 'kysely'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { FilterError } from '../filter/index.js'
import {
  NOW,
  openFixture,
  PG_URL,
  requestAs,
  requestData,
  ROWS,
  type As,
  type Fixture,
} from './fixture.test-helper.js'
import { compileRecordFilter, compileRecordPredicate, RecordPredicateUnsupported } from './index.js'
import { ReferenceEvaluator } from './reference-evaluator.test-helper.js'

/**
 * The differential property: random valid rules over a fixture holding every field type select the
 * same records on SQLite, on PostgreSQL and from the reference evaluator (written from the spec,
 * reference-evaluator.test-helper.ts). Relation paths, back-relations, `@collection.*`, JSON paths,
 * `@request.*` values, modifiers, functions and literals of every type, under every operator, in
 * nested `&&`/`||` groups. Filters run in batches: one query per database for many filters.
 *
 * DIFF_RUNS (batches, default 100), DIFF_SEED (replay a failure: fast-check prints its seed).
 */

const OPERANDS = [
  // fields of every type
  'id',
  'title',
  'title:lower',
  'views',
  'published',
  'created',
  'updated',
  'status',
  'status:each',
  'contact',
  'contact:lower',
  'site',
  'body',
  'due',
  'cover',
  'files',
  'files:each',
  'files:length',
  'labels',
  'labels:each',
  'labels:length',
  'tags',
  'tags:each',
  'tags:length',
  'author',
  'secret',
  // JSON and geoPoint paths
  'meta',
  'meta.status',
  'meta.n',
  'meta.flag',
  'meta.items.0.name',
  'meta.status:lower',
  'loc.lon',
  'loc.lat',
  // relations
  'author.name',
  'author.verified',
  'author.email',
  'author.id',
  'parent.title',
  'parent.views',
  'parent.due',
  'parent.parent.author.name',
  'parent.tags.name',
  'category.name',
  'tags.name',
  'tags.name:lower',
  'tags.id',
  'tags.created',
  // back-relations
  'comments_via_post.body',
  'comments_via_post.author.name',
  'covers_via_post.caption',
  'members_via_post.role',
  'members_via_post.user.name',
  // @collection
  '@collection.tags.name',
  '@collection.members:m.user',
  '@collection.members:m.role',
  '@collection.posts:p.views',
  // @request
  '@request.auth.id',
  '@request.auth.name',
  '@request.auth.verified',
  '@request.auth.email',
  '@request.auth.nope',
  '@request.body.title',
  '@request.body.views',
  '@request.body.status',
  '@request.body.tags:each',
  '@request.body.tags:length',
  '@request.body.tags.name',
  '@request.body.author.name',
  '@request.body.title:changed',
  '@request.body.status:changed',
  '@request.body.labels:changed',
  '@request.body.views:isset',
  '@request.body.meta.status',
  '@request.query.page',
  '@request.headers.x_token',
  '@request.method',
  '@request.context',
  // functions
  'geoDistance(loc.lon, loc.lat, 23.32, 42.69)',
  'geoDistance(parent.loc.lon, parent.loc.lat, 2.35, 48.86)',
  "strftime('%Y', created)",
  "strftime('%Y-%m', due)",
  "strftime('%d', tags.created)",
  "strftime('%H:%M', due, '+90 minutes')",
  "strftime('%Y-%m-%d', updated, 'start of month', '-1 days')",
  "strftime('%j', parent.created)",
  "strftime('%w', @now)",
  "strftime('%Y', views)",
  "strftime('%m', meta.n)",
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
  '2024',
  '"go"',
  '"a"',
  '"5"',
  '"10"',
  '"draft"',
  '"live"',
  '"o%"',
  '"%_"',
  '"\\\\%"',
  '"e\\\\o"',
  '"Hello World"',
  '"2024"',
  '"2024-06"',
  '"06"',
  '"ann@example.com"',
  '"u1"',
  '"t1"',
  '@todayStart',
  '@now',
  '@yesterday',
  '@year',
]
const OPS = ['=', '!=', '>', '>=', '<', '<=', '~', '!~', '?=', '?!=', '?>', '?>=', '?<', '?<=', '?~', '?!~']

const side = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...OPERANDS) },
  { weight: 2, arbitrary: fc.constantFrom(...LITERALS) },
)
const comparison = fc
  .tuple(fc.constantFrom(...OPERANDS), fc.constantFrom(...OPS), side, fc.boolean())
  // SQLite renders a computed REAL such as 0.0 as '0.0' and PostgreSQL as '0' (documented): no LIKE on them
  .map(([a, op, b, flip]) => {
    const like = op.includes('~') && `${a} ${b}`.includes('geoDistance')
    return flip ? `${b} ${like ? '=' : op} ${a}` : `${a} ${like ? '=' : op} ${b}`
  })

/** Nested `&&`/`||` groups of comparisons, up to three levels. */
const { filter } = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    fc
      .tuple(
        fc.array(tie('filter'), { minLength: 2, maxLength: 3 }),
        fc.constantFrom('&&', '||'),
        fc.boolean(),
      )
      .map(([parts, join, group]) => {
        const text = parts.join(` ${join} `)
        return group ? `(${text})` : text
      }),
  ),
}))

const AS: readonly As[] = ['guest', 'u1', 'u2', 'body', 'realtime']
const BATCH = 25
const RUNS = Number(process.env.DIFF_RUNS ?? 100)

type Outcome = { readonly ids: readonly string[] } | { readonly error: string }

/** Each filter's records on one database, in one query. */
async function run(fx: Fixture, cases: readonly { text: string; as: As }[]): Promise<Outcome[]> {
  const compiled: (Expression<SqlBool> | string)[] = []
  for (const { text, as } of cases) {
    const env = {
      findCollection: (x: string) => fx.collections.find(x),
      dialect: fx.database.dialect,
      request: await requestAs(as, fx),
      now: NOW,
    }
    try {
      compiled.push(compileRecordFilter(text, { collection: fx.collection('posts'), privileged: true }, env)!)
    } catch (err) {
      if (!(err instanceof FilterError)) throw err
      compiled.push(err.message)
    }
  }
  const columns = compiled.flatMap((w, i) =>
    typeof w === 'string' ? [] : [sql<number>`CASE WHEN ${w} THEN 1 ELSE 0 END`.as(`f${i}`)],
  )
  const rows = (await fx.database.db
    .selectFrom('posts')
    .select(['id', ...columns])
    .orderBy('id')
    .execute()) as Record<string, unknown>[]
  return compiled.map((w, i) =>
    typeof w === 'string'
      ? { error: w }
      : { ids: rows.filter((r) => Number(r[`f${i}`]) === 1).map((r) => String(r.id)) },
  )
}

function reference(fx: Fixture, text: string, as: As): Outcome {
  const evaluator = new ReferenceEvaluator(
    'posts',
    { find: (x) => fx.collections.find(x), rows: ROWS },
    requestData(as),
    NOW,
  )
  try {
    return { ids: evaluator.ids(text) }
  } catch (err) {
    return { error: (err as Error).message }
  }
}

/** The records the in-memory predicate selects, or undefined where it leaves the filter to SQL. */
async function inMemory(fx: Fixture, text: string, as: As): Promise<Outcome | undefined> {
  const posts = fx.collection('posts')
  const predicate = compileRecordPredicate(text, posts, true)
  if (!predicate) return undefined
  const request = await requestAs(as, fx)
  const env = { dialect: fx.database.dialect }
  try {
    return {
      ids: ROWS.posts!.filter((r) => predicate(r, request, env))
        .map((r) => String(r.id))
        .sort(),
    }
  } catch (err) {
    // a value it cannot decide (a field the auth collection lacks): left to SQL, as in production
    if (err instanceof RecordPredicateUnsupported) return undefined
    throw err
  }
}

/** Operands the in-memory predicate decides itself (the record's own single-valued fields, the request). */
const PLAIN_OPERANDS = [
  'id',
  'title',
  'views',
  'published',
  'created',
  'updated',
  'status',
  'contact',
  'site',
  'body',
  'due',
  'cover',
  'author',
  'secret',
  '@request.auth.id',
  '@request.auth.name',
  '@request.auth.verified',
  '@request.auth.email',
  '@request.auth.collectionName',
  '@request.query.page',
  '@request.headers.x_token',
  '@request.method',
  '@request.context',
]
const PLAIN_LITERALS = LITERALS.filter((l) => !l.startsWith('@'))
const PLAIN_OPS = OPS.filter((op) => !op.includes('~'))
const plainSide = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PLAIN_OPERANDS) },
  { weight: 2, arbitrary: fc.constantFrom(...PLAIN_LITERALS) },
)
const plainComparison = fc
  .tuple(fc.constantFrom(...PLAIN_OPERANDS), fc.constantFrom(...PLAIN_OPS), plainSide, fc.boolean())
  .map(([a, op, b, flip]) => (flip ? `${b} ${op} ${a}` : `${a} ${op} ${b}`))
const { plainFilter } = fc.letrec<{ plainFilter: string }>((tie) => ({
  plainFilter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    plainComparison,
    fc
      .tuple(fc.array(tie('plainFilter'), { minLength: 2, maxLength: 3 }), fc.constantFrom('&&', '||'))
      .map(([parts, join]) => `(${parts.join(` ${join} `)})`),
  ),
}))

describe.skipIf(!PG_URL)('differential: SQLite, PostgreSQL and the reference evaluator agree', () => {
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

  test(`${RUNS} batches of ${BATCH} random rules`, async () => {
    let checked = 0
    // rules that select some records but not all: the property is not vacuous
    let discriminating = 0
    const batch = fc.array(fc.tuple(filter, fc.constantFrom(...AS)), { minLength: BATCH, maxLength: BATCH })
    await fc.assert(
      fc.asyncProperty(batch, async (pairs) => {
        const cases = pairs.map(([text, as]) => ({ text, as }))
        const [a, b] = await Promise.all([run(sqlite, cases), run(postgres, cases)])
        const show = (outcomes: readonly Outcome[]) =>
          cases.map((c, i) => ({ filter: c.text, as: c.as, ...outcomes[i] }))
        const expected = cases.map((c) => reference(sqlite, c.text, c.as))
        expect(show(a)).toEqual(show(expected))
        expect(show(b)).toEqual(show(expected))
        // where the in-memory predicate decides a rule itself, it selects what the databases select
        for (const [i, c] of cases.entries()) {
          const own = await inMemory(sqlite, c.text, c.as)
          if (own) expect({ filter: c.text, as: c.as, ...own }).toEqual({ filter: c.text, as: c.as, ...a[i] })
        }
        checked += cases.length
        if (process.env.DIFF_LOG) console.log(JSON.stringify(show(expected)))
        for (const e of expected) if ('ids' in e && e.ids.length > 0 && e.ids.length < 7) discriminating++
      }),
      { numRuns: RUNS, ...(process.env.DIFF_SEED ? { seed: Number(process.env.DIFF_SEED) } : {}) },
    )
    expect(checked).toBeGreaterThanOrEqual(RUNS * BATCH)
    expect(discriminating / checked).toBeGreaterThan(0.25)
  }, 300_000)

  test(`${RUNS} batches of ${BATCH} random rules the in-memory predicate decides`, async () => {
    let decided = 0
    let discriminating = 0
    const batch = fc.array(fc.tuple(plainFilter, fc.constantFrom(...AS)), {
      minLength: BATCH,
      maxLength: BATCH,
    })
    await fc.assert(
      fc.asyncProperty(batch, async (pairs) => {
        const cases = pairs.map(([text, as]) => ({ text, as }))
        const [a, b] = await Promise.all([run(sqlite, cases), run(postgres, cases)])
        for (const [i, c] of cases.entries()) {
          const own = await inMemory(sqlite, c.text, c.as)
          // every operand here is one it decides itself
          expect(own, c.text).toBeDefined()
          const label = { filter: c.text, as: c.as }
          expect({ ...label, ...own }).toEqual({ ...label, ...a[i] })
          expect({ ...label, ...own }).toEqual({ ...label, ...b[i] })
          decided++
          if (own && 'ids' in own && own.ids.length > 0 && own.ids.length < 7) discriminating++
        }
      }),
      { numRuns: RUNS, ...(process.env.DIFF_SEED ? { seed: Number(process.env.DIFF_SEED) } : {}) },
    )
    expect(decided).toBe(RUNS * BATCH)
    expect(discriminating / decided).toBeGreaterThan(0.2)
  }, 300_000)
})
