import type { CollectionField, CollectionModel } from 'pocketbase'

/** Fields a record form edits or a table shows (never the auth secrets). */
export const isSecret = (f: CollectionField) => f.name === 'tokenKey' || f.type === 'password'

/** An auth record's fields that its panel's Account section changes, once the record exists. */
export const ACCOUNT_FIELDS: readonly string[] = ['email', 'verified']

/**
 * The fields a record form edits: not the secrets, the autodates or the id; for an existing auth
 * record not the account fields either (the Account section acts on them, and on the password).
 */
export function formFields(collection: CollectionModel, existing: boolean): CollectionField[] {
  const account = collection.type === 'auth' && existing
  return collection.fields.filter(
    (f) =>
      !isSecret(f) &&
      f.type !== 'autodate' &&
      f.name !== 'id' &&
      !(account && ACCOUNT_FIELDS.includes(f.name)),
  )
}

/** `2024-01-02 03:04:05.000Z` (UTC) ⇄ the `2024-01-02T03:04:05` of a datetime-local input. */
export function dateToInput(v: unknown): string {
  return typeof v === 'string' && v ? v.slice(0, 19).replace(' ', 'T') : ''
}
export function inputToDate(v: string): string {
  if (!v) return ''
  const [d, t = '00:00:00'] = v.split('T')
  return `${d} ${t.length === 5 ? `${t}:00` : t.slice(0, 8)}.000Z`
}

export const isMultiple = (f: CollectionField) => Number(f.maxSelect ?? 1) > 1

/** One table cell's text. */
export function cellText(f: CollectionField, v: unknown): string {
  if (v === null || v === undefined || v === '') return '—'
  if (f.type === 'bool') return v ? 'true' : 'false'
  if (Array.isArray(v)) return v.length ? v.join(', ') : '—'
  if (typeof v === 'object') return JSON.stringify(v)
  const s = String(v)
  return s.length > 80 ? `${s.slice(0, 79)}…` : s
}

/** The value a form starts from for a field. */
export function initialValue(f: CollectionField, v: unknown): unknown {
  switch (f.type) {
    case 'json':
      return v === undefined || v === null ? '' : JSON.stringify(v, null, 2)
    case 'date':
      return dateToInput(v)
    case 'bool':
      return v === true
    case 'number':
      return typeof v === 'number' ? v : null
    case 'relation':
    case 'select':
      if (isMultiple(f)) return Array.isArray(v) ? [...v] : []
      return typeof v === 'string' ? v : ''
    case 'geoPoint':
      return v && typeof v === 'object' ? { ...(v as object) } : { lon: 0, lat: 0 }
    default:
      return v ?? ''
  }
}

/** The value sent to the server, or an Error for input that cannot be sent (bad JSON). */
export function outgoingValue(f: CollectionField, v: unknown): unknown {
  switch (f.type) {
    case 'json': {
      const text = String(v ?? '').trim()
      if (text === '') return null
      try {
        return JSON.parse(text) as unknown
      } catch (err) {
        return new Error(`Invalid JSON: ${(err as Error).message}`)
      }
    }
    case 'date':
      return inputToDate(String(v ?? ''))
    case 'number':
      return v === null || v === '' ? 0 : v
    default:
      return v
  }
}
