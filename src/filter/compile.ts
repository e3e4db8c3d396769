import { sql, type Expression, type SqlBool } from 'kysely'
import { assertNever, type FilterNode, type OperandNode } from './ast.js'
import { compileComparison, type Operand } from './compare.js'
import { FilterResolveError } from './errors.js'
import type { FilterDialect } from './filter-dialect.js'
import { compileFunction } from './functions.js'
import { macroValue } from './macros.js'
import type { FieldResolver } from './resolve.js'

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
 * Lowers a filter AST to a Kysely boolean expression. Literals become bound parameters and
 * identifiers whatever the resolver maps them to; no value is ever part of the SQL text.
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
  return compileNode(ast, { resolver, dialect, now: options.now ?? new Date() })
}

function compileNode(node: FilterNode, ctx: Context): Expression<SqlBool> {
  switch (node.kind) {
    case 'And':
      return sql<SqlBool>`(${sql.join(
        node.operands.map((n) => compileNode(n, ctx)),
        sql` AND `,
      )})`
    case 'Or':
      return sql<SqlBool>`(${sql.join(
        node.operands.map((n) => compileNode(n, ctx)),
        sql` OR `,
      )})`
    case 'Compare':
      return compileComparison(node.op, operand(node.left, ctx), operand(node.right, ctx), ctx.dialect)
    default:
      return assertNever(node)
  }
}

function operand(node: OperandNode, ctx: Context): Operand {
  switch (node.kind) {
    case 'Identifier': {
      const resolved = ctx.resolver.resolve(node)
      return { type: 'sql', expression: resolved.expression, kind: resolved.kind }
    }
    case 'Literal':
      return { type: 'value', value: node.value }
    case 'Macro':
      return { type: 'value', value: macroValue(node.name, ctx.now) }
    case 'Placeholder':
      throw new FilterResolveError(`missing value for placeholder {:${node.name}}`, node.position)
    case 'FunctionCall':
      return compileFunction(
        node,
        node.args.map((a) => operand(a, ctx)),
        ctx.dialect,
      )
    default:
      return assertNever(node)
  }
}
