import { sql, type Expression, type SqlBool } from 'kysely'
import {
  compileComparison,
  compileFilter,
  FilterResolveError,
  parseFilter,
  type FieldResolver,
  type FilterDialect,
  type IdentifierNode,
  type LiteralValue,
  type Modifier,
  type Resolved,
  type ResolvedValue,
} from '../filter/index.js'
import type { Collection } from '../schema/index.js'
import { columnValue, fieldByName, isMultiple, isMultiValuer } from './field-values.js'
import { freshJoins, sharedJoins, type Aliases, type JoinFactory } from './joins.js'
import { NULL, PathWalker, type Reached, type Row, type WalkOptions } from './path-walker.js'
import type { RuleEnv } from './request-context.js'
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

/** What one compile shares: the request, the database, and the join alias counter. */
export interface RulesContext {
  readonly env: RuleEnv
  readonly dialect: FilterDialect
  readonly aliases: Aliases
  readonly now: Date
}

/** The row a filter is about: a collection and the SQL name of its row. */
export interface Scope {
  readonly collection: Collection
  readonly ref: string
}

/** `@request.auth.*` keys that are values of the request, not columns (PocketBase `plainRequestAuthFields`). */
const PLAIN_AUTH_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'collectionId',
  'collectionName',
  'email',
  'emailVisibility',
  'verified',
])

type Built = Reached | { readonly type: 'value'; readonly value: ResolvedValue }

/**
 * The `FieldResolver` of records (PocketBase's `RecordFieldResolver`): fields, relation paths,
 * back-relations, JSON paths, `@request.*` and `@collection.*`. One instance per compiled filter.
 */
export class RecordResolver implements FieldResolver {
  readonly #scope: Scope
  readonly #privileged: boolean
  readonly #ctx: RulesContext
  readonly #shared: JoinFactory
  readonly #aliasCollections = new Map<string, string>()

  constructor(scope: Scope, privileged: boolean, ctx: RulesContext) {
    this.#scope = scope
    this.#privileged = privileged
    this.#ctx = ctx
    this.#shared = sharedJoins(ctx.aliases)
  }

  resolve(identifier: IdentifierNode): Resolved {
    const built = this.#build(identifier, this.#shared)
    if (built.type === 'value') return built.value
    if (built.type === 'null') return { type: 'value', value: null }
    const { row, expression, kind, guard } = built
    const extra = {
      ...(built.computed ? { computed: true } : {}),
      ...(guard === undefined ? {} : { guard }),
    }
    if (row.joins.length === 0) return { expression, kind, ...extra }
    if (!row.multiplying) {
      // a scalar subquery of a column keeps the column's affinity, of an expression has none
      return {
        expression: scalar(row, expression),
        kind,
        ...(built.computed ? { computed: true } : {}),
        ...(guard === undefined ? {} : { guard: scalar(row, guard) as Expression<SqlBool> }),
      }
    }
    return {
      type: 'multiple',
      expression,
      kind,
      joins: row.joins,
      matchAll: row.matchAll,
      ...extra,
      isolated: () => {
        const again = this.#build(identifier, freshJoins(this.#ctx.aliases))
        if (again.type !== 'row') throw new Error('a path resolved differently the second time')
        return {
          expression: again.expression,
          joins: again.row.joins,
          ...(again.guard === undefined ? {} : { guard: again.guard }),
        }
      },
    }
  }

  #build(identifier: IdentifierNode, joins: JoinFactory): Built {
    const { path, modifier, position } = identifier
    const props = path.split('.')
    if (props[0] === '@request' || props[0] === '@collection') {
      if (!this.#privileged) {
        throw new FilterResolveError(`"${props[0]}.*" fields are only allowed in API rules`, position)
      }
      return props[0] === '@request'
        ? this.#request(props, modifier, position, joins)
        : this.#collection(props, modifier, position, joins)
    }
    if (path === '@rowid' && modifier === undefined) {
      const rowid = this.#ctx.dialect.double(sql.id(this.#scope.ref, '_rowid_'))
      return { type: 'row', row: this.#base(), expression: rowid, kind: 'number' }
    }
    const walker = this.#walker(joins, { allowHidden: this.#privileged, nullifyMissing: false, position })
    return walker.walk(this.#base(), props, modifier)
  }

  #base(): Row {
    const { collection, ref } = this.#scope
    return { collection, ref, key: '', joins: [], multiplying: false, matchAll: false, limit: false }
  }

  #walker(joins: JoinFactory, options: WalkOptions): PathWalker {
    const ctx = this.#ctx
    return new PathWalker(
      {
        dialect: ctx.dialect,
        joins,
        restricted: !this.#privileged,
        findCollection: (idOrName) =>
          idOrName === this.#scope.collection.id || idOrName === this.#scope.collection.name
            ? this.#scope.collection
            : ctx.env.findCollection(idOrName),
        listRule: (target, alias) => compileRuleAt(target.listRule, { collection: target, ref: alias }, ctx),
      },
      options,
    )
  }

  /** `@request.*`: values of the request, known now; `auth` and `body` relations walk on in SQL. */
  #request(props: string[], modifier: Modifier | undefined, position: number, joins: JoinFactory): Built {
    const request = this.#ctx.env.request
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
    const auth = this.#ctx.env.request.auth
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
    return this.#walker(joins, { allowHidden: true, nullifyMissing: true, position }).walk(
      start,
      keys,
      modifier,
    )
  }

  #plainAuth(name: string): unknown {
    const auth = this.#ctx.env.request.auth!
    const decodeBool = (v: unknown) => this.#ctx.env.dialect.decode('bool', v)
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
    const body = this.#ctx.env.request.body
    const [name, ...rest] = keys as [string, ...string[]]
    const field = fieldByName(this.#scope.collection, name)
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
        const d = this.#ctx.dialect
        const join = joins.join(`@body.${name}#each`, 'each', (alias) => ({
          source: d.jsonEach(d.jsonValue(JSON.stringify(items)), alias),
          on: sql<SqlBool>`TRUE`,
        }))
        const row: Row = {
          ...this.#base(),
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
    const field = fieldByName(this.#scope.collection, name)!
    const d = this.#ctx.dialect
    const column = sql.id(this.#scope.ref, field.name)
    const differs =
      field.type === 'json' || field.type === 'geoPoint'
        ? d.jsonDiffers(column, raw === null || raw === undefined ? null : JSON.stringify(raw))
        : compileComparison(
            '!=',
            { type: 'value', value: toLiteral(convertForField(field, raw)) },
            { type: 'sql', ...columnValue(field, column, d) },
            d,
          )
    return { type: 'row', row: this.#base(), expression: sql`(${differs})`, kind: 'bool', computed: true }
  }

  /** `@request.body.rel.field`: the records the submitted ids point to. */
  #bodyRelation(
    field: NonNullable<ReturnType<typeof fieldByName>>,
    rest: string[],
    modifier: Modifier | undefined,
    position: number,
    joins: JoinFactory,
  ): Built {
    const ids = uniqueIds(this.#ctx.env.request.body[field.name])
    if (ids.length === 0) return NULL
    const walker = this.#walker(joins, { allowHidden: true, nullifyMissing: true, position })
    const targetId = field.collectionId as string
    const target =
      targetId === this.#scope.collection.id ? this.#scope.collection : this.#ctx.env.findCollection(targetId)
    if (!target)
      throw new FilterResolveError(`the collection of relation "${field.name}" does not exist`, position)
    const d = this.#ctx.dialect
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

  /** `@collection.name[:alias].field`: every record of another collection, always multi-valued. */
  #collection(props: string[], modifier: Modifier | undefined, position: number, joins: JoinFactory): Built {
    if (props.length < 3) {
      throw new FilterResolveError(`invalid @collection field path "${props.join('.')}"`, position)
    }
    const [name, alias, extra] = props[1]!.split(':')
    const collection =
      name === this.#scope.collection.name || name === this.#scope.collection.id
        ? this.#scope.collection
        : this.#ctx.env.findCollection(name!)
    if (!collection || extra !== undefined || alias === '') {
      throw new FilterResolveError(`unknown collection in "${props.join('.')}"`, position)
    }
    const key = alias === undefined ? `@collection.${collection.id}` : `@collection:${alias}`
    if (alias !== undefined) {
      const previous = this.#aliasCollections.get(alias)
      if (previous !== undefined && previous !== collection.id) {
        throw new FilterResolveError(`@collection alias "${alias}" names two collections`, position)
      }
      this.#aliasCollections.set(alias, collection.id)
    }
    const join = joins.join(key, collection.name, (a) => ({
      source: sql`${sql.table(collection.name)} AS ${sql.id(a)}`,
      on: sql<SqlBool>`TRUE`,
    }))
    const start: Row = {
      collection,
      ref: join.alias,
      key,
      joins: [join],
      multiplying: true,
      matchAll: true,
      limit: false,
    }
    return this.#walker(joins, { allowHidden: true, nullifyMissing: false, position }).walk(
      start,
      props.slice(2),
      modifier,
    )
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

/**
 * `(SELECT value FROM first JOIN … WHERE <first's condition>)`: a path of single relations is one
 * value per row (NULL where a record is missing), like PocketBase's LEFT JOIN of it.
 */
function scalar(row: Row, value: Expression<unknown>): Expression<unknown> {
  const [first, ...rest] = row.joins
  return sql`(SELECT ${value} FROM ${first!.source}${sql.join(
    rest.map((j) => sql` JOIN ${j.source} ON ${j.on}`),
    sql``,
  )} WHERE ${first!.on}${row.limit ? sql` LIMIT 1` : sql``})`
}

/**
 * A rule (full privileges) as a condition on the row `scope.ref`: used for the listRule of every
 * collection a client filter walks into. Empty rule: no condition; a rule of only comments: FALSE.
 */
export function compileRuleAt(
  rule: string | null,
  scope: Scope,
  ctx: RulesContext,
): Expression<SqlBool> | undefined {
  if (rule === null) return sql<SqlBool>`FALSE`
  if (rule === '') return undefined
  const ast = parseFilter(rule)
  if (ast === undefined) return sql<SqlBool>`FALSE`
  return compileFilter(ast, new RecordResolver(scope, true, ctx), ctx.dialect, { now: ctx.now })
}
