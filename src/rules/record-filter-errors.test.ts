import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { FilterError, FilterResolveError, FilterSyntaxError, MAX_FILTER_DEPTH } from '../filter/index.js'
import { NOW, openFixture, requestAs, type As, type Fixture } from './fixture.test-helper.js'
import { compileRecordFilter, MAX_JSON_PATH_SEGMENTS, MAX_RELATION_HOPS } from './index.js'

/** Filters that must be refused with a FilterError (the records service answers 400), never a 5xx. */
interface ErrorCase {
  readonly name: string
  readonly filter: string
  readonly as?: As
  readonly client?: true
  readonly collection?: string
  readonly error: RegExp
  readonly type?: typeof FilterResolveError | typeof FilterSyntaxError
}

const hops = (n: number) => `${'parent.'.repeat(n)}title = "x"`
const jsonPath = (n: number) => `meta.${Array.from({ length: n }, (_, i) => `k${i}`).join('.')} = 1`

const ERRORS: readonly ErrorCase[] = [
  { name: 'unknown field', filter: 'nope = 1', error: /unknown field "nope"/ },
  {
    name: 'client: hidden field is unknown',
    filter: 'secret = "s1"',
    client: true,
    error: /unknown field "secret"/,
  },
  {
    name: 'client: hidden field of a relation',
    filter: 'author.tokenKey = "k1"',
    as: 'u1',
    client: true,
    error: /unknown field "tokenKey"/,
  },
  {
    name: 'client: password of an auth collection',
    filter: 'password != ""',
    client: true,
    collection: 'users',
    error: /unknown field "password"/,
  },
  {
    name: 'client: hop into a collection only superusers can list',
    filter: 'category.name = "news"',
    client: true,
    error: /"category" leads to "categories", which only superusers can list/,
  },
  {
    name: 'client: @request',
    filter: '@request.auth.id != ""',
    client: true,
    error: /only allowed in API rules/,
  },
  {
    name: 'client: @collection',
    filter: '@collection.tags.name ?= "go"',
    client: true,
    error: /only allowed in API rules/,
  },
  {
    name: `${MAX_RELATION_HOPS + 1} relation hops`,
    filter: hops(MAX_RELATION_HOPS + 1),
    error: /too many nested relations/,
  },
  {
    name: `${MAX_JSON_PATH_SEGMENTS + 1} JSON path segments`,
    filter: jsonPath(MAX_JSON_PATH_SEGMENTS + 1),
    error: /JSON path of "meta" is too deep/,
  },
  {
    name: '1000-deep parentheses',
    filter: `${'('.repeat(1000)}title = "x"${')'.repeat(1000)}`,
    error: /too deeply nested parentheses/,
    type: FilterSyntaxError,
  },
  { name: 'not a relation', filter: 'title.name = "x"', error: /field "title" is not a relation/ },
  // only sort knows the insertion order (a create rule's virtual row has none)
  { name: '@rowid in a filter', filter: '@rowid > 1', error: /unknown field "@rowid"/ },
  {
    name: ':each of a text field',
    filter: 'title:each = "x"',
    error: /needs a select, relation or file field/,
  },
  {
    name: ':length of a text field',
    filter: 'title:length > 1',
    error: /needs a select, relation or file field/,
  },
  { name: ':isset of a field', filter: 'title:isset = true', error: /only allowed on @request fields/ },
  { name: ':changed of a field', filter: 'title:changed = true', error: /only allowed on @request fields/ },
  {
    name: ':length of a JSON value',
    filter: 'meta.status:length = 1',
    error: /not supported for JSON values/,
  },
  {
    name: 'unknown modifier',
    filter: 'title:upper = "X"',
    error: /unknown modifier ":upper"/,
    type: FilterSyntaxError,
  },
  {
    name: 'unknown back-relation collection',
    filter: 'nope_via_post.body = "x"',
    error: /unknown collection "nope"/,
  },
  {
    name: 'back-relation field that does not point here',
    filter: 'comments_via_author.body = "x"',
    error: /"comments.author" does not relate to "posts"/,
  },
  {
    name: 'back-relation through a text field',
    filter: 'comments_via_body.id = "x"',
    error: /is not a relation field/,
  },
  {
    name: 'unknown field after a back-relation',
    filter: 'comments_via_post.nope = "x"',
    error: /unknown field "nope"/,
  },
  { name: 'unknown @collection', filter: '@collection.nope.name = "x"', error: /unknown collection/ },
  {
    name: '@collection without a field',
    filter: '@collection.tags = "x"',
    error: /invalid @collection field path/,
  },
  {
    name: '@collection alias naming two collections',
    filter: '@collection.members:m.role = "x" && @collection.tags:m.name = "y"',
    error: /alias "m" names two collections/,
  },
  { name: 'unknown @request section', filter: '@request.nope = 1', error: /unknown field "@request.nope"/ },
  { name: '@request.body alone', filter: '@request.body = 1', error: /unknown field "@request.body"/ },
  {
    name: ':length of a query value',
    filter: '@request.query.page:length = 1',
    error: /modifier ":length" is not supported/,
  },
  {
    name: ':each of a body text field',
    filter: '@request.body.title:each = "x"',
    as: 'body',
    error: /needs a select, relation or file field/,
  },
  {
    name: 'strftime: unsupported specifier',
    filter: 'strftime("%V", created) = "24"',
    error: /unsupported strftime\(\) format specifier "%V" at 10/,
  },
  {
    name: 'strftime: unsupported modifier',
    filter: 'strftime("%Y", created, "localtime") = "2024"',
    error: /unsupported strftime\(\) modifier "localtime" at 24/,
  },
  {
    name: 'strftime: format from a field',
    filter: 'strftime(title, created) = "2024"',
    error: /expects a format text as its first argument at 9/,
  },
  { name: 'unknown function', filter: 'nope(title) = 1', error: /unknown function "nope"/ },
  { name: 'placeholder left unbound', filter: 'title = {:x}', error: /missing value for placeholder/ },
]

describe('record filters: refused with a FilterError', () => {
  let fx: Fixture
  beforeAll(async () => {
    fx = await openFixture('sqlite')
  })
  afterAll(async () => fx?.close())

  test.each(ERRORS)('$name', async (c) => {
    const env = {
      findCollection: (x: string) => fx.collections.find(x),
      dialect: fx.database.dialect,
      request: await requestAs(c.as ?? 'guest', fx),
      now: NOW,
    }
    const target = { collection: fx.collection(c.collection ?? 'posts'), privileged: !c.client }
    let error: unknown
    try {
      compileRecordFilter(c.filter, target, env)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(c.type ?? FilterResolveError)
    expect(error).toBeInstanceOf(FilterError)
    expect((error as Error).message).toMatch(c.error)
  })

  test('limits hold at the limit', async () => {
    const env = {
      findCollection: (x: string) => fx.collections.find(x),
      dialect: fx.database.dialect,
      request: await requestAs('guest', fx),
    }
    const target = { collection: fx.collection('posts'), privileged: true }
    expect(compileRecordFilter(hops(MAX_RELATION_HOPS), target, env)).toBeDefined()
    expect(compileRecordFilter(jsonPath(MAX_JSON_PATH_SEGMENTS), target, env)).toBeDefined()
    const deep = `${'('.repeat(MAX_FILTER_DEPTH)}title = "x"${')'.repeat(MAX_FILTER_DEPTH)}`
    expect(compileRecordFilter(deep, target, env)).toBeDefined()
  })

  test('empty and comment-only filters are no condition', async () => {
    const env = {
      findCollection: (x: string) => fx.collections.find(x),
      dialect: fx.database.dialect,
      request: await requestAs('guest', fx),
    }
    const target = { collection: fx.collection('posts'), privileged: false }
    expect(compileRecordFilter('', target, env)).toBeUndefined()
    expect(compileRecordFilter('  \n ', target, env)).toBeUndefined()
    expect(compileRecordFilter('// nothing here', target, env)).toBeUndefined()
  })
})
