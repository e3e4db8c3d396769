import { paginate, type Database, type ListParams, type ListResult } from '../db/index.js'
import {
  compileFilter,
  filterDialect,
  FilterError,
  parseFilter,
  parseSort,
  SimpleFieldResolver,
} from '../filter/index.js'
import { badRequest } from '../lib/index.js'
import type { Collection } from './collection.js'
import { collectionToJSON } from './serialize.js'

/** The columns of `_collections` a client may filter and sort by (§6.7). */
const resolver = new SimpleFieldResolver({
  id: 'text',
  created: 'date',
  updated: 'date',
  name: 'text',
  system: 'bool',
  type: 'text',
})

/** `GET /api/collections`: the list envelope over `_collections`, with filter, sort and paging. */
export async function listCollections(
  database: Database,
  params: ListParams,
): Promise<ListResult<Record<string, unknown>>> {
  const dialect = filterDialect(database.dialect.name)
  let query = database.db.selectFrom('_collections')
  let rowsQuery
  try {
    const ast = parseFilter(params.filter)
    if (ast) query = query.where(compileFilter(ast, resolver, dialect))
    rowsQuery = query.select('data')
    for (const s of parseSort(params.sort, resolver)) rowsQuery = rowsQuery.orderBy(s.expression, s.modifiers)
  } catch (err) {
    if (err instanceof FilterError) throw badRequest(`Invalid filter or sort: ${err.message}`, undefined, err)
    throw err
  }
  return paginate(query, rowsQuery.orderBy('created').orderBy('name'), params, (r) =>
    collectionToJSON(JSON.parse(String(r.data)) as Collection),
  )
}
