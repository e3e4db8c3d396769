import { describe, expect, it } from 'vitest'
import type { Collection, Field } from './collection.js'
import { makeField, scaffoldCollection } from './defaults.js'
import { inferViewFields } from './view-fields.js'
import {
  aggregateName,
  castType,
  columnReference,
  isWildcard,
  MAX_VIEW_QUERY_LENGTH,
  normalizeViewQuery,
  readQueryShape,
  tokenize,
  viewQueryProblem,
} from './view-query.js'

const values = (sql: string) => tokenize(sql).map((t) => `${t.kind}:${t.value}`)
const item = (sql: string) => readQueryShape(`SELECT ${sql} FROM t`).items![0]!

describe('tokenize', () => {
  it('reads the quoting of both databases and drops comments', () => {
    expect(values(`SELECT 'it''s', "a ""b""", \`c\`, [d e] -- x\n/* y; */ FROM t`)).toEqual([
      'word:select',
      "string:'it''s'",
      'op:,',
      'ident:a "b"',
      'op:,',
      'ident:c',
      'op:,',
      'ident:d e',
      'word:from',
      'word:t',
    ])
    // PostgreSQL escape strings, dollar quoting, casts, subscripts, parameters
    expect(values(`E'a\\'; b' $$x;y$$ $q$z$q$ a::int arr[1] $1 ?2 :n @m`)).toEqual([
      "string:E'a\\'; b'",
      'string:$$x;y$$',
      'string:$q$z$q$',
      'word:a',
      'op:::',
      'word:int',
      'word:arr',
      'op:[',
      'number:1',
      'op:]',
      'param:$1',
      'param:?2',
      'param::n',
      'param:@m',
    ])
    expect(values('a.b 1.5e3 .5 x->>y')).toEqual([
      'word:a',
      'op:.',
      'word:b',
      'number:1.5e3',
      'number:.5',
      'word:x',
      'op:->>',
      'word:y',
    ])
  })

  it('throws on unterminated text', () => {
    for (const sql of ["SELECT 'x", 'SELECT "x', 'SELECT /* x', 'SELECT $$x', "SELECT E'x\\'"])
      expect(() => tokenize(sql), sql).toThrow(/unterminated/)
  })
})

describe('readQueryShape', () => {
  it('finds the select items, their aliases and the FROM tables', () => {
    const shape = readQueryShape(
      `SELECT DISTINCT p.id, p.title t, count(*) AS "n", CASE WHEN a THEN b END, x::int y, a IS NULL
       FROM main.posts p LEFT JOIN users AS u ON u.id = p.author AND u.x IN (1, 2), (SELECT 1) sub,
       json_each(p.tags) j WHERE p.id > 0 GROUP BY p.id ORDER BY 1 LIMIT 5`,
    )
    expect(shape.items!.map((i) => i.alias)).toEqual([undefined, 't', 'n', undefined, 'y', undefined])
    expect(shape.tables).toEqual([
      { name: 'posts', alias: 'p' },
      { name: 'users', alias: 'u' },
      { name: undefined, alias: 'sub' },
      { name: undefined, alias: 'j' },
    ])
  })

  it('skips CTEs (remembering their names), DISTINCT ON, and reads the first SELECT of a compound', () => {
    const shape = readQueryShape(
      `WITH RECURSIVE a(x) AS (SELECT 1), b AS MATERIALIZED (SELECT 2)
       SELECT DISTINCT ON (a.x) a.x AS id, b.y FROM a, b UNION SELECT 1, 2`,
    )
    expect([...shape.ctes]).toEqual(['a', 'b'])
    expect(shape.items!.map((i) => i.alias)).toEqual(['id', undefined])
    expect(shape.tables.map((t) => t.alias)).toEqual(['a', 'b'])
  })

  it('has no items for what it cannot read', () => {
    expect(readQueryShape('VALUES (1)').items).toBeUndefined()
    expect(readQueryShape("SELECT 'x").items).toBeUndefined()
  })
})

describe('expression shapes', () => {
  it('wildcards and column references', () => {
    expect(isWildcard(item('*'))).toBe(true)
    expect(isWildcard(item('p.*'))).toBe(true)
    expect(isWildcard(item('a * b'))).toBe(false)
    expect(columnReference(item('title').tokens)).toEqual({ column: 'title' })
    expect(columnReference(item('p.title AS t').tokens)).toEqual({ table: 'p', column: 'title' })
    expect(columnReference(item('(("p"."Title"))').tokens)).toEqual({ table: 'p', column: 'Title' })
    expect(columnReference(item('main.p.title').tokens)).toEqual({ table: 'p', column: 'title' })
    expect(columnReference(item('p.title || 1').tokens)).toBeUndefined()
  })

  it('casts: CAST(... AS type) and ::type of the whole expression, without sizes', () => {
    expect(castType(item('CAST(a + 1 AS INTEGER)').tokens)).toBe('integer')
    expect(castType(item('(CAST(a AS DOUBLE PRECISION)) x').tokens)).toBe('double precision')
    expect(castType(item('cast(a as decimal(10, 2))').tokens)).toBe('decimal')
    expect(castType(item('CAST(CAST(a AS TEXT) AS BOOL)').tokens)).toBe('bool')
    expect(castType(item('count(*)::int').tokens)).toBe('int')
    expect(castType(item('a::text::varchar(3)').tokens)).toBe('varchar')
    expect(castType(item('a::int[]').tokens)).toBeUndefined()
    expect(castType(item('CAST(a AS INT) + 1').tokens)).toBeUndefined()
    expect(castType(item('a::text || b').tokens)).toBeUndefined()
  })

  it('aggregates: a call that is the whole expression, or with OVER / FILTER', () => {
    expect(aggregateName(item('COUNT(DISTINCT x)').tokens)).toBe('count')
    expect(aggregateName(item('count(*) OVER ()').tokens)).toBe('count')
    expect(aggregateName(item('sum(x) FILTER (WHERE x > 0)').tokens)).toBe('sum')
    expect(aggregateName(item('(total(x))').tokens)).toBe('total')
    expect(aggregateName(item('sum(x) / 2').tokens)).toBeUndefined()
  })
})

describe('viewQueryProblem', () => {
  it('refuses what is not one SELECT, wildcards and over-long text before the database sees it', () => {
    expect(viewQueryProblem('INSERT INTO t VALUES (1)')).toMatch(/single SELECT/)
    expect(viewQueryProblem('SELECT id FROM t; DROP TABLE t')).toMatch(/multiple statements/)
    expect(viewQueryProblem('SELECT id FROM t;  ;\n')).toBeUndefined()
    expect(viewQueryProblem("SELECT id, ';' AS semi FROM t")).toBeUndefined()
    expect(viewQueryProblem('with x as (select 1 as id) select id from x')).toBeUndefined()
    expect(viewQueryProblem('SELECT t.* FROM t')).toMatch(/wildcard/)
    expect(viewQueryProblem("SELECT 'x")).toBeUndefined() // the database words it
    expect(viewQueryProblem("SELECT id FROM t WHERE x = '\0'")).toMatch(/NUL/)
    const head = 'SELECT id FROM t -- '
    expect(viewQueryProblem(head + 'x'.repeat(MAX_VIEW_QUERY_LENGTH - head.length))).toBeUndefined()
    expect(viewQueryProblem(head + 'x'.repeat(MAX_VIEW_QUERY_LENGTH - head.length + 1))).toMatch(
      new RegExp(`no more than ${MAX_VIEW_QUERY_LENGTH}`),
    )
    expect(normalizeViewQuery('  SELECT 1 ; ; \n')).toBe('SELECT 1')
  })
})

describe('inferViewFields', () => {
  const collection = (name: string, fields: Field[], type: Collection['type'] = 'base'): Collection => {
    const c = scaffoldCollection(type, name, `id_${name}`)
    c.fields = [makeField('text', 'id', { primaryKey: true }), ...fields]
    return c
  }
  const posts = collection('posts', [makeField('text', 'title', { max: 9 }), makeField('number', 'views')])
  const stats = collection('stats', [makeField('number', 'total', { onlyInt: true })], 'view')
  const ctx = { collections: [posts, stats], previous: [] }
  const col = (name: string, table?: string, column?: string) => ({ name, table, column, type: '' })
  const summary = (fields: Field[]) =>
    fields.map((f) => [f.name, f.type, f.collectionId ?? f.max ?? f.onlyInt])

  it('resolves plain references through the FROM clause first, the database origin second', () => {
    // the database (SQLite) names posts as the origin of a view's column; the text names the view
    const r = inferViewFields(
      'SELECT s.id, s.total, s.id AS src, x.title FROM stats s, (SELECT id, title FROM posts) x',
      [col('id', 'posts', 'id'), col('total'), col('src', 'posts', 'id'), col('title', 'posts', 'title')],
      ctx,
    )
    expect(summary(r.fields!)).toEqual([
      ['id', 'text', 0],
      ['total', 'number', true],
      ['src', 'relation', 'id_stats'],
      ['title', 'text', 9],
    ])
  })

  it('never reads a field through an expression, a CTE that hides a collection, or an unreadable query', () => {
    const r = inferViewFields(
      'WITH posts AS (SELECT id, 1 AS title FROM stats) SELECT posts.id, posts.title, (SELECT title FROM posts) AS t2 FROM posts',
      [col('id'), col('title'), col('t2', 'posts', 'title')],
      { collections: [posts], previous: [] },
    )
    expect(summary(r.fields!)).toEqual([
      ['id', 'text', 0],
      ['title', 'json', undefined],
      ['t2', 'json', undefined],
    ])
    // VALUES has no readable items: only the database's origins count
    const v = inferViewFields('VALUES (1)', [col('id'), col('views', 'posts', 'views')], ctx)
    expect(summary(v.fields!)).toEqual([
      ['id', 'text', 0],
      ['views', 'number', false],
    ])
  })

  it('keeps the ids of previous fields of the same name and type; refuses bad column lists', () => {
    const previous = [
      makeField('json', 'extra', { id: 'keep_me' }),
      makeField('number', 'views', { id: 'not_me' }),
    ]
    const r = inferViewFields(
      'SELECT id, 1 AS extra, title AS views FROM posts',
      [col('id'), col('extra'), col('views')],
      {
        collections: [posts],
        previous,
      },
    )
    expect(r.fields!.map((f: Field) => f.id)).toEqual([
      'text3208210256',
      'keep_me',
      expect.stringMatching(/^_clone_/),
    ])
    expect(inferViewFields('SELECT 1', [col('x')], ctx).problem).toMatch(/missing required id column/)
    expect(inferViewFields('SELECT 1', [col('id'), col('ID')], ctx).problem).toMatch(
      /duplicated column name "ID"/,
    )
    expect(inferViewFields('SELECT 1', [col('id'), col('count(*)')], ctx).problem).toMatch(
      /invalid column name/,
    )
    expect(inferViewFields('SELECT 1', [col('id'), col('collectionName')], ctx).problem).toMatch(
      /invalid column/,
    )
  })
})
