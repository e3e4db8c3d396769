import { sql, type Expression, type SqlBool } from 'kysely'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { ColumnKind } from '../db/index.js'
import { columnKind, type Collection } from '../schema/index.js'
import { NOW, openFixture, PG_URL, requestAs, type As, type Fixture } from './fixture.test-helper.js'
import { ruleCondition, type RequestContext, type RuleEnv } from './index.js'

const envFor = (fx: Fixture, request: RequestContext): RuleEnv => ({
  findCollection: (x) => fx.collections.find(x),
  dialect: fx.database.dialect,
  request,
  now: NOW,
})

const ZERO: Record<ColumnKind, unknown> = {
  text: '',
  number: 0,
  bool: false,
  json: null,
  jsonArray: [],
  geoPoint: { lon: 0, lat: 0 },
}
/** PostgreSQL gives untyped parameters the type text; a virtual row's columns need their real types. */
const PG_TYPE: Record<ColumnKind, string> = {
  text: 'text',
  number: 'double precision',
  bool: 'boolean',
  json: 'jsonb',
  jsonArray: 'jsonb',
  geoPoint: 'jsonb',
}

/**
 * The create-rule check (§3.6 step 4): the rule runs against a CTE named after the collection that
 * holds the would-be record, so `posts.title` in the rule reads the submitted title. Returns whether
 * the row passes.
 */
async function createAllowed(
  fx: Fixture,
  collection: Collection,
  values: Record<string, unknown>,
  condition: Expression<SqlBool>,
): Promise<boolean> {
  const d = fx.database.dialect
  const columns = collection.fields.map((f) => {
    const kind = columnKind(f)
    const value = sql.val(d.encode(kind, values[f.name] ?? ZERO[kind]))
    const typed = d.name === 'postgres' ? sql`CAST(${value} AS ${sql.raw(PG_TYPE[kind])})` : value
    return typed.as(f.name)
  })
  const rows = await fx.database.db
    .with(collection.name, (qc) => qc.selectNoFrom(columns))
    .selectFrom(collection.name)
    .select('id')
    .where(condition)
    .execute()
  return rows.length === 1
}

describe('ruleCondition: the gate', () => {
  let fx: Fixture
  beforeAll(async () => {
    fx = await openFixture('sqlite')
  })
  afterAll(async () => fx?.close())

  test('null: superusers only; empty: anyone', async () => {
    const env = envFor(fx, await requestAs('guest', fx))
    expect(ruleCondition(null, fx.collection('posts'), env)).toBe('superusers')
    expect(ruleCondition('', fx.collection('posts'), env)).toBe('anyone')
  })

  test('a rule of only comments lets nobody in', async () => {
    const cond = ruleCondition(
      '  // locked for now\n',
      fx.collection('posts'),
      envFor(fx, await requestAs('u1', fx)),
    )
    expect(typeof cond).toBe('object')
    const rows = await fx.database.db
      .selectFrom('posts')
      .select('id')
      .where(cond as Expression<SqlBool>)
      .execute()
    expect(rows).toEqual([])
  })

  test('a rule has full privileges: hidden fields resolve', async () => {
    const cond = ruleCondition(
      'secret = "s1"',
      fx.collection('posts'),
      envFor(fx, await requestAs('guest', fx)),
    )
    const rows = await fx.database.db
      .selectFrom('posts')
      .select('id')
      .where(cond as Expression<SqlBool>)
      .execute()
    expect(rows.map((r) => r.id)).toEqual(['p1'])
  })
})

interface CreateCase {
  readonly name: string
  readonly rule: string
  readonly as: As
  readonly body?: Record<string, unknown>
  readonly values: Record<string, unknown>
  readonly allowed: boolean
}

const CREATE: readonly CreateCase[] = [
  {
    name: 'owner and relation of the would-be row',
    rule: 'author = @request.auth.id && tags.name ?= "go"',
    as: 'u1',
    values: { id: 'new1', author: 'u1', tags: ['t1'] },
    allowed: true,
  },
  {
    name: 'someone else as author',
    rule: 'author = @request.auth.id && tags.name ?= "go"',
    as: 'u1',
    values: { id: 'new1', author: 'u2', tags: ['t1'] },
    allowed: false,
  },
  {
    name: 'guests are refused',
    rule: '@request.auth.id != ""',
    as: 'guest',
    values: { id: 'new1' },
    allowed: false,
  },
  {
    name: ':changed is false against the would-be row itself',
    rule: '@request.body.title:changed = false && @request.body.labels:changed = false',
    as: 'u1',
    body: { title: 'new title', labels: ['a', 'c'] },
    values: { id: 'new1', title: 'new title', labels: ['a', 'c'] },
    allowed: true,
  },
  {
    name: 'match-all over the would-be row',
    rule: 'tags.name != "rust" && labels:each ?= "c" && views > 2 && published = true && meta.n = 3',
    as: 'u1',
    values: { id: 'new1', tags: ['t1', 't2'], labels: ['c'], views: 3, published: true, meta: { n: 3 } },
    allowed: true,
  },
  {
    // the CTE hides the table of the same name, as in PocketBase: the rule sees only the new row
    name: '@collection of the same collection sees only the would-be row',
    rule: '@collection.posts.title ?= "Hello World"',
    as: 'u1',
    values: { id: 'new1', title: 'other' },
    allowed: false,
  },
]

for (const name of ['sqlite', 'postgres'] as const) {
  const skip = name === 'postgres' && !PG_URL
  describe.skipIf(skip)(`create rules against a virtual row on ${name}${skip ? ' (SKIPPED)' : ''}`, () => {
    let fx: Fixture
    beforeAll(async () => {
      fx = await openFixture(name)
    })
    afterAll(async () => fx?.close())

    test.each(CREATE)('$name', async (c) => {
      const base = await requestAs(c.as, fx)
      const request = { ...base, method: 'POST', body: c.body ?? {} }
      const posts = fx.collection('posts')
      const cond = ruleCondition(c.rule, posts, envFor(fx, request))
      expect(typeof cond).toBe('object')
      expect(await createAllowed(fx, posts, c.values, cond as Expression<SqlBool>)).toBe(c.allowed)
    })
  })
}
