import { sql, type Expression, type SqlBool } from 'kysely'
import { assertNever, type CompareNode, type FilterNode, type OperandNode } from './ast.js'
import { compileComparison, type Operand } from './compare.js'
import { FilterResolveError } from './errors.js'
import type { FilterDialect } from './filter-dialect.js'
import { alwaysAnyOf, compileFunction } from './functions.js'
import { fromJoins, unionJoins } from './joins.js'
import { macroValue } from './macros.js'
import { multiComparison, plain, withGuards, type CompiledOperand } from './multi.js'
import type { FieldResolver, IsolatedValues, Join } from './resolve.js'

export interface CompileOptions {
  /** The time datetime macros (`@now`, `@todayStart`, …) are evaluated at; defaults to now. */
  readonly now?: Date
}

interface Context {
  readonly resolver: FieldResolver
  readonly dialect: FilterDialect
  readonly now: Date
}

/**
 * A conjunct of the compiled filter. `joins` are the multi-valued rows its SQL reads but does not
 * itself quantify: they stay open while the conjunct can still share them with a sibling conjunct.
 */
interface Part {
  readonly expr: Expression<SqlBool>
  readonly joins: readonly Join[]
  /**
   * An `OR` with open joins: `expr` is the OR of its branches over the union of their joins, as
   * a sibling that shares rows with it needs it; alone it is closed branch by branch.
   */
  readonly branches?: readonly (readonly Part[])[]
}

/**
 * Lowers a filter AST to a Kysely boolean expression. Literals become bound parameters and
 * identifiers whatever the resolver maps them to; no value is ever part of the SQL text.
 *
 * Multi-valued operands (relations, `@collection.*`, `:each`) read rows of LEFT JOINs. PocketBase
 * joins them into the main query (`SELECT DISTINCT … LEFT JOIN …`), so conditions on the same path
 * see the same row. Here the rows are quantified where that is equivalent and as late as necessary:
 * conjuncts that share a join alias (an `OR` counts as one conjunct, with its branches' joins) are
 * evaluated together in one `EXISTS (SELECT 1 FROM (SELECT 1) LEFT JOIN … WHERE …)`; an `OR` that
 * shares no rows with a sibling, and the whole filter, get their own, branch by branch (every join
 * has at least one row, so `∃ (a ∨ b) = ∃a ∨ ∃b` and `∃ (a ∧ b) = ∃a ∧ ∃b` for disjoint rows). The
 * main query stays a plain `SELECT … FROM collection WHERE …`.
 *
 * @example
 * const where = compileFilter(parseFilter('title ~ "abc" && count > 5')!, resolver, filterDialect('sqlite'))
 * db.selectFrom('posts').selectAll().where(where)
 * // SQLite:     ... where ("title" LIKE ? ESCAPE '\' AND "count" > ?)   ['%abc%', 5]
 * // PostgreSQL: ... where ("title" ILIKE $1 ESCAPE '\' AND "count" > $2) ['%abc%', 5]
 */
export function compileFilter(
  ast: FilterNode,
  resolver: FieldResolver,
  dialect: FilterDialect,
  options: CompileOptions = {},
): Expression<SqlBool> {
  return close(compileNode(ast, { resolver, dialect, now: options.now ?? new Date() }))
}

function compileNode(node: FilterNode, ctx: Context): Part[] {
  switch (node.kind) {
    case 'And': {
      const children = node.operands.map((n) => compileNode(n, ctx))
      if (children.every((parts) => parts.every((p) => p.joins.length === 0))) {
        return [{ expr: sql<SqlBool>`(${sql.join(children.map(close), sql` AND `)})`, joins: [] }]
      }
      return mergeSharing(children.flat())
    }
    case 'Or': {
      const branches = node.operands.map((n) => compileNode(n, ctx))
      const joins = unionJoins(...branches.flat().map((p) => p.joins))
      if (joins.length === 0) {
        return [{ expr: sql<SqlBool>`(${sql.join(branches.map(close), sql` OR `)})`, joins }]
      }
      // open: a sibling conjunct on the same path must see the same row (`(a.x = 1 || b) && a.y = 2`)
      return [{ expr: sql<SqlBool>`(${sql.join(branches.map(open), sql` OR `)})`, joins, branches }]
    }
    case 'Compare':
      return [compileCompare(node, ctx)]
    default:
      return assertNever(node)
  }
}

/**
 * The parts as one closed condition: each part with open joins quantified by its own EXISTS, an
 * `OR` branch by branch.
 */
function close(parts: readonly Part[]): Expression<SqlBool> {
  const exprs = parts.map((p) => {
    if (p.joins.length === 0) return p.expr
    if (p.branches !== undefined) return sql<SqlBool>`(${sql.join(p.branches.map(close), sql` OR `)})`
    return sql<SqlBool>`EXISTS (SELECT 1 FROM ${fromJoins(p.joins)} WHERE ${p.expr})`
  })
  return exprs.length === 1 ? exprs[0]! : sql<SqlBool>`(${sql.join(exprs, sql` AND `)})`
}

/** The parts as one condition over their joins, left open. */
function open(parts: readonly Part[]): Expression<SqlBool> {
  return parts.length === 1
    ? parts[0]!.expr
    : sql<SqlBool>`(${sql.join(
        parts.map((p) => p.expr),
        sql` AND `,
      )})`
}

/** Conjuncts that share a join alias (directly or through others) become one part. */
function mergeSharing(parts: readonly Part[]): Part[] {
  const groups: Part[][] = []
  for (const part of parts) {
    const aliases = new Set(part.joins.map((j) => j.alias))
    const sharing =
      part.joins.length === 0
        ? []
        : groups.filter((g) => g.some((p) => p.joins.some((j) => aliases.has(j.alias))))
    if (sharing.length === 0) {
      groups.push([part])
      continue
    }
    const [first, ...rest] = sharing
    first!.push(...rest.flat(), part)
    for (const g of rest) groups.splice(groups.indexOf(g), 1)
  }
  return groups.map((g) =>
    g.length === 1
      ? g[0]!
      : {
          expr: sql<SqlBool>`(${sql.join(
            g.map((p) => p.expr),
            sql` AND `,
          )})`,
          joins: unionJoins(...g.map((p) => p.joins)),
        },
  )
}

function compileCompare(node: CompareNode, ctx: Context): Part {
  const left = operand(node.left, ctx)
  const right = operand(node.right, ctx)
  if (left.type === 'multi' || right.type === 'multi')
    return multiComparison(node.op, left, right, ctx.dialect)
  const comparison = compileComparison(node.op, plain(left), plain(right), ctx.dialect)
  return { expr: withGuards(comparison, left, right), joins: [] }
}

function operand(node: OperandNode, ctx: Context): CompiledOperand {
  switch (node.kind) {
    case 'Identifier': {
      const resolved = ctx.resolver.resolve(node)
      switch (resolved.type) {
        case 'value':
          return { type: 'value', value: resolved.value }
        case 'multiple':
          return {
            type: 'multi',
            expression: resolved.expression,
            kind: resolved.kind,
            joins: resolved.joins,
            matchAll: resolved.matchAll,
            isolated: () => resolved.isolated(),
            ...(resolved.computed ? { computed: true } : {}),
            ...(resolved.guard === undefined ? {} : { guard: resolved.guard }),
          }
        default:
          return {
            type: 'sql',
            expression: resolved.expression,
            kind: resolved.kind,
            ...(resolved.computed ? { computed: true } : {}),
            ...(resolved.guard === undefined ? {} : { guard: resolved.guard }),
          }
      }
    }
    case 'Literal':
      return { type: 'value', value: node.value }
    case 'Macro':
      return { type: 'value', value: macroValue(node.name, ctx.now) }
    case 'Placeholder':
      throw new FilterResolveError(`missing value for placeholder {:${node.name}}`, node.position)
    case 'FunctionCall':
      return functionCall(
        node,
        node.args.map((a) => operand(a, ctx)),
        ctx,
      )
    default:
      return assertNever(node)
  }
}

/**
 * A function of multi-valued arguments is multi-valued over their joined rows: any-of for
 * `geoDistance` (PocketBase: "always behaves as any-of"), match-all like its argument otherwise
 * (`strftime('%Y', tags.created) = "2024"` needs every tag's year).
 */
function functionCall(
  node: Extract<OperandNode, { kind: 'FunctionCall' }>,
  args: readonly CompiledOperand[],
  ctx: Context,
): CompiledOperand {
  const result = compileFunction(node, args.map(plain), ctx.dialect, ctx.now)
  const guards = args.flatMap((a) => (a.type !== 'value' && a.guard !== undefined ? [a.guard] : []))
  const guard = guards.length === 0 ? undefined : sql<SqlBool>`(${sql.join(guards, sql` AND `)})`
  const multi = args.flatMap((a) => (a.type === 'multi' ? [a] : []))
  if (result.type === 'value') return result
  if (multi.length === 0) return { ...result, ...(guard === undefined ? {} : { guard }) }
  const matchAll = !alwaysAnyOf(node.name) && multi.some((a) => a.matchAll)
  return {
    type: 'multi',
    expression: result.expression,
    kind: result.kind,
    computed: true,
    joins: unionJoins(...multi.map((a) => a.joins)),
    matchAll,
    ...(guard === undefined ? {} : { guard }),
    ...(matchAll ? { isolated: () => isolatedCall(node, args, ctx) } : {}),
  }
}

/** The function over fresh rows of its match-all arguments, for the match-all check. */
function isolatedCall(
  node: Extract<OperandNode, { kind: 'FunctionCall' }>,
  args: readonly CompiledOperand[],
  ctx: Context,
): IsolatedValues {
  const fresh = args.map((a): { operand: Operand; joins: readonly Join[]; guard?: Expression<SqlBool> } => {
    if (a.type !== 'multi' || !a.matchAll || a.isolated === undefined) {
      return { operand: plain(a), joins: a.type === 'multi' ? a.joins : [] }
    }
    const iso = a.isolated()
    const operand: Operand = { type: 'sql', expression: iso.expression, kind: a.kind, computed: true }
    return { operand, joins: iso.joins, ...(iso.guard === undefined ? {} : { guard: iso.guard }) }
  })
  const result = compileFunction(
    node,
    fresh.map((f) => f.operand),
    ctx.dialect,
    ctx.now,
  )
  if (result.type !== 'sql') throw new Error('a function of a multi-valued argument is not a constant')
  const guards = fresh.flatMap((f) => (f.guard === undefined ? [] : [f.guard]))
  return {
    expression: result.expression,
    joins: unionJoins(...fresh.map((f) => f.joins)),
    ...(guards.length === 0 ? {} : { guard: sql<SqlBool>`(${sql.join(guards, sql` AND `)})` }),
  }
}
