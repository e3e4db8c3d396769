import { sql, type Expression, type SqlBool } from 'kysely'
import {
  FilterResolveError,
  type FilterDialect,
  type Join,
  type Modifier,
  type OperandKind,
} from '../filter/index.js'
import type { Collection, Field } from '../schema/index.js'
import { columnValue, fieldByName, isMultiple, isMultiValuer, lowered } from './field-values.js'
import type { JoinFactory } from './joins.js'
import { MAX_JSON_PATH_SEGMENTS, MAX_RELATION_HOPS } from './limits.js'
import { hasSingleColumnUniqueIndex } from './unique-index.js'

/** The record row a path has reached, and how it got there. */
export interface Row {
  readonly collection: Collection
  /** The SQL name of the row: the queried table's name, or a join alias. */
  readonly ref: string
  /** Names the path so far; operands walking the same path share its joins. */
  readonly key: string
  /** The joins from the queried row (or from nothing, for `@collection`/`@request`) to this one. */
  readonly joins: readonly Join[]
  /** Some join can yield several rows. */
  readonly multiplying: boolean
  /** PocketBase's match-all (`withMultiMatch`). */
  readonly matchAll: boolean
  /** A single back-relation (unique index) is joined: a scalar subquery needs `LIMIT 1`. */
  readonly limit: boolean
}

/** What a path resolves to: a value over the rows of `row.joins`, or NULL (a missing `@request` key). */
export type Reached =
  | { readonly type: 'null' }
  | {
      readonly type: 'row'
      readonly row: Row
      readonly expression: Expression<unknown>
      readonly kind: OperandKind
      /** A function result or json_each item, not a column (see `ResolvedOperand.computed`). */
      readonly computed?: boolean
      readonly guard?: Expression<SqlBool>
    }

export const NULL: Reached = Object.freeze({ type: 'null' })

export interface WalkOptions {
  /** Hidden fields resolve (rules, `@request.*`, `@collection.*`); otherwise they are unknown. */
  readonly allowHidden: boolean
  /** A missing field is NULL instead of an error (`@request.*` paths). */
  readonly nullifyMissing: boolean
  /** The identifier's offset, for errors. */
  readonly position: number
}

export interface WalkerDeps {
  readonly dialect: FilterDialect
  readonly joins: JoinFactory
  /** A client filter: hops need the target's listRule (§3.4 step 5). */
  readonly restricted: boolean
  readonly findCollection: (idOrName: string) => Collection | undefined
  /** The target collection's listRule as a condition on the row `alias` (restricted walks only). */
  readonly listRule: (target: Collection, alias: string) => Expression<SqlBool> | undefined
}

const VIA = /^(\w+)_via_(\w+)$/

/**
 * Walks `a.b.c` from a row through relations, back-relations and into JSON (PocketBase's
 * `processActiveProps`/`processLastProp`).
 */
export class PathWalker {
  readonly #d: WalkerDeps
  readonly #o: WalkOptions

  constructor(deps: WalkerDeps, options: WalkOptions) {
    this.#d = deps
    this.#o = options
  }

  walk(start: Row, props: readonly string[], modifier: Modifier | undefined): Reached {
    let row = start
    for (const [i, prop] of props.entries()) {
      if (i === props.length - 1) return this.#last(row, prop, modifier)
      const field = fieldByName(row.collection, prop)
      if (field?.hidden && !this.#o.allowHidden) throw this.#error(`unknown field "${prop}"`)
      if (field && (field.type === 'json' || field.type === 'geoPoint')) {
        return this.#json(row, field, props.slice(i + 1), modifier)
      }
      if (i >= MAX_RELATION_HOPS) {
        throw this.#error(`too many nested relations at "${prop}" (max ${MAX_RELATION_HOPS})`)
      }
      if (!field) {
        const next = this.#backRelation(row, prop)
        if (next === undefined) return NULL
        row = next
        continue
      }
      if (field.type !== 'relation') throw this.#error(`field "${prop}" is not a relation`)
      // `rel.id` is `rel` itself for a single relation: no join.
      if (!isMultiple(field) && i === props.length - 2 && props[i + 1] === 'id') {
        return this.#last(row, field.name, modifier)
      }
      row = this.#relation(row, field)
    }
    throw this.#error('empty field path')
  }

  #last(row: Row, name: string, modifier: Modifier | undefined): Reached {
    const field = fieldByName(row.collection, name)
    if (!field || (field.hidden && !this.#o.allowHidden)) {
      if (!field && this.#o.nullifyMissing) return NULL
      throw this.#error(`unknown field "${name}"`)
    }
    const d = this.#d.dialect
    const column = sql.id(row.ref, field.name)
    // A client reads another auth record's email only where that record shows it.
    const guard =
      field.name === 'email' && !this.#o.allowHidden && row.collection.type === 'auth'
        ? sql<SqlBool>`${sql.id(row.ref, 'emailVisibility')} = TRUE`
        : undefined
    const reached = (
      r: Row,
      expression: Expression<unknown>,
      kind: OperandKind,
      computed = false,
    ): Reached => ({
      type: 'row',
      row: r,
      expression,
      kind,
      ...(computed ? { computed } : {}),
      ...(guard === undefined ? {} : { guard }),
    })
    switch (modifier) {
      case 'length':
        this.#requireMultiValuer(field, modifier)
        return reached(
          row,
          isMultiple(field)
            ? d.jsonArrayLength(d.jsonArrayOf(column))
            : d.double(sql`(CASE WHEN ${column} <> '' THEN 1 ELSE 0 END)`),
          'number',
          true,
        )
      case 'each': {
        this.#requireMultiValuer(field, modifier)
        if (!isMultiple(field)) return reached(row, column, 'text')
        const each = this.#d.joins.join(`${row.key}.${field.name}#each`, 'each', (alias) => ({
          source: d.jsonEach(d.jsonArrayOf(column), alias),
          on: sql<SqlBool>`TRUE`,
        }))
        return reached(extend(row, each, { multiplying: true }), sql.id(each.alias, 'value'), 'text', true)
      }
      case 'isset':
      case 'changed':
        throw this.#error(`modifier ":${modifier}" is only allowed on @request fields`)
      default: {
        const value = columnValue(field, column, d)
        if (modifier === 'lower') {
          const v = lowered(value.expression, value.kind, d)
          return reached(row, v.expression, v.kind, true)
        }
        return reached(row, value.expression, value.kind)
      }
    }
  }

  /** `json.a.0.b`, `geo.lon`: a value inside a JSON column. */
  #json(row: Row, field: Field, path: readonly string[], modifier: Modifier | undefined): Reached {
    if (path.length > MAX_JSON_PATH_SEGMENTS) {
      throw this.#error(`JSON path of "${field.name}" is too deep (max ${MAX_JSON_PATH_SEGMENTS})`)
    }
    if (modifier !== undefined && modifier !== 'lower') {
      throw this.#error(`modifier ":${modifier}" is not supported for JSON values`)
    }
    const d = this.#d.dialect
    const column = sql.id(row.ref, field.name)
    const key = path[0]
    const value =
      field.type === 'geoPoint' && path.length === 1 && (key === 'lon' || key === 'lat')
        ? { expression: d.geoCoordinate(column, key), kind: 'number' as const }
        : { expression: d.jsonPath(column, path), kind: 'json' as const }
    // json_extract() results have no type affinity
    const v = modifier === 'lower' ? lowered(value.expression, value.kind, d) : value
    return { type: 'row', row, expression: v.expression, kind: v.kind, computed: true }
  }

  #relation(row: Row, field: Field): Row {
    const target = this.#target(row.collection, field)
    this.#checkListable(target, field.name)
    const d = this.#d.dialect
    const column = sql.id(row.ref, field.name)
    const key = `${row.key}.${field.name}`
    if (!isMultiple(field)) {
      const j = this.#d.joins.join(key, target.name, (alias) => ({
        source: table(target, alias),
        on: this.#listed(sql<SqlBool>`${sql.id(alias, 'id')} = ${column}`, target, alias),
      }))
      return extend(row, j, { collection: target, key })
    }
    const each = this.#d.joins.join(`${key}#each`, 'each', (alias) => ({
      source: d.jsonEach(d.jsonArrayOf(column), alias),
      on: sql<SqlBool>`TRUE`,
    }))
    const j = this.#d.joins.join(key, target.name, (alias) => ({
      source: table(target, alias),
      on: this.#listed(sql<SqlBool>`${sql.id(alias, 'id')} = ${sql.id(each.alias, 'value')}`, target, alias),
    }))
    return extend(extend(row, each, { multiplying: true }), j, { collection: target, key })
  }

  /** `other_via_field`: records of `other` whose relation `field` points to this row. */
  #backRelation(row: Row, prop: string): Row | undefined {
    const parts = VIA.exec(prop)
    const missing = (reason: string) => {
      if (this.#o.nullifyMissing) return undefined
      throw this.#error(reason)
    }
    if (!parts) return missing(`unknown field "${prop}"`)
    const back = this.#d.findCollection(parts[1]!)
    if (!back) return missing(`unknown collection "${parts[1]}" in "${prop}"`)
    const field = fieldByName(back, parts[2]!)
    if (!field || field.type !== 'relation')
      return missing(`"${parts[2]}" is not a relation field of "${back.name}"`)
    if (field.hidden && !this.#o.allowHidden) throw this.#error(`unknown field "${prop}"`)
    if (field.collectionId !== row.collection.id) {
      return missing(`"${back.name}.${field.name}" does not relate to "${row.collection.name}"`)
    }
    this.#checkListable(back, prop)
    const multiple = isMultiple(field) || !hasSingleColumnUniqueIndex(back, field.name)
    const key = `${row.key}.${prop}`
    const j = this.#d.joins.join(key, back.name, (alias) => {
      const values = sql.id(alias, field.name)
      const on = isMultiple(field)
        ? this.#d.dialect.jsonArrayIncludes(this.#d.dialect.jsonArrayOf(values), sql.id(row.ref, 'id'))
        : sql<SqlBool>`${values} = ${sql.id(row.ref, 'id')}`
      return { source: table(back, alias), on: this.#listed(on, back, alias) }
    })
    return extend(row, j, { collection: back, key, multiplying: multiple, limit: !multiple })
  }

  #target(from: Collection, field: Field): Collection {
    const id = field.collectionId as string
    const target = id === from.id ? from : this.#d.findCollection(id)
    if (!target) throw this.#error(`the collection of relation "${field.name}" does not exist`)
    return target
  }

  /** §3.4 step 5: a client may only walk into collections it could list. */
  #checkListable(target: Collection, via: string): void {
    if (this.#d.restricted && target.listRule === null) {
      throw this.#error(`"${via}" leads to "${target.name}", which only superusers can list`)
    }
  }

  #listed(on: Expression<SqlBool>, target: Collection, alias: string): Expression<SqlBool> {
    if (!this.#d.restricted) return on
    const rule = this.#d.listRule(target, alias)
    return rule === undefined ? on : sql<SqlBool>`${on} AND ${rule}`
  }

  #requireMultiValuer(field: Field, modifier: Modifier): void {
    if (!isMultiValuer(field)) {
      throw this.#error(`modifier ":${modifier}" needs a select, relation or file field, not "${field.name}"`)
    }
  }

  #error(reason: string): FilterResolveError {
    return new FilterResolveError(reason, this.#o.position)
  }
}

function table(c: Collection, alias: string): Expression<unknown> {
  return sql`${sql.table(c.name)} AS ${sql.id(alias)}`
}

/** The row reached through `join`. */
export function extend(
  row: Row,
  join: Join,
  changes: { collection?: Collection; key?: string; multiplying?: boolean; limit?: boolean },
): Row {
  const multiplying = changes.multiplying ?? false
  return {
    collection: changes.collection ?? row.collection,
    ref: join.alias,
    key: changes.key ?? row.key,
    joins: [...row.joins, join],
    multiplying: row.multiplying || multiplying,
    matchAll: row.matchAll || multiplying,
    limit: row.limit || (changes.limit ?? false),
  }
}
