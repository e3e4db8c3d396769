import type { SelectColumn } from '../db/index.js'
import { ALPHANUMERIC_LOWER, MAX_FIELDS, randomString } from '../lib/index.js'
import { findField, type Collection, type Field } from './collection.js'
import { makeField } from './defaults.js'
import { fieldNameError } from './validate-collection.js'
import {
  aggregateName,
  castType,
  columnReference,
  readQueryShape,
  type QueryShape,
  type SelectItem,
} from './view-query.js'

/** PocketBase's advice when a view query has no id column. */
export const MISSING_ID =
  "missing required id column (you can use `(ROW_NUMBER() OVER()) as id` if you don't have one)"

const NUMBER_CASTS: Readonly<Record<string, boolean>> = {
  // type -> onlyInt
  int: true,
  integer: true,
  bigint: true,
  smallint: true,
  tinyint: true,
  mediumint: true,
  int2: true,
  int4: true,
  int8: true,
  real: false,
  float: false,
  float4: false,
  float8: false,
  double: false,
  'double precision': false,
  decimal: false,
  numeric: false,
}
const TEXT_CASTS = new Set(['text', 'varchar', 'char', 'character', 'character varying'])
const BOOL_CASTS = new Set(['bool', 'boolean'])
/** Aggregates whose result is a number (PocketBase: count, total). */
const NUMBER_AGGREGATES = new Set(['total', 'sum', 'avg'])

export interface ViewFieldsContext {
  /** Every other collection, by name as the query names its tables. */
  readonly collections: readonly Collection[]
  /** Fields the view had or was submitted with: a field of the same name and type keeps its id. */
  readonly previous: readonly Field[]
}

export type ViewFieldsResult =
  | { readonly fields: Field[]; readonly problem?: undefined }
  | { readonly problem: string; readonly fields?: undefined }

/**
 * The fields of a view (pocketbase-api.md §6.6) from its columns as the database describes them and
 * the query's text: `id` is the text primary key; `count(…)` a whole number; `total/sum/avg(…)` a
 * number; `CAST(… AS type)` (or `…::type`) a number, text or bool field; a plain column reference
 * to a collection field a copy of that field (its `id` a single relation to the collection); any
 * other column json.
 */
export function inferViewFields(
  query: string,
  columns: readonly SelectColumn[],
  ctx: ViewFieldsContext,
): ViewFieldsResult {
  if (columns.length > MAX_FIELDS)
    return { problem: `the query must return no more than ${MAX_FIELDS} columns` }
  const seen = new Set<string>()
  for (const col of columns) {
    if (fieldNameError(col.name, 'view'))
      return {
        problem: `invalid column name "${col.name}": name each column with AS, using letters, digits and underscores (not a reserved name)`,
      }
    const lower = col.name.toLowerCase()
    if (seen.has(lower)) return { problem: `duplicated column name "${col.name}"` }
    seen.add(lower)
  }
  if (!columns.some((c) => c.name === 'id')) return { problem: MISSING_ID }

  const shape = readQueryShape(query)
  // The text is read by position; if it cannot be (VALUES, a reading gone wrong), only what the
  // database says of each column is used.
  const items = shape.items?.length === columns.length ? shape.items : undefined
  const byName = new Map(ctx.collections.map((c) => [c.name.toLowerCase(), c]))
  const taken = new Set<string>()
  return {
    fields: columns.map((col, i) => {
      const field = inferField(col, items?.[i], shape, byName)
      const previous = ctx.previous.find(
        (p) =>
          p.name.toLowerCase() === field.name.toLowerCase() &&
          p.type === field.type &&
          (field.type !== 'relation' || p.collectionId === field.collectionId),
      )
      if (previous && !taken.has(previous.id)) field.id = previous.id
      while (taken.has(field.id)) field.id = cloneId()
      taken.add(field.id)
      return field
    }),
  }
}

/**
 * The collection field the view column `name` reads unchanged (the source of a copied field, such
 * as a view's file field), from the view's query and its described columns; undefined when the
 * column is an expression or not there.
 */
export function viewColumnSource(
  query: string,
  columns: readonly SelectColumn[],
  name: string,
  collections: readonly Collection[],
): { collection: Collection; field: Field } | undefined {
  const shape = readQueryShape(query)
  const items = shape.items?.length === columns.length ? shape.items : undefined
  const i = columns.findIndex((c) => c.name === name)
  if (i === -1) return undefined
  const byName = new Map(collections.map((c) => [c.name.toLowerCase(), c]))
  const source = sourceField(columns[i]!, items?.[i], shape, byName)
  return source?.field ? { collection: source.collection, field: source.field } : undefined
}

const cloneId = (): string => `_clone_${randomString(4, ALPHANUMERIC_LOWER)}`

function inferField(
  col: SelectColumn,
  item: SelectItem | undefined,
  shape: QueryShape,
  byName: ReadonlyMap<string, Collection>,
): Field {
  const name = col.name
  if (name === 'id')
    return makeField('text', 'id', {
      system: true,
      required: true,
      primaryKey: true,
      pattern: '^[a-z0-9]+$',
    })
  if (item) {
    const cast = castType(item.tokens)
    if (cast !== undefined) {
      if (cast in NUMBER_CASTS) return makeField('number', name, { onlyInt: NUMBER_CASTS[cast] })
      if (TEXT_CASTS.has(cast)) return makeField('text', name)
      if (BOOL_CASTS.has(cast)) return makeField('bool', name)
      return makeField('json', name)
    }
    const aggregate = aggregateName(item.tokens)
    if (aggregate === 'count') return makeField('number', name, { onlyInt: true })
    if (aggregate !== undefined && NUMBER_AGGREGATES.has(aggregate)) return makeField('number', name)
  }
  const source = sourceField(col, item, shape, byName)
  if (!source?.field) return makeField('json', name)
  if (source.field.name.toLowerCase() === 'id')
    return makeField('relation', name, { collectionId: source.collection.id, maxSelect: 1 })
  // A copy under the column's name: same type and options, a new id; never a system field here.
  return { ...structuredClone(source.field), id: cloneId(), name, system: false }
}

/**
 * The collection field a column reads unchanged. The query's own text comes first — the table it
 * names, as both databases would resolve it, so a view over another view reads that view's field —
 * then what the database says of the column's origin (through subqueries and CTEs). Columns that
 * are expressions are never a field, even where SQLite names an origin (scalar subqueries).
 */
function sourceField(
  col: SelectColumn,
  item: SelectItem | undefined,
  shape: QueryShape,
  byName: ReadonlyMap<string, Collection>,
): { collection: Collection; field: Field | undefined } | undefined {
  const collectionOf = (table: string | undefined) =>
    table === undefined || shape.ctes.has(table.toLowerCase()) ? undefined : byName.get(table.toLowerCase())
  if (item) {
    const ref = columnReference(item.tokens)
    if (!ref) return undefined
    if (ref.table !== undefined) {
      const table = shape.tables.find((t) => t.alias.toLowerCase() === ref.table!.toLowerCase())
      const collection = collectionOf(table ? table.name : ref.table)
      if (collection) return { collection, field: findField(collection, ref.column) }
    } else {
      const candidates = shape.tables
        .map((t) => collectionOf(t.name))
        .filter((c): c is Collection => !!c && !!findField(c, ref.column))
      if (candidates.length === 1)
        return { collection: candidates[0]!, field: findField(candidates[0]!, ref.column) }
      const only = shape.tables.length === 1 ? collectionOf(shape.tables[0]!.name) : undefined
      if (only) return { collection: only, field: undefined }
    }
  }
  const collection = collectionOf(col.table)
  if (!collection || col.column === undefined) return undefined
  return { collection, field: findField(collection, col.column) }
}
