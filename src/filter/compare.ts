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
/** SQL's unknown: a comparison with NULL. */
const UNKNOWN = sql<SqlBool>`NULL`
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

/** A number (or boolean) operand and a text one: the pair, number first, or undefined. */
function mixed(left: SqlOperand, right: SqlOperand): [SqlOperand, SqlOperand] | undefined {
  const numeric = (o: SqlOperand) => o.kind === 'number' || o.kind === 'bool'
  const textual = (o: SqlOperand) => comparisonClass(o.kind) === 'text'
  if (numeric(left) && textual(right)) return [left, right]
  if (numeric(right) && textual(left)) return [right, left]
  return undefined
}

function equality(negate: boolean, left: Operand, right: Operand, d: FilterDialect): RawBuilder<SqlBool> {
  if (left.type === 'sql' && right.type === 'sql') {
    if (left.kind === 'json' || right.kind === 'json') return jsonPair(negate ? '!=' : '=', left, right, d)
    const pair = mixed(left, right)
    if (pair !== undefined) {
      // PocketBase's COALESCE(a, '') = COALESCE(b, '') has no affinity: a number never equals a text,
      // so only a missing number next to an empty or missing text is equal
      const [n, t] = pair
      const same = sql<SqlBool>`(${n.expression} IS NULL AND (${t.expression} IS NULL OR ${t.expression} = ''))`
      return negate ? sql<SqlBool>`NOT ${same}` : same
    }
    const [a, b, cls] = aligned(left, right, d)
    if (cls === 'text') {
      return sql<SqlBool>`COALESCE(${a}, '') ${sql.raw(negate ? '<>' : '=')} COALESCE(${b}, '')`
    }
    return d.same(a, b, negate)
  }
  const { column, value, flipped } = split(left, right)
  if (column.kind === 'json')
    return d.jsonCompare(negate ? '!=' : '=', column.expression, jsonLiteral(value), flipped)
  if (value === null || value === '') return empty(negate, column, value)
  const coerced = coerce(value, column.kind, d, column.computed !== true)
  // a number never equals a text: false, or unknown for a missing value (`IS NOT`: true)
  if (coerced === undefined) return negate ? TRUE : known(column.expression, FALSE)
  const col = coerced.asNumber ? d.boolToNumber(column.expression) : column.expression
  const param = sql.val(coerced.value)
  const [a, b] = flipped ? [param, col] : [col, param]
  return negate ? d.same(a, b, negate) : binary(a, '=', b)
}

/** `answer` for a value, NULL (unknown) for a missing one, as SQL comparisons with NULL are. */
function known(x: Expression<unknown>, answer: RawBuilder<SqlBool>): RawBuilder<SqlBool> {
  return sql<SqlBool>`CASE WHEN ${x} IS NOT NULL THEN ${answer} END`
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
function empty(negate: boolean, column: SqlOperand, value: '' | null): RawBuilder<SqlBool> {
  const x = column.expression
  if (comparisonClass(column.kind) !== 'text') {
    // A computed number (geoDistance, a geoPoint coordinate) is PocketBase's "no NULL fallback"
    // operand: `x = ""` is `x IS ''`, never true; a number column falls back: NULL is "" there.
    if (value === '' && column.computed === true) return negate ? TRUE : FALSE
    return negate ? sql<SqlBool>`${x} IS NOT NULL` : sql<SqlBool>`${x} IS NULL`
  }
  return negate ? sql<SqlBool>`(${x} <> '' AND ${x} IS NOT NULL)` : sql<SqlBool>`(${x} = '' OR ${x} IS NULL)`
}

function ordering(op: BaseCompareOp, left: Operand, right: Operand, d: FilterDialect): RawBuilder<SqlBool> {
  if (left.type === 'sql' && right.type === 'sql') {
    if (left.kind === 'json' || right.kind === 'json') return jsonPair(op, left, right, d)
    const pair = mixed(left, right)
    // a computed number next to a text column takes its TEXT affinity (`aligned`); otherwise SQLite
    // gives the text NUMERIC affinity (next to a number column) or none, and numbers sort first
    if (pair !== undefined && (pair[0].computed !== true || pair[1].computed === true)) {
      const cmp = op as Exclude<BaseCompareOp, '~' | '!~' | '=' | '!='>
      return d.mixedOrder(cmp, pair[0], pair[1].expression, pair[0] === left)
    }
    const [a, b] = aligned(left, right, d)
    return binary(a, op, b)
  }
  const { column, value, flipped } = split(left, right)
  if (value === null) return FALSE
  if (column.kind === 'json') {
    return d.jsonCompare(op as '<' | '<=' | '>' | '>=', column.expression, jsonLiteral(value), flipped)
  }
  const coerced = coerce(value, column.kind, d, column.computed !== true)
  if (coerced === undefined) {
    // a number against a text: in SQLite every number sorts before every text
    const columnOp = flipped ? MIRROR[op] : op
    const below = columnOp === '<' || columnOp === '<='
    const numeric = column.kind === 'number' || column.kind === 'bool'
    return known(column.expression, below === numeric ? TRUE : FALSE)
  }
  const col = coerced.asNumber ? d.boolToNumber(column.expression) : column.expression
  const param = sql.val(coerced.value)
  return flipped ? binary(param, op, col) : binary(col, op, param)
}

function like(negate: boolean, left: Operand, right: Operand, d: FilterDialect): RawBuilder<SqlBool> {
  // `x ~ null` is `x LIKE NULL` in PocketBase: unknown for `~` and `!~` alike (so it never holds,
  // and a value of a match-all operand is no counterexample)
  const value = asText(left, d, (v) => v)
  const pattern = asText(right, d, likePattern, (x) => sql`('%' || ${x} || '%')`)
  return value === undefined || pattern === undefined ? UNKNOWN : d.like(value, pattern, negate)
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
