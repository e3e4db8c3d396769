import type { CollectionField, CollectionModel } from 'pocketbase'
import { pb } from './pb'
import { cellText } from './values'

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

/** A record's label: the values of its label fields (`labels`) that are set, joined. */
const labelOf = (labels: readonly string[], r: Record<string, unknown>): string =>
  labels
    .map((n) => r[n])
    .filter((v) => v !== '' && v !== undefined && v !== null)
    .map(String)
    .join(' · ')

function toOptions(target: CollectionModel, items: Record<string, unknown>[]): RelationOption[] {
  const labels = labelFields(target)
  return items.map((r) => ({ id: String(r.id), label: labelOf(labels, r) }))
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

type FindCollection = (idOrName: string) => CollectionModel | undefined

/**
 * What a records list asks for so that its relation `columns` show labels: `expand` (those of the
 * columns whose target collection is known, nothing more) and the `fields` entries that keep only
 * the id and the label fields of each expanded record.
 */
export function relationExpand(
  columns: readonly CollectionField[],
  find: FindCollection,
): { expand: string; fields: string[] } {
  const shown = columns.flatMap((f) => {
    const target = f.type === 'relation' ? find(String(f.collectionId ?? '')) : undefined
    return target ? [{ name: f.name, labels: labelFields(target) }] : []
  })
  return {
    expand: shown.map((s) => s.name).join(','),
    fields: shown.flatMap((s) => ['id', ...s.labels].map((n) => `expand.${s.name}.${n}`)),
  }
}

/**
 * A relation cell's text: the label of each related record that came expanded, else its id (a
 * record the list could not expand, or one without a label).
 */
export function relationCellText(
  field: CollectionField,
  value: unknown,
  expanded: unknown,
  find: FindCollection,
): string {
  const target = find(String(field.collectionId ?? ''))
  const ids = Array.isArray(value) ? value.map(String) : typeof value === 'string' && value ? [value] : []
  const records = (Array.isArray(expanded) ? expanded : expanded ? [expanded] : []) as Record<
    string,
    unknown
  >[]
  if (!target || ids.length === 0 || records.length === 0) return cellText(field, value)
  const labels = labelFields(target)
  const byId = new Map(records.map((r) => [String(r.id), labelOf(labels, r)]))
  const shown = ids.map((id) => byId.get(id) || id)
  return cellText(field, Array.isArray(value) ? shown : shown[0])
}
