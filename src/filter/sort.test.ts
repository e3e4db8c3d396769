import { sql } from 'kysely'
import { beforeAll, describe, expect, test } from 'vitest'
import type { DialectName } from '../db/index.js'
import { FilterResolveError, FilterSyntaxError } from './errors.js'
import { MAX_SORT_FIELD_LENGTH, MAX_SORT_FIELDS } from './limits.js'
import type { FieldResolver } from './resolve.js'
import { SimpleFieldResolver } from './simple-resolver.js'
import { parseSort } from './sort.js'
import { compilerOnly, describeEachDatabase } from './test-database.test-helper.js'

const resolver = new SimpleFieldResolver(
  { id: 'text', created: 'date', name: 'text', n: 'number' },
  { rowid: true },
)
/** Accepts any path, to test the parser's own limits. */
const anything: FieldResolver = { resolve: (id) => ({ expression: sql.ref(id.path), kind: 'text' }) }

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected an error')
}

function orderBySql(name: DialectName, text: string): string {
  const db = compilerOnly(name)
  let query = db.selectFrom('t').select('id')
  for (const item of parseSort(text, resolver)) query = query.orderBy(item.expression, item.modifiers)
  return query.compile().sql.replace('select "id" from "t"', '').trim()
}

describe.each(['sqlite', 'postgres'] as const)('parseSort golden SQL: %s', (name) => {
  test.each([
    ['-created,name,+id', 'order by "created" desc nulls last, "name" asc nulls first, "id" asc nulls first'],
    ['  -created , name  ', 'order by "created" desc nulls last, "name" asc nulls first'],
    ['@random', 'order by RANDOM() asc nulls first'],
    ['-@rowid', 'order by "_rowid_" desc nulls last'],
    ['name:lower', 'order by LOWER("name") asc nulls first'],
    ['', ''],
    ['   ', ''],
  ])('%s', (text, expected) => {
    expect(orderBySql(name, text)).toBe(expected)
  })
})

test('parseSort: items carry their direction', () => {
  expect(parseSort('-created,name', resolver).map((s) => s.direction)).toEqual(['desc', 'asc'])
})

describe('parseSort: errors', () => {
  test.each([
    ['id,,name', FilterSyntaxError, 'invalid sort field "" at 3'],
    ['id, -', FilterSyntaxError, 'invalid sort field "" at 5'],
    ['"x"', FilterSyntaxError, 'invalid sort field "\\"x\\"" at 0'],
    ['-null', FilterSyntaxError, 'invalid sort field "null" at 1'],
    ['true', FilterSyntaxError, 'invalid sort field "true" at 0'],
    ['1', FilterSyntaxError, 'invalid sort field "1" at 0'],
    ['a b', FilterSyntaxError, 'invalid sort field "a b" at 0'],
    ['@now', FilterSyntaxError, 'invalid sort field "@now" at 0'],
    ['a;drop', FilterSyntaxError, 'invalid sort field "a;drop" at 0'],
    ['name:each', FilterResolveError, 'modifier ":each" is not supported for "name" at 0'],
    ['id, +missing', FilterResolveError, 'unknown field "missing" at 5'],
  ])('%s', (text, type, message) => {
    const err = thrown(() => parseSort(text, resolver))
    expect(err).toBeInstanceOf(type)
    expect(err.message).toBe(message)
  })

  test(`${MAX_SORT_FIELDS} fields are allowed, one more is not`, () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}`).join(',')
    expect(parseSort(fields(MAX_SORT_FIELDS), anything)).toHaveLength(MAX_SORT_FIELDS)
    const err = thrown(() => parseSort(fields(MAX_SORT_FIELDS + 1), anything))
    expect(err).toBeInstanceOf(FilterSyntaxError)
    expect(err.message).toBe('too many sort fields (max 8) at 24')
  })

  test('a million commas fail on the field count without splitting them all', () => {
    expect(thrown(() => parseSort(','.repeat(1_000_000), anything)).message).toMatch(/^invalid sort field/)
    expect(thrown(() => parseSort('a,'.repeat(500_000), anything)).message).toMatch(/^too many sort fields/)
  })

  test(`fields of ${MAX_SORT_FIELD_LENGTH} characters are allowed, one more is not`, () => {
    expect(parseSort(`-${'x'.repeat(MAX_SORT_FIELD_LENGTH - 1)}`, anything)).toHaveLength(1)
    const err = thrown(() => parseSort(`id,${'x'.repeat(MAX_SORT_FIELD_LENGTH + 1)}`, anything))
    expect(err.message).toBe('sort field is too long (max 255 characters) at 3')
  })

  test('@rowid needs a resolver that allows it', () => {
    const err = thrown(() => parseSort('@rowid', new SimpleFieldResolver({ id: 'text' })))
    expect(err.message).toBe('unknown field "@rowid" at 0')
  })
})

describeEachDatabase('sorted rows, NULLs in the same place', (name, db) => {
  beforeAll(async () => {
    const rowid = name === 'postgres' ? ', "_rowid_" BIGINT GENERATED ALWAYS AS IDENTITY' : ''
    await sql
      .raw(`CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT NULL, n DOUBLE PRECISION NULL${rowid})`)
      .execute(db())
    for (const row of [
      { id: 'b', name: 'beta', n: 2 },
      { id: 'c', name: null, n: null },
      { id: 'a', name: 'Alpha', n: 1 },
      { id: 'd', name: 'alpha', n: 1 },
    ]) {
      await db().insertInto('t').values(row).execute()
    }
  })

  test.each([
    ['name', ['c', 'a', 'd', 'b']],
    ['-name', ['b', 'd', 'a', 'c']],
    ['n,-id', ['c', 'd', 'a', 'b']],
    ['-n,id', ['b', 'a', 'd', 'c']],
    ['@rowid', ['b', 'c', 'a', 'd']],
    ['-@rowid', ['d', 'a', 'c', 'b']],
    ['name:lower,id', ['c', 'a', 'd', 'b']],
  ])('%s', async (text, ids) => {
    let query = db().selectFrom('t').select('id')
    for (const item of parseSort(text, resolver)) query = query.orderBy(item.expression, item.modifiers)
    expect((await query.execute()).map((r) => r.id)).toEqual(ids)
  })

  test('@random returns every row', async () => {
    let query = db().selectFrom('t').select('id')
    for (const item of parseSort('@random', resolver)) query = query.orderBy(item.expression, item.modifiers)
    expect((await query.execute()).map((r) => r.id).sort()).toEqual(['a', 'b', 'c', 'd'])
  })
})
