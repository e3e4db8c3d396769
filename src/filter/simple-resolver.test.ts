import { sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import { IdentifierNode } from './ast.js'
import { compileFilter } from './compile.js'
import { FilterResolveError } from './errors.js'
import { filterDialect } from './filter-dialect.js'
import { parseFilter } from './parse.js'
import type { FieldResolver } from './resolve.js'
import { SimpleFieldResolver } from './simple-resolver.js'
import { compilerOnly } from './test-database.test-helper.js'

const db = compilerOnly('sqlite')

const collections = new SimpleFieldResolver({
  id: 'text',
  created: 'date',
  updated: 'date',
  name: 'text',
  system: 'bool',
  type: 'text',
})

function whereSql(filter: string, resolver: FieldResolver): string {
  const where = compileFilter(parseFilter(filter)!, resolver, filterDialect('sqlite'))
  return db.selectFrom('t').selectAll().where(where).compile().sql.replace('select * from "t" where ', '')
}

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected an error')
}

describe('SimpleFieldResolver', () => {
  test('resolves the listed columns with their kinds', () => {
    expect(collections.resolve(IdentifierNode.create('system')).kind).toBe('bool')
    expect(whereSql('name ~ "a" && system = false', collections)).toBe(
      `("name" LIKE ? ESCAPE '\\' AND "system" = ?)`,
    )
  })

  test('qualifies columns with the table', () => {
    const r = new SimpleFieldResolver({ name: 'text' }, { table: '_collections', rowid: true })
    expect(whereSql('name = "x" && @rowid > 2', r)).toBe(
      '("_collections"."name" = ? AND "_collections"."_rowid_" > ?)',
    )
  })

  test.each([
    ['missing = 1', 'unknown field "missing" at 0'],
    ['name.sub = 1', 'unknown field "name.sub" at 0'],
    ['constructor = 1', 'unknown field "constructor" at 0'],
    ['__proto__ = 1', 'unknown field "__proto__" at 0'],
    ['@request.auth.id = 1', 'unknown field "@request.auth.id" at 0'],
    ['id = 1 && @rowid = 1', 'unknown field "@rowid" at 10'],
    ['name:each = 1', 'modifier ":each" is not supported for "name" at 0'],
    ['system:lower = 1', 'modifier ":lower" is not supported for "system" at 0'],
  ])('%s → %s', (filter, message) => {
    const err = thrown(() => whereSql(filter, collections))
    expect(err).toBeInstanceOf(FilterResolveError)
    expect(err.message).toBe(message)
  })
})

describe('compileFilter: errors', () => {
  const numbers: FieldResolver = {
    resolve: (id) => ({ expression: sql.ref(id.path), kind: id.path === 'name' ? 'text' : 'number' }),
  }
  test.each([
    ['nope(1) = 1', 'unknown function "nope" at 0'],
    ["strftime('%Q', created) = '2024'", 'unsupported strftime() format specifier "%Q" at 10'],
    ["strftime('%Y', created, 'utc') = '2024'", 'unsupported strftime() modifier "utc" at 24'],
    ['geoDistance(1, 2, 3) < 1', 'geoDistance() expects 4 arguments (lonA, latA, lonB, latB) at 0'],
    ['geoDistance(1, 2, 3, name) < 1', 'geoDistance() expects numeric arguments at 21'],
    ['geoDistance(1, 2, "x", 4) < 1', 'geoDistance() expects numeric arguments at 18'],
    ['geoDistance(1, 2, null, 4) < 1', 'geoDistance() expects numeric arguments at 18'],
    ['a = {:p}', 'missing value for placeholder {:p} at 4'],
  ])('%s → %s', (filter, message) => {
    const err = thrown(() => whereSql(filter, numbers))
    expect(err).toBeInstanceOf(FilterResolveError)
    expect(err.message).toBe(message)
  })

  test('geoDistance accepts numeric text and number fields', () => {
    expect(whereSql('geoDistance(lon, lat, "1.5", 2) < 1', numbers)).toContain('radians("lon")')
  })
})
