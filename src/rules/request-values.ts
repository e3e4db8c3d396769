import type { LiteralValue } from '../filter/index.js'
import type { Field } from '../schema/index.js'

/** A key looked up in request data: whether it exists (`:isset`) and its value. */
export interface Lookup {
  readonly found: boolean
  readonly value: unknown
}

export const MISSING: Lookup = Object.freeze({ found: false, value: undefined })

/**
 * The value at `keys` inside request data (PocketBase `extractNestedVal`): object keys, then array
 * indexes for arrays. Anything else, or a missing key, is not found.
 */
export function lookup(root: unknown, keys: readonly string[]): Lookup {
  let value = root
  for (const key of keys) {
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(key) || Number(key) >= value.length) return MISSING
      value = value[Number(key)]
    } else if (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) {
      value = (value as Record<string, unknown>)[key]
    } else {
      return MISSING
    }
  }
  return { found: true, value }
}

/** Header names as rules spell them: `X-Token` is `x_token`. */
export function snakeHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase().replace(/-/g, '_')] = value
  return out
}

/**
 * A request value as a filter literal: scalars as they are, arrays and objects as their JSON text
 * (PocketBase binds non-scalars JSON-encoded), missing values NULL.
 */
export function toLiteral(value: unknown): LiteralValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'bigint') return Number(value)
  return JSON.stringify(value) ?? null
}

/** Go's `strconv.ParseFloat` for decimal text. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/
const TRUE_TEXT = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const FALSE_TEXT = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

/**
 * A body value as the field it belongs to would hold it: multipart sends every value as a string,
 * so a numeric text for a `number` field is a number and a boolean text (Go's `ParseBool`) for a
 * `bool` field a boolean. Other values are left as they are.
 */
export function convertForField(field: Field, value: unknown): unknown {
  if (typeof value !== 'string') return value
  if (field.type === 'number' && DECIMAL.test(value)) return Number(value)
  if (field.type === 'bool') {
    if (TRUE_TEXT.has(value)) return true
    if (FALSE_TEXT.has(value)) return false
  }
  return value
}

/** The items of a body value (PocketBase `toSlice`): arrays as they are, nothing for NULL. */
export function toSlice(value: unknown): unknown[] {
  if (value === null || value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

/** The items of a multi-valued body value as texts (`:each`). */
export function itemTexts(value: unknown): string[] {
  return toSlice(value).map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')))
}

/** Relation ids of a body value: non-empty texts, each once, in order (PocketBase `ToUniqueStringSlice`). */
export function uniqueIds(value: unknown): string[] {
  return [...new Set(itemTexts(value).filter((id) => id !== ''))]
}

/** `:length` of a body value: array length; a non-array value counts as 1, an empty one as 0. */
export function itemCount(value: unknown): number {
  if (value === null || value === undefined || value === '') return 0
  return Array.isArray(value) ? value.length : 1
}

/** SQLite's LOWER(): ASCII letters only, so both databases agree. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/** The text `:lower` applies to (Go's `cast.ToString`). */
export function lowerText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return asciiLower(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return asciiLower(JSON.stringify(value) ?? '')
}
