import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely'
import { baseOp, type BaseCompareOp, type CompareOp, type LiteralValue } from './ast.js'
import { coerce, textOf } from './coerce.js'
import type { FilterDialect } from './filter-dialect.js'
import { foldComparison } from './fold.js'
import { likePattern } from './like-pattern.js'
import type { OperandKind } from './resolve.js'

/** A compiled operand: a literal still known by value, or an SQL expression of some kind. */
export type Operand =
  | { readonly type: 'value'; readonly value: LiteralValue }
  | {
      readonly type: 'sql'
      readonly expression: Expression<unknown>
      readonly kind: OperandKind
      /** No type affinity (see `ResolvedOperand.computed`). */
      readonly computed?: boolean
    }

type SqlOperand = Extract<Operand, { type: 'sql' }>

const TRUE = sql<SqlBool>`TRUE`
const FALSE = sql<SqlBool>`FALSE`
const MIRROR: Readonly<Record<string, BaseCompareOp>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' }

/**
 * One comparison of single-valued operands with PocketBase's semantics (§4.2): `=`/`!=` treat `""`
 * and NULL as the same value, `~` is a case-insensitive "contains" unless the literal has a `%`,
 * and the any-of `?` forms equal the plain ones.
 */
export function compileComparison(
  op: CompareOp,
  left: Operand,
  right: Operand,
  dialect: FilterDialect,
): RawBuilder<SqlBool> {
  const base = baseOp(op)
  if (left.type === 'value' && right.type === 'value') {
    return foldComparison(base, left.value, right.value) ? TRUE : FALSE
  }
  switch (base) {
    case '=':
    case '!=':
      return equality(base === '!=', left, right, dialect)
    case '~':
    case '!~':
      return like(base === '!~', left, right, dialect)
    default:
      return ordering(base, left, right, dialect)
  }
}

/** Text and dates share the text storage; other kinds compare with their own kind only. */
const comparisonClass = (kind: OperandKind): OperandKind => (kind === 'date' ? 'text' : kind)

/** `op` is one of the fixed operators of this module, never text from the filter. */
function binary(left: Expression<unknown>, op: string, right: Expression<unknown>): RawBuilder<SqlBool> {
  return sql<SqlBool>`${left} ${sql.raw(op)} ${right}`
}

/**
 * Two SQL operands made comparable, and the class they compare as: numbers with booleans as
 * numbers, other mixed kinds as texts, which is what SQLite's affinity rules come to.
 */
function aligned(
  left: SqlOperand,
  right: SqlOperand,
  d: FilterDialect,
): [Expression<unknown>, Expression<unknown>, OperandKind] {
  const l = comparisonClass(left.kind)
  const r = comparisonClass(right.kind)
  if (l === r || l === 'json' || r === 'json') return [left.expression, right.expression, l]
  if ((l === 'number' || l === 'bool') && (r === 'number' || r === 'bool')) {
    const asNumber = (o: SqlOperand) => (o.kind === 'bool' ? d.boolToNumber(o.expression) : o.expression)
    return [asNumber(left), asNumber(right), 'number']
  }
  return [d.toText(left.expression, left.kind), d.toText(right.expression, right.kind), 'text']
}

/** The SQL side and the literal side of a comparison; `flipped` when the literal is on the left. */
function split(left: Operand, right: Operand): { column: SqlOperand; value: LiteralValue; flipped: boolean } {
  if (left.type === 'sql' && right.type === 'value')
    return { column: left, value: right.value, flipped: false }
  if (left.type === 'value' && right.type === 'sql')
    return { column: right, value: left.value, flipped: true }
  throw new Error('split() needs one literal and one SQL operand')
}

function equality(negate: boolean, left: Operand, right: Operand, d: FilterDialect): RawBuilder<SqlBool> {
  if (left.type === 'sql' && right.type === 'sql') {
    if (left.kind === 'json' || right.kind === 'json') return jsonPair(negate ? '!=' : '=', left, right, d)
    const [a, b, cls] = aligned(left, right, d)
    if (cls === 'text') {
      return sql<SqlBool>`COALESCE(${a}, '') ${sql.raw(negate ? '<>' : '=')} COALESCE(${b}, '')`
    }
    return d.same(a, b, negate)
  }
  const { column, value, flipped } = split(left, right)
  if (column.kind === 'json')
    return d.jsonCompare(negate ? '!=' : '=', column.expression, jsonLiteral(value), flipped)
  if (value === null || value === '') return empty(negate, column)
  const coerced = coerce(value, column.kind, d)
  if (coerced === undefined) return negate ? TRUE : FALSE
  const col = coerced.asNumber ? d.boolToNumber(column.expression) : column.expression
  const param = sql.val(coerced.value)
  const [a, b] = flipped ? [param, col] : [col, param]
  return negate ? d.same(a, b, negate) : binary(a, '=', b)
}

/** A literal as a JSON value is compared with it: booleans are SQLite's 1 and 0. */
const jsonLiteral = (value: LiteralValue): string | number | null =>
  typeof value === 'boolean' ? (value ? 1 : 0) : value

/**
 * A comparison of two SQL operands, at least one `json`: next to a text column the JSON value takes
 * TEXT affinity (it compares as its text), otherwise the dialect ranks the values as SQLite does.
 */
function jsonPair(
  op: BaseCompareOp,
  left: SqlOperand,
  right: SqlOperand,
  d: FilterDialect,
): RawBuilder<SqlBool> {
  const textual = (o: SqlOperand) => comparisonClass(o.kind) === 'text' && o.computed !== true
  const cmp = op as Exclude<BaseCompareOp, '~' | '!~'>
  if (textual(left) || textual(right)) {
    const a = left.kind === 'json' ? d.jsonText(left.expression) : left.expression
    const b = right.kind === 'json' ? d.jsonText(right.expression) : right.expression
    if (op === '=' || op === '!=') return d.same(a, b, op === '!=')
    return binary(a, op, b)
  }
  return d.jsonPair(cmp, left, right)
}

/** `x = ""` and `x = null`: a text matches '' or NULL; other kinds only NULL. */
function empty(negate: boolean, column: SqlOperand): RawBuilder<SqlBool> {
  const x = column.expression
  if (comparisonClass(column.kind) !== 'text') {
    return negate ? sql<SqlBool>`${x} IS NOT NULL` : sql<SqlBool>`${x} IS NULL`
  }
  return negate ? sql<SqlBool>`(${x} <> '' AND ${x} IS NOT NULL)` : sql<SqlBool>`(${x} = '' OR ${x} IS NULL)`
}

function ordering(op: BaseCompareOp, left: Operand, right: Operand, d: FilterDialect): RawBuilder<SqlBool> {
  if (left.type === 'sql' && right.type === 'sql') {
    if (left.kind === 'json' || right.kind === 'json') return jsonPair(op, left, right, d)
    const [a, b] = aligned(left, right, d)
    return binary(a, op, b)
  }
  const { column, value, flipped } = split(left, right)
  if (value === null) return FALSE
  if (column.kind === 'json') {
    return d.jsonCompare(op as '<' | '<=' | '>' | '>=', column.expression, jsonLiteral(value), flipped)
  }
  const coerced = coerce(value, column.kind, d)
  if (coerced === undefined) {
    // a number column against a non-numeric text: in SQLite every number sorts before every text
    const columnOp = flipped ? MIRROR[op] : op
    return columnOp === '<' || columnOp === '<=' ? sql<SqlBool>`${column.expression} IS NOT NULL` : FALSE
  }
  const col = coerced.asNumber ? d.boolToNumber(column.expression) : column.expression
  const param = sql.val(coerced.value)
  return flipped ? binary(param, op, col) : binary(col, op, param)
}

function like(negate: boolean, left: Operand, right: Operand, d: FilterDialect): RawBuilder<SqlBool> {
  // `x ~ null` is `x LIKE NULL` in PocketBase: unknown, so false for `~` and `!~` alike
  const value = asText(left, d, (v) => v)
  const pattern = asText(right, d, likePattern, (x) => sql`('%' || ${x} || '%')`)
  return value === undefined || pattern === undefined ? FALSE : d.like(value, pattern, negate)
}

/** An operand as text for LIKE; undefined for a NULL literal. */
function asText(
  operand: Operand,
  d: FilterDialect,
  literal: (text: string) => string,
  expression: (x: Expression<unknown>) => Expression<unknown> = (x) => x,
): Expression<unknown> | undefined {
  if (operand.type === 'sql') return expression(d.toText(operand.expression, operand.kind))
  return operand.value === null ? undefined : sql.val(literal(textOf(operand.value)))
}
