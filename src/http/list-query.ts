import type { ListParams } from '../db/index.js'
import { badRequest, DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../lib/index.js'

/** The first value of a query parameter when it is text (a repeated key gives an array). */
export const firstString = (v: unknown): string | undefined =>
  Array.isArray(v) ? firstString(v[0]) : typeof v === 'string' ? v : undefined
const first = firstString

function int(v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback
  if (!/^[+-]?\d{1,15}$/.test(v)) throw badRequest()
  const n = Number(v)
  return n <= 0 ? fallback : n
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

/** page/perPage/sort/filter/skipTotal with PocketBase's normalisation (§3.3); the first value of a repeated key wins. */
export function parseListQuery(query: unknown): ListParams {
  const q = (query ?? {}) as Record<string, unknown>
  const skip = first(q.skipTotal)
  if (skip !== undefined && skip !== '' && !TRUE.has(skip) && !FALSE.has(skip)) throw badRequest()
  return {
    page: int(first(q.page), 1),
    perPage: Math.min(int(first(q.perPage), DEFAULT_PER_PAGE), MAX_PER_PAGE),
    sort: first(q.sort) ?? '',
    filter: first(q.filter) ?? '',
    skipTotal: skip !== undefined && TRUE.has(skip),
  }
}
