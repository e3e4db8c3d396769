import type { CollectionModel } from 'pocketbase'
import { pb } from './pb'

export interface RelationOption {
  readonly id: string
  readonly label: string
}

/** Fields that name a record to a person: the presentable ones, else the usual suspects. */
function labelFields(target: CollectionModel): string[] {
  const text = target.fields.filter((f) => ['text', 'email', 'url', 'select'].includes(f.type) && !f.hidden)
  const presentable = text.filter((f) => f.presentable).map((f) => f.name)
  if (presentable.length) return presentable
  return text.map((f) => f.name).filter((n) => ['name', 'title', 'email', 'username'].includes(n))
}

/** Up to 20 records of `target` whose id or label fields contain `query`, for a relation picker. */
export async function searchRelation(target: CollectionModel, query: string): Promise<RelationOption[]> {
  const labels = labelFields(target)
  const filter = query.trim()
    ? ['id', ...labels].map((n) => pb.filter(`${n} ~ {:q}`, { q: query.trim() })).join(' || ')
    : ''
  const list = await pb.collection(target.id).getList(1, 20, {
    filter,
    fields: ['id', ...labels].join(','),
    skipTotal: true,
  })
  return list.items.map((r) => ({
    id: r.id,
    label: labels
      .map((n) => r[n] as unknown)
      .filter((v) => v !== '' && v !== undefined && v !== null)
      .join(' · '),
  }))
}
