import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely'
import type { DialectName } from '../db/index.js'
import type { OperandKind } from './resolve.js'

/**
 * The few SQL forms of the filter language that differ between SQLite and PostgreSQL. Nothing else
 * in `filter/` asks which database it compiles for.
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
  /** `expression` limited to [min, max]. */
  clamp(expression: Expression<unknown>, min: number, max: number): Expression<unknown>
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
      case 'json':
        return sql`CAST(${expression} AS TEXT)`
      default:
        return expression
    }
  },
  boolToNumber: (expression) => sql`CAST(CAST(${expression} AS INTEGER) AS DOUBLE PRECISION)`,
  clamp: (expression, min, max) => sql`LEAST(GREATEST(${expression}, ${sql.lit(min)}), ${sql.lit(max)})`,
}

const DIALECTS: Readonly<Record<DialectName, FilterDialect>> = Object.freeze({
  sqlite: Object.freeze(sqlite),
  postgres: Object.freeze(postgres),
})

/** The filter dialect of a database: `filterDialect(database.dialect.name)`. */
export function filterDialect(name: DialectName): FilterDialect {
  return DIALECTS[name]
}
