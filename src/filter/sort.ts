import { sql, type Expression, type OrderByModifiersCallbackExpression } from 'kysely'
import { FilterSyntaxError } from './errors.js'
import { fromJoins } from './joins.js'
import { isIdentifier } from './lex.js'
import { MAX_SORT_FIELD_LENGTH, MAX_SORT_FIELDS } from './limits.js'
import { identifierOperand } from './parse.js'
import type { FieldResolver, Resolved } from './resolve.js'

export interface SortItem {
  readonly expression: Expression<unknown>
  readonly direction: 'asc' | 'desc'
  /**
   * The direction plus SQLite's NULL order (NULLs first ascending, last descending), which
   * PostgreSQL reverses by default: `query.orderBy(item.expression, item.modifiers)`.
   */
  readonly modifiers: OrderByModifiersCallbackExpression
}

const ASC: OrderByModifiersCallbackExpression = (ob) => ob.asc().nullsFirst()
const DESC: OrderByModifiersCallbackExpression = (ob) => ob.desc().nullsLast()

const item = (expression: Expression<unknown>, direction: 'asc' | 'desc'): SortItem => ({
  expression,
  direction,
  modifiers: direction === 'asc' ? ASC : DESC,
})

/**
 * Parses a `sort` parameter: comma-separated fields, `-x` descending, `+x` or `x` ascending, plus
 * `@random` and `@rowid` (which the resolver maps to the table's insertion order). Empty text gives
 * no items. A field whose value is known in advance (`@request.*`) orders nothing and is left out.
 *
 * @example
 * for (const s of parseSort('-created,title', resolver)) query = query.orderBy(s.expression, s.modifiers)
 * // order by "created" desc nulls last, "title" asc nulls first
 */
export function parseSort(text: string, resolver: FieldResolver): SortItem[] {
  if (text.trim() === '') return []
  const rawItems = text.split(',', MAX_SORT_FIELDS + 1)
  const items: SortItem[] = []
  let offset = 0
  for (const [i, raw] of rawItems.entries()) {
    if (i === MAX_SORT_FIELDS) {
      throw new FilterSyntaxError(`too many sort fields (max ${MAX_SORT_FIELDS})`, offset)
    }
    const position = offset + (raw.length - raw.trimStart().length)
    const sorted = sortItem(raw.trim(), position, resolver)
    if (sorted) items.push(sorted)
    offset += raw.length + 1
  }
  return items
}

function sortItem(text: string, position: number, resolver: FieldResolver): SortItem | undefined {
  if (text.length > MAX_SORT_FIELD_LENGTH) {
    throw new FilterSyntaxError(`sort field is too long (max ${MAX_SORT_FIELD_LENGTH} characters)`, position)
  }
  const direction = text.startsWith('-') ? 'desc' : 'asc'
  const name = text.startsWith('-') || text.startsWith('+') ? text.slice(1) : text
  const namePosition = position + text.length - name.length
  if (name === '@random') return item(sql`RANDOM()`, direction)
  const node = isIdentifier(name) ? identifierOperand({ text: name, position: namePosition }) : undefined
  if (node?.kind !== 'Identifier') {
    throw new FilterSyntaxError(`invalid sort field ${JSON.stringify(name)}`, namePosition)
  }
  const expression = sortExpression(resolver.resolve(node))
  return expression === undefined ? undefined : item(expression, direction)
}

/**
 * One value per row to order by. A guarded value (a hidden email) sorts as NULL where the guard
 * fails; a multi-valued path by its smallest value.
 */
function sortExpression(resolved: Resolved): Expression<unknown> | undefined {
  switch (resolved.type) {
    case 'value':
      return undefined
    case 'multiple': {
      const iso = resolved.isolated()
      const value =
        iso.guard === undefined ? iso.expression : sql`CASE WHEN ${iso.guard} THEN ${iso.expression} END`
      return sql`(SELECT ${value} FROM ${fromJoins(iso.joins)} ORDER BY 1 ASC NULLS LAST LIMIT 1)`
    }
    default:
      return resolved.guard === undefined
        ? resolved.expression
        : sql`CASE WHEN ${resolved.guard} THEN ${resolved.expression} END`
  }
}
