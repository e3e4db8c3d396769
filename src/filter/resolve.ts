import type { Expression } from 'kysely'
import type { IdentifierNode } from './ast.js'

/**
 * How the compiler treats an operand's values. `date` is the canonical datetime text and compares as
 * text; `bool` is 0/1 on SQLite and a boolean on PostgreSQL; `json` compares without the
 * empty-string/NULL equivalence.
 */
export type OperandKind = 'text' | 'number' | 'bool' | 'json' | 'date'

/** A single-valued operand: one value per row of the query. */
export interface ResolvedOperand {
  /**
   * The SQL of the value: a column reference, a function call or a parenthesized expression (the
   * compiler places it next to operators without adding parentheses).
   */
  readonly expression: Expression<unknown>
  readonly kind: OperandKind
  /**
   * Reserved: multi-valued operands (`:each`, relations with several values, `@collection.*`) will
   * be a separate variant with `multiple: true` and their own match-all subquery.
   */
  readonly multiple?: false
}

/**
 * The seam between the generic filter engine and the data it filters: `rules/` implements it for
 * records (relations, `@request.*`, `@collection.*`, modifiers), `SimpleFieldResolver` for fixed
 * tables. Throws `FilterResolveError` for a path or modifier it does not know.
 */
export interface FieldResolver {
  resolve(identifier: IdentifierNode): ResolvedOperand
}
