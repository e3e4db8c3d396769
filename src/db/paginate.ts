import { sql, type SelectQueryBuilder } from 'kysely'

/** A list request after normalisation (§3.3). */
export interface ListParams {
  readonly page: number
  readonly perPage: number
  readonly sort: string
  readonly filter: string
  readonly skipTotal: boolean
}

/** PocketBase's list envelope; totals are -1 with skipTotal. */
export interface ListResult<T> {
  readonly items: T[]
  readonly page: number
  readonly perPage: number
  readonly totalItems: number
  readonly totalPages: number
}

// Record tables are defined at run time: the builder is untyped, as Executor is.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Filtered = SelectQueryBuilder<any, string, object>
interface Rows<R> {
  limit(n: number): { offset(n: number): { execute(): Promise<R[]> } }
}

/**
 * One page of `rows` (already selected and sorted) and, unless `skipTotal`, the count over
 * `filtered` (the same query before select and sort), as the list envelope.
 */
export async function paginate<R, T>(
  filtered: Filtered,
  rows: Rows<R>,
  params: ListParams,
  map: (row: R) => T,
): Promise<ListResult<T>> {
  const page = await rows
    .limit(params.perPage)
    .offset((params.page - 1) * params.perPage)
    .execute()
  let totalItems = -1
  let totalPages = -1
  if (!params.skipTotal) {
    const r = await filtered.select(sql<number>`count(*)`.as('n')).executeTakeFirst()
    totalItems = Number(r?.n ?? 0)
    totalPages = Math.ceil(totalItems / params.perPage)
  }
  return { items: page.map(map), page: params.page, perPage: params.perPage, totalItems, totalPages }
}
