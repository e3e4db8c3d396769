import type { CollectionModel } from 'pocketbase'
import { pb } from './pb'

export interface RelationOption {
  readonly id: string
  readonly label: string
}

/** Most records a search offers. */
export const RELATION_SEARCH_LIMIT = 20
const TEXT_TYPES = ['text', 'email', 'url', 'select']
const USUAL = ['name', 'title', 'email', 'username']

/**
 * Fields that name a record to a person: the presentable ones, else the usual suspects (name,
 * title, email, username), else the first three text fields.
 */
export function labelFields(target: CollectionModel): string[] {
  const text = target.fields.filter((f) => TEXT_TYPES.includes(f.type) && !f.hidden && f.name !== 'id')
  const presentable = text.filter((f) => f.presentable).map((f) => f.name)
  if (presentable.length) return presentable
  const usual = text.map((f) => f.name).filter((n) => USUAL.includes(n))
  return usual.length ? usual : text.slice(0, 3).map((f) => f.name)
}

function toOptions(target: CollectionModel, items: Record<string, unknown>[]): RelationOption[] {
  const labels = labelFields(target)
  return items.map((r) => ({
    id: String(r.id),
    label: labels
      .map((n) => r[n])
      .filter((v) => v !== '' && v !== undefined && v !== null)
      .map(String)
      .join(' · '),
  }))
}

/** Up to RELATION_SEARCH_LIMIT records of `target` whose id or label fields contain `query`. */
export async function searchRelation(
  target: CollectionModel,
  query: string,
  signal?: AbortSignal,
): Promise<RelationOption[]> {
  const labels = labelFields(target)
  const q = query.trim()
  const filter = q ? ['id', ...labels].map((n) => pb.filter(`${n} ~ {:q}`, { q })).join(' || ') : ''
  const list = await pb.collection(target.id).getList(1, RELATION_SEARCH_LIMIT, {
    filter,
    fields: ['id', ...labels].join(','),
    skipTotal: true,
    signal,
  })
  return toOptions(target, list.items)
}

/** The readable labels of the records `ids` of `target` (an id that is gone keeps no label). */
export async function relationLabels(
  target: CollectionModel,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map()
  ids = ids.slice(0, RELATION_SEARCH_LIMIT * 5)
  const labels = labelFields(target)
  const list = await pb.collection(target.id).getList(1, ids.length, {
    filter: ids.map((id) => pb.filter('id = {:id}', { id })).join(' || '),
    fields: ['id', ...labels].join(','),
    skipTotal: true,
  })
  return new Map(toOptions(target, list.items).map((o) => [o.id, o.label]))
}
