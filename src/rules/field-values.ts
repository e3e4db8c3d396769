import { sql, type Expression } from 'kysely'
import type { FilterDialect, OperandKind } from '../filter/index.js'
import { FIELD_TYPES, type Collection, type Field } from '../schema/index.js'

/** Field types whose values are lists when `maxSelect > 1` (`:each`, `:length`). */
const MULTI_VALUERS: ReadonlySet<string> = new Set(['select', 'relation', 'file'])

/** A field by its exact name, as PocketBase's `Fields.GetByName`. */
export function fieldByName(collection: Collection, name: string): Field | undefined {
  return collection.fields.find((f) => f.name === name)
}

export function isMultiValuer(field: Field): boolean {
  return MULTI_VALUERS.has(field.type)
}

/** Whether the stored value is a JSON array (a multiple select, relation or file field). */
export function isMultiple(field: Field): boolean {
  return FIELD_TYPES.get(field.type)?.multiple?.(field) ?? false
}

/** How the filter compares a field's stored value. */
function kindOf(field: Field): OperandKind {
  switch (field.type) {
    case 'number':
      return 'number'
    case 'bool':
      return 'bool'
    case 'date':
    case 'autodate':
      return 'date'
    case 'json':
    case 'geoPoint':
      return 'json'
    default:
      return 'text'
  }
}

/**
 * A field's value in a row (`column` is its qualified column): JSON fields as their whole JSON value
 * (PocketBase wraps them in `json_extract(col, '$')`), multiple fields as their compact JSON text,
 * other columns as they are.
 */
export function columnValue(
  field: Field,
  column: Expression<unknown>,
  d: FilterDialect,
): { expression: Expression<unknown>; kind: OperandKind } {
  const kind = kindOf(field)
  if (kind === 'json') return { expression: d.jsonPath(column, []), kind }
  if (isMultiple(field)) return { expression: d.jsonArrayText(column), kind: 'text' }
  return { expression: column, kind }
}

/** `:lower` of a value: SQL LOWER() of its text. */
export function lowered(
  expression: Expression<unknown>,
  kind: OperandKind,
  d: FilterDialect,
): { expression: Expression<unknown>; kind: OperandKind } {
  return { expression: sql`LOWER(${d.toText(expression, kind)})`, kind: 'text' }
}
