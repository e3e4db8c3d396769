import { sql } from 'kysely'
import type { IdentifierNode } from './ast.js'
import { FilterResolveError } from './errors.js'
import type { FieldResolver, OperandKind, ResolvedOperand } from './resolve.js'

export interface SimpleFieldResolverOptions {
  /** Qualifies the columns (`"t"."name"`), for queries that join other tables. */
  readonly table?: string
  /** Allows `@rowid`: the table's `_rowid_` (SQLite's rowid, a generated column on PostgreSQL). */
  readonly rowid?: boolean
}

/**
 * A resolver over a fixed list of trusted column names, for system tables (collections, logs): no
 * relations, no `@request`, and only the `:lower` modifier.
 *
 * @example
 * new SimpleFieldResolver({ id: 'text', created: 'date', name: 'text', system: 'bool' })
 */
export class SimpleFieldResolver implements FieldResolver {
  readonly #fields: ReadonlyMap<string, OperandKind>
  readonly #options: SimpleFieldResolverOptions

  constructor(fields: Readonly<Record<string, OperandKind>>, options: SimpleFieldResolverOptions = {}) {
    this.#fields = new Map(Object.entries(fields))
    this.#options = options
  }

  resolve(identifier: IdentifierNode): ResolvedOperand {
    const { path, modifier, position } = identifier
    const kind = path === '@rowid' && this.#options.rowid ? 'number' : this.#fields.get(path)
    if (kind === undefined) throw new FilterResolveError(`unknown field "${path}"`, position)
    const column = path === '@rowid' ? '_rowid_' : path
    const expression = sql.ref(
      this.#options.table === undefined ? column : `${this.#options.table}.${column}`,
    )
    if (modifier === undefined) return { expression, kind }
    if (modifier === 'lower' && (kind === 'text' || kind === 'date')) {
      return { expression: sql`LOWER(${expression})`, kind: 'text' }
    }
    throw new FilterResolveError(`modifier ":${modifier}" is not supported for "${path}"`, position)
  }
}
