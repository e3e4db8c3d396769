import BetterSqlite3 from 'better-sqlite3'
import fc from 'fast-check'
import { afterAll, describe, expect, test } from 'vitest'
import type { BaseCompareOp } from './ast.js'
import { foldComparison } from './fold.js'
import { likeMatches, likePattern } from './like-pattern.js'

describe('likePattern', () => {
  test.each([
    ['abc', '%abc%'],
    ['', '%%'],
    ['50_%', '50_%'],
    ['Lorem%', 'Lorem%'],
    ['%end', '%end'],
    ['a_b', '%a\\_b%'],
    ['a\\b', '%a\\\\b%'],
    ['50\\%', '%50\\%%'],
    ['a\\_b', '%a\\_b%'],
    ['a\\\\b', '%a\\\\b%'],
    ['a\\', '%a\\\\%'],
    ['%a\\', '%a\\\\'],
    ['%a\\\\', '%a\\\\'],
    ['%a\\%', '%a\\%'],
  ])('%s → %s', (value, pattern) => {
    expect(likePattern(value)).toBe(pattern)
  })
})

const sqlite = new BetterSqlite3(':memory:')
afterAll(() => sqlite.close())

const like = sqlite.prepare<[string, string], { r: number }>("SELECT ? LIKE ? ESCAPE '\\' AS r")
const chars = fc.constantFrom('a', 'B', 'b', '%', '_', '\\', 'é', 'É', '😀', ' ', 'z')
const text = fc.array(chars, { maxLength: 8 }).map((a) => a.join(''))

describe('likeMatches agrees with SQLite', () => {
  test.each([
    ['abc', '%B%', true],
    ['é', '%É%', false],
    ['a😀b', 'a_b', true],
    ['a%b', '%\\%%', true],
    ['ab', 'a\\b', true],
    ['', '%', true],
    ['', '_', false],
  ])('%s LIKE %s', (value, pattern, expected) => {
    expect(likeMatches(value, pattern)).toBe(expected)
    expect(like.get(value, pattern)!.r === 1).toBe(expected)
  })

  test('on generated values and contains-patterns', () => {
    fc.assert(
      fc.property(text, text, (value, raw) => {
        const pattern = likePattern(raw)
        expect(likeMatches(value, pattern)).toBe(like.get(value, pattern)!.r === 1)
      }),
      { numRuns: 2000 },
    )
  })

  test('a pattern of many % stays fast', () => {
    const started = performance.now()
    expect(likeMatches('a'.repeat(3000), `${'%a'.repeat(1000)}b`)).toBe(false)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})

describe('foldComparison agrees with SQLite on two literals', () => {
  const literal = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    text,
  )
  const ops: BaseCompareOp[] = ['<', '<=', '>', '>=', '~', '!~']
  test.each(ops)('%s', (op) => {
    const isLike = op.endsWith('~')
    const sqlOp = op === '~' ? 'LIKE' : op === '!~' ? 'NOT LIKE' : op
    const statement = sqlite.prepare(`SELECT ? ${sqlOp} ? ${isLike ? "ESCAPE '\\'" : ''} AS r`)
    // numbers in LIKE are left out: SQLite renders a bound 1 as '1.0', Galley as '1'
    const operand = isLike ? text : literal
    fc.assert(
      fc.property(operand, operand, (a, b) => {
        const row = statement.get(a, isLike ? likePattern(String(b)) : b) as { r: number }
        expect(foldComparison(op, a, b)).toBe(row.r === 1)
      }),
      { numRuns: 500 },
    )
  })

  test.each([
    ['=', 5, '5', false],
    ['=', '', null, true],
    ['!=', null, '', false],
    ['=', 'a', 'a', true],
    ['!=', 1, true, false],
    ['<', null, 1, false],
    ['~', null, 'a', false],
    ['<', 'a😀', 'a\uffff', false],
  ] as const)('%s: %o %o', (op, a, b, expected) => {
    expect(foldComparison(op, a, b)).toBe(expected)
  })
})
