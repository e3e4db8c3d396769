import { sql, type Expression, type SqlBool } from 'kysely'
import {
  compileFilter,
  FilterResolveError,
  parseFilter,
  type FieldResolver,
  type IdentifierNode,
  type Modifier,
  type Resolved,
} from '../filter/index.js'
import { freshJoins, sharedJoins, type JoinFactory } from './joins.js'
import { PathWalker, type Row, type WalkOptions } from './path-walker.js'
import { RequestFields, type Built } from './request-fields.js'
import type { RulesContext, Scope } from './rules-context.js'

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
  readonly #sorting: boolean

  /** `sorting`: resolves `@rowid` (the insertion order), which only `sort` knows. */
  constructor(scope: Scope, privileged: boolean, ctx: RulesContext, sorting = false) {
    this.#scope = scope
    this.#privileged = privileged
    this.#ctx = ctx
    this.#shared = sharedJoins(ctx.aliases)
    this.#sorting = sorting
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
        ? this.#requestFields().resolve(props, modifier, position, joins)
        : this.#collection(props, modifier, position, joins)
    }
    if (path === '@rowid' && modifier === undefined && this.#sorting) {
      // A view has no rows of its own to number (PocketBase: 400 as well).
      if (this.#scope.collection.type === 'view')
        throw new FilterResolveError('@rowid cannot sort a view collection', position)
      const rowid = this.#ctx.dialect.double(sql.id(this.#scope.ref, '_rowid_'))
      return { type: 'row', row: this.#base(), expression: rowid, kind: 'number' }
    }
    const walker = this.#walker(joins, { allowHidden: this.#privileged, nullifyMissing: false, position })
    return walker.walk(this.#base(), props, modifier)
  }

  #requestFields(): RequestFields {
    return new RequestFields({
      scope: this.#scope,
      ctx: this.#ctx,
      base: () => this.#base(),
      walker: (joins, options) => this.#walker(joins, options),
    })
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
