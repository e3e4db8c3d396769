import type { BaseCompareOp, LiteralValue } from './ast.js'
import { textOf } from './coerce.js'
import { likeMatches, likePattern } from './like-pattern.js'

/**
 * Decides a comparison of two literals in JavaScript, with the answer SQLite gives to PocketBase's
 * SQL: literals have no affinity, so `5 = "5"` is false and numbers sort before texts. On PostgreSQL
 * two untyped parameters would compare as texts (`10 < 9`), so they are never sent.
 */
export function foldComparison(op: BaseCompareOp, left: LiteralValue, right: LiteralValue): boolean {
  switch (op) {
    case '=':
      return equal(left, right)
    case '!=':
      return !equal(left, right)
    case '~':
    case '!~':
      if (left === null || right === null) return false
      return likeMatches(textOf(left), likePattern(textOf(right))) === (op === '~')
    default: {
      if (left === null || right === null) return false
      const c = compare(left, right)
      if (op === '<') return c < 0
      if (op === '<=') return c <= 0
      if (op === '>') return c > 0
      return c >= 0
    }
  }
}

const isEmpty = (v: LiteralValue): boolean => v === null || v === ''

/** `""` and `null` are the same value for `=` (PocketBase `resolveEqualExpr`). */
function equal(left: LiteralValue, right: LiteralValue): boolean {
  if (isEmpty(left) || isEmpty(right)) return isEmpty(left) && isEmpty(right)
  return compare(left!, right!) === 0
}

function compare(left: string | number | boolean, right: string | number | boolean): number {
  const a = typeof left === 'boolean' ? Number(left) : left
  const b = typeof right === 'boolean' ? Number(right) : right
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b)
  if (typeof a === 'number') return -1
  if (typeof b === 'number') return 1
  // SQLite's BINARY collation compares UTF-8 bytes, which differs from UTF-16 order above U+FFFF.
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
