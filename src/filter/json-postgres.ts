import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely'
import type { BaseCompareOp } from './ast.js'

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

  /** A stored array of texts as compact JSON text, like SQLite's stored `["a","b"]`. */
  arrayText(x: Expression<unknown>): RawBuilder<unknown> {
    return sql`(CASE WHEN ${x} IS NULL THEN NULL ELSE (SELECT '[' || COALESCE(string_agg(to_json("~e"."v")::text, ',' ORDER BY "~e"."n"), '') || ']' FROM jsonb_array_elements_text(${x}) WITH ORDINALITY AS "~e"("v", "n")) END COLLATE "C")`
  },
}
