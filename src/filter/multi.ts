import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely'
import { baseOp, isAnyOfOp, type CompareOp, type LiteralValue } from './ast.js'
import { compileComparison, type Operand } from './compare.js'
import type { FilterDialect } from './filter-dialect.js'
import { fromJoins, unionJoins } from './joins.js'
import type { IsolatedValues, Join, OperandKind } from './resolve.js'

/** An operand as the compiler holds it: a literal, one SQL value per row, or values over joined rows. */
export type CompiledOperand =
  | { readonly type: 'value'; readonly value: LiteralValue }
  | {
      readonly type: 'sql'
      readonly expression: Expression<unknown>
      readonly kind: OperandKind
      readonly computed?: boolean
      readonly guard?: Expression<SqlBool>
    }
  | {
      readonly type: 'multi'
      readonly expression: Expression<unknown>
      readonly kind: OperandKind
      readonly computed?: boolean
      readonly guard?: Expression<SqlBool>
      readonly joins: readonly Join[]
      readonly matchAll: boolean
      /** Absent for computed values (function results), which are never match-all. */
      readonly isolated?: () => IsolatedValues
    }

type Multi = Extract<CompiledOperand, { type: 'multi' }>

/** The operand as one value of the row being compared. */
export function plain(o: CompiledOperand): Operand {
  if (o.type === 'value') return o
  return { type: 'sql', expression: o.expression, kind: o.kind, ...(o.computed ? { computed: true } : {}) }
}

/** `comparison AND guard…`: the guards of both operands (PocketBase's AfterBuild). */
export function withGuards(
  comparison: Expression<SqlBool>,
  ...operands: CompiledOperand[]
): Expression<SqlBool> {
  const guards = operands.flatMap((o) => (o.type !== 'value' && o.guard !== undefined ? [o.guard] : []))
  if (guards.length === 0) return comparison
  return sql<SqlBool>`(${sql.join([comparison, ...guards], sql` AND `)})`
}

/**
 * A comparison with at least one multi-valued side (PocketBase §4.7). The condition holds on the
 * joined row that the enclosing EXISTS ranges over; with a plain operator each match-all side also
 * needs that no value fails it: `NOT EXISTS (SELECT 1 FROM <the side's rows, fresh aliases> WHERE NOT
 * <condition>)`; both sides' rows when both are match-all. A NULL value (an empty set's row) is no
 * counterexample, so on an empty set `=`, `~`, `>` are false and `!=` is true, as in PocketBase.
 *
 * One deliberate difference: a match-all `!~` also holds for a NULL value (`v IS NULL OR v NOT LIKE
 * p`), so it is true on an empty set like `!=` (pocketbase-api.md §4.7); PocketBase's SQL gives NULL
 * there (`NULL NOT LIKE p`), which is false.
 */
export function multiComparison(
  op: CompareOp,
  left: CompiledOperand,
  right: CompiledOperand,
  d: FilterDialect,
): { expr: Expression<SqlBool>; joins: readonly Join[] } {
  const matchAll: Multi[] = isAnyOfOp(op)
    ? []
    : [left, right].filter((o): o is Multi => o.type === 'multi' && o.matchAll)
  const nullSafe = matchAll.length > 0 && baseOp(op) === '!~'
  const condition = (l: CompiledOperand, r: CompiledOperand): RawBuilder<SqlBool> => {
    const c = compileComparison(op, plain(l), plain(r), d)
    if (!nullSafe) return c
    const missing = [l, r].flatMap((o, i) =>
      matchAll.includes([left, right][i] as Multi) && o.type !== 'value'
        ? [sql`${o.expression} IS NULL`]
        : [],
    )
    return sql<SqlBool>`(${sql.join([...missing, c], sql` OR `)})`
  }
  let expr: Expression<SqlBool> = condition(left, right)
  if (matchAll.length > 0) {
    const fresh = new Map(matchAll.map((o) => [o, isolate(o)] as const))
    const view = (o: CompiledOperand): CompiledOperand => {
      const iso = o.type === 'multi' ? fresh.get(o) : undefined
      return iso === undefined || o.type !== 'multi' ? o : { ...o, expression: iso.expression }
    }
    const froms = [...fresh.values()].map((iso, i) =>
      fromJoins(iso.joins, fresh.size === 1 ? '~' : `~${i + 1}`),
    )
    expr = sql<SqlBool>`(${expr} AND NOT EXISTS (SELECT 1 FROM ${sql.join(froms, sql`, `)} WHERE NOT (${condition(view(left), view(right))})))`
  }
  const joins = unionJoins(...[left, right].map((o) => (o.type === 'multi' ? o.joins : [])))
  return { expr: withGuards(expr, left, right), joins }
}

function isolate(o: Multi): IsolatedValues {
  if (o.isolated === undefined) throw new Error('a match-all operand needs its isolated values')
  return o.isolated()
}
