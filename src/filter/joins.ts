import { sql, type RawBuilder } from 'kysely'
import { FilterResolveError } from './errors.js'
import { MAX_JOINS_PER_QUERY } from './limits.js'
import type { Join } from './resolve.js'

/**
 * The FROM clause of a subquery over `joins`: one dummy row, then each join as a LEFT JOIN, so the
 * result has at least one row and a path with no values yields one row of NULLs (PocketBase's
 * `LEFT JOIN` semantics). `dummy` names that row; it is never referenced, and `~` cannot start a
 * collection name, so it cannot hide a table.
 */
export function fromJoins(joins: readonly Join[], dummy = '~'): RawBuilder<unknown> {
  if (joins.length > MAX_JOINS_PER_QUERY) {
    throw new FilterResolveError(`too many joined relations (max ${MAX_JOINS_PER_QUERY} in one subquery)`, 0)
  }
  return sql`(SELECT 1) AS ${sql.id(dummy)}${sql.join(
    joins.map((j) => sql` LEFT JOIN ${j.source} ON ${j.on}`),
    sql``,
  )}`
}

/** The joins of several operands, each alias once, in first-seen order (parents stay before children). */
export function unionJoins(...lists: readonly (readonly Join[])[]): Join[] {
  const seen = new Map<string, Join>()
  for (const list of lists) for (const j of list) if (!seen.has(j.alias)) seen.set(j.alias, j)
  return [...seen.values()]
}
