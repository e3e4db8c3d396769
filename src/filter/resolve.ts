import type { Expression, SqlBool } from 'kysely'
import type { IdentifierNode, LiteralValue } from './ast.js'

/**
 * How the compiler treats an operand's values. `date` is the canonical datetime text and compares as
 * text; `bool` is 0/1 on SQLite and a boolean on PostgreSQL; `json` is a value inside a JSON column
 * (PocketBase's `json_extract`) and compares without the empty-string/NULL equivalence.
 */
export type OperandKind = 'text' | 'number' | 'bool' | 'json' | 'date'

/** A single-valued operand: one value per row of the query. */
export interface ResolvedOperand {
  readonly type?: 'single'
  /**
   * The SQL of the value: a column reference, a function call or a parenthesized expression (the
   * compiler places it next to operators without adding parentheses).
   */
  readonly expression: Expression<unknown>
  readonly kind: OperandKind
  /**
   * The value is computed (a function result, LOWER(), `:length`, a json_each item), not a column:
   * SQLite gives it no type affinity, which decides how it compares with a JSON value.
   */
  readonly computed?: boolean
  /**
   * A condition ANDed to every comparison of the operand, and to nothing else: PocketBase's check
   * that an auth record's `email` is visible (`emailVisibility = TRUE`) for clients.
   */
  readonly guard?: Expression<SqlBool>
}

/** A value known when the filter is compiled (`@request.*`): it compares exactly like a literal. */
export interface ResolvedValue {
  readonly type: 'value'
  readonly value: LiteralValue
}

/**
 * One LEFT JOIN of the rows a multi-valued operand ranges over: `LEFT JOIN <source> ON <on>`.
 * `source` names its alias (`"tags" AS "tags~2"`, `json_each(...) AS "each~1"`); aliases are unique
 * within one compiled filter, and the same alias always comes with the same source and condition.
 */
export interface Join {
  readonly alias: string
  readonly source: Expression<unknown>
  readonly on: Expression<SqlBool>
}

/** A multi-valued operand's values over joins of their own (fresh aliases). */
export interface IsolatedValues {
  readonly expression: Expression<unknown>
  readonly guard?: Expression<SqlBool>
  readonly joins: readonly Join[]
}

/**
 * An operand with any number of values per row: a path through multiple relations, back-relations,
 * `@collection.*` or `:each`. Its values are `expression` over the rows of `joins`, chained as LEFT
 * JOINs from one row, so an empty set still gives one row whose value is NULL (PocketBase's joins).
 *
 * Operands of one filter that walk the same path get the same join aliases, and a comparison's rows
 * are then the same rows: `@collection.members.user ?= @request.auth.id && @collection.members.team
 * ?= team` needs one member row that satisfies both, as in PocketBase.
 */
export interface MultiValuedOperand {
  readonly type: 'multiple'
  readonly expression: Expression<unknown>
  readonly kind: OperandKind
  /**
   * The value is computed (a function result, LOWER(), `:length`, a json_each item), not a column:
   * SQLite gives it no type affinity, which decides how it compares with a JSON value.
   */
  readonly computed?: boolean
  readonly guard?: Expression<SqlBool>
  readonly joins: readonly Join[]
  /**
   * PocketBase's "match-all": a plain operator (`=`, `>`, `~`, …) must hold for every value; the
   * `?` operators need one. False where the path only fans out over a value set that is single by
   * nature (`:each` of a single-valued body field).
   */
  readonly matchAll: boolean
  /** The same values over fresh aliases: the match-all check and sorting use them. */
  isolated(): IsolatedValues
}

export type Resolved = ResolvedOperand | ResolvedValue | MultiValuedOperand

/**
 * The seam between the generic filter engine and the data it filters: `rules/` implements it for
 * records (relations, `@request.*`, `@collection.*`, modifiers), `SimpleFieldResolver` for fixed
 * tables. Throws `FilterResolveError` for a path or modifier it does not know.
 */
export interface FieldResolver {
  resolve(identifier: IdentifierNode): Resolved
}
