import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely'
import type { DialectName } from '../db/index.js'
import type { BaseCompareOp } from './ast.js'
import { jsonPostgres, type JsonSide } from './json-postgres.js'
import { MAX_STRFTIME_TIME_TEXT } from './limits.js'
import type { OperandKind } from './resolve.js'
import { timeLiteral, type StrftimeCall, type StrftimeTime } from './strftime.js'
import { postgresStrftime, postgresTimeValue } from './strftime-postgres.js'

/** A literal a JSON value is compared with; booleans arrive as the numbers 1 and 0. */
export type JsonLiteral = string | number | null

/**
 * The few SQL forms of the filter language that differ between SQLite and PostgreSQL. Nothing else
 * in `filter/` or `rules/` asks which database it compiles for.
 */
export interface FilterDialect {
  readonly name: DialectName
  /** Case-insensitive `LIKE` with `\` as the escape character. */
  like(value: Expression<unknown>, pattern: Expression<unknown>, negate: boolean): RawBuilder<SqlBool>
  /** NULL-safe equality: NULL equals NULL and differs from every value. */
  same(left: Expression<unknown>, right: Expression<unknown>, negate: boolean): RawBuilder<SqlBool>
  /** A boolean as it is bound for a `bool` operand. */
  bool(value: boolean): number | boolean
  /** The text form of an operand, the same on both databases (`'1'`/`'0'` for booleans). */
  toText(expression: Expression<unknown>, kind: OperandKind): Expression<unknown>
  /** A `bool` operand as the number 0 or 1. */
  boolToNumber(expression: Expression<unknown>): Expression<unknown>
  /** `expression` limited to [min, max]; NULL stays NULL. */
  clamp(expression: Expression<unknown>, min: number, max: number): Expression<unknown>

  /** The items of a JSON array as a LEFT JOIN source `<rows> AS alias` with one text column `value`. */
  jsonEach(array: Expression<unknown>, alias: string): RawBuilder<unknown>
  /**
   * A stored JSON array column as an array whatever it holds, as PocketBase normalizes it: NULL and
   * '' are `[]`, a text that is not JSON a one-item array. (SQLite's constant propagation can put a
   * compared constant where the column was: `labels = "x" && labels:length > 0`.)
   */
  jsonArrayOf(column: Expression<unknown>): Expression<unknown>
  /** A bound JSON text as a JSON value (the input of `jsonEach`, `jsonArrayIncludes`). */
  jsonValue(json: string): Expression<unknown>
  /**
   * An integer expression as a `number` operand. PostgreSQL would type a parameter next to an
   * integer as an integer too and refuse `-5.5`; numbers are doubles there.
   */
  double(expression: Expression<unknown>): Expression<unknown>
  /** The number of items of a stored JSON array; 0 for NULL. */
  jsonArrayLength(array: Expression<unknown>): RawBuilder<unknown>
  /** Whether a JSON array holds the text `value`. */
  jsonArrayIncludes(array: Expression<unknown>, value: Expression<unknown>): RawBuilder<SqlBool>
  /** A stored JSON array of texts as compact JSON text (`["a","b"]`), the same on both databases. */
  jsonArrayText(array: Expression<unknown>): RawBuilder<unknown>
  /**
   * The value at `path` inside a JSON column, a `json` operand (PocketBase's `json_extract`); numeric
   * segments index arrays; `[]` is the whole value. The path is bound, never part of the SQL text.
   */
  jsonPath(json: Expression<unknown>, path: readonly string[]): RawBuilder<unknown>
  /** The `lon` or `lat` number of a stored geoPoint. */
  geoCoordinate(point: Expression<unknown>, key: 'lon' | 'lat'): RawBuilder<unknown>
  /**
   * A `json` operand compared with a literal, with the answers SQLite gives for `json_extract()`
   * results (texts equal only JSON strings, numbers sort before texts). `flipped`: literal on the left.
   */
  jsonCompare(
    op: Exclude<BaseCompareOp, '~' | '!~'>,
    json: Expression<unknown>,
    value: JsonLiteral,
    flipped: boolean,
  ): RawBuilder<SqlBool>
  /**
   * Two SQL operands compared, at least one `json` and no text column (a text column meets JSON
   * through `jsonText`): SQLite's storage-class order, numbers before texts; next to a number
   * column (NUMERIC affinity) a JSON text that is a well-formed number is a number.
   */
  jsonPair(op: Exclude<BaseCompareOp, '~' | '!~'>, left: JsonSide, right: JsonSide): RawBuilder<SqlBool>
  /** A `json` operand as SQLite's TEXT affinity makes it (next to text columns, in LIKE). */
  jsonText(json: Expression<unknown>): Expression<unknown>
  /** A `json` operand as SQLite's NUMERIC affinity makes it (next to number columns, in functions). */
  jsonNumber(json: Expression<unknown>): Expression<unknown>
  /** Whether a stored JSON column differs from a JSON text (NULL text: from SQL NULL). */
  jsonDiffers(json: Expression<unknown>, text: string | null): RawBuilder<SqlBool>
  /**
   * A number or boolean operand ordered against a text operand as SQLite orders them: a number
   * column gives the text NUMERIC affinity (a numeric text compares as its number), a computed
   * number none; then numbers sort before texts. `numberLeft`: the number is the left operand.
   */
  mixedOrder(
    op: '<' | '<=' | '>' | '>=',
    number: JsonSide,
    text: Expression<unknown>,
    numberLeft: boolean,
  ): RawBuilder<SqlBool>
  /**
   * SQLite's `strftime(format, time, modifiers…)` of a validated call (strftime.ts), a text or NULL;
   * `now` is what the time value 'now' means on PostgreSQL (SQLite reads its own clock).
   */
  strftime(call: StrftimeCall, time: StrftimeTime, now: Date): RawBuilder<unknown>
}

const OPS: ReadonlySet<string> = new Set(['=', '<', '<=', '>', '>='])
/** `op` is one of the fixed comparison operators, never text from the filter. */
export const rawOp = (op: string) => {
  if (!OPS.has(op)) throw new Error(`unexpected operator ${op}`)
  return sql.raw(op)
}

/** The JSONPath of SQLite's json functions: `$.a[0].b`. Segments are `\w+` (the lexer's identifiers). */
function sqlitePath(path: readonly string[]): string {
  return '$' + path.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('')
}

/** A time value from SQL: a text longer than MAX_STRFTIME_TIME_TEXT is none (NULL). */
function sqliteTimeValue(x: Expression<unknown>, kind: OperandKind): Expression<unknown> {
  if (kind === 'number' || kind === 'bool') return x
  return sql`CASE WHEN length(${x}) <= ${sql.lit(MAX_STRFTIME_TIME_TEXT)} THEN ${x} END`
}

const sqlite: FilterDialect = {
  name: 'sqlite',
  // SQLite's LIKE is case-insensitive for ASCII letters only, which is PocketBase's behaviour.
  like: (value, pattern, negate) =>
    negate
      ? sql<SqlBool>`${value} NOT LIKE ${pattern} ESCAPE '\\'`
      : sql<SqlBool>`${value} LIKE ${pattern} ESCAPE '\\'`,
  same: (left, right, negate) =>
    negate ? sql<SqlBool>`${left} IS NOT ${right}` : sql<SqlBool>`${left} IS ${right}`,
  bool: (value) => (value ? 1 : 0),
  toText: (expression, kind) =>
    kind === 'number' || kind === 'bool' ? sql`CAST(${expression} AS TEXT)` : expression,
  boolToNumber: (expression) => expression,
  clamp: (expression, min, max) => sql`min(max(${expression}, ${sql.lit(min)}), ${sql.lit(max)})`,

  double: (expression) => expression,
  jsonArrayOf: (c) =>
    sql`CASE WHEN json_valid(${c}) THEN ${c} WHEN ${c} IS NULL OR ${c} = '' THEN '[]' ELSE json_array(${c}) END`,
  jsonEach: (array, alias) => sql`json_each(${array}) AS ${sql.id(alias)}`,
  jsonValue: (json) => sql.val(json),
  jsonArrayLength: (array) => sql`COALESCE(json_array_length(${array}), 0)`,
  jsonArrayIncludes: (array, value) =>
    sql<SqlBool>`EXISTS (SELECT 1 FROM json_each(${array}) AS "~j" WHERE "~j"."value" = ${value})`,
  jsonArrayText: (array) => sql`${array}`,
  jsonPath: (json, path) =>
    path.length === 0 ? sql`json_extract(${json}, '$')` : sql`json_extract(${json}, ${sqlitePath(path)})`,
  geoCoordinate: (point, key) => sql`json_extract(${point}, ${sql.lit(key === 'lon' ? '$.lon' : '$.lat')})`,
  jsonCompare(op, json, value, flipped) {
    if (value === null) {
      if (op === '=') return sql<SqlBool>`${json} IS NULL`
      if (op === '!=') return sql<SqlBool>`${json} IS NOT NULL`
      return sql<SqlBool>`FALSE`
    }
    if (op === '=' || op === '!=') return sqlite.same(json, sql.val(value), op === '!=')
    return flipped
      ? sql<SqlBool>`${sql.val(value)} ${rawOp(op)} ${json}`
      : sql<SqlBool>`${json} ${rawOp(op)} ${sql.val(value)}`
  },
  jsonText: (json) => json,
  jsonNumber: (json) => json,
  jsonPair: (op, left, right) =>
    op === '=' || op === '!='
      ? sqlite.same(left.expression, right.expression, op === '!=')
      : sql<SqlBool>`${left.expression} ${rawOp(op)} ${right.expression}`,
  jsonDiffers: (json, text) =>
    text === null ? sql<SqlBool>`${json} IS NOT NULL` : sql<SqlBool>`${json} IS NOT json(${text})`,
  // SQLite applies the affinities itself
  mixedOrder: (op, number, text, numberLeft) =>
    numberLeft
      ? sql<SqlBool>`${number.expression} ${rawOp(op)} ${text}`
      : sql<SqlBool>`${text} ${rawOp(op)} ${number.expression}`,
  strftime: (call, time) =>
    sql`strftime(${sql.join([
      sql.val(call.format),
      time.type === 'value' ? sql.val(timeLiteral(time.value)) : sqliteTimeValue(time.expression, time.kind),
      ...call.modifiers.map((m) => sql.val(m.text)),
    ])})`,
}

const postgres: FilterDialect = {
  name: 'postgres',
  // ILIKE also folds non-ASCII letters, where SQLite's LIKE does not: "É" ~ "é" matches here only.
  like: (value, pattern, negate) =>
    negate
      ? sql<SqlBool>`${value} NOT ILIKE ${pattern} ESCAPE '\\'`
      : sql<SqlBool>`${value} ILIKE ${pattern} ESCAPE '\\'`,
  same: (left, right, negate) =>
    negate
      ? sql<SqlBool>`${left} IS DISTINCT FROM ${right}`
      : sql<SqlBool>`${left} IS NOT DISTINCT FROM ${right}`,
  bool: (value) => value,
  toText: (expression, kind) => {
    switch (kind) {
      case 'bool':
        return sql`CAST(CAST(${expression} AS INTEGER) AS TEXT)`
      case 'number':
        return sql`CAST(${expression} AS TEXT)`
      case 'json':
        return jsonPostgres.text(expression)
      default:
        return expression
    }
  },
  boolToNumber: (expression) => sql`CAST(CAST(${expression} AS INTEGER) AS DOUBLE PRECISION)`,
  // GREATEST and LEAST ignore NULLs, where SQLite's max() and min() return NULL
  clamp: (expression, min, max) =>
    sql`(SELECT CASE WHEN "~c"."v" IS NULL THEN NULL ELSE LEAST(GREATEST("~c"."v", ${sql.lit(min)}), ${sql.lit(max)}) END FROM (SELECT ${expression} AS "v") AS "~c")`,

  // LATERAL: the array may come from a table joined before it in the same FROM.
  // jsonb columns always hold valid JSON, and Galley stores arrays in them
  jsonArrayOf: (c) => c,
  jsonEach: (array, alias) => sql`LATERAL jsonb_array_elements_text(${array}) AS ${sql.id(alias)}("value")`,
  jsonValue: (json) => sql`CAST(${json} AS jsonb)`,
  double: (expression) => sql`CAST(${expression} AS DOUBLE PRECISION)`,
  jsonArrayLength: (array) => sql`CAST(COALESCE(jsonb_array_length(${array}), 0) AS DOUBLE PRECISION)`,
  jsonArrayIncludes: (array, value) => sql<SqlBool>`${array} @> jsonb_build_array(${value})`,
  jsonArrayText: jsonPostgres.arrayText,
  jsonPath: (json, path) =>
    path.length === 0 ? sql`${json}` : sql`(${json} #> CAST(${sql.val([...path])} AS text[]))`,
  geoCoordinate: (point, key) =>
    sql`CAST(${point} ->> ${sql.lit(key === 'lon' ? 'lon' : 'lat')} AS DOUBLE PRECISION)`,
  jsonCompare: jsonPostgres.compare,
  jsonText: jsonPostgres.text,
  jsonNumber: jsonPostgres.number,
  jsonPair: jsonPostgres.pair,
  jsonDiffers: (json, text) =>
    text === null
      ? sql<SqlBool>`${json} IS NOT NULL`
      : sql<SqlBool>`${json} IS DISTINCT FROM CAST(${text} AS jsonb)`,
  mixedOrder: jsonPostgres.mixedOrder,
  strftime: (call, time, now) => postgresStrftime(call, postgresTimeValue(time), now),
}

const DIALECTS: Readonly<Record<DialectName, FilterDialect>> = Object.freeze({
  sqlite: Object.freeze(sqlite),
  postgres: Object.freeze(postgres),
})

/** The filter dialect of a database: `filterDialect(database.dialect.name)`. */
export function filterDialect(name: DialectName): FilterDialect {
  return DIALECTS[name]
}
