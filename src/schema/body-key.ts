import type { ModifierOp } from './field-type.js'

/**
 * Splits a create/update body key into the field name and its modifier (§11): `views+` -> add or
 * append, `+tags` -> prepend, `tags-` -> subtract or remove, `title` -> set. A leading `+` wins over a
 * trailing sign; the name is not checked (records ignores keys that match no field).
 */
export function parseBodyKey(key: string): { name: string; op?: ModifierOp } {
  if (key.length > 1 && key.startsWith('+')) return { name: key.slice(1), op: '^' }
  if (key.length > 1 && key.endsWith('+')) return { name: key.slice(0, -1), op: '+' }
  if (key.length > 1 && key.endsWith('-')) return { name: key.slice(0, -1), op: '-' }
  return { name: key }
}
