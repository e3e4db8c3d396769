import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely'
import type { BaseCompareOp } from './ast.js'
import type { OperandKind } from './resolve.js'
import { safeDouble } from './strftime-postgres.js'

/*
 * PostgreSQL's forms of a `json` operand. SQLite's json_extract() returns a typed SQL value (a JSON
 * string is TEXT, a number INTEGER/REAL, true/false 1/0, an object or array its JSON text, JSON null
 * NULL), and SQLite's comparison rules then apply: a literal text never equals a number, numbers sort
 * before texts, a column's TEXT/NUMERIC affinity converts the JSON value. PostgreSQL's jsonb is one
 * type, so every comparison picks the view SQLite would use, by `jsonb_typeof`. Objects and arrays
 * compare as jsonb's text, which puts a space after `,` and `:` where SQLite's does not.
 *
 * The constants in these templates (`'{}'`, type names, the pattern) are fixed SQL, never user text.
 */

type OrderOp = Exclude<BaseCompareOp, '~' | '!~' | '=' | '!='>

const MIRROR: Readonly<Record<OrderOp, OrderOp>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' }
const ORDER_OPS: ReadonlySet<string> = new Set(['<', '<=', '>', '>='])

/** SQLite's NUMERIC affinity accepts a text that is a well-formed number (surrounding spaces allowed). */
const NUMERIC_TEXT = `'^ *[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)? *$'`

/** NUMERIC_TEXT with at most three exponent digits: NUMERIC reads it without an error. */
const NUMERIC_TEXT_SAFE = `'^ *[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]{1,3})? *$'`

/** Longer numeric texts stay texts: NUMERIC of thousands of digits costs more than it is worth. */
const MAX_NUMERIC_TEXT_LENGTH = 400

const typeOf = (x: Expression<unknown>) => sql`jsonb_typeof(${x})`
/** The text inside a JSON scalar (unquoted strings, `true`, `1.5`), NULL for JSON null. */
const inner = (x: Expression<unknown>) => sql`(${x} #>> '{}')`
/** 1/0 of a JSON boolean. */
const boolNumber = (x: Expression<unknown>) => sql`CASE WHEN ${inner(x)} = 'true' THEN 1 ELSE 0 END`

/**
 * `build` over the JSON value evaluated once: `(SELECT … FROM (SELECT <x> AS "v") AS "~j")`, so a
 * path (and its bound parameter) appears once however often the CASE reads it.
 */
function bound(
  x: Expression<unknown>,
  build: (v: Expression<unknown>) => Expression<unknown>,
): RawBuilder<unknown> {
  return sql`(SELECT ${build(sql.ref('~j.v'))} FROM (SELECT ${x} AS "v") AS "~j")`
}

function orderOp(op: string): OrderOp {
  if (!ORDER_OPS.has(op)) throw new Error(`unexpected operator ${op}`)
  return op as OrderOp
}

function compareExpr(a: Expression<unknown>, op: OrderOp, b: Expression<unknown>): RawBuilder<SqlBool> {
  return sql<SqlBool>`${a} ${sql.raw(op)} ${b}`
}

/** One operand of `pair`: its SQL, kind, and whether it lacks type affinity. */
export interface JsonSide {
  readonly expression: Expression<unknown>
  readonly kind: OperandKind
  readonly computed?: boolean
}

/** A value as SQLite ranks it: storage class 0 (numbers) or 1 (texts), and its number or text. */
interface View {
  readonly rank: Expression<unknown>
  readonly num: Expression<unknown>
  readonly text: Expression<unknown>
  /** SQL NULL: no value. */
  readonly isNull: Expression<unknown>
}

function jsonView(v: Expression<unknown>, affinity: boolean): View {
  const numeric = sql`${inner(v)} ~ ${sql.raw(NUMERIC_TEXT)}`
  return {
    rank: sql`(CASE ${typeOf(v)} WHEN 'number' THEN 0 WHEN 'boolean' THEN 0 WHEN 'string' THEN ${affinity ? sql`CASE WHEN ${numeric} THEN 0 ELSE 1 END` : sql`1`} WHEN 'object' THEN 1 WHEN 'array' THEN 1 END)`,
    num: sql`(CASE ${typeOf(v)} WHEN 'number' THEN CAST(${inner(v)} AS DOUBLE PRECISION) WHEN 'boolean' THEN ${boolNumber(v)} WHEN 'string' THEN CASE WHEN ${numeric} THEN CAST(${inner(v)} AS DOUBLE PRECISION) END END)`,
    text: sql`(CASE WHEN ${typeOf(v)} IN ('object', 'array') THEN CAST(${v} AS TEXT) ELSE ${inner(v)} END COLLATE "C")`,
    isNull: sql`COALESCE(${typeOf(v)}, 'null') = 'null'`,
  }
}

/** A number or boolean operand, or a computed text (text columns meet JSON through `jsonText`). */
function plainView(side: JsonSide): View {
  const isNull = sql`${side.expression} IS NULL`
  if (side.kind === 'text' || side.kind === 'date') {
    return { rank: sql`1`, num: sql`NULL`, text: sql`(${side.expression} COLLATE "C")`, isNull }
  }
  const num =
    side.kind === 'bool'
      ? sql`CAST(CAST(${side.expression} AS INTEGER) AS DOUBLE PRECISION)`
      : side.expression
  return { rank: sql`0`, num, text: sql`NULL`, isNull }
}

function compareViews(op: Exclude<BaseCompareOp, '~' | '!~'>, l: View, r: View): RawBuilder<unknown> {
  if (op === '=' || op === '!=') {
    // `IS` semantics: two NULLs are equal, a NULL differs from every value
    const same = sql`CASE WHEN ${l.isNull} OR ${r.isNull} THEN ${l.isNull} AND ${r.isNull} WHEN ${l.rank} <> ${r.rank} THEN FALSE WHEN ${l.rank} = 0 THEN ${l.num} = ${r.num} ELSE ${l.text} = ${r.text} END`
    return op === '=' ? same : sql`NOT (${same})`
  }
  const o = orderOp(op)
  const lower = sql.raw(o === '<' || o === '<=' ? 'TRUE' : 'FALSE')
  const higher = sql.raw(o === '<' || o === '<=' ? 'FALSE' : 'TRUE')
  return sql`CASE WHEN ${l.isNull} OR ${r.isNull} THEN NULL WHEN ${l.rank} < ${r.rank} THEN ${lower} WHEN ${l.rank} > ${r.rank} THEN ${higher} WHEN ${l.rank} = 0 THEN ${compareExpr(l.num, o, r.num)} ELSE ${compareExpr(l.text, o, r.text)} END`
}

export const jsonPostgres = {
  /** TEXT affinity: strings and numbers as their text, booleans as '1'/'0', objects as jsonb text. */
  text(x: Expression<unknown>): RawBuilder<unknown> {
    return bound(
      x,
      (v) =>
        sql`CASE WHEN ${typeOf(v)} = 'boolean' THEN CASE WHEN ${inner(v)} = 'true' THEN '1' ELSE '0' END ELSE ${inner(v)} END COLLATE "C"`,
    )
  },

  /** NUMERIC affinity: numbers, booleans as 1/0, and texts that are well-formed numbers. */
  number(x: Expression<unknown>): RawBuilder<unknown> {
    return bound(
      x,
      (v) =>
        sql`CASE ${typeOf(v)} WHEN 'number' THEN CAST(${inner(v)} AS DOUBLE PRECISION) WHEN 'boolean' THEN ${boolNumber(v)} WHEN 'string' THEN CASE WHEN ${inner(v)} ~ ${sql.raw(NUMERIC_TEXT)} THEN CAST(${inner(v)} AS DOUBLE PRECISION) END END`,
    )
  },

  compare(
    op: Exclude<BaseCompareOp, '~' | '!~'>,
    x: Expression<unknown>,
    value: string | number | null,
    flipped: boolean,
  ): RawBuilder<SqlBool> {
    if (value === null) {
      if (op === '=') return sql<SqlBool>`COALESCE(${typeOf(x)}, 'null') = 'null'`
      if (op === '!=') return sql<SqlBool>`COALESCE(${typeOf(x)}, 'null') <> 'null'`
      return sql<SqlBool>`FALSE`
    }
    const param = sql.val(value)
    // Without affinity a literal only ever equals a JSON value of its own type.
    const typed = (v: Expression<unknown>) =>
      typeof value === 'string'
        ? sql`CASE WHEN ${typeOf(v)} = 'string' THEN ${inner(v)} END`
        : sql`CASE ${typeOf(v)} WHEN 'number' THEN CAST(${inner(v)} AS DOUBLE PRECISION) WHEN 'boolean' THEN ${boolNumber(v)} END`
    if (op === '=' || op === '!=') {
      const same = op === '=' ? sql.raw('IS NOT DISTINCT FROM') : sql.raw('IS DISTINCT FROM')
      return bound(x, (v) => sql`(${typed(v)}) ${same} ${param}`) as RawBuilder<SqlBool>
    }
    const o = orderOp(op)
    const cmp = (a: Expression<unknown>) => (flipped ? compareExpr(param, o, a) : compareExpr(a, o, param))
    // The operator as seen from the JSON side: `5 < x` is `x > 5`.
    const jsonSide = flipped ? MIRROR[o] : o
    const below = sql.raw(jsonSide === '<' || jsonSide === '<=' ? 'TRUE' : 'FALSE')
    const above = sql.raw(jsonSide === '<' || jsonSide === '<=' ? 'FALSE' : 'TRUE')
    if (typeof value === 'string') {
      // numbers and booleans sort before every text
      return bound(
        x,
        (v) =>
          sql`CASE WHEN ${typeOf(v)} IN ('number', 'boolean') THEN ${below} WHEN ${typeOf(v)} = 'string' THEN ${cmp(sql`(${inner(v)} COLLATE "C")`)} WHEN ${typeOf(v)} IN ('object', 'array') THEN ${cmp(sql`(CAST(${v} AS TEXT) COLLATE "C")`)} END`,
      ) as RawBuilder<SqlBool>
    }
    // texts (and objects and arrays, which SQLite returns as text) sort after every number
    return bound(
      x,
      (v) =>
        sql`CASE WHEN ${typeOf(v)} IN ('number', 'boolean') THEN ${cmp(sql`(${typed(v)})`)} WHEN ${typeOf(v)} IN ('string', 'object', 'array') THEN ${above} END`,
    ) as RawBuilder<SqlBool>
  },

  /**
   * Two SQL operands, at least one `json`, compared as SQLite compares them: a value's storage
   * class ranks numbers (and booleans) before texts, equal ranks compare by value. Next to a number
   * operand (NUMERIC affinity) a JSON text that is a well-formed number is a number; next to a text
   * operand a JSON value compares as its text (TEXT affinity, see `compare.ts`).
   */
  pair(op: Exclude<BaseCompareOp, '~' | '!~'>, left: JsonSide, right: JsonSide): RawBuilder<SqlBool> {
    const a = left.kind === 'json' ? 'a' : undefined
    const b = right.kind === 'json' ? 'b' : undefined
    // a number column converts numeric JSON texts; a computed value or another JSON value does not
    const numericColumn = (s: JsonSide) => (s.kind === 'number' || s.kind === 'bool') && s.computed !== true
    const affinity = numericColumn(left) || numericColumn(right)
    const view = (side: JsonSide, name: string | undefined) =>
      name === undefined ? plainView(side) : jsonView(sql.ref(`~j.${name}`), affinity)
    const l = view(left, a)
    const r = view(right, b)
    const body = compareViews(op, l, r)
    const columns = [
      ...(a ? [sql`${left.expression} AS "a"`] : []),
      ...(b ? [sql`${right.expression} AS "b"`] : []),
    ]
    return sql<SqlBool>`(SELECT ${body} FROM (SELECT ${sql.join(columns)}) AS "~j")`
  },

  /**
   * A number ordered against a text (`FilterDialect.mixedOrder`): next to a number column (NUMERIC
   * affinity) a well-formed numeric text is a number; otherwise every number sorts before every text.
   */
  mixedOrder(
    op: '<' | '<=' | '>' | '>=',
    number: JsonSide,
    text: Expression<unknown>,
    numberLeft: boolean,
  ): RawBuilder<SqlBool> {
    const o = orderOp(op)
    const n =
      number.kind === 'bool'
        ? sql`CAST(CAST(${number.expression} AS INTEGER) AS DOUBLE PRECISION)`
        : number.expression
    // the operator as seen from the number: `"x" > 5` is `5 < "x"`
    const fromNumber = numberLeft ? o : MIRROR[o]
    const before = sql.raw(fromNumber === '<' || fromNumber === '<=' ? 'TRUE' : 'FALSE')
    const asNumber = sql`CAST(${text} AS NUMERIC)`
    // a numeric text PostgreSQL can read without an error (longer ones, or exponents past 999, are
    // left as texts: SQLite would read them as infinities or zeros)
    const numeric =
      number.computed === true
        ? sql``
        : sql` WHEN length(${text}) <= ${sql.lit(MAX_NUMERIC_TEXT_LENGTH)} AND ${text} ~ ${sql.raw(NUMERIC_TEXT_SAFE)} THEN ${compareExpr(numberLeft ? n : safeDouble(asNumber), o, numberLeft ? safeDouble(asNumber) : n)}`
    return sql<SqlBool>`(CASE WHEN ${n} IS NULL OR ${text} IS NULL THEN NULL${numeric} ELSE ${before} END)`
  },

  /** A stored array of texts as compact JSON text, like SQLite's stored `["a","b"]`. */
  arrayText(x: Expression<unknown>): RawBuilder<unknown> {
    return sql`(CASE WHEN ${x} IS NULL THEN NULL ELSE (SELECT '[' || COALESCE(string_agg(to_json("~e"."v")::text, ',' ORDER BY "~e"."n"), '') || ']' FROM jsonb_array_elements_text(${x}) WITH ORDINALITY AS "~e"("v", "n")) END COLLATE "C")`
  },
}
