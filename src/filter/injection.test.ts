import { sql } from 'kysely'
import { beforeAll, describe, expect, test } from 'vitest'
import {
  compileFilter,
  filterDialect,
  FilterSyntaxError,
  parseFilter,
  parseSort,
  SimpleFieldResolver,
} from './index.js'
import { likePattern } from './like-pattern.js'
import { MAX_STRFTIME_TIME_TEXT } from './limits.js'
import { compilerOnly, describeEachDatabase } from './test-database.test-helper.js'

const HOSTILE = [
  "'; DROP TABLE t; --",
  '" OR 1=1 --',
  "' OR '1'='1",
  "\\' OR 1=1 --",
  '"); DELETE FROM t; --',
  '$1',
  '?',
  ':name',
  '{:x}',
  '%_%',
  '\\%\\_',
  "Robert'); DROP TABLE t;--",
  '😀 ünï‮code',
  '\\\\\'\\"',
  'x'.repeat(3000),
]

const resolver = new SimpleFieldResolver({ id: 'text', title: 'text' })

/** The filter-language literal of `value`: double-quoted, with `"` escaped. */
const quote = (value: string): string => `"${value.replace(/"/g, '\\"')}"`

describe.each(['sqlite', 'postgres'] as const)('hostile values become parameters: %s', (name) => {
  const db = compilerOnly(name)
  const compile = (filter: string, params?: Record<string, unknown>) =>
    db
      .selectFrom('t')
      .selectAll()
      .where(compileFilter(parseFilter(filter, params)!, resolver, filterDialect(name)))
      .compile()

  test.each(HOSTILE)('%s', (value) => {
    for (const filter of [
      'title = {:v}',
      'title != {:v} && {:v} = title',
      'title ~ {:v} || title !~ {:v}',
      'title > {:v}',
    ]) {
      // the same SQL text as for a harmless value: the value changed nothing but a parameter
      const reference = compile(filter, { v: 'x' })
      const compiled = compile(filter, { v: value })
      expect(compiled.sql).toBe(reference.sql)
      expect(compiled.parameters).toEqual(
        reference.parameters.map((p) => (p === 'x' ? value : p === '%x%' ? likePattern(value) : p)),
      )
    }
    expect(compile(`title = ${quote(value)}`)).toEqual(compile('title = {:v}', { v: value }))
  })

  test.each(HOSTILE.map((v) => v.slice(0, MAX_STRFTIME_TIME_TEXT)))(
    'strftime(): %s as the format text and the time value',
    (value) => {
      const text = (v: string) => v.replace(/%/g, '%%')
      const filter = (v: string) => `strftime(${quote(`%Y${text(v)}`)}, ${quote(v)}) = ${quote(v)}`
      // the same SQL text as for a harmless value
      expect(compile(filter(value)).sql).toBe(compile(filter('x')).sql)
    },
  )
})

describe('hostile identifiers never reach SQL', () => {
  test.each([
    'title"; DROP TABLE t; -- = 1',
    'title = 1; DROP TABLE t',
    "title = '1' OR 1=1 --'",
    'title = 1 -- comment',
    'title = `x`',
  ])('%s', (filter) => {
    expect(() => parseFilter(filter)).toThrow(FilterSyntaxError)
  })

  test.each(['title; DROP TABLE t', 'title desc', '"title"', 'title--'])('sort %s', (sort) => {
    expect(() => parseSort(sort, resolver)).toThrow(FilterSyntaxError)
  })

  test('NUL is refused in literals and placeholders (PostgreSQL text cannot hold it)', () => {
    expect(() => parseFilter('title = "a\u0000b"')).toThrow('invalid NUL character in string at 10')
    expect(() => parseFilter('title = {:v}', { v: 'a\u0000b' })).toThrow(
      'invalid NUL character in placeholder value at 8',
    )
  })
})

describeEachDatabase('hostile values', (name, db) => {
  beforeAll(async () => {
    await sql.raw('CREATE TABLE t (id TEXT PRIMARY KEY, title TEXT NOT NULL)').execute(db())
    await db()
      .insertInto('t')
      .values(HOSTILE.map((title, i) => ({ id: `r${i}`, title })))
      .execute()
  })

  test.each(HOSTILE.map((value, i) => [i, value] as const))(
    'row r%s matches itself only',
    async (i, value) => {
      for (const [filter, params] of [
        ['title = {:v}', { v: value }],
        [`title = ${quote(value)}`, undefined],
        // a backslash before % or _ in a "contains" value is an escape (PocketBase), so those are left out
        ...(value.includes('\\') ? [] : ([['title ~ {:v}', { v: value }]] as const)),
      ] as const) {
        const where = compileFilter(parseFilter(filter, params)!, resolver, filterDialect(name))
        const rows = await db().selectFrom('t').select('id').where(where).execute()
        const ids = rows.map((r) => r.id)
        expect(ids).toContain(`r${i}`)
        if (filter.includes('=')) expect(ids).toEqual([`r${i}`])
      }
    },
  )

  test('the table survives with every row', async () => {
    const r = await db().selectFrom('t').select(db().fn.countAll().as('n')).executeTakeFirstOrThrow()
    expect(Number(r.n)).toBe(HOSTILE.length)
  })
})
