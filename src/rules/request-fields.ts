import { sql, type SqlBool } from 'kysely'
import {
  compileComparison,
  FilterResolveError,
  type LiteralValue,
  type Modifier,
  type ResolvedValue,
} from '../filter/index.js'
import { columnValue, fieldByName, isMultiple, isMultiValuer } from './field-values.js'
import type { JoinFactory } from './joins.js'
import { NULL, type PathWalker, type Reached, type Row, type WalkOptions } from './path-walker.js'
import {
  convertForField,
  itemCount,
  itemTexts,
  lookup,
  lowerText,
  snakeHeaders,
  toLiteral,
  uniqueIds,
  type Lookup,
} from './request-values.js'
import type { RulesContext, Scope } from './rules-context.js'

/** What an identifier resolves to before it becomes an operand. */
export type Built = Reached | { readonly type: 'value'; readonly value: ResolvedValue }

/** `@request.auth.*` keys that are values of the request, not columns (PocketBase `plainRequestAuthFields`). */
export const PLAIN_AUTH_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'collectionId',
  'collectionName',
  'email',
  'emailVisibility',
  'verified',
])

export interface RequestFieldsDeps {
  readonly scope: Scope
  readonly ctx: RulesContext
  /** The row being filtered. */
  base(): Row
  /** A walker over record paths with these joins and options. */
  walker(joins: JoinFactory, options: WalkOptions): PathWalker
}

/**
 * `@request.*` (pocketbase-api.md §4.3, §7.4): values of the request, known when the filter is
 * compiled, so they compare like literals; `@request.auth.<field>` and `@request.body.<relation>.*`
 * walk on into the records they name.
 */
export class RequestFields {
  readonly #d: RequestFieldsDeps

  constructor(deps: RequestFieldsDeps) {
    this.#d = deps
  }

  /** `@request.*`: values of the request, known now; `auth` and `body` relations walk on in SQL. */
  resolve(props: string[], modifier: Modifier | undefined, position: number, joins: JoinFactory): Built {
    const request = this.#d.ctx.env.request
    const section = props[1]
    const unknown = () => new FilterResolveError(`unknown field "${props.join('.')}"`, position)
    if (props.length === 2 && (section === 'context' || section === 'method')) {
      return requestValue({ found: true, value: request[section] }, modifier, props, position)
    }
    if (props.length < 3) throw unknown()
    const keys = props.slice(2)
    switch (section) {
      case 'auth':
        return this.#auth(keys, modifier, position, joins)
      case 'body':
        return this.#body(keys, modifier, position, joins)
      case 'query':
        return requestValue(lookup(request.query, keys), modifier, props, position)
      case 'headers':
        return requestValue(lookup(snakeHeaders(request.headers), keys), modifier, props, position)
      default:
        throw unknown()
    }
  }

  #auth(keys: string[], modifier: Modifier | undefined, position: number, joins: JoinFactory): Built {
    const auth = this.#d.ctx.env.request.auth
    const [name, ...rest] = keys as [string, ...string[]]
    if (auth === undefined) return value(modifier === 'isset' ? false : null)
    if (rest.length === 0 && PLAIN_AUTH_FIELDS.has(name)) {
      return requestValue(
        { found: true, value: this.#plainAuth(name) },
        modifier,
        ['@request', 'auth', name],
        position,
      )
    }
    if (rest.length === 0 && modifier === 'isset')
      return value(fieldByName(auth.collection, name) !== undefined)
    const collection = auth.collection
    const join = joins.join('@auth', collection.name, (alias) => ({
      source: sql`${sql.table(collection.name)} AS ${sql.id(alias)}`,
      on: sql<SqlBool>`${sql.id(alias, 'id')} = ${sql.val(String(auth.record.id))}`,
    }))
    const start: Row = {
      collection,
      ref: join.alias,
      key: '@auth',
      joins: [join],
      multiplying: false,
      matchAll: false,
      limit: false,
    }
    return this.#d
      .walker(joins, { allowHidden: true, nullifyMissing: true, position })
      .walk(start, keys, modifier)
  }

  #plainAuth(name: string): unknown {
    const auth = this.#d.ctx.env.request.auth!
    const decodeBool = (v: unknown) => this.#d.ctx.env.dialect.decode('bool', v)
    switch (name) {
      case 'collectionId':
        return auth.collection.id
      case 'collectionName':
        return auth.collection.name
      case 'emailVisibility':
      case 'verified':
        return decodeBool(auth.record[name])
      default:
        return auth.record[name] ?? ''
    }
  }

  /** `@request.body.*` (§7.4: the body after modifiers). */
  #body(keys: string[], modifier: Modifier | undefined, position: number, joins: JoinFactory): Built {
    const body = this.#d.ctx.env.request.body
    const [name, ...rest] = keys as [string, ...string[]]
    const field = fieldByName(this.#d.scope.collection, name)
    const props = ['@request', 'body', ...keys]
    if (field === undefined) return requestValue(lookup(body, keys), modifier, props, position)
    const raw = Object.hasOwn(body, name) ? body[name] : undefined
    if (field.type === 'relation' && rest.length > 0)
      return this.#bodyRelation(field, rest, modifier, position, joins)
    if (rest.length > 0) return requestValue(lookup(body, keys), modifier, props, position)
    const needsList = () => {
      if (!isMultiValuer(field)) {
        throw new FilterResolveError(
          `modifier ":${modifier}" needs a select, relation or file field`,
          position,
        )
      }
    }
    switch (modifier) {
      case 'each': {
        needsList()
        const items = itemTexts(raw)
        if (!isMultiple(field)) return value(items.at(-1) ?? null)
        const d = this.#d.ctx.dialect
        const join = joins.join(`@body.${name}#each`, 'each', (alias) => ({
          source: d.jsonEach(d.jsonValue(JSON.stringify(items)), alias),
          on: sql<SqlBool>`TRUE`,
        }))
        const row: Row = {
          ...this.#d.base(),
          ref: join.alias,
          key: `@body.${name}#each`,
          joins: [join],
          multiplying: true,
          matchAll: true,
        }
        return { type: 'row', row, expression: sql.id(join.alias, 'value'), kind: 'text', computed: true }
      }
      case 'length':
        needsList()
        return value(itemCount(raw))
      case 'lower':
        return value(lowerText(raw) ?? '')
      case 'isset':
        return value(Object.hasOwn(body, name))
      case 'changed':
        return Object.hasOwn(body, name) ? this.#changed(name, raw) : value(false)
      default:
        return value(toLiteral(convertForField(field, raw)))
    }
  }

  /** `@request.body.f:changed` = `@request.body.f:isset = true && @request.body.f != f`. */
  #changed(name: string, raw: unknown): Built {
    const field = fieldByName(this.#d.scope.collection, name)!
    const d = this.#d.ctx.dialect
    const column = sql.id(this.#d.scope.ref, field.name)
    const differs =
      field.type === 'json' || field.type === 'geoPoint'
        ? d.jsonDiffers(column, raw === null || raw === undefined ? null : JSON.stringify(raw))
        : compileComparison(
            '!=',
            { type: 'value', value: toLiteral(convertForField(field, raw)) },
            { type: 'sql', ...columnValue(field, column, d) },
            d,
          )
    return { type: 'row', row: this.#d.base(), expression: sql`(${differs})`, kind: 'bool', computed: true }
  }

  /** `@request.body.rel.field`: the records the submitted ids point to. */
  #bodyRelation(
    field: NonNullable<ReturnType<typeof fieldByName>>,
    rest: string[],
    modifier: Modifier | undefined,
    position: number,
    joins: JoinFactory,
  ): Built {
    const ids = uniqueIds(this.#d.ctx.env.request.body[field.name])
    if (ids.length === 0) return NULL
    const walker = this.#d.walker(joins, { allowHidden: true, nullifyMissing: true, position })
    const targetId = field.collectionId as string
    const target =
      targetId === this.#d.scope.collection.id
        ? this.#d.scope.collection
        : this.#d.ctx.env.findCollection(targetId)
    if (!target)
      throw new FilterResolveError(`the collection of relation "${field.name}" does not exist`, position)
    const d = this.#d.ctx.dialect
    const multiple = isMultiple(field)
    const key = `@body.${field.name}`
    const join = joins.join(key, target.name, (alias) => ({
      source: sql`${sql.table(target.name)} AS ${sql.id(alias)}`,
      // a single relation holds one id: the last one submitted, as when the record is saved
      on: multiple
        ? d.jsonArrayIncludes(d.jsonValue(JSON.stringify(ids)), sql.id(alias, 'id'))
        : sql<SqlBool>`${sql.id(alias, 'id')} = ${sql.val(ids.at(-1))}`,
    }))
    const start: Row = {
      collection: target,
      ref: join.alias,
      key,
      joins: [join],
      multiplying: multiple,
      matchAll: multiple,
      limit: false,
    }
    return walker.walk(start, rest, modifier)
  }
}

function value(v: LiteralValue): Built {
  return { type: 'value', value: { type: 'value', value: v } }
}

/** A request value with its modifier applied: `:isset`, `:lower`; list modifiers need a body field. */
function requestValue(
  found: Lookup,
  modifier: Modifier | undefined,
  props: string[],
  position: number,
): Built {
  switch (modifier) {
    case undefined:
      return value(found.found ? toLiteral(found.value) : null)
    case 'isset':
      return value(found.found)
    case 'lower':
      return value(found.found ? lowerText(found.value) : null)
    default:
      throw new FilterResolveError(
        `modifier ":${modifier}" is not supported for "${props.join('.')}"`,
        position,
      )
  }
}
